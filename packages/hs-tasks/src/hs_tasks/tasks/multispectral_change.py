"""Multispectral change detection (``multispectral_change_detection``): the stem + Siamese backbone +
FPN model, its dense evaluator and the recipe.

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §4.8, upstream ``MultispectralCD``):
Sentinel-2 (13 bands) crops pass a ``Conv1×1(13, 100)`` channel-reduction stem, both dates go through
one backbone, :class:`~hs_tasks.heads.FPNChangeHead` predicts dense change logits; the loss is
cross-entropy weighted ``[1, 10]`` (changed pixels are rare) plus ``0.75 ×`` Lovász-softmax, both
ignoring unlabelled pixels (255). Upstream selects the checkpoint with the best **test** kappa
(§7.3 #10); here selection uses a validation part carved from the training labels.

Batches: ``image_pre``, ``image_post`` ``(b, c, t, t)`` crops, ``label`` ``(b, t, t)`` in {0, 1, 255},
``origin`` ``(b, 2)`` (for stitching overlapping evaluation crops).

Metrics: ``precision``, ``recall``, ``oa``, ``f1``, ``iou``, ``kappa`` on the labelled pixels of the
stitched map; the main metric is F1 (the paper's OSCD figure).

Shape legend: ``b`` batch, ``c`` bands, ``t`` crop side, ``h w`` scene.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence, Sized
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset, Subset

import hs_data
from hs_data.datasets import TileDataset
from hs_data.preprocessing import BandScaler
from hs_data.splits import spatially_disjoint_split
from hs_tasks.baselines.change_detection import change_vector_analysis
from hs_tasks.core import Evaluator, TaskModel, TaskOutput, create_task_model, register_task
from hs_tasks.finetuning import finetune
from hs_tasks.heads.change_detection import ChannelReductionStem, FPNChangeHead
from hs_tasks.heads.common import level_channels
from hs_tasks.losses.segmentation import cross_entropy_lovasz
from hs_tasks.metrics.change_detection import change_detection_report
from hs_tasks.recipes import RecipeConfig, RecipeResult, register_recipe, resolve_finetune
from hs_tasks.tasks.change_detection import siamese_levels
from hs_tasks.tasks.common import (
    TileAccumulator,
    build_backbone,
    is_test_backbone,
    predict,
    resolve_options,
    split_record,
)

__all__ = ["DenseChangeEvaluator", "MultispectralChangeDetector"]

IGNORE = 255


class DenseChangeEvaluator(Evaluator):
    """Stitches crop logits ``(b, 2, t, t)`` by ``origin`` (overlaps averaged) and scores the argmax
    on the pixels whose stitched label is 0 or 1."""

    def __init__(self) -> None:
        self.logits = TileAccumulator()
        self.labels = TileAccumulator()

    def update(self, output: TaskOutput, batch: Mapping[str, Any]) -> None:
        self.logits.add(batch["origin"], output.pred.float())
        self.labels.add(batch["origin"], batch["label"].float())

    def maps(self) -> tuple[np.ndarray, np.ndarray]:
        """``(prediction, label)`` ``(h, w)`` int64; prediction -1 and label 255 where no crop covers."""
        logits = self.logits.assemble()
        labels = self.labels.assemble(fill=IGNORE).round().astype(np.int64)
        covered = ~np.isnan(logits[0])
        pred = np.where(covered, np.nan_to_num(logits).argmax(axis=0), -1)
        return pred.astype(np.int64), labels

    def compute(self) -> dict[str, float]:
        pred, labels = self.maps()
        keep = labels != IGNORE
        if not keep.any():
            raise ValueError("DenseChangeEvaluator: no labelled pixel among the evaluated crops")
        return change_detection_report(pred[keep], labels[keep]).as_dict()


class MultispectralChangeDetector(TaskModel):
    """Stem → shared backbone on both dates → :class:`FPNChangeHead` logits ``(b, 2, t, t)``.

    Args:
        backbone: HyperSIGMA or SpatialViT built for ``stem.out_channels`` input channels.
        head: the FPN head.
        stem: the channel-reduction stem.
        class_weights: cross-entropy class weights (upstream ``(1, 10)``).
        lovasz_weight: weight of the Lovász-softmax term (upstream 0.75).
    """

    task = "multispectral_change_detection"
    main_metric = "f1"
    higher_is_better = True

    def __init__(
        self,
        backbone: nn.Module,
        head: FPNChangeHead,
        stem: ChannelReductionStem,
        *,
        class_weights: Sequence[float] | None = (1.0, 10.0),
        lovasz_weight: float = 0.75,
    ) -> None:
        super().__init__(backbone, head)
        self.stem = stem
        self.class_weights = None if class_weights is None else tuple(float(w) for w in class_weights)
        self.lovasz_weight = lovasz_weight

    def forward(self, batch: Mapping[str, Any]) -> TaskOutput:
        pre, post = batch["image_pre"], batch["image_post"]
        a, b = siamese_levels(self.backbone, self.stem(pre), self.stem(post))
        return TaskOutput(self.head(a, b, pre.shape[-2:]))

    def loss(self, output: TaskOutput, batch: Mapping[str, Any]) -> tuple[Tensor, dict[str, float]]:
        return cross_entropy_lovasz(
            output.pred,
            batch["label"].long(),
            class_weights=self.class_weights,
            lovasz_weight=self.lovasz_weight,
            ignore_index=IGNORE,
        )

    def evaluator(self) -> DenseChangeEvaluator:
        return DenseChangeEvaluator()


@register_task("multispectral_change_detection")
def multispectral_change_detection(
    *,
    backbone: nn.Module,
    bands: int,
    channels: int = 128,
    class_weights: Sequence[float] | None = (1.0, 10.0),
    lovasz_weight: float = 0.75,
) -> MultispectralChangeDetector:
    """Multispectral change detector; the stem maps ``bands`` to the backbone's input channels."""
    in_chans = getattr(backbone, "in_chans", None)
    if not isinstance(in_chans, int):
        raise ValueError(f"backbone {type(backbone).__name__}: needs an int in_chans for the stem")
    return MultispectralChangeDetector(
        backbone,
        FPNChangeHead(level_channels(backbone), channels=channels),
        ChannelReductionStem(bands, in_chans),
        class_weights=class_weights,
        lovasz_weight=lovasz_weight,
    )


# ---------------------------------------------------------------------------------------------- recipe

OPTIONS: dict[str, Any] = {
    "crop": 64,  # crop side; upstream 128
    "stride": 32,  # step between training crops (upstream: random crops)
    "eval_stride": 32,  # step between evaluation crops; upstream 64 (50 % overlap of 128)
    "spatial_patch": 4,  # upstream 8
    "stem_channels": None,  # stem output = backbone bands; None: 100 (paper) for full sizes, 16 for test_*
    "class_weights": (1.0, 10.0),  # upstream [1, 10]
    "lovasz_weight": 0.75,  # upstream 0.75
    "head_channels": 128,  # upstream 128
    "num_tokens": None,  # None: 100 (paper) for full sizes, the variant's for test_*
    "block_size": 50,  # spatially disjoint split blocks (the scene has no official split)
    "train_fraction": 0.5,
    "val_fraction": 0.1,
    "baseline": True,  # also run CVA + Otsu
}

MCD_FINETUNE = {
    "epochs": 8,
    "batch_size": 8,
    "lr": 5e-4,
    "weight_decay": 5e-4,
    "layer_decay": 1.0,
    "warmup_epochs": 1.0,
}


def _crops(pre: np.ndarray, post: np.ndarray, labels: np.ndarray, crop: int, stride: int) -> Dataset:
    data = TileDataset({"image_pre": pre, "image_post": post, "label": labels}, crop, stride)
    keep = [
        i
        for i, (r, c) in enumerate(data.origins)
        if bool((labels[r : r + crop, c : c + crop] != IGNORE).any())
    ]
    return Subset(data, keep)


@register_recipe("multispectral_change_detection")
def multispectral_change_detection_recipe(dataset: str, config: RecipeConfig) -> RecipeResult:
    """Multispectral change detection on a co-registered pair with a (partial) reference map
    (``nanjing``: Landsat-5, 6 bands, 800 × 800; OSCD is registered but not loadable yet).

    Protocol: a spatially disjoint block split of the labelled pixels (train / validation / test);
    per-band z-scores fitted on the training pixels of both dates (upstream: fixed ImageNet-style
    constants); training crops carry only training labels (255 elsewhere); overlapping evaluation
    crops are averaged; model selection on validation F1; CVA + Otsu scored on the same test pixels.
    Options: :data:`OPTIONS`; fine-tuning defaults :data:`MCD_FINETUNE` (paper: 6,250 iterations of
    batch 64, lr 1e-4, wd 5e-4, constant rate).
    """
    start = time.perf_counter()
    opts = resolve_options("multispectral_change_detection", OPTIONS, config.options)
    torch.manual_seed(config.seed)
    scene = hs_data.load_scene(dataset, config.data_root)
    pre, post = scene["image_pre"].astype(np.float64), scene["image_post"].astype(np.float64)
    label, valid = scene["label"].astype(np.int64), scene["mask"].astype(bool)
    split = spatially_disjoint_split(
        label,
        block_size=int(opts["block_size"]),
        train_fraction=float(opts["train_fraction"]),
        val_fraction=float(opts["val_fraction"]),
        seed=config.seed,
        valid=valid,
        dataset=dataset,
    )
    fit_idx = split.train
    pixels = np.concatenate([p.reshape(p.shape[0], -1)[:, fit_idx].T for p in (pre, post)])
    scaler = BandScaler("standard").fit(pixels)
    pre_n, post_n = (scaler.transform(p).astype(np.float32) for p in (pre, post))

    def part_labels(part: str) -> np.ndarray:
        out = np.full(split.shape, IGNORE, dtype=np.int64)
        out[split.mask(part)] = label[split.mask(part)]
        return out

    crop = int(opts["crop"])
    train = _crops(pre_n, post_n, part_labels("train"), crop, int(opts["stride"]))
    val = _crops(pre_n, post_n, part_labels("val"), crop, int(opts["eval_stride"]))
    test = _crops(pre_n, post_n, part_labels("test"), crop, int(opts["eval_stride"]))
    test_backbone = is_test_backbone(config.backbone)
    stem = opts["stem_channels"] if opts["stem_channels"] is not None else (16 if test_backbone else 100)
    backbone = build_backbone(
        config.backbone,
        in_chans=int(stem),
        img_size=crop,
        patch_size=int(opts["spatial_patch"]),
        fpn="up2",  # upstream: ConvT x2, identity, max-pools
        use_abs_pos_emb=False,  # upstream: none
        num_tokens=opts["num_tokens"] if opts["num_tokens"] is not None else (None if test_backbone else 100),
        pretrained=config.pretrained,
    )
    model = create_task_model(
        "multispectral_change_detection",
        backbone=backbone,
        bands=pre.shape[0],
        channels=int(opts["head_channels"]),
        class_weights=opts["class_weights"],
        lovasz_weight=float(opts["lovasz_weight"]),
    )
    ft_cfg = resolve_finetune(config, **MCD_FINETUNE)
    result = finetune(model, train, val if len(cast(Sized, val)) else None, ft_cfg)
    evaluator = predict(model, test, batch_size=ft_cfg.eval_batch_size or ft_cfg.batch_size)
    assert isinstance(evaluator, DenseChangeEvaluator)
    metrics = evaluator.compute()
    prediction, _ = evaluator.maps()
    baseline: dict[str, float] = {}
    artifacts: dict[str, np.ndarray] = {
        "prediction": prediction,
        "label": label,
        "test_mask": split.mask("test"),
    }
    if opts["baseline"]:
        cva = change_vector_analysis(pre, post, normalize="each")
        baseline = change_detection_report(
            cva.change_map, label.astype(bool), mask=split.mask("test")
        ).as_dict()
        artifacts["baseline_prediction"] = cva.change_map.astype(np.int64)
    return RecipeResult(
        task="multispectral_change_detection",
        dataset=dataset,
        backbone=config.backbone,
        metrics=metrics,
        main_metric="f1",
        higher_is_better=True,
        baseline_name="CVA (z-scores) + Otsu" if opts["baseline"] else "none",
        baseline=baseline,
        split=split_record(split),
        finetune=result,
        artifacts=artifacts,
        seconds=time.perf_counter() - start,
        config={
            "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.items()},
            "finetune": result.config,
        },
    )
