"""Hyperspectral unmixing: the task model, its evaluator and its recipe.

HyperSIGMA's unmixing (``shared/reference/hypersigma.md`` §4.5) is an autoencoder: the backbone and
:class:`~hs_tasks.heads.UnmixingHead` map a tile to abundances (softmax over endmembers: non-negative,
sum to one), the linear decoder ``x̂ = ReLU(Eᵀa)`` reconstructs it, and the endmembers ``E`` are the
decoder's weights, initialised from VCA. Training is unsupervised (no reference abundance or
endmember is used); the reference is read only to score the result.

Loss: ``SAD(x, x̂) + sparsity_weight · mean(√A) + tv_weight · TV(A)``. Upstream's third term
(weight 0.1) has no gradient and differences endmembers (§7.3 #13); here ``TV`` is the anisotropic
total variation within each abundance map (:func:`~hs_tasks.losses.abundance_tv`), a real
regulariser (``tv_mode="abundance"``, default). ``tv_mode="upstream"`` adds upstream's term instead:
the same loss values as upstream and, like upstream, no effect on training.

Batch keys: ``image`` ``(b, c, h, w)``; for scoring, ``abundances`` ``(b, e, h, w)``,
``endmembers`` ``(b, e, c)`` (the reference) and ``origin`` ``(b, 2)`` (tile positions, for stitching).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

import hs_data
from hs_backbone import HyperSIGMA
from hs_data.datasets import TileDataset
from hs_tasks.baselines import fcls, vca
from hs_tasks.core import Evaluator, TaskModel, TaskOutput, create_task_model, register_task
from hs_tasks.dense import RandomCrops, Stitcher, run_evaluator
from hs_tasks.finetuning import finetune
from hs_tasks.heads.common import backbone_levels
from hs_tasks.heads.unmixing import UnmixingHead
from hs_tasks.losses.unmixing import abundance_tv, sad_loss, sparsity_loss, upstream_endmember_tv
from hs_tasks.metrics import spectral_angle, unmixing_report
from hs_tasks.recipes import RecipeConfig, RecipeResult, register_recipe, resolve_finetune
from hs_tasks.tasks.common import dense_backbone, resolve_options

__all__ = ["UnmixingEvaluator", "UnmixingModel", "unmixing_model", "unmixing_recipe"]

TV_MODES = ("abundance", "upstream", "none")


class UnmixingEvaluator(Evaluator):
    """Stitches abundance tiles, then scores them and the model's endmembers against the reference.

    Metrics: ``reconstruction_sad`` (mean angle between input and reconstruction, radians; always),
    and with a reference: ``mean_sad`` and ``sad_<i>`` (per reference endmember, radians) after the
    Hungarian matching on SAD, ``abundance_rmse`` (over all entries) and ``abundance_mse``
    (:func:`hs_tasks.metrics.unmixing_report`). Overlapping tiles are averaged.
    """

    def __init__(self) -> None:
        self.pred, self.ref = Stitcher(), Stitcher()
        self.endmembers: np.ndarray | None = None
        self.reference_endmembers: np.ndarray | None = None
        self._angle_sum = 0.0
        self._pixels = 0

    def update(self, output: TaskOutput, batch: dict[str, Any]) -> None:
        origin = batch.get("origin")
        self.pred.add(output.pred, origin)
        if "abundances" in batch:
            self.ref.add(batch["abundances"], origin)
        if "endmembers" in batch:
            self.reference_endmembers = batch["endmembers"][0].detach().double().cpu().numpy()
        self.endmembers = output.extras["endmembers"].detach().double().cpu().numpy()
        x = batch["image"].detach().double().cpu().numpy()
        x_hat = output.extras["reconstruction"].detach().double().cpu().numpy()
        self._angle_sum += float(spectral_angle(np.moveaxis(x, 1, -1), np.moveaxis(x_hat, 1, -1)).sum())
        self._pixels += x.shape[0] * x.shape[2] * x.shape[3]

    def abundances(self) -> np.ndarray:
        """The stitched ``(e, H, W)`` abundance map (the first image)."""
        return self.pred.images()[0]

    def compute(self) -> dict[str, float]:
        if self._pixels == 0 or self.endmembers is None:
            raise ValueError("UnmixingEvaluator: no predictions were added")
        out = {"reconstruction_sad": self._angle_sum / self._pixels}
        if self.reference_endmembers is None:
            return out
        ref_ab = self.ref.images()[0] if len(self.ref) else None
        report = unmixing_report(
            self.reference_endmembers,
            self.endmembers,
            ref_ab,
            self.abundances() if ref_ab is not None else None,
        )
        out["mean_sad"] = report.mean_sad
        out.update({f"sad_{i}": float(v) for i, v in enumerate(report.sad)})
        if report.mean_abundance_rmse is not None and report.mean_abundance_mse is not None:
            out["abundance_rmse"] = report.mean_abundance_rmse
            out["abundance_mse"] = report.mean_abundance_mse
        return out


class UnmixingModel(TaskModel):
    """Backbone + :class:`~hs_tasks.heads.UnmixingHead`.

    ``forward`` returns ``pred`` = abundances ``(b, e, h, w)`` and ``extras``: ``reconstruction``
    ``(b, c, h, w)``, ``endmembers`` ``(e, c)`` (non-negative).

    Args:
        backbone: ``HyperSIGMA`` (the head reads its SEM-enhanced levels) or ``SpatialViT``.
        head: the unmixing head.
        sparsity_weight: weight of ``mean(√A)`` (upstream 0.35).
        tv_weight: weight of the TV term (upstream 0.1).
        tv_mode: ``"abundance"`` (TV within each abundance map, with a gradient), ``"upstream"``
            (upstream's gradient-free endmember term) or ``"none"``.
    """

    task = "unmixing"
    main_metric = "abundance_rmse"
    higher_is_better = False

    def __init__(
        self,
        backbone: nn.Module,
        head: UnmixingHead,
        *,
        sparsity_weight: float = 0.35,
        tv_weight: float = 0.1,
        tv_mode: str = "abundance",
    ) -> None:
        super().__init__(backbone, head)
        if tv_mode not in TV_MODES:
            raise ValueError(f"tv_mode: expected one of {TV_MODES}, got {tv_mode!r}")
        if sparsity_weight < 0 or tv_weight < 0:
            raise ValueError(f"weights must be >= 0, got sparsity {sparsity_weight}, tv {tv_weight}")
        self.sparsity_weight, self.tv_weight, self.tv_mode = sparsity_weight, tv_weight, tv_mode

    def forward(self, batch: dict[str, Any]) -> TaskOutput:
        x = batch["image"]
        assert isinstance(self.head, UnmixingHead)
        abundances, recon = self.head(backbone_levels(self.backbone, x), tuple(x.shape[-2:]))
        return TaskOutput(
            abundances, {"reconstruction": recon, "endmembers": self.head.decoder.nonnegative()}
        )

    def loss(self, output: TaskOutput, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        sad = sad_loss(batch["image"], output.extras["reconstruction"])
        sparse = sparsity_loss(output.pred)
        if self.tv_mode == "abundance":
            tv = abundance_tv(output.pred)
        elif self.tv_mode == "upstream":
            tv = upstream_endmember_tv(output.extras["endmembers"])
        else:
            tv = sad.new_zeros(())
        loss = sad + self.sparsity_weight * sparse + self.tv_weight * tv
        return loss, {
            "sad": float(sad.detach()),
            "sparsity": float(sparse.detach()),
            "tv": float(tv.detach()),
        }

    def evaluator(self) -> Evaluator:
        return UnmixingEvaluator()


@register_task("unmixing")
def unmixing_model(
    *,
    backbone: nn.Module,
    num_endmembers: int,
    bands: int,
    endmembers: Any = None,
    channels: int | None = None,
    dropout: float = 0.2,
    scale: float = 1.0,
    sparsity_weight: float = 0.35,
    tv_weight: float = 0.1,
    tv_mode: str = "abundance",
) -> UnmixingModel:
    """Build an unmixing model on ``backbone``.

    Args:
        backbone: ``HyperSIGMA`` (its SEM output channels are the head width; upstream: SEM
            ``(t, 32, t)`` on 4 levels) or ``SpatialViT`` (levels projected to ``channels``).
        num_endmembers: ``e``.
        bands: ``c``.
        endmembers: ``(e, c)`` decoder initialisation (VCA's endmembers).
        channels: head width for a spatial-only backbone (default 64, upstream's ``t``).
        dropout, scale: see :class:`~hs_tasks.heads.UnmixingHead`.
        sparsity_weight, tv_weight, tv_mode: see :class:`UnmixingModel`.
    """
    if isinstance(backbone, HyperSIGMA):
        width, in_channels, levels = backbone.sem.out_channels, None, backbone.sem.num_levels
    else:
        width = channels or 64
        in_channels = int(getattr(backbone, "embed_dim", 0)) or None
        levels = len(getattr(backbone, "out_indices", (0, 1, 2, 3)))
    head = UnmixingHead(
        width,
        num_endmembers,
        bands,
        num_levels=levels,
        in_channels=in_channels,
        dropout=dropout,
        scale=scale,
        endmembers=endmembers,
    )
    return UnmixingModel(
        backbone, head, sparsity_weight=sparsity_weight, tv_weight=tv_weight, tv_mode=tv_mode
    )


#: Options of the unmixing recipe (``RecipeConfig.options``): CI-sized defaults, paper values in the docs.
UNMIXING_OPTIONS: dict[str, Any] = {
    "tile": 32,  # training/inference tile side (paper 64)
    "patch_size": 2,  # spatial patch (paper 2)
    "num_tokens": 16,  # spectral tokens t, a perfect square; also the head width (paper 64)
    "sem_hidden": 32,  # SEM hidden size (paper 32)
    "patches_per_epoch": 64,  # random training tiles per epoch (paper 400)
    "stride": None,  # inference tile step (default tile // 2)
    "sparsity_weight": 0.35,
    "tv_weight": 0.1,
    "tv_mode": "abundance",
    "dropout": 0.2,
    "augment": True,  # random flips/rotations of the training tiles (paper: flips)
}

#: Fine-tuning defaults of the unmixing recipe (paper: 200 epochs, batch 32, AdamW 1e-3, wd 0.05).
UNMIXING_FINETUNE: dict[str, Any] = {
    "epochs": 20,
    "batch_size": 8,
    "lr": 1e-3,
    "weight_decay": 0.05,
    "layer_decay": 1.0,
    "warmup_epochs": 1.0,
}


@register_recipe("unmixing")
def unmixing_recipe(dataset: str, config: RecipeConfig) -> RecipeResult:
    """Unmixing of one scene (``samson``, ``jasper_ridge``, ``moffett``, ``muufl_gulfport_unmixing``).

    Protocol (upstream's, §4.5): unsupervised on the whole scene — random tiles of the cube (no
    reference is read) train the autoencoder; the whole scene is then unmixed tile by tile (overlaps
    averaged) and scored against the reference abundances and endmembers. The number of endmembers is
    the reference's. Model selection: none (the last epoch is kept, as upstream): the reference may
    not be used for selection, and the unsupervised loss does not rank abundance quality.

    Baseline: VCA (seeded by ``config.seed``) + FCLS on the same cube; the same VCA endmembers
    initialise our decoder, so the comparison isolates what training adds.

    Options (``config.options``): see :data:`UNMIXING_OPTIONS`. Fine-tuning: ``config.finetune``
    where set, else :data:`UNMIXING_FINETUNE` (:func:`~hs_tasks.recipes.resolve_finetune`).
    """
    start = time.perf_counter()
    opts = resolve_options("unmixing", UNMIXING_OPTIONS, config.options)
    scene = hs_data.load_scene(dataset, root=config.data_root)
    for key in ("image", "abundances", "endmembers"):
        if key not in scene:
            raise ValueError(
                f"unmixing recipe: dataset {dataset!r} has no {key!r} (an unmixing scene is needed)"
            )
    cube = np.asarray(scene["image"], dtype=np.float32)
    ref_em, ref_ab = np.asarray(scene["endmembers"]), np.asarray(scene["abundances"])
    bands, e = cube.shape[0], ref_em.shape[0]
    tile = int(opts["tile"])
    stride = int(opts["stride"] or max(1, tile // 2))

    found = vca(cube, e, seed=config.seed)
    base_ab = fcls(cube, found.endmembers)
    base = unmixing_report(ref_em, found.endmembers, ref_ab, base_ab)
    baseline = {
        "abundance_rmse": float(base.mean_abundance_rmse or 0.0),
        "abundance_mse": float(base.mean_abundance_mse or 0.0),
        "mean_sad": base.mean_sad,
        **{f"sad_{i}": float(v) for i, v in enumerate(base.sad)},
    }

    torch.manual_seed(config.seed)
    backbone = dense_backbone(
        config,
        in_chans=bands,
        img_size=tile,
        patch_size=int(opts["patch_size"]),
        num_tokens=int(opts["num_tokens"]),
        use_abs_pos_emb=False,
        sem_hidden=int(opts["sem_hidden"]),
        sem_channels=int(opts["num_tokens"]),
    )
    model = create_task_model(
        "unmixing",
        backbone=backbone,
        num_endmembers=e,
        bands=bands,
        endmembers=found.endmembers,
        channels=int(opts["num_tokens"]),
        dropout=float(opts["dropout"]),
        sparsity_weight=float(opts["sparsity_weight"]),
        tv_weight=float(opts["tv_weight"]),
        tv_mode=str(opts["tv_mode"]),
    )
    ft = resolve_finetune(config, **UNMIXING_FINETUNE)
    train = RandomCrops(cube, tile, int(opts["patches_per_epoch"]), augment=bool(opts["augment"]))
    history = finetune(model, train, None, ft)

    test = TileDataset({"image": cube, "abundances": ref_ab, "endmembers": ref_em}, tile, stride)
    metrics, evaluator = run_evaluator(
        model, test, batch_size=ft.eval_batch_size or ft.batch_size, device=ft.device
    )
    assert isinstance(evaluator, UnmixingEvaluator)
    assert evaluator.endmembers is not None
    return RecipeResult(
        task="unmixing",
        dataset=dataset,
        backbone=config.backbone,
        metrics=metrics,
        main_metric=UnmixingModel.main_metric,
        higher_is_better=UnmixingModel.higher_is_better,
        baseline_name="VCA + FCLS",
        baseline=baseline,
        split={
            "protocol": "unsupervised: every pixel trains without labels; the reference scores all pixels",
            "train": "random tiles of the whole cube",
            "test": "the whole cube, tiled",
            "validation": None,
            "seed": config.seed,
            "tile": tile,
            "stride": stride,
        },
        finetune=history,
        artifacts={
            "abundances": evaluator.abundances(),
            "endmembers": evaluator.endmembers,
            "baseline_abundances": base_ab,
            "baseline_endmembers": found.endmembers,
            "vca_indices": found.indices,
        },
        seconds=time.perf_counter() - start,
        config={"backbone": config.backbone, "options": opts, "finetune": asdict(ft), "seed": config.seed},
    )
