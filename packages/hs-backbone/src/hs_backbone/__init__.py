"""HyperSIGMA spatial and spectral ViT backbones, spectral enhancement, registry and official weights.

Quick start::

    import hs_backbone

    model = hs_backbone.create_backbone(
        "hypersigma_base", in_chans=30, img_size=33, patch_size=2,
        pretrained={"spatial": "spat-vit-base-ultra-checkpoint-1599.pth",
                    "spectral": "spec-vit-base-ultra-checkpoint-1599.pth"},
    )
    print(model.load_report)            # every adapted, re-initialised or dropped key, with the reason
    out = model(x)                      # x: (b, 30, 33, 33) -> HyperSIGMAOutput
"""

from hs_backbone import variants as _variants  # noqa: F401  (registers the named backbones)
from hs_backbone._encoder import Block, ViTEncoder, is_sampling_block
from hs_backbone._registry import (
    OFFICIAL_CHECKPOINTS,
    create_backbone,
    is_backbone,
    list_backbones,
    register_backbone,
)
from hs_backbone._sizes import SIZES, ViTSize
from hs_backbone._version import __version__
from hs_backbone.hypersigma import HyperSIGMA, HyperSIGMAOutput
from hs_backbone.sem import SpectralEnhancement
from hs_backbone.spatial_vit import FPN_KINDS, SpatialViT, fpn_kind_for_patch_size
from hs_backbone.spectral_vit import SpectralViT
from hs_backbone.weights import (
    SAFE_GLOBALS,
    LoadReport,
    adapt_state_dict,
    convert_checkpoint,
    extract_state_dict,
    load_checkpoint_file,
    load_pretrained,
    read_converted,
    save_weights,
    split_official_fusion_state_dict,
)

__all__ = [
    "FPN_KINDS",
    "OFFICIAL_CHECKPOINTS",
    "SAFE_GLOBALS",
    "SIZES",
    "Block",
    "HyperSIGMA",
    "HyperSIGMAOutput",
    "LoadReport",
    "SpatialViT",
    "SpectralEnhancement",
    "SpectralViT",
    "ViTEncoder",
    "ViTSize",
    "__version__",
    "adapt_state_dict",
    "convert_checkpoint",
    "create_backbone",
    "extract_state_dict",
    "fpn_kind_for_patch_size",
    "is_backbone",
    "is_sampling_block",
    "list_backbones",
    "load_checkpoint_file",
    "load_pretrained",
    "read_converted",
    "register_backbone",
    "save_weights",
    "split_official_fusion_state_dict",
]
