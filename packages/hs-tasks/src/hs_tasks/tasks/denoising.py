"""Hyperspectral denoising: the task model, its evaluator and its recipe.

HyperSIGMA's denoising (``shared/reference/hypersigma.md`` §2.7, §4.6): the backbone's deepest
spatial map and spectral tokens feed :class:`~hs_tasks.heads.DenoisingHead`; trained with the mean
squared error on clean/noisy pairs made on the fly from clean training tiles
(:mod:`hs_data.synthetic` noise models); scored by MPSNR, MSSIM, SAM and ERGAS
(:mod:`hs_tasks.metrics`) on a held-out region of the scene.

Noise models (upstream's, §4.6):

* ``"gaussian"``: training noise i.i.d. Gaussian with a blind sigma ~ U[10, 70]/255 per tile; test
  noise i.i.d. Gaussian of ``test_sigma``.
* ``"complex"``: training noise non-i.i.d. Gaussian (per band sigma from {10, 30, 50, 70}/255) plus
  one of {none, impulse, impulse, stripes, deadlines} per tile; test noise
  ``hs_data.synthetic.noise_case(x, test_case)`` (QRNN3D's cases 1-5: 1 non-i.i.d. Gaussian, 2 +
  stripes, 3 + deadlines, 4 + impulse, 5 + all three).

Batch keys: ``image_noisy`` (input) and ``image`` (clean reference) ``(b, c, h, w)``, ``origin``
``(b, 2)`` for stitching.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import hs_data
from hs_backbone import HyperSIGMA, SpatialViT
from hs_data.datasets import TileDataset
from hs_data.synthetic import (
    deadlines,
    gaussian_blind,
    gaussian_iid,
    gaussian_noniid,
    impulse,
    noise_case,
    stripes,
)
from hs_tasks.baselines import subspace_denoise
from hs_tasks.core import Evaluator, TaskModel, TaskOutput, create_task_model, register_task
from hs_tasks.dense import ImageQualityEvaluator, RandomCrops, band_split, run_evaluator, take_band
from hs_tasks.finetuning import finetune
from hs_tasks.heads.denoising import DenoisingHead
from hs_tasks.metrics import image_quality
from hs_tasks.recipes import RecipeConfig, RecipeResult, register_recipe, resolve_finetune
from hs_tasks.tasks.common import deepest_features, dense_backbone, is_semisynthetic, resolve_options

__all__ = [
    "DENOISING_DATASET_DEFAULTS",
    "DENOISING_FINETUNE",
    "DENOISING_OPTIONS",
    "DenoisingModel",
    "complex_training_noise",
    "denoising_model",
    "denoising_recipe",
]

DENOISING_METRICS = ("mpsnr", "mssim", "sam", "ergas")
NOISE_KINDS = ("gaussian", "complex")


class DenoisingModel(TaskModel):
    """Backbone + :class:`~hs_tasks.heads.DenoisingHead`, trained with the mean squared error.

    ``forward`` reads ``batch["image_noisy"]`` and returns the estimate ``(b, c, h, w)`` as ``pred``.
    """

    task = "denoising"
    main_metric = "mpsnr"
    higher_is_better = True

    def forward(self, batch: dict[str, Any]) -> TaskOutput:
        noisy = batch["image_noisy"]
        spatial, spectral = deepest_features(self.backbone, noisy)
        return TaskOutput(self.head(noisy, spatial, spectral))

    def loss(self, output: TaskOutput, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        return F.mse_loss(output.pred, batch["image"]), {}

    def evaluator(self) -> Evaluator:
        return ImageQualityEvaluator("image", data_range=1.0, scale=1.0, metrics=DENOISING_METRICS)


def _spatial(backbone: nn.Module) -> SpatialViT:
    spatial = backbone.spatial if isinstance(backbone, HyperSIGMA) else backbone
    if not isinstance(spatial, SpatialViT):
        raise ValueError(f"backbone: expected a HyperSIGMA or SpatialViT, got {type(backbone).__name__}")
    return spatial


@register_task("denoising")
def denoising_model(
    *,
    backbone: nn.Module,
    bands: int,
    tile: int | None = None,
    adapter_dim: int | None = None,
    residual: bool = False,
    drop_path_rate: float = 0.1,
) -> DenoisingModel:
    """Build a denoising model on ``backbone`` (``HyperSIGMA`` or ``SpatialViT``).

    Args:
        backbone: its spatial patch size sets the head's upsampling; a HyperSIGMA's spectral tokens
            (``t`` tokens of ``k`` features) feed the spectral adapter and the gate.
        bands: ``c``.
        tile: the training tile side: the adapters get position tables for it (upstream); ``None``:
            no position tables.
        adapter_dim: adapter width (default ``c``, upstream).
        residual: add the noisy input to the output (off upstream).
        drop_path_rate: adapter stochastic depth (upstream 0.1).
    """
    spatial = _spatial(backbone)
    num_tokens = spectral_dim = None
    if isinstance(backbone, HyperSIGMA):
        num_tokens = backbone.spectral.num_tokens
        spectral_dim = backbone.spectral.feature_info[backbone.spectral_level]["num_chs"]
    head = DenoisingHead(
        bands,
        spatial.embed_dim,
        patch_size=spatial.patch_size,
        num_tokens=num_tokens,
        spectral_dim=spectral_dim,
        adapter_dim=adapter_dim,
        grid=(tile, tile) if tile is not None else None,
        residual=residual,
        drop_path_rate=drop_path_rate,
    )
    return DenoisingModel(backbone, head)


def complex_training_noise(x: Tensor, rng: np.random.Generator) -> Tensor:
    """Upstream's complex training noise: non-i.i.d. Gaussian (per band sigma from {10, 30, 50,
    70}/255) plus one of {none, impulse, impulse, stripes, deadlines}, drawn per call."""
    noisy = gaussian_noniid(x, seed=rng)
    extra: Callable[..., Tensor] | None = [None, impulse, impulse, stripes, deadlines][
        int(rng.integers(0, 5))
    ]
    return extra(noisy, seed=rng) if extra is not None else noisy


def _make_pair(noise: str) -> Callable[[Tensor, np.random.Generator], dict[str, Tensor]]:
    def make(clean: Tensor, rng: np.random.Generator) -> dict[str, Tensor]:
        noisy = gaussian_blind(clean, seed=rng) if noise == "gaussian" else complex_training_noise(clean, rng)
        return {"image": clean, "image_noisy": noisy.float()}

    return make


#: Options of the denoising recipe (``RecipeConfig.options``): CI-sized defaults, paper values noted.
DENOISING_OPTIONS: dict[str, Any] = {
    "noise": "gaussian",  # "gaussian" (blind sigma) or "complex"
    "test_sigma": 50 / 255,  # Gaussian test noise (paper: 30, 50, 70 / 255 and blind)
    "test_case": 5,  # complex test noise: hs_data noise_case 1-5
    "tile": 32,  # tile side (paper 64)
    "patch_size": 2,  # spatial patch (paper 2)
    "num_tokens": 16,  # spectral tokens (paper 100)
    "test_fraction": 0.25,  # rows held out for testing (paper: WDC rows 600-800)
    "val_fraction": 0.125,  # rows next to the test rows, for model selection
    "test_side": None,  # "bottom", "top", "right", "left" (default: DENOISING_DATASET_DEFAULTS, else bottom)
    "patches_per_epoch": 64,  # random training tiles per epoch (paper: ~all crops, x10)
    "stride": None,  # inference tile step (default tile // 2)
    "residual": False,  # add the input to the output (off upstream)
    "adapter_dim": None,  # adapter width (default: the band count, upstream)
    "pos_embed": True,  # position embeddings in the backbone and adapters (paper: on)
    "drop_flat_bands": True,  # drop bands constant on the training rows (zeroed absorption bands)
    "augment": True,  # random flips/rotations of the training tiles
}

#: Per-dataset protocol defaults. CAVE's bottom quarter is black background (mean 0.02 against 0.33
#: at the top): a test region there would score mostly the removal of noise from a flat black area,
#: with SAM and ERGAS dominated by near-zero spectra, so its test rows are the top ones.
#: The ``semisyn_denoising_cave_case{k}`` scenes carry their own noisy cube (hs-data ``noise_case(k)``):
#: the recipe tests on it (and validates on its rows), and trains with the complex noise model, of which
#: every case is an instance.
DENOISING_DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "cave_chart_and_stuffed_toy": {"test_side": "top"},
    **{f"semisyn_denoising_cave_case{k}": {"test_side": "top", "noise": "complex"} for k in range(1, 6)},
}

#: Fine-tuning defaults of the denoising recipe (paper: 100 epochs, batch 4, AdamW 1e-4, wd 1e-4,
#: 2 warm-up epochs then cosine).
DENOISING_FINETUNE: dict[str, Any] = {
    "epochs": 20,
    "batch_size": 8,
    "lr": 2e-3,
    "weight_decay": 1e-4,
    "layer_decay": 1.0,
    "warmup_epochs": 1.0,
}


def _test_noise(clean: np.ndarray, opts: dict[str, Any], seed: int) -> np.ndarray:
    if opts["noise"] == "gaussian":
        return gaussian_iid(clean, float(opts["test_sigma"]), seed=seed)
    return noise_case(clean, int(opts["test_case"]), seed=seed)


@register_recipe("denoising")
def denoising_recipe(dataset: str, config: RecipeConfig) -> RecipeResult:
    """Denoising of one scene (``cave_chart_and_stuffed_toy``, ``aviris_gatorsense``,
    ``simulated_indian_pines``, or any cube).

    Protocol: bands constant on the training rows are dropped (``drop_flat_bands``: zeroed water
    absorption bands carry no signal, and ERGAS divides by band means); the cube is scaled to [0, 1]
    by a min-max fitted on the training rows only (upstream scales each split by its own band-wise
    quantiles); rows (or columns, ``test_side``) are split into test, validation and train bands
    (:func:`hs_tasks.dense.band_split`). Training pairs are made on the fly from random
    training tiles; the validation and test regions get fixed, seeded noise and are denoised tile by
    tile (overlaps averaged). Model selection: best validation MPSNR.

    Baseline: :func:`hs_tasks.baselines.subspace_denoise` (blind noise estimate) on the noisy test
    region. The noisy input's own scores are reported as ``input_*`` metrics (the identity floor).

    Options (``config.options``): :data:`DENOISING_OPTIONS`. Fine-tuning: ``config.finetune`` where
    set, else :data:`DENOISING_FINETUNE`.
    """
    start = time.perf_counter()
    defaults = {**DENOISING_OPTIONS, **DENOISING_DATASET_DEFAULTS.get(dataset, {})}
    opts = resolve_options("denoising", defaults, config.options)
    if opts["noise"] not in NOISE_KINDS:
        raise ValueError(f"denoising recipe: noise must be one of {NOISE_KINDS}, got {opts['noise']!r}")
    keys = None if is_semisynthetic(dataset) else ("image",)
    sample = hs_data.load_scene(dataset, root=config.data_root, keys=keys)
    cube = np.asarray(sample["image"], np.float64)
    # A scene that ships its own noisy cube (semi-synthetic cases) is tested on that noise.
    stored_noisy = np.asarray(sample["image_noisy"], np.float64) if "image_noisy" in sample else None
    if stored_noisy is not None and stored_noisy.shape != cube.shape:
        raise ValueError(
            f"denoising recipe: {dataset!r} image_noisy has shape {stored_noisy.shape}, image {cube.shape}"
        )
    tile = int(opts["tile"])
    stride = int(opts["stride"] or max(1, tile // 2))
    side = opts["test_side"] or "bottom"
    axis = 1 if side in ("bottom", "top") else 2
    rows = band_split(
        cube.shape[axis], float(opts["test_fraction"]), float(opts["val_fraction"]), tile, side=side
    )
    train_rows = take_band(cube, rows["train"], side)
    spread = train_rows.reshape(cube.shape[0], -1).std(axis=1)
    kept = (
        np.flatnonzero(spread > 1e-6 * spread.max()) if opts["drop_flat_bands"] else np.arange(cube.shape[0])
    )
    if kept.size < 2:
        raise ValueError(
            f"denoising recipe: {dataset!r} has {kept.size} non-constant bands on the training rows"
        )
    cube, train_rows = cube[kept], train_rows[kept]
    low, high = float(train_rows.min()), float(train_rows.max())
    if high <= low:
        raise ValueError(f"denoising recipe: {dataset!r} training rows are constant")
    cube = ((cube - low) / (high - low)).astype(np.float32)
    regions = {k: take_band(cube, v, side) for k, v in rows.items()}
    noisy_regions: dict[str, np.ndarray] | None = None
    if stored_noisy is not None:  # the same bands and the same affine scaling as the clean cube
        scaled = ((stored_noisy[kept] - low) / (high - low)).astype(np.float32)
        noisy_regions = {k: take_band(scaled, v, side) for k, v in rows.items()}

    clean_test = regions["test"]
    if noisy_regions is not None:
        noisy_test = noisy_regions["test"]
    else:
        noisy_test = _test_noise(clean_test, opts, seed=config.seed + 1).astype(np.float32)
    base = subspace_denoise(noisy_test)
    baseline = {
        k: v
        for k, v in image_quality(clean_test, base.denoised, data_range=1.0).as_dict().items()
        if k in DENOISING_METRICS
    }

    torch.manual_seed(config.seed)
    backbone = dense_backbone(
        config,
        in_chans=cube.shape[0],
        img_size=tile,
        patch_size=int(opts["patch_size"]),
        num_tokens=int(opts["num_tokens"]),
        use_abs_pos_emb=bool(opts["pos_embed"]),
    )
    model = create_task_model(
        "denoising",
        backbone=backbone,
        bands=cube.shape[0],
        tile=tile if opts["pos_embed"] else None,
        adapter_dim=opts["adapter_dim"],
        residual=bool(opts["residual"]),
    )
    ft = resolve_finetune(config, **DENOISING_FINETUNE)
    train = RandomCrops(
        regions["train"],
        tile,
        int(opts["patches_per_epoch"]),
        make_sample=_make_pair(str(opts["noise"])),
        augment=bool(opts["augment"]),
    )
    val = None
    if regions["val"].shape[axis]:
        clean_val = regions["val"]
        if noisy_regions is not None:
            noisy_val = noisy_regions["val"]
        else:
            noisy_val = _test_noise(clean_val, opts, seed=config.seed + 2).astype(np.float32)
        val = TileDataset({"image": clean_val, "image_noisy": noisy_val}, tile, stride)
    result = finetune(model, train, val, ft)

    test = TileDataset({"image": clean_test, "image_noisy": noisy_test}, tile, stride)
    metrics, evaluator = run_evaluator(
        model, test, batch_size=ft.eval_batch_size or ft.batch_size, device=ft.device
    )
    assert isinstance(evaluator, ImageQualityEvaluator)
    denoised = evaluator.stitched()[0][0]
    noisy_scores = image_quality(clean_test, noisy_test, data_range=1.0).as_dict()
    metrics.update({f"input_{k}": noisy_scores[k] for k in DENOISING_METRICS})
    return RecipeResult(
        task="denoising",
        dataset=dataset,
        backbone=config.backbone,
        metrics=metrics,
        main_metric=DenoisingModel.main_metric,
        higher_is_better=DenoisingModel.higher_is_better,
        baseline_name="subspace + Lee filter (blind)",
        baseline=baseline,
        split={
            "method": f"bands of {'rows' if axis == 1 else 'columns'}: test at the {side}, validation next "
            "to it, train the rest",
            "side": side,
            "bands": {k: list(v) for k, v in rows.items()},
            "scaling": {"min": low, "max": high, "fitted_on": "train rows"},
            "bands_kept": kept.tolist(),
            "test_noise_seed": config.seed + 1,
            "val_noise_seed": config.seed + 2,
            "seed": config.seed,
            "tile": tile,
            "stride": stride,
        },
        finetune=result,
        artifacts={"clean": clean_test, "noisy": noisy_test, "denoised": denoised, "baseline": base.denoised},
        seconds=time.perf_counter() - start,
        config={"backbone": config.backbone, "options": opts, "finetune": asdict(ft), "seed": config.seed},
    )
