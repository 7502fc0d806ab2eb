"""Hyperspectral single-image super-resolution (x4, x8): the task model, its evaluator and its recipe.

HyperSIGMA's SR (``shared/reference/hypersigma.md`` §2.7, §4.7): the backbone runs on the
low-resolution (LR) tile (spatial patch 1, 36 spectral tokens upstream); its deepest spatial map and
spectral tokens feed :class:`~hs_tasks.heads.SuperResolutionHead`, whose bicubic branch reads the
bicubic upsampling of the LR tile. Loss: L1 + 0.3·SAM/π + 0.1·gradient L1
(:func:`~hs_tasks.losses.sr_loss`). Metrics: MPSNR, MSSIM, SAM, ERGAS (with the scale), CC, RMSE.

Degradation (one home: :mod:`hs_data.synthetic.degradation`): LR = MATLAB-style bicubic
down-sampling of the HR cube (``bicubic_downsample``); the bicubic branch and the baseline use the
matching MATLAB-style bicubic upsampling (:func:`hs_tasks.baselines.bicubic_upsample`).

Batch keys: ``image_lr`` ``(b, c, h, w)``, ``image_hr`` ``(b, c, s·h, s·w)`` (reference),
``image_bicubic`` (optional: computed from ``image_lr`` when absent), ``origin`` for stitching.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

import hs_data
from hs_backbone import HyperSIGMA, SpatialViT
from hs_data.synthetic import bicubic_downsample, make_sr_pair
from hs_tasks.baselines import bicubic_upsample
from hs_tasks.core import Evaluator, TaskModel, TaskOutput, create_task_model, register_task
from hs_tasks.dense import ImageQualityEvaluator, SRCrops, SRTiles, band_split, run_evaluator, take_band
from hs_tasks.finetuning import finetune
from hs_tasks.heads.super_resolution import SuperResolutionHead
from hs_tasks.losses.image import sr_loss
from hs_tasks.metrics import image_quality
from hs_tasks.recipes import RecipeConfig, RecipeResult, register_recipe, resolve_finetune
from hs_tasks.tasks.common import deepest_features, dense_backbone, is_semisynthetic, resolve_options

__all__ = [
    "SR_FINETUNE",
    "SR_OPTIONS",
    "SuperResolutionModel",
    "super_resolution_model",
    "super_resolution_recipe",
]


class SuperResolutionModel(TaskModel):
    """Backbone + :class:`~hs_tasks.heads.SuperResolutionHead`, trained with :func:`sr_loss`.

    Args:
        backbone: ``HyperSIGMA`` or ``SpatialViT`` on LR tiles.
        head: the SR head.
        sam_weight: weight of SAM/π in the loss (upstream 0.3).
        grad_weight: weight of the gradient L1 (upstream 0.1).
    """

    task = "super_resolution"
    main_metric = "mpsnr"
    higher_is_better = True

    def __init__(
        self,
        backbone: nn.Module,
        head: SuperResolutionHead,
        *,
        sam_weight: float = 0.3,
        grad_weight: float = 0.1,
    ) -> None:
        super().__init__(backbone, head)
        self.sam_weight, self.grad_weight = sam_weight, grad_weight

    @property
    def scale(self) -> int:
        """The upsampling factor."""
        assert isinstance(self.head, SuperResolutionHead)
        return self.head.scale

    def forward(self, batch: dict[str, Any]) -> TaskOutput:
        lr = batch["image_lr"]
        bicubic = batch.get("image_bicubic")
        if bicubic is None:
            bicubic = bicubic_upsample(lr.detach(), self.scale)
        spatial, spectral = deepest_features(self.backbone, lr)
        return TaskOutput(self.head(lr, bicubic, spatial, spectral))

    def loss(self, output: TaskOutput, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        return sr_loss(
            output.pred, batch["image_hr"], sam_weight=self.sam_weight, grad_weight=self.grad_weight
        ), {}

    def evaluator(self) -> Evaluator:
        return ImageQualityEvaluator("image_hr", data_range=1.0, scale=float(self.scale))


@register_task("super_resolution")
def super_resolution_model(
    *,
    backbone: nn.Module,
    bands: int,
    scale: int,
    adapter_dim: int | None = None,
    residual: bool = False,
    sam_weight: float = 0.3,
    grad_weight: float = 0.1,
) -> SuperResolutionModel:
    """Build an SR model on ``backbone`` (``HyperSIGMA`` or ``SpatialViT``) for a ``scale`` factor.

    Args:
        backbone: runs on LR tiles; its spatial patch size sets the head's upsampling to the LR grid.
        bands: ``c``.
        scale: 4 or 8 (any power of two, or 3).
        adapter_dim: adapter width (default ``c``, upstream).
        residual: add the bicubic image to the output (off upstream).
        sam_weight, grad_weight: loss weights (upstream 0.3, 0.1).
    """
    spatial = backbone.spatial if isinstance(backbone, HyperSIGMA) else backbone
    if not isinstance(spatial, SpatialViT):
        raise ValueError(f"backbone: expected a HyperSIGMA or SpatialViT, got {type(backbone).__name__}")
    num_tokens = spectral_dim = None
    if isinstance(backbone, HyperSIGMA):
        num_tokens = backbone.spectral.num_tokens
        spectral_dim = backbone.spectral.feature_info[backbone.spectral_level]["num_chs"]
    head = SuperResolutionHead(
        bands,
        spatial.embed_dim,
        scale,
        patch_size=spatial.patch_size,
        num_tokens=num_tokens,
        spectral_dim=spectral_dim,
        adapter_dim=adapter_dim,
        residual=residual,
    )
    return SuperResolutionModel(backbone, head, sam_weight=sam_weight, grad_weight=grad_weight)


#: Options of the SR recipe (``RecipeConfig.options``): CI-sized defaults, paper values noted.
SR_OPTIONS: dict[str, Any] = {
    "scale": 4,  # 4 or 8 (paper: both)
    "lr_tile": None,  # LR tile side (default 32 // scale: HR tiles of 32; paper 32 → HR 128 / 256)
    "num_tokens": 16,  # spectral tokens (paper 36)
    "test_fraction": 0.4,  # HR rows (or columns) held out for testing (paper: 8 crops of Houston 2018)
    "val_fraction": 0.0,  # a band next to the test region for selection (0: keep the last epoch)
    "test_side": "bottom",  # "bottom", "top", "right", "left"
    "patches_per_epoch": 64,  # random training crops per epoch
    "stride": None,  # LR inference tile step (default lr_tile // 2)
    "residual": True,  # add the bicubic image to the output (off upstream: see the README)
    "adapter_dim": None,  # adapter width (default: the band count, upstream)
    "augment": True,  # 8-fold flips/rotations of the training crops (paper: 8-fold)
    "sam_weight": 0.3,
    "grad_weight": 0.1,
}

#: Fine-tuning defaults of the SR recipe (paper: 350 epochs, batch 1, Adam 6e-5, wd 0, lr halved every
#: 150 epochs).
SR_FINETUNE: dict[str, Any] = {
    "epochs": 20,
    "batch_size": 8,
    "lr": 3e-4,
    "weight_decay": 0.0,
    "layer_decay": 1.0,
    "warmup_epochs": 1.0,
}


def _pair(hr: np.ndarray, scale: int) -> dict[str, np.ndarray]:
    pair = make_sr_pair(hr, scale)
    return {**pair, "image_bicubic": bicubic_upsample(pair["image_lr"], scale)}


def _hr_cube(dataset: str, config: RecipeConfig, opts: dict[str, Any]) -> tuple[np.ndarray, int]:
    """The HR cube ``(c, h, w)`` and the scale of a scene.

    A plain scene gives its ``image`` and the ``scale`` option. A semi-synthetic SR pair
    (``semisyn_sr_*_x{s}``) gives its HR cube ``image_hr`` and fixes the scale to ``s``; the recipe
    degrades its own train and test regions from it with the same MATLAB-style bicubic, so no test
    pixel reaches training through a degradation of the whole image.
    """
    if not is_semisynthetic(dataset):
        cube = hs_data.load_scene(dataset, root=config.data_root, keys=("image",))["image"]
        return np.asarray(cube, np.float64), int(opts["scale"])
    sample = hs_data.load_scene(dataset, root=config.data_root)
    if "image_hr" not in sample or "image_lr" not in sample:
        raise ValueError(
            f"super_resolution recipe: {dataset!r} is not an SR scene (keys {sorted(sample)}); "
            "expected 'image_hr' and 'image_lr'"
        )
    hr, lr = sample["image_hr"], sample["image_lr"]
    factor = hr.shape[1] // lr.shape[1]
    if "scale" in config.options and int(config.options["scale"]) != factor:
        raise ValueError(
            f"super_resolution recipe: {dataset!r} is a x{factor} pair, but options set scale="
            f"{config.options['scale']!r}; drop the option or pick the x{config.options['scale']} scene"
        )
    return np.asarray(hr, np.float64), factor


@register_recipe("super_resolution")
def super_resolution_recipe(dataset: str, config: RecipeConfig) -> RecipeResult:
    """Super-resolution of one scene (``pavia_car_had`` = the Pavia crop, ``paris_eo1_hs_ms``, or any
    cube).

    Protocol: HR rows (or columns, ``test_side``) are split into test, optional validation and train
    bands (:func:`hs_tasks.dense.band_split`, widths multiples of the scale); the cube is scaled by
    the maximum of its training band. The training
    region is degraded as a whole (per sub-pixel shift) and cut into aligned LR/HR/bicubic crops
    (:class:`~hs_tasks.dense.SRCrops`); the test region is degraded as a whole (``make_sr_pair``)
    and super-resolved tile by tile on the LR grid (overlaps averaged). Nothing of
    the test region is seen in training; without validation columns the last epoch is kept (upstream
    selects on the test PSNR, §7.3 #10).

    Baseline: MATLAB-style bicubic upsampling of the same LR test image.

    Options (``config.options``): :data:`SR_OPTIONS`. Fine-tuning: ``config.finetune`` where set,
    else :data:`SR_FINETUNE`.
    """
    start = time.perf_counter()
    opts = resolve_options("super_resolution", SR_OPTIONS, config.options)
    cube, scale = _hr_cube(dataset, config, opts)
    opts["scale"] = scale
    lr_tile = int(opts["lr_tile"] or max(1, 32 // scale))
    stride = int(opts["stride"] or max(1, lr_tile // 2))
    hr_tile = lr_tile * scale
    side = str(opts["test_side"])
    axis = 1 if side in ("bottom", "top") else 2
    if cube.shape[3 - axis] < hr_tile:
        raise ValueError(
            f"super_resolution recipe: the scene {cube.shape[1:]} is narrower than one HR tile of {hr_tile}"
        )
    bands = band_split(
        cube.shape[axis],
        float(opts["test_fraction"]),
        float(opts["val_fraction"]),
        hr_tile,
        side=side,
        multiple=scale,
    )
    peak = float(take_band(cube, bands["train"], side).max())
    if peak <= 0:
        raise ValueError(f"super_resolution recipe: {dataset!r} training columns have no positive value")
    cube = (cube / peak).astype(np.float32)
    regions = {k: take_band(cube, v, side) for k, v in bands.items()}
    regions = {
        k: v[:, : v.shape[1] // scale * scale, : v.shape[2] // scale * scale] for k, v in regions.items()
    }

    test = _pair(regions["test"], scale)
    baseline = image_quality(test["image_hr"], test["image_bicubic"], data_range=1.0, scale=scale).as_dict()

    torch.manual_seed(config.seed)
    backbone = dense_backbone(
        config,
        in_chans=cube.shape[0],
        img_size=lr_tile,
        patch_size=1,
        num_tokens=int(opts["num_tokens"]),
        use_abs_pos_emb=False,
        drop_path_rate=0.0,
    )
    model = create_task_model(
        "super_resolution",
        backbone=backbone,
        bands=cube.shape[0],
        scale=scale,
        adapter_dim=opts["adapter_dim"],
        residual=bool(opts["residual"]),
        sam_weight=float(opts["sam_weight"]),
        grad_weight=float(opts["grad_weight"]),
    )
    ft = resolve_finetune(config, **SR_FINETUNE)
    train = SRCrops(
        regions["train"],
        scale,
        lr_tile,
        int(opts["patches_per_epoch"]),
        degrade=lambda hr: bicubic_downsample(hr, scale),
        upsample=lambda lr: bicubic_upsample(lr, scale),
        augment=bool(opts["augment"]),
        seed=config.seed,
    )
    val = None
    if regions["val"].shape[axis]:
        vp = _pair(regions["val"], scale)
        val = SRTiles(vp["image_lr"], vp["image_hr"], vp["image_bicubic"], lr_tile, stride)
    result = finetune(model, train, val, ft)

    tiles = SRTiles(test["image_lr"], test["image_hr"], test["image_bicubic"], lr_tile, stride)
    metrics, evaluator = run_evaluator(
        model, tiles, batch_size=ft.eval_batch_size or ft.batch_size, device=ft.device
    )
    assert isinstance(evaluator, ImageQualityEvaluator)
    return RecipeResult(
        task="super_resolution",
        dataset=dataset,
        backbone=config.backbone,
        metrics=metrics,
        main_metric=SuperResolutionModel.main_metric,
        higher_is_better=SuperResolutionModel.higher_is_better,
        baseline_name="bicubic (MATLAB-style)",
        baseline=baseline,
        split={
            "method": f"bands of HR {'rows' if axis == 1 else 'columns'}: test at the {side}, validation "
            "next to it, train the rest",
            "side": side,
            "bands": {k: list(v) for k, v in bands.items()},
            "scaling": {"divided_by": peak, "fitted_on": "train columns"},
            "scale": scale,
            "seed": config.seed,
            "lr_tile": lr_tile,
            "stride": stride,
        },
        finetune=result,
        artifacts={
            "hr": test["image_hr"],
            "lr": test["image_lr"],
            "bicubic": test["image_bicubic"],
            "sr": evaluator.stitched()[0][0],
        },
        seconds=time.perf_counter() - start,
        config={"backbone": config.backbone, "options": opts, "finetune": asdict(ft), "seed": config.seed},
    )
