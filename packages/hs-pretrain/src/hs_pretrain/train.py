"""The pretraining run: data, model, optimiser, schedule, distribution, checkpoints, logging, export.

One function, :func:`pretrain`, drives a whole run on :class:`hs_backbone.training.Trainer` (the loop
shared with hs-tasks): AdamW (β = 0.9, 0.95, weight decay 0.05, none on biases, norms and position
embeddings), ``lr = blr · effective batch / 256``, linear warm-up then half-cosine per optimiser step
(upstream's ``lr_sched``; ``shared/reference/hypersigma.md`` §3.4), optional bf16/fp16 autocast,
gradient checkpointing, gradient accumulation, and an atomic ``last.pt`` (model, optimiser, scaler,
step, per-rank RNG state, per-step losses, MLflow run id) that the same call resumes from exactly.

Distributed runs start under ``torchrun``: ``distributed="ddp"`` (gloo on CPU, NCCL on CUDA) or
``"fsdp"`` (FSDP2 ``fully_shard`` of every encoder and decoder block, then the whole MAE; for the large
and huge sizes). Every sample's crop, band window and masking noise come from its own seed, so the
data of a step depend on the global batch only: two processes with half the batch each follow the
loss curve of one process with the whole batch.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from hs_backbone.training import (
    TrainConfig,
    Trainer,
    WarmupCosine,
    build_adamw,
    epoch_loader,
    load_checkpoint,
)
from hs_pretrain._version import __version__
from hs_pretrain.data import PatchDataset
from hs_pretrain.export import export_encoder
from hs_pretrain.mae import MAE
from hs_pretrain.masking import mask_noise
from hs_pretrain.variants import create_mae, mae_family

__all__ = [
    "CheckpointMismatchError",
    "MLflowLogger",
    "PretrainConfig",
    "PretrainResult",
    "check_resume_compatible",
    "pretrain",
]

log = logging.getLogger(__name__)

Distributed = Literal["auto", "none", "ddp", "fsdp"]


class CheckpointMismatchError(ValueError):
    """The checkpoint in the output folder was written by a different model (size, bands, shapes)."""


@dataclass
class PretrainConfig:
    """Everything one pretraining run needs (the ``hs-pretrain train`` options, as a dataclass).

    Model:
        model: a registered MAE (:func:`hs_pretrain.list_maes`), e.g. ``"spatial_mae_base"``.
        upstream: restore upstream's MAE defects (encoder position embedding not added, zero spectral
            decoder position embedding) and upstream's per-file band window.
        model_kwargs: constructor overrides (``in_chans``, ``img_size``, ``mask_ratio``, ...). The crop
            is the model's ``img_size`` and the band window its ``in_chans``.
        grad_checkpointing: recompute blocks in the backward pass (less memory, ~30 % more time).
        dtype: parameter dtype (``"float32"``; ``"float64"`` for exactness tests).

    Data (see :class:`hs_pretrain.PatchDataset`):
        sources, exclude, band_window, scale, bad_bands, key, layout, short_scenes, samples_per_epoch, order,
        block_scenes, flip, cache_scenes, validate; num_workers: DataLoader worker processes.

    Optimisation:
        epochs: epochs (upstream 1600).
        batch_size: samples per optimiser step **over all processes** before accumulation.
        accum_steps: batches accumulated per optimiser step (effective batch = batch_size·accum_steps).
        blr: base learning rate, ``lr = blr · effective batch / 256`` (upstream README 1.5e-4).
        lr: absolute learning rate (overrides ``blr``).
        min_lr: floor of the cosine.
        warmup_epochs: linear warm-up length (upstream 40), in epochs (fractions allowed).
        weight_decay, betas: AdamW (upstream 0.05, (0.9, 0.95)).
        grad_clip: global gradient-norm clip (upstream: none).
        amp: ``None``, ``"bf16"`` or ``"fp16"`` autocast.

    Run:
        out_dir: checkpoints, the exported encoder (``encoder.pt``), ``summary.json``.
        checkpoint_every: also checkpoint every this many steps (epoch ends always).
        resume: continue from ``out_dir/last.pt`` when present (refused if it is another model's).
        seed: model initialisation, data and masking seed.
        log_every: progress log cadence in steps; progress: tqdm bar on a terminal.
        distributed: ``"auto"`` (DDP when launched with more than one process), ``"none"``, ``"ddp"``,
            ``"fsdp"``.
        device: ``"auto"`` (CUDA if available), ``"cpu"`` or ``"cuda"``.
        export: write ``out_dir/encoder.pt`` (hs-backbone format) at the end.
        mlflow_uri, mlflow_experiment, mlflow_run_name: MLflow logging, active when a tracking URI is
            given here or in ``MLFLOW_TRACKING_URI`` (needs ``hs-pretrain[mlflow]``).
    """

    model: str = "spatial_mae_base"
    upstream: bool = False
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    grad_checkpointing: bool = False
    dtype: str = "float32"
    # data
    sources: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    band_window: Literal["per_sample", "per_file"] | None = None
    scale: float | Literal["percentile"] | None = 4000.0
    bad_bands: str | list[int] | None = None
    key: str | None = None
    layout: Literal["auto", "chw", "hwc"] = "auto"
    short_scenes: Literal["skip", "resample"] = "skip"
    samples_per_epoch: int | None = None
    order: Literal["global", "blocks"] = "global"
    block_scenes: int = 8
    flip: bool = False
    cache_scenes: int = 16
    validate: Literal["header", "full"] = "header"
    num_workers: int = 0
    # optimisation
    epochs: int = 1600
    batch_size: int = 64
    accum_steps: int = 1
    blr: float = 1.5e-4
    lr: float | None = None
    min_lr: float = 0.0
    warmup_epochs: float = 40.0
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float | None = None
    amp: Literal["bf16", "fp16"] | None = None
    # run
    out_dir: str | None = None
    checkpoint_every: int = 0
    resume: bool = True
    seed: int = 0
    log_every: int = 10
    progress: bool = True
    distributed: Distributed = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    export: bool = True
    mlflow_uri: str | None = None
    mlflow_experiment: str = "hs-pretrain"
    mlflow_run_name: str | None = None

    def __post_init__(self) -> None:
        mae_family(self.model)  # unknown names fail here, with close matches
        for name in ("epochs", "batch_size", "accum_steps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")
        if self.distributed not in ("auto", "none", "ddp", "fsdp"):
            raise ValueError(
                f"distributed: expected 'auto', 'none', 'ddp' or 'fsdp', got {self.distributed!r}"
            )
        if self.dtype not in ("float32", "float64", "bfloat16"):
            raise ValueError(f"dtype: expected 'float32', 'float64' or 'bfloat16', got {self.dtype!r}")
        self.betas = (float(self.betas[0]), float(self.betas[1]))


@dataclass
class PretrainResult:
    """What :func:`pretrain` returns.

    Attributes:
        model: the trained MAE (unwrapped; on FSDP, the local shards).
        history: per-epoch mean metrics.
        steps: per-step ``{"step", "epoch", "loss", "lr"}`` (the loss averaged over all processes).
        checkpoint: ``out_dir/last.pt`` or ``None``.
        encoder: the exported encoder file or ``None``.
        data: :meth:`hs_pretrain.PatchDataset.summary` (scenes used, skipped and why).
    """

    model: MAE
    history: list[dict[str, float]]
    steps: list[dict[str, float]]
    checkpoint: Path | None
    encoder: Path | None
    data: dict[str, Any]


# ---------------------------------------------------------------------------- callbacks
class StepRecorder:
    """Keeps every step's metrics (saved with the checkpoint, so a resumed run has the whole curve)."""

    def __init__(self) -> None:
        self.steps: list[dict[str, float]] = []

    def on_step_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        self.steps.append({"step": float(trainer.global_step), "epoch": float(trainer.epoch), **metrics})

    def state_dict(self) -> dict:
        return {"steps": list(self.steps)}

    def load_state_dict(self, state: dict) -> None:
        self.steps = list(state.get("steps", []))


class ProgressLog:
    """Logs step, loss, learning rate and patches per second every ``every`` steps (rank 0)."""

    def __init__(self, every: int, total: int, global_batch: int) -> None:
        self.every, self.total, self.global_batch = max(1, every), total, global_batch
        self._t0: float | None = None
        self._s0 = 0

    def on_step_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        now = time.perf_counter()
        if self._t0 is None:
            self._t0, self._s0 = now, trainer.global_step
            return
        if trainer.rank == 0 and trainer.global_step % self.every == 0:
            rate = (trainer.global_step - self._s0) * self.global_batch / max(now - self._t0, 1e-9)
            log.info(
                "step %d/%d epoch %d loss %.5f lr %.3g %.1f patches/s",
                trainer.global_step,
                self.total,
                trainer.epoch,
                metrics["loss"],
                metrics["lr"],
                rate,
            )
            self._t0, self._s0 = now, trainer.global_step


class MLflowLogger:
    """Logs parameters, step metrics and epoch means to MLflow from rank 0, resuming the same run.

    Args:
        tracking_uri: MLflow tracking URI (``None``: MLflow's own default, e.g. ``MLFLOW_TRACKING_URI``).
        experiment: experiment name.
        run_name: run name.
        params: parameters logged once when the run starts.
        every: step-metric cadence.
    """

    def __init__(
        self,
        tracking_uri: str | None,
        experiment: str,
        run_name: str | None,
        params: dict[str, Any],
        every: int = 10,
    ) -> None:
        try:
            import mlflow
        except ImportError as exc:
            raise ImportError(
                "MLflow logging is configured (a tracking URI was given) but mlflow is not installed; "
                "install it with `pip install hs-pretrain[mlflow]`, or unset the tracking URI"
            ) from exc
        self.mlflow = mlflow
        self.tracking_uri, self.experiment, self.run_name = tracking_uri, experiment, run_name
        self.params, self.every = params, max(1, every)
        self.run_id: str | None = None
        self._active = False

    def _ensure_run(self) -> None:
        if self._active:
            return
        if self.tracking_uri:
            self.mlflow.set_tracking_uri(self.tracking_uri)
        self.mlflow.set_experiment(self.experiment)
        run = self.mlflow.start_run(run_id=self.run_id, run_name=None if self.run_id else self.run_name)
        if self.run_id is None:
            self.mlflow.log_params({k: str(v)[:500] for k, v in self.params.items()})
        self.run_id = run.info.run_id
        self._active = True

    def on_step_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        if trainer.rank != 0 or trainer.global_step % self.every:
            return
        self._ensure_run()
        self.mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=trainer.global_step)

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        if trainer.rank != 0 or not trainer.history:
            return
        self._ensure_run()
        means = {f"epoch_{k}": float(v) for k, v in trainer.history[-1].items() if k != "epoch"}
        self.mlflow.log_metrics(means, step=epoch)

    def close(self) -> None:
        if self._active:
            self.mlflow.end_run()
            self._active = False

    def state_dict(self) -> dict:
        return {"run_id": self.run_id}

    def load_state_dict(self, state: dict) -> None:
        self.run_id = state.get("run_id")


# ---------------------------------------------------------------------------- distribution
def _init_distributed(config: PretrainConfig, device: torch.device) -> tuple[int, int, str]:
    """``(rank, world, mode)``; starts the process group under torchrun when needed."""
    dist = torch.distributed
    world_env = int(os.environ.get("WORLD_SIZE", "1"))
    if not dist.is_initialized() and world_env > 1 and config.distributed != "none":
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = 0, 1
    mode = config.distributed
    if mode == "auto":
        mode = "ddp" if world > 1 else "none"
    if mode in ("ddp", "fsdp") and world == 1:
        log.info("distributed=%r with a single process: training without a wrapper", mode)
        mode = "none"
    if mode == "none" and world > 1:
        raise ValueError("distributed='none' with several processes: pass 'ddp' or 'fsdp'")
    return rank, world, mode


def _device(config: PretrainConfig) -> torch.device:
    if config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError("device='cuda' but no CUDA device is available")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def _wrap(model: MAE, mode: str, device: torch.device) -> nn.Module:
    if mode == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if mode == "fsdp":
        from torch.distributed.fsdp import fully_shard

        for blk in [*model.encoder.blocks, *model.decoder_blocks]:
            fully_shard(blk)
        fully_shard(model)
    return model


# ---------------------------------------------------------------------------- resume guard
def _signature(model: MAE) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def check_resume_compatible(path: str | os.PathLike[str], model: MAE) -> None:
    """Refuse to resume ``model`` from a checkpoint written for another model.

    Raises:
        CheckpointMismatchError: another registered model, band count, input size or any parameter
            shape; the message says what differs and how to start a separate run.
    """
    state = load_checkpoint(path)
    info = state.get("config", {}).get("extra", {}).get("pretrain")
    if not isinstance(info, dict):
        raise CheckpointMismatchError(
            f"{path}: not an hs-pretrain checkpoint (no model record); use another --out-dir"
        )
    mine = model.mae_config
    theirs_kw, mine_kw = info.get("kwargs", {}), mine.get("kwargs", {})
    differences = []
    if info.get("model") != mine.get("model"):
        differences.append(f"model {info.get('model')} (checkpoint) vs {mine.get('model')} (this run)")
    for key, label in (
        ("in_chans", "bands"),
        ("img_size", "input size"),
        ("num_tokens", "spectral tokens"),
        ("patch_size", "patch size"),
        ("embed_dim", "width"),
        ("depth", "depth"),
    ):
        if theirs_kw.get(key) != mine_kw.get(key):
            differences.append(f"{label} {theirs_kw.get(key)} vs {mine_kw.get(key)}")
    theirs_shapes = info.get("shapes", {})
    mine_shapes = _signature(model)
    bad = [k for k in set(theirs_shapes) | set(mine_shapes) if theirs_shapes.get(k) != mine_shapes.get(k)]
    if bad and not differences:
        differences.append(
            f"parameter shapes differ ({', '.join(sorted(bad)[:4])}{', ...' if len(bad) > 4 else ''})"
        )
    if differences:
        raise CheckpointMismatchError(
            f"{path}: refusing to resume: the checkpoint was written for another model: "
            + "; ".join(differences)
            + ". Use another --out-dir for this model, or --no-resume to start over (the checkpoint "
            "will be overwritten)"
        )


# ---------------------------------------------------------------------------- the run
def pretrain(config: PretrainConfig, *, callbacks: Sequence[object] = ()) -> PretrainResult:
    """Run (or resume) one pretraining run.

    Args:
        config: the run.
        callbacks: more :class:`hs_backbone.training.Callback` objects (after the built-in ones).

    Raises:
        ValueError: no usable scene; a batch that does not split over the processes; an epoch shorter
            than one global batch.
        CheckpointMismatchError: ``out_dir/last.pt`` belongs to another model.
    """
    device = _device(config)
    rank, world, mode = _init_distributed(config, device)
    if config.batch_size % world:
        raise ValueError(f"batch_size={config.batch_size} does not split over {world} processes")
    local_batch = config.batch_size // world

    torch.manual_seed(config.seed)  # identical initial weights on every rank
    dtype = getattr(torch, config.dtype)
    model = create_mae(config.model, upstream=config.upstream, **config.model_kwargs, dtype=dtype)
    model.to(device)
    model.set_grad_checkpointing(config.grad_checkpointing)
    kwargs = model.mae_config["kwargs"]
    img = kwargs["img_size"]
    crop = img if isinstance(img, int) else int(img[0])
    if not isinstance(img, int) and int(img[0]) != int(img[1]):
        raise ValueError(f"img_size={img}: pretraining crops are square")

    band_window = config.band_window or ("per_file" if config.upstream else "per_sample")
    dataset = PatchDataset(
        config.sources,
        crop=crop,
        num_bands=int(kwargs["in_chans"]),
        band_window=band_window,
        scale=config.scale,
        bad_bands=config.bad_bands,
        key=config.key,
        layout=config.layout,
        short_scenes=config.short_scenes,
        samples_per_epoch=config.samples_per_epoch,
        order=config.order,
        block_scenes=config.block_scenes,
        flip=config.flip,
        seed=config.seed,
        cache_scenes=config.cache_scenes,
        validate=config.validate,
        exclude=config.exclude,
    )
    per_rank = math.ceil(len(dataset) / world)
    steps_per_epoch = (per_rank // local_batch) // config.accum_steps
    if steps_per_epoch < 1:
        raise ValueError(
            f"an epoch has {len(dataset)} samples, fewer than one optimiser step of "
            f"{config.batch_size * config.accum_steps}; lower --batch-size / --accum-steps or raise "
            "--samples-per-epoch"
        )
    effective = config.batch_size * config.accum_steps
    lr = config.lr if config.lr is not None else config.blr * effective / 256
    total = config.epochs * steps_per_epoch
    warmup = min(total, round(config.warmup_epochs * steps_per_epoch))

    wrapped = _wrap(model, mode, device)
    optimizer = build_adamw(wrapped, lr=lr, weight_decay=config.weight_decay, betas=config.betas)
    schedule = WarmupCosine(lr, total_steps=total, warmup_steps=warmup, min_lr=config.min_lr)
    torch.manual_seed(config.seed + 1_000_003 * (rank + 1))  # distinct drop-path draws per rank

    out_dir = Path(config.out_dir) if config.out_dir else None
    last = out_dir / "last.pt" if out_dir else None
    if last is not None and config.resume and last.is_file():
        check_resume_compatible(last, model)

    training = {
        "lr": lr,
        "blr": config.blr,
        "effective_batch": effective,
        "epochs": config.epochs,
        "warmup_steps": warmup,
        "steps_per_epoch": steps_per_epoch,
        "world_size": world,
        "distributed": mode,
        "band_window": band_window,
        "scale": config.scale,
        "bad_bands": config.bad_bands,
    }
    extra = {
        "pretrain": {**model.mae_config, "shapes": _signature(model)},
        "training": training,
        "hs_pretrain": __version__,
    }
    train_cfg = TrainConfig(
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        out_dir=str(out_dir) if out_dir else None,
        checkpoint_every=config.checkpoint_every,
        resume=config.resume,
        amp=config.amp,
        grad_clip=config.grad_clip,
        log_every=config.log_every,
        progress=config.progress,
        seed=config.seed,
        accum_steps=config.accum_steps,
        extra=extra,
    )
    recorder = StepRecorder()
    all_callbacks: list[object] = [recorder, ProgressLog(config.log_every, total, effective)]
    mlflow_uri = config.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI")
    mlflow_logger = None
    if mlflow_uri:
        params = {**asdict(config), **training, "model_kwargs": kwargs}
        mlflow_logger = MLflowLogger(
            config.mlflow_uri, config.mlflow_experiment, config.mlflow_run_name, params, config.log_every
        )
        all_callbacks.append(mlflow_logger)
    all_callbacks += list(callbacks)

    num_tokens = model.num_patches

    def step_fn(m: nn.Module, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        x = batch["image"].to(device=device, dtype=dtype, non_blocking=True)
        noise = mask_noise(batch["seed"], num_tokens, device)
        loss = m(x, noise=noise).loss
        metrics: dict[str, float] = {}
        if world > 1:  # log the loss of the global batch, not of this rank's share
            mean = loss.detach().clone()
            torch.distributed.all_reduce(mean)
            metrics["loss"] = float(mean) / world
        return loss, metrics

    def loader_factory(epoch: int, start_batch: int) -> Any:
        dataset.set_epoch(epoch)
        return epoch_loader(
            dataset,
            batch_size=local_batch,
            epoch=epoch,
            start_batch=start_batch,
            seed=config.seed,
            shuffle=config.order == "global",
            drop_last=True,
            num_workers=config.num_workers,
        )

    trainer = Trainer(wrapped, step_fn, optimizer, train_cfg, schedule=schedule, callbacks=all_callbacks)
    if rank == 0:
        log.info(
            "hs-pretrain: %s on %d scene(s) (%d skipped), %d samples/epoch, %d steps/epoch x %d epochs, "
            "effective batch %d, lr %.3g, %s, %d process(es)",
            config.model,
            len(dataset.scenes),
            len(dataset.skipped),
            len(dataset),
            steps_per_epoch,
            config.epochs,
            effective,
            lr,
            mode,
            world,
        )
    try:
        history = trainer.fit(loader_factory)
    finally:
        if mlflow_logger is not None:
            mlflow_logger.close()

    encoder_path = None
    if config.export and out_dir is not None:
        if trainer._sharded():
            state = trainer.state_dict()  # gathers the full weights (collective)
        elif rank == 0:
            state = {"model": model.state_dict()}
        if rank == 0:
            run_state = {
                "model": state["model"],
                "config": {"extra": extra},
                "trainer": {"epoch": trainer.epoch, "global_step": trainer.global_step},
            }
            encoder_path = out_dir / "encoder.pt"
            export_encoder(run_state, encoder_path)
    if rank == 0 and out_dir is not None:
        import json

        summary = {
            "training": training,
            "history": history,
            "data": dataset.summary(),
            "model": model.mae_config,
        }
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return PretrainResult(
        model=model,
        history=history,
        steps=recorder.steps,
        checkpoint=last if last is not None and last.is_file() else None,
        encoder=encoder_path,
        data=dataset.summary(),
    )
