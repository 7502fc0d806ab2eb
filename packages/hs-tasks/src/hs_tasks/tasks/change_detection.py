"""Hyperspectral change detection (``change_detection``): the Siamese model, its evaluator, the
pair-patch dataset and the recipe.

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §4.4): the two dates go through one
shared backbone; :class:`~hs_tasks.heads.SiameseDifferenceHead` classifies the centre pixel of each
``s × s`` neighbourhood pair as unchanged (0) or changed (1). Training: **500 changed + 500
unchanged** random labelled pixels (SST-Former's protocol); the other labelled pixels are the test
set. Upstream scores every labelled pixel, its training pixels included (§7.3 #14); here the test
set never contains a training (or validation) pixel, by construction of the split.

Batches: ``image_pre``, ``image_post`` ``(b, c, s, s)``, ``label`` ``(b,)`` in {0, 1}; optional
``index`` (flat pixel index) for change maps.

Metrics (``hs_tasks.metrics.change_detection``): ``oa``, ``kappa``, ``f1``, ``precision``, ``recall``
(and ``iou``); model selection on validation kappa.

Shape legend: ``b`` batch, ``c`` bands, ``s`` patch side, ``h w`` scene.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.data import Dataset

import hs_data
from hs_data.datasets import PixelPatchDataset
from hs_data.preprocessing import BandScaler
from hs_data.splits import Split, per_class_split
from hs_tasks.baselines.change_detection import change_vector_analysis
from hs_tasks.core import Evaluator, TaskModel, TaskOutput, create_task_model, register_task
from hs_tasks.finetuning import finetune
from hs_tasks.heads.change_detection import SiameseDifferenceHead
from hs_tasks.heads.common import backbone_levels, level_channels
from hs_tasks.metrics.change_detection import change_detection_report
from hs_tasks.recipes import RecipeConfig, RecipeResult, register_recipe, resolve_finetune
from hs_tasks.tasks.common import build_backbone, is_test_backbone, predict, resolve_options, split_record

__all__ = ["ChangeEvaluator", "PairPatchDataset", "SiameseChangeDetector", "siamese_levels"]


def siamese_levels(backbone: nn.Module, pre: Tensor, post: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """Both dates through one backbone (one batched call): levels of ``pre`` and of ``post``."""
    if pre.shape != post.shape:
        raise ValueError(
            f"image_pre {tuple(pre.shape)} and image_post {tuple(post.shape)} must have the same shape"
        )
    levels = backbone_levels(backbone, torch.cat([pre, post], dim=0))
    b = pre.shape[0]
    return [level[:b] for level in levels], [level[b:] for level in levels]


class PairPatchDataset(Dataset):
    """``s × s`` neighbourhoods of both dates around the pixels of one split part.

    Each item: ``{"image_pre", "image_post": (c, s, s) float32, "label": int64, "index": int64}``.
    """

    def __init__(
        self,
        pre: np.ndarray,
        post: np.ndarray,
        split: Split,
        part: str,
        *,
        patch_radius: int,
        padding: str = "reflect",
    ) -> None:
        self.pre = PixelPatchDataset(pre, split, part, patch_radius=patch_radius, padding=padding)
        self.post = PixelPatchDataset(post, split, part, patch_radius=patch_radius, padding=padding)

    def __len__(self) -> int:
        return len(self.pre)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        a, b = self.pre[i], self.post[i]
        return {"image_pre": a["image"], "image_post": b["image"], "label": a["label"], "index": a["index"]}


class ChangeEvaluator(Evaluator):
    """Binary change scores over ``(logits (b, 2), label (b,))`` batches; keeps the per-index
    predictions (``change_map(shape)``)."""

    def __init__(self) -> None:
        self.pred: list[np.ndarray] = []
        self.ref: list[np.ndarray] = []
        self.index: list[np.ndarray] = []

    def update(self, output: TaskOutput, batch: Mapping[str, Any]) -> None:
        self.pred.append(output.pred.argmax(dim=1).reshape(-1).cpu().numpy())
        self.ref.append(batch["label"].reshape(-1).cpu().numpy())
        if "index" in batch:
            self.index.append(batch["index"].reshape(-1).cpu().numpy())

    def compute(self) -> dict[str, float]:
        if not self.pred:
            raise ValueError("ChangeEvaluator: no sample was added")
        return change_detection_report(np.concatenate(self.pred), np.concatenate(self.ref)).as_dict()

    def change_map(self, shape: tuple[int, int], fill: int = -1) -> np.ndarray:
        """``(h, w)`` int64 map of the predictions (``fill`` where no pixel was evaluated)."""
        out = np.full(shape[0] * shape[1], fill, dtype=np.int64)
        if self.index:
            out[np.concatenate(self.index)] = np.concatenate(self.pred)
        return out.reshape(shape)


class SiameseChangeDetector(TaskModel):
    """Siamese change detector: shared backbone on both dates → :class:`SiameseDifferenceHead`
    logits ``(b, 2)``; cross-entropy (upstream)."""

    task = "change_detection"
    main_metric = "kappa"
    higher_is_better = True

    def forward(self, batch: Mapping[str, Any]) -> TaskOutput:
        a, b = siamese_levels(self.backbone, batch["image_pre"], batch["image_post"])
        return TaskOutput(self.head(a, b))

    def loss(self, output: TaskOutput, batch: Mapping[str, Any]) -> tuple[Tensor, dict[str, float]]:
        target = batch["label"].long()
        acc = (output.pred.argmax(1) == target).float().mean()
        return F.cross_entropy(output.pred, target), {"acc": float(acc)}

    def evaluator(self) -> ChangeEvaluator:
        return ChangeEvaluator()


@register_task("change_detection")
def change_detection(*, backbone: nn.Module, grid: int, channels: int = 64) -> SiameseChangeDetector:
    """Siamese change detector; ``grid`` is the side of the backbone's (identity-pyramid) levels."""
    return SiameseChangeDetector(
        backbone, SiameseDifferenceHead(level_channels(backbone), grid, channels=channels)
    )


# ---------------------------------------------------------------------------------------------- recipe

OPTIONS: dict[str, Any] = {
    "train_per_class": 500,  # paper: 500 changed + 500 unchanged (capped at half of a class)
    "val_per_class": 50,  # carved out of the training budget for model selection (upstream: none)
    "patch": 5,  # neighbourhood side; paper 5 (Hermiston, Farmland) or 15 (Bay Area, Santa Barbara)
    "spatial_patch": 1,  # paper 1 for 5x5, 2 for 15x15
    "num_tokens": None,  # None: 144 (paper) for full sizes, the variant's for test_*
    "padding": "reflect",  # upstream mirror padding
    "baseline": True,  # also run CVA + Otsu
}

CHANGE_FINETUNE = {"epochs": 15, "batch_size": 32, "lr": 1e-3, "layer_decay": 1.0, "warmup_epochs": 1.0}


@register_recipe("change_detection")
def change_detection_recipe(dataset: str, config: RecipeConfig) -> RecipeResult:
    """Hyperspectral change detection on an image pair (here the semi-synthetic ``semisyn_cd_*``
    pairs: no real hyperspectral pair is available offline).

    Protocol: ``train_per_class`` pixels of each class (``val_per_class`` of them for validation) for
    training, every other labelled pixel for testing; per-band min-max scaling fitted on the training
    pixels of both dates (upstream: on every pixel); ``patch × patch`` neighbourhoods; model selection
    on validation kappa; CVA + Otsu (unsupervised) scored on the same test pixels as the baseline.
    Options: :data:`OPTIONS`; fine-tuning defaults :data:`CHANGE_FINETUNE` (paper: 50 epochs, batch
    32, lr 6e-5, cosine).
    """
    start = time.perf_counter()
    opts = resolve_options("change_detection", OPTIONS, config.options)
    if int(opts["patch"]) % 2 != 1:
        raise ValueError(f"options['patch']: expected an odd neighbourhood side, got {opts['patch']}")
    torch.manual_seed(config.seed)
    scene = hs_data.load_scene(dataset, config.data_root)
    pre, post = scene["image_pre"].astype(np.float64), scene["image_post"].astype(np.float64)
    label, valid = scene["label"], scene["mask"]
    split = per_class_split(
        label,
        int(opts["train_per_class"]),
        val_per_class=int(opts["val_per_class"]),
        seed=config.seed,
        valid=valid,
        dataset=dataset,
    )
    fit_idx = np.concatenate([split.train, split.val])
    pixels = np.concatenate([p.reshape(p.shape[0], -1)[:, fit_idx].T for p in (pre, post)])
    scaler = BandScaler("minmax").fit(pixels)
    pre_n, post_n = (scaler.transform(p).astype(np.float32) for p in (pre, post))
    r = (int(opts["patch"]) - 1) // 2
    parts = {
        p: PairPatchDataset(pre_n, post_n, split, p, patch_radius=r, padding=str(opts["padding"]))
        for p in ("train", "val", "test")
    }
    test_backbone = is_test_backbone(config.backbone)
    sp = int(opts["spatial_patch"])
    backbone = build_backbone(
        config.backbone,
        in_chans=pre.shape[0],
        img_size=int(opts["patch"]),
        patch_size=sp,
        fpn="identity",
        use_abs_pos_emb=False,  # upstream: no position embeddings for change detection
        num_tokens=opts["num_tokens"] if opts["num_tokens"] is not None else (None if test_backbone else 144),
        sem_hidden=None if test_backbone else 32,
        sem_channels=None if test_backbone else 144,
        pretrained=config.pretrained,
    )
    model = create_task_model("change_detection", backbone=backbone, grid=int(opts["patch"]) // sp)
    ft_cfg = resolve_finetune(config, **CHANGE_FINETUNE)
    result = finetune(model, parts["train"], parts["val"] if len(parts["val"]) else None, ft_cfg)
    evaluator = predict(model, parts["test"], batch_size=max(64, ft_cfg.eval_batch_size or ft_cfg.batch_size))
    assert isinstance(evaluator, ChangeEvaluator)
    metrics = evaluator.compute()
    baseline: dict[str, float] = {}
    cva_map = None
    if opts["baseline"]:
        cva = change_vector_analysis(pre, post, normalize="each")
        cva_map = cva.change_map.astype(np.int64)
        baseline = change_detection_report(
            cva.change_map, label.astype(bool), mask=split.mask("test")
        ).as_dict()
    artifacts = {
        "prediction": evaluator.change_map(split.shape),
        "label": label,
        "test_mask": split.mask("test"),
    }
    if cva_map is not None:
        artifacts["baseline_prediction"] = cva_map
    return RecipeResult(
        task="change_detection",
        dataset=dataset,
        backbone=config.backbone,
        metrics=metrics,
        main_metric="kappa",
        higher_is_better=True,
        baseline_name="CVA (z-scores) + Otsu" if opts["baseline"] else "none",
        baseline=baseline,
        split=split_record(split),
        finetune=result,
        artifacts=artifacts,
        seconds=time.perf_counter() - start,
        config={"options": opts, "finetune": result.config},
    )
