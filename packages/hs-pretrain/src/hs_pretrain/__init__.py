"""Spatial and spectral masked-autoencoder pretraining for HyperSIGMA backbones.

Quick start::

    import hs_pretrain

    result = hs_pretrain.pretrain(hs_pretrain.PretrainConfig(
        model="spatial_mae_base", sources=["path/to/hyperion"], bad_bands="hyperion",
        epochs=1600, batch_size=2048, out_dir="runs/spat-b",
    ))                                   # rerun the same call to resume
    backbone = hs_pretrain.create_backbone_from_export(result.encoder, in_chans=30, img_size=33, patch_size=2)
"""

from hs_pretrain._version import __version__
from hs_pretrain.data import (
    BAD_BANDS,
    GF5_AHSI_BAD_BANDS,
    HYPERION_BAD_BANDS,
    PatchDataset,
    expand_sources,
    kept_bands,
)
from hs_pretrain.export import (
    backbone_recipe,
    create_backbone_from_export,
    encoder_state_dict,
    export_encoder,
    export_official,
    load_mae,
)
from hs_pretrain.mae import MAE, MAEOutput, SpatialMAE, SpectralMAE, from_official_keys, to_official_keys
from hs_pretrain.masking import (
    Masking,
    mask_noise,
    masked_reconstruction_loss,
    random_masking,
    spatial_patchify,
    spatial_unpatchify,
    spectral_patchify,
    spectral_unpatchify,
)
from hs_pretrain.train import (
    CheckpointMismatchError,
    MLflowLogger,
    PretrainConfig,
    PretrainResult,
    check_resume_compatible,
    pretrain,
)
from hs_pretrain.variants import MAE_SIZES, MAESize, create_mae, is_mae, list_maes, mae_family

__all__ = [
    "BAD_BANDS",
    "GF5_AHSI_BAD_BANDS",
    "HYPERION_BAD_BANDS",
    "MAE",
    "MAE_SIZES",
    "CheckpointMismatchError",
    "MAEOutput",
    "MAESize",
    "MLflowLogger",
    "Masking",
    "PatchDataset",
    "PretrainConfig",
    "PretrainResult",
    "SpatialMAE",
    "SpectralMAE",
    "__version__",
    "backbone_recipe",
    "check_resume_compatible",
    "create_backbone_from_export",
    "create_mae",
    "encoder_state_dict",
    "expand_sources",
    "export_encoder",
    "export_official",
    "from_official_keys",
    "is_mae",
    "kept_bands",
    "list_maes",
    "load_mae",
    "mae_family",
    "mask_noise",
    "masked_reconstruction_loss",
    "pretrain",
    "random_masking",
    "spatial_patchify",
    "spatial_unpatchify",
    "spectral_patchify",
    "spectral_unpatchify",
    "to_official_keys",
]
