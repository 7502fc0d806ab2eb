"""Hyperspectral image classification: patch-based (``classification``) and image-based
(``classification_image``) task models, their evaluators, the official classifier loader, and the
recipes.

Labels follow the hs-data label maps: class ids ``1..k``, ``0`` = unlabelled (ignored by the loss and
the metrics). Logit ``j`` is class ``j + 1`` (upstream outputs ``k + 1`` logits and never uses the
first; :func:`load_official_classifier` can drop it).

Batches:

* ``classification``: ``image`` ``(b, c, s, s)`` neighbourhoods (``hs_data.datasets.PixelPatchDataset``),
  ``label`` ``(b,)``; optional ``index`` (flat pixel index) for prediction maps.
* ``classification_image``: ``image`` ``(b, c, t, t)`` tiles, ``label`` ``(b, t, t)`` (0 outside the
  split part), ``origin`` ``(b, 2)`` (``hs_data.datasets.TileDataset``) for stitching.

Metrics (``hs_tasks.metrics.classification``): ``oa``, ``aa`` (mean per-class **recall**), ``kappa``,
and ``acc_<id>`` per class; the evaluators keep the confusion matrix (rows = true).

Shape legend: ``b`` batch, ``c`` bands, ``s`` patch side, ``t`` tile side, ``h w`` scene, ``k`` classes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence, Sized
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

import hs_backbone
import hs_data
from hs_data.datasets import PixelPatchDataset, TileDataset
from hs_data.preprocessing import PCA, fit_on_split
from hs_data.splits import Split, per_class_split
from hs_tasks.baselines.svm import fit_svm
from hs_tasks.core import Evaluator, TaskModel, TaskOutput, create_task_model, register_task
from hs_tasks.finetuning import finetune
from hs_tasks.heads.classification import PooledMLPHead, SegmentationHead
from hs_tasks.heads.common import backbone_levels, level_channels
from hs_tasks.losses.segmentation import masked_cross_entropy
from hs_tasks.metrics.classification import (
    average_accuracy,
    classification_report,
    cohen_kappa,
    confusion_matrix,
    overall_accuracy,
    per_class_accuracy,
)
from hs_tasks.recipes import RecipeConfig, RecipeResult, register_recipe, resolve_finetune
from hs_tasks.tasks.common import (
    TileAccumulator,
    backbone_family,
    build_backbone,
    is_test_backbone,
    predict,
    resolve_options,
    split_record,
)

__all__ = [
    "ClassificationEvaluator",
    "DenseClassificationEvaluator",
    "ImageClassifier",
    "PatchClassifier",
    "load_official_classifier",
]


def _is_hypersigma(backbone: nn.Module) -> bool:
    return hasattr(backbone, "sem")


def _metrics_of(cm: np.ndarray) -> dict[str, float]:
    out = {"oa": overall_accuracy(cm), "aa": average_accuracy(cm), "kappa": cohen_kappa(cm)}
    for j, acc in enumerate(per_class_accuracy(cm)):
        out[f"acc_{j + 1}"] = float(acc)
    return out


class ClassificationEvaluator(Evaluator):
    """Confusion matrix over ``(logits (b, k), label (b,))`` batches; ``label`` 0 is skipped.

    After :meth:`compute`, ``confusion`` holds the ``(k, k)`` matrix and ``predictions`` maps each
    evaluated ``index`` (when the batches carry one) to its predicted class id.
    """

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
        self.predictions: dict[int, int] = {}

    def update(self, output: TaskOutput, batch: Mapping[str, Any]) -> None:
        label = batch["label"].reshape(-1).cpu()
        pred = output.pred.argmax(dim=1).reshape(-1).cpu()
        keep = label > 0
        if keep.any():
            self.confusion += confusion_matrix(label[keep] - 1, pred[keep], num_classes=self.num_classes)
        if "index" in batch:
            for i, p in zip(batch["index"].reshape(-1).tolist(), pred.tolist()):
                self.predictions[int(i)] = int(p) + 1

    def compute(self) -> dict[str, float]:
        return _metrics_of(self.confusion)

    def prediction_map(self, shape: tuple[int, int]) -> np.ndarray:
        """``(h, w)`` int64 map of the predicted class ids (0 where no prediction was made)."""
        out = np.zeros(shape[0] * shape[1], dtype=np.int64)
        if self.predictions:
            idx = np.fromiter(self.predictions.keys(), dtype=np.int64)
            out[idx] = np.fromiter(self.predictions.values(), dtype=np.int64)
        return out.reshape(shape)


class DenseClassificationEvaluator(Evaluator):
    """Stitches tile logits ``(b, k, t, t)`` by ``origin`` (overlaps averaged), then scores the
    stitched argmax against the stitched labels (0 skipped)."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.logits = TileAccumulator()
        self.labels = TileAccumulator()
        self.confusion = np.zeros((num_classes, num_classes), dtype=np.int64)

    def update(self, output: TaskOutput, batch: Mapping[str, Any]) -> None:
        origin = batch.get("origin")
        if origin is None:
            origin = torch.zeros(output.pred.shape[0], 2, dtype=torch.int64)
        self.logits.add(origin, output.pred.float())
        self.labels.add(origin, batch["label"].float())

    def maps(self) -> tuple[np.ndarray, np.ndarray]:
        """``(predicted class ids, labels)``, both ``(h, w)`` int64 (0 = not covered / unlabelled)."""
        logits = self.logits.assemble()
        labels = self.labels.assemble(fill=0.0).round().astype(np.int64)
        covered = ~np.isnan(logits[0])
        pred = np.where(covered, np.nan_to_num(logits).argmax(axis=0) + 1, 0)
        return pred.astype(np.int64), labels

    def compute(self) -> dict[str, float]:
        pred, labels = self.maps()
        keep = labels > 0
        if not keep.any():
            raise ValueError("DenseClassificationEvaluator: no labelled pixel among the evaluated tiles")
        self.confusion = confusion_matrix(labels[keep] - 1, pred[keep] - 1, num_classes=self.num_classes)
        return _metrics_of(self.confusion)


class PatchClassifier(TaskModel):
    """Patch-based classification: backbone levels → :class:`PooledMLPHead` → logits ``(b, k)``.

    Args:
        backbone: HyperSIGMA (the SEM-gated levels are pooled) or SpatialViT (SpatSIGMA: the raw
            block outputs are pooled, as upstream's ``SpatViT_cls``).
        head: a :class:`PooledMLPHead` over those levels.
        label_smoothing: cross-entropy label smoothing (upstream 0).
    """

    task = "classification"
    main_metric = "oa"
    higher_is_better = True

    def __init__(self, backbone: nn.Module, head: PooledMLPHead, *, label_smoothing: float = 0.0) -> None:
        super().__init__(backbone, head)
        self.raw_levels = not _is_hypersigma(backbone)
        self.num_classes = head.num_classes
        self.label_smoothing = label_smoothing

    def forward(self, batch: Mapping[str, Any]) -> TaskOutput:
        levels = backbone_levels(self.backbone, batch["image"], raw=self.raw_levels)
        return TaskOutput(self.head(levels))

    def loss(self, output: TaskOutput, batch: Mapping[str, Any]) -> tuple[Tensor, dict[str, float]]:
        target = batch["label"].long() - 1  # class ids 1..k -> 0..k-1; unlabelled (0) -> -1, ignored
        loss = F.cross_entropy(output.pred, target, ignore_index=-1, label_smoothing=self.label_smoothing)
        acc = (output.pred.argmax(1) == target).float()[target >= 0].mean()
        return loss, {"acc": float(acc)}

    def evaluator(self) -> ClassificationEvaluator:
        return ClassificationEvaluator(self.num_classes)


class ImageClassifier(TaskModel):
    """Image-based classification (segmentation of tiles): backbone levels → :class:`SegmentationHead`
    → logits ``(b, k, t, t)``; cross-entropy on the labelled pixels only."""

    task = "classification_image"
    main_metric = "oa"
    higher_is_better = True

    def __init__(self, backbone: nn.Module, head: SegmentationHead, *, num_classes: int) -> None:
        super().__init__(backbone, head)
        self.num_classes = num_classes

    def forward(self, batch: Mapping[str, Any]) -> TaskOutput:
        x = batch["image"]
        return TaskOutput(self.head(backbone_levels(self.backbone, x), x.shape[-2:]))

    def loss(self, output: TaskOutput, batch: Mapping[str, Any]) -> tuple[Tensor, dict[str, float]]:
        target = batch["label"].long() - 1
        return masked_cross_entropy(output.pred, target, ignore_index=-1), {}

    def evaluator(self) -> DenseClassificationEvaluator:
        return DenseClassificationEvaluator(self.num_classes)


@register_task("classification")
def classification(
    *,
    backbone: nn.Module,
    num_classes: int,
    hidden: Sequence[int] | None = None,
    dropout: float | None = None,
    activation: str | None = None,
    label_smoothing: float = 0.0,
) -> PatchClassifier:
    """Patch classifier with upstream's head: HyperSIGMA ``(256, 128)`` hidden, dropout 0.4;
    SpatSIGMA ``(128, 64)``, no dropout; linear MLP unless ``activation`` is given."""
    hyper = _is_hypersigma(backbone)
    head = PooledMLPHead(
        level_channels(backbone, raw=not hyper),
        num_classes,
        hidden=tuple(hidden) if hidden is not None else ((256, 128) if hyper else (128, 64)),
        dropout=dropout if dropout is not None else (0.4 if hyper else 0.0),
        activation=activation,
    )
    return PatchClassifier(backbone, head, label_smoothing=label_smoothing)


@register_task("classification_image")
def classification_image(
    *, backbone: nn.Module, num_classes: int, channels: int = 128, activation: str | None = None
) -> ImageClassifier:
    """Image-based classifier with upstream's linear segmentation head (``channels`` wide)."""
    head = SegmentationHead(level_channels(backbone), num_classes, channels=channels, activation=activation)
    return ImageClassifier(backbone, head, num_classes=num_classes)


def load_official_classifier(
    model: PatchClassifier, state_dict: Mapping[str, Tensor], *, drop_background_logit: bool = False
) -> hs_backbone.LoadReport:
    """Load upstream's fine-tuned HyperSIGMA classifier (``ss_fusion_cls.SSFusionFramework``).

    The backbone keys go through ``hs_backbone.load_pretrained`` (which maps ``DR_j``/``fc_spec_j`` to
    the SEM levels); the ``classifier.*`` keys load into the head as they are.

    Args:
        model: a HyperSIGMA :class:`PatchClassifier` of the same sizes.
        state_dict: upstream's state dict.
        drop_background_logit: upstream predicts ``k + 1`` logits and never uses the first; drop its
            row so logit ``j`` is class ``j + 1`` (the model must have ``k`` outputs).

    Returns:
        The backbone's :class:`hs_backbone.LoadReport` (head keys are reported dropped there).
    """
    if not _is_hypersigma(model.backbone):
        raise ValueError("load_official_classifier: the model's backbone is not a HyperSIGMA")
    _, head_sd, _ = hs_backbone.split_official_fusion_state_dict(state_dict)
    if not head_sd:
        raise ValueError(
            "state_dict: no 'classifier.*' keys; expected upstream's SSFusionFramework state dict"
        )
    report = hs_backbone.load_pretrained(model.backbone, dict(state_dict))
    if drop_background_logit:
        last = max(int(k.split(".")[1]) for k in head_sd)
        head_sd = {k: (v[1:] if k.startswith(f"classifier.{last}.") else v) for k, v in head_sd.items()}
    model.head.load_state_dict(head_sd)
    return report


# ---------------------------------------------------------------------------------------------- recipes

_COMMON_OPTIONS: dict[str, Any] = {
    "train_per_class": 20,  # labelled pixels per class (train + val); upstream IP: 15 (10 + 5)
    "val_per_class": 5,  # carved out of train_per_class for model selection; upstream IP: 5
    "pca_components": 30,  # upstream 30 (patch) / 20-30 (image)
    "pca_transductive": False,  # upstream True: PCA fitted on every pixel, test pixels included
    "spatial_patch": 2,
    "num_tokens": None,  # spectral tokens; None: 100 (paper) for full sizes, the variant's for test_*
    "activation": None,  # head nonlinearity; upstream None (linear MLP)
    "baseline": True,  # also run the RBF-SVM baseline (cross-validated on the training pixels)
}

PATCH_OPTIONS: dict[str, Any] = {
    **_COMMON_OPTIONS,
    "patch": 15,  # neighbourhood side s (odd); upstream 33
    "padding": "reflect",  # upstream "zero"
}

IMAGE_OPTIONS: dict[str, Any] = {
    **_COMMON_OPTIONS,
    "tile": 32,  # tile side; upstream 128 (Indian Pines: the whole 145 x 145 image)
    "stride": 16,  # tile step; upstream 96 (overlap 32)
    "spatial_patch": 4,  # upstream 8
}

PATCH_FINETUNE = {"epochs": 60, "batch_size": 32, "lr": 1e-3, "layer_decay": 1.0, "warmup_epochs": 3.0}
IMAGE_FINETUNE = {"epochs": 60, "batch_size": 8, "lr": 1e-3, "layer_decay": 1.0, "warmup_epochs": 3.0}


def _scene_and_split(dataset: str, config: RecipeConfig, opts: Mapping[str, Any]) -> tuple[dict, Split, int]:
    scene = hs_data.load_scene(dataset, config.data_root, keys=("image", "label"))
    labels = scene["label"]
    num_classes = int(labels.max())
    split = per_class_split(
        labels,
        int(opts["train_per_class"]),
        val_per_class=int(opts["val_per_class"]),
        seed=config.seed,
        dataset=dataset,
    )
    return scene, split, num_classes


def _preprocess(image: np.ndarray, split: Split, opts: Mapping[str, Any]) -> tuple[np.ndarray, dict]:
    k = min(int(opts["pca_components"]), image.shape[0])
    pca = fit_on_split(
        PCA(k, whiten=True), image, split, include_val=True, transductive=bool(opts["pca_transductive"])
    )
    return pca.transform(image.astype(np.float64)).astype(np.float32), pca.state_dict()


def _svm_baseline(image: np.ndarray, split: Split) -> dict[str, float]:
    pixels = image.reshape(image.shape[0], -1).T.astype(np.float64)
    train = np.concatenate([split.train, split.val])
    y_train = np.concatenate([split.y_train, split.y_val])
    svm, _ = fit_svm(pixels[train], y_train, seed=0)
    report = classification_report(split.y_test - 1, svm.predict(pixels[split.test]) - 1)
    return {**report.as_dict(), **{f"acc_{j + 1}": float(a) for j, a in enumerate(report.per_class_accuracy)}}


def _num_tokens(config: RecipeConfig, opts: Mapping[str, Any]) -> int | None:
    if opts["num_tokens"] is not None:
        return int(opts["num_tokens"])
    return None if is_test_backbone(config.backbone) else 100


@register_recipe("classification")
def classification_recipe(dataset: str, config: RecipeConfig) -> RecipeResult:
    """Patch-based classification on a labelled scene (e.g. ``salinas_a``).

    Protocol: ``train_per_class`` labelled pixels per class (``val_per_class`` of them for validation,
    capped at half of a small class), the other labelled pixels for testing; PCA whitening fitted on
    the training pixels; ``patch × patch`` neighbourhoods; model selection on validation OA; test
    metrics; the RBF-SVM on the raw spectra of the same training pixels as the baseline.

    Options (``config.options``; CI defaults, paper values in comments): see :data:`PATCH_OPTIONS`.
    Fine-tuning defaults (when ``config.finetune`` is not set): :data:`PATCH_FINETUNE`; the paper uses
    100 epochs, batch 64, lr 6e-5 with pretrained weights.
    """
    start = time.perf_counter()
    opts = resolve_options("classification", PATCH_OPTIONS, config.options)
    if int(opts["patch"]) % 2 != 1:
        raise ValueError(f"options['patch']: expected an odd neighbourhood side, got {opts['patch']}")
    torch.manual_seed(config.seed)
    scene, split, num_classes = _scene_and_split(dataset, config, opts)
    cube, pca_state = _preprocess(scene["image"], split, opts)
    r = (int(opts["patch"]) - 1) // 2
    parts = {
        p: PixelPatchDataset(cube, split, p, patch_radius=r, padding=str(opts["padding"]))
        for p in ("train", "val", "test")
    }
    backbone = build_backbone(
        config.backbone,
        in_chans=cube.shape[0],
        img_size=int(opts["patch"]),
        patch_size=int(opts["spatial_patch"]),
        # SpatSIGMA's head pools the raw block outputs (upstream SpatViT_cls): no pyramid needed
        fpn="identity" if backbone_family(config.backbone) == "spatial" else None,
        num_tokens=_num_tokens(config, opts),
        pretrained=config.pretrained,
    )
    model = create_task_model(
        "classification", backbone=backbone, num_classes=num_classes, activation=opts["activation"]
    )
    ft_cfg = resolve_finetune(config, **PATCH_FINETUNE)
    result = finetune(model, parts["train"], parts["val"] if len(parts["val"]) else None, ft_cfg)
    evaluator = predict(model, parts["test"], batch_size=ft_cfg.eval_batch_size or ft_cfg.batch_size)
    assert isinstance(evaluator, ClassificationEvaluator)
    metrics = evaluator.compute()
    baseline = _svm_baseline(scene["image"], split) if opts["baseline"] else {}
    return RecipeResult(
        task="classification",
        dataset=dataset,
        backbone=config.backbone,
        metrics=metrics,
        main_metric="oa",
        higher_is_better=True,
        baseline_name="RBF-SVM (spectra, CV on training pixels)" if opts["baseline"] else "none",
        baseline=baseline,
        split=split_record(split),
        finetune=result,
        artifacts={
            "prediction": evaluator.prediction_map(split.shape),
            "label": scene["label"],
            "confusion": evaluator.confusion,
        },
        seconds=time.perf_counter() - start,
        config={
            "options": opts,
            "finetune": result.config,
            "pca": {"n_components": pca_state["n_components"]},
        },
    )


@register_recipe("classification_image")
def classification_image_recipe(dataset: str, config: RecipeConfig) -> RecipeResult:
    """Image-based (tiled segmentation) classification on a labelled scene.

    Protocol: the same split and PCA as the patch recipe; ``tile × tile`` tiles with ``stride``;
    training tiles carry only the training labels (the rest of the scene is unlabelled input, as
    upstream), validation and test tiles only theirs; test logits of overlapping tiles are averaged.

    Options: :data:`IMAGE_OPTIONS`. Fine-tuning defaults: :data:`IMAGE_FINETUNE`.
    """
    start = time.perf_counter()
    opts = resolve_options("classification_image", IMAGE_OPTIONS, config.options)
    torch.manual_seed(config.seed)
    scene, split, num_classes = _scene_and_split(dataset, config, opts)
    cube, pca_state = _preprocess(scene["image"], split, opts)
    tile, stride = int(opts["tile"]), int(opts["stride"])

    def tiles(part: str, *, only_labelled: bool) -> torch.utils.data.Dataset:
        data = TileDataset({"image": cube, "label": split.label_map(part)}, tile, stride)
        if not only_labelled:
            return data
        keep = [i for i in range(len(data)) if bool((data[i]["label"] > 0).any())]
        return torch.utils.data.Subset(data, keep)

    train, val, test = (
        tiles("train", only_labelled=True),
        tiles("val", only_labelled=True),
        tiles("test", only_labelled=False),
    )
    backbone = build_backbone(
        config.backbone,
        in_chans=cube.shape[0],
        img_size=tile,
        patch_size=int(opts["spatial_patch"]),
        num_tokens=_num_tokens(config, opts),
        pretrained=config.pretrained,
    )
    model = create_task_model(
        "classification_image", backbone=backbone, num_classes=num_classes, activation=opts["activation"]
    )
    ft_cfg = resolve_finetune(config, **IMAGE_FINETUNE)
    result = finetune(model, train, val if len(cast(Sized, val)) else None, ft_cfg)
    evaluator = predict(model, test, batch_size=ft_cfg.eval_batch_size or ft_cfg.batch_size)
    assert isinstance(evaluator, DenseClassificationEvaluator)
    metrics = evaluator.compute()
    prediction, _ = evaluator.maps()
    baseline = _svm_baseline(scene["image"], split) if opts["baseline"] else {}
    return RecipeResult(
        task="classification_image",
        dataset=dataset,
        backbone=config.backbone,
        metrics=metrics,
        main_metric="oa",
        higher_is_better=True,
        baseline_name="RBF-SVM (spectra, CV on training pixels)" if opts["baseline"] else "none",
        baseline=baseline,
        split=split_record(split),
        finetune=result,
        artifacts={"prediction": prediction, "label": scene["label"], "confusion": evaluator.confusion},
        seconds=time.perf_counter() - start,
        config={
            "options": opts,
            "finetune": result.config,
            "pca": {"n_components": pca_state["n_components"]},
        },
    )
