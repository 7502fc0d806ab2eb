"""One training loop for pretraining and fine-tuning: resumable step for step.

The :class:`Trainer` owns the mechanics every run needs (learning-rate schedule per optimiser step,
autocast, gradient scaling and clipping, progress, atomic checkpoints with optimiser, scaler,
callback and RNG state, and resume), and nothing task-specific: a ``step_fn(model, batch)`` returns
the loss and the metrics to log, and callbacks see every step and epoch (validation, model selection,
MLflow logging live there).

Resume contract: the data of epoch ``e`` must depend only on ``(seed, e)`` and must not draw from the
global RNGs (use :func:`epoch_loader`, whose sampler and loader carry their own generators). Then a
run killed at any moment and restarted with the same arguments continues from its last checkpoint and
produces the same parameters, step for step, as a run that was never interrupted.

Distributed (``torchrun``): wrap the model in DDP (or shard it with FSDP2 ``fully_shard``) yourself;
the sampler shards by rank; only rank 0 writes the model checkpoint, every rank writes its own RNG
state; all ranks resume from the same step. A sharded model's checkpoint holds the full (unsharded)
model and optimiser state, gathered with ``torch.distributed.checkpoint.state_dict`` (a collective
every rank joins), so it loads into any number of processes.

A checkpoint is ``last.pt`` plus one RNG file per rank, named by step (``rng.rank<r>.step<s>.pt``).
The RNG files are written before ``last.pt`` and the older ones deleted only after it, so a kill
between two writes leaves the RNG files of whichever ``last.pt`` survived.

Gradient accumulation (``accum_steps``): each optimiser step consumes ``accum_steps`` batches, whose
losses are averaged (each backward gets ``loss / accum_steps``; DDP and FSDP skip the gradient
all-reduce on all but the last). ``steps_per_epoch`` counts optimiser steps; the resume position
counts batches.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Sampler

from hs_backbone.training.optim import WarmupCosine
from hs_backbone.training.state import atomic_save, capture_rng_state, load_checkpoint, restore_rng_state

__all__ = [
    "Callback",
    "NonFiniteLossError",
    "ResumableSampler",
    "TrainConfig",
    "Trainer",
    "epoch_loader",
]

log = logging.getLogger(__name__)

StepFn = Callable[[nn.Module, Any], "tuple[Tensor, dict[str, float]]"]


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the run stops instead of training on garbage."""


def _dist() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _keyed_by_name(optimizer_state: dict) -> bool:
    """Whether an optimiser state dict keys parameters by name (``get_state_dict``) or by number."""
    params = [p for g in optimizer_state.get("param_groups", []) for p in g.get("params", [])]
    return bool(params) and isinstance(params[0], str)


class _RestoreGradientSync:
    """Context that turns FSDP2's gradient synchronisation back on when it exits."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self.model.set_requires_gradient_sync(True)  # type: ignore[operator]


class ResumableSampler(Sampler[int]):
    """Shuffled (or sequential) indices for one epoch, sharded by rank, starting at any position.

    The permutation of epoch ``e`` is drawn from a private generator seeded with ``seed + e``, so it
    never touches the global RNG. With ``world_size > 1`` the index list is padded by wrapping to a
    multiple of the world size and rank ``r`` takes every ``world_size``-th index from ``r``.
    """

    def __init__(
        self,
        length: int,
        *,
        seed: int = 0,
        shuffle: bool = True,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        if length < 1:
            raise ValueError(f"length: expected a non-empty dataset, got {length}")
        dist_rank, dist_world = _dist()
        self.length, self.seed, self.shuffle = length, seed, shuffle
        self.rank = dist_rank if rank is None else rank
        self.world_size = dist_world if world_size is None else world_size
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def set_start(self, start: int) -> None:
        """Skip the first ``start`` indices of this rank's share (a resumed epoch)."""
        self.start = start

    def _indices(self) -> list[int]:
        if self.shuffle:
            gen = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.length, generator=gen).tolist()
        else:
            order = list(range(self.length))
        total = math.ceil(self.length / self.world_size) * self.world_size
        order += order[: total - len(order)]
        return order[self.rank : total : self.world_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices()[self.start :])

    def __len__(self) -> int:
        return max(0, math.ceil(self.length / self.world_size) - self.start)


def epoch_loader(
    dataset: Dataset,
    *,
    batch_size: int,
    epoch: int,
    start_batch: int = 0,
    seed: int = 0,
    shuffle: bool = True,
    drop_last: bool = True,
    num_workers: int = 0,
    collate_fn: Callable | None = None,
) -> DataLoader:
    """A DataLoader for one epoch that depends only on ``(seed, epoch)`` and starts at ``start_batch``."""
    sampler = ResumableSampler(len(dataset), seed=seed, shuffle=shuffle)  # type: ignore[arg-type]
    sampler.set_epoch(epoch)
    sampler.set_start(start_batch * batch_size)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=drop_last,
        num_workers=num_workers,
        collate_fn=collate_fn,
        generator=torch.Generator().manual_seed(seed + 7919 * epoch),  # worker seeds, not the global RNG
        persistent_workers=False,
    )


class Callback(Protocol):
    """Hooks of a run; every method is optional (implement what you need)."""

    def on_step_end(self, trainer: Trainer, metrics: dict[str, float]) -> None: ...
    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None: ...


@dataclass
class TrainConfig:
    """What the loop needs besides the model, the optimiser and the data.

    Attributes:
        epochs: number of epochs.
        steps_per_epoch: optimiser steps per epoch (batches per epoch on this rank).
        out_dir: checkpoint folder (``last.pt``); ``None``: no checkpoints, no resume.
        checkpoint_every: also checkpoint every this many steps inside an epoch (0: epoch ends only).
        resume: continue from ``out_dir/last.pt`` when it exists.
        amp: ``None``, ``"bf16"`` or ``"fp16"`` (fp16 uses a gradient scaler, saved with the run).
        grad_clip: clip the global gradient norm to this value (``None``: no clipping).
        log_every: progress/metrics cadence in steps.
        progress: show a progress bar (tqdm) when stderr is a terminal.
        seed: recorded in checkpoints; the data seed is the caller's.
        accum_steps: batches per optimiser step (gradient accumulation).
        extra: anything the caller wants stored with the checkpoint (e.g. the model configuration).
    """

    epochs: int
    steps_per_epoch: int
    out_dir: str | None = None
    checkpoint_every: int = 0
    resume: bool = True
    amp: str | None = None
    grad_clip: float | None = None
    log_every: int = 10
    progress: bool = True
    seed: int = 0
    accum_steps: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.steps_per_epoch < 1:
            raise ValueError(
                f"epochs / steps_per_epoch: expected >= 1, got {self.epochs} / {self.steps_per_epoch}"
            )
        if self.amp not in (None, "bf16", "fp16"):
            raise ValueError(f"amp: expected None, 'bf16' or 'fp16', got {self.amp!r}")
        if self.accum_steps < 1:
            raise ValueError(f"accum_steps: expected >= 1, got {self.accum_steps}")


class Trainer:
    """Runs ``config.epochs`` epochs of ``step_fn`` over ``loader_factory(epoch, start_batch)``.

    Args:
        model: the module to train (possibly DDP-wrapped).
        step_fn: ``(model, batch) -> (loss, metrics)``; ``loss`` is a scalar tensor.
        optimizer: the optimiser (build it with :func:`hs_backbone.training.build_adamw`).
        config: :class:`TrainConfig`.
        schedule: learning rate per optimiser step (``None``: leave the optimiser's rates alone).
        callbacks: objects with ``on_step_end`` / ``on_epoch_end`` and optionally
            ``state_dict`` / ``load_state_dict`` (saved with the checkpoint, so selection state resumes).
    """

    def __init__(
        self,
        model: nn.Module,
        step_fn: StepFn,
        optimizer: torch.optim.Optimizer,
        config: TrainConfig,
        *,
        schedule: WarmupCosine | None = None,
        callbacks: Sequence[object] = (),
    ) -> None:
        self.model, self.step_fn, self.optimizer, self.config = model, step_fn, optimizer, config
        self.schedule, self.callbacks = schedule, list(callbacks)
        self.device_type = next((p.device.type for p in model.parameters()), "cpu")
        self.scaler = torch.amp.GradScaler(self.device_type, enabled=config.amp == "fp16")
        self.epoch = 0  # epoch in progress
        self.batch_in_epoch = 0  # batches of that epoch already done
        self.global_step = 0
        self.history: list[dict[str, float]] = []
        self._sums: dict[str, float] = {}  # running sums of the epoch in progress (saved, so means resume)
        self.rank, self.world_size = _dist()

    # ------------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self) -> Path | None:
        return Path(self.config.out_dir) / "last.pt" if self.config.out_dir else None

    def _unwrapped(self) -> nn.Module:
        inner = getattr(self.model, "module", self.model)  # DDP / FSDP wrappers keep the model in .module
        return inner if isinstance(inner, nn.Module) else self.model

    def _sharded(self) -> bool:
        """Whether the model's parameters are sharded across ranks (FSDP), so that its state must be
        gathered collectively."""
        if self.world_size <= 1:
            return False
        from torch.distributed.tensor import DTensor

        if any(isinstance(p, DTensor) for p in self.model.parameters()):
            return True
        from torch.distributed.fsdp import FullyShardedDataParallel

        return any(isinstance(m, FullyShardedDataParallel) for m in self.model.modules())

    def _model_and_optimizer_state(self) -> tuple[dict, dict]:
        if self._sharded():
            from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

            # collective: every rank calls it; rank 0 receives the full tensors on CPU
            opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
            return get_state_dict(self.model, self.optimizer, options=opts)
        return self._unwrapped().state_dict(), self.optimizer.state_dict()

    def state_dict(self) -> dict:
        model_state, optimizer_state = self._model_and_optimizer_state()
        return {
            "model": model_state,
            "optimizer": optimizer_state,
            "scaler": self.scaler.state_dict(),
            "trainer": {
                "epoch": self.epoch,
                "batch_in_epoch": self.batch_in_epoch,
                "global_step": self.global_step,
                "sums": dict(self._sums),
            },
            "history": self.history,
            "callbacks": [cb.state_dict() if hasattr(cb, "state_dict") else None for cb in self.callbacks],
            "config": asdict(self.config),
        }

    def _rng_path(self, step: int) -> Path:
        assert self.checkpoint_path is not None
        return self.checkpoint_path.with_name(f"rng.rank{self.rank}.step{step}.pt")

    def _rng_files(self) -> dict[int, Path]:
        """This rank's RNG files by the step they were written at."""
        assert self.checkpoint_path is not None
        pattern = re.compile(rf"rng\.rank{self.rank}\.step(\d+)\.pt")
        found = {}
        for f in self.checkpoint_path.parent.glob(f"rng.rank{self.rank}.step*.pt"):
            match = pattern.fullmatch(f.name)
            if match:
                found[int(match.group(1))] = f
        return found

    def save_checkpoint(self) -> None:
        """Write this rank's RNG state for the current step, then ``last.pt``, then delete the RNG
        files of other steps: killed anywhere in between, the RNG file of the step that ``last.pt``
        records still exists, so the resumed run is the uninterrupted one."""
        path = self.checkpoint_path
        if path is None:
            return
        step = self.global_step
        atomic_save(capture_rng_state() | {"global_step": step}, self._rng_path(step))
        if self.world_size > 1:
            torch.distributed.barrier()  # every rank's RNG file of this step exists before last.pt
        if self.rank == 0 or self._sharded():
            state = self.state_dict()  # a collective for sharded models
            if self.rank == 0:
                atomic_save(state, path)
        if self.world_size > 1:
            torch.distributed.barrier()  # last.pt of this step exists before older RNG files go
        for other, f in self._rng_files().items():
            if other != step:
                f.unlink(missing_ok=True)

    def _resume(self) -> bool:
        path = self.checkpoint_path
        if path is None or not self.config.resume or not path.is_file():
            return False
        state = load_checkpoint(path)
        by_name = _keyed_by_name(state["optimizer"])
        if self._sharded() or by_name:
            # Gathered (sharded) checkpoints key the optimiser state by parameter name; such a
            # checkpoint loads into a sharded or a plain model alike, and so does a plain one.
            from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

            optim_state = state["optimizer"] if by_name else self._optimizer_state_by_name(state["optimizer"])
            set_state_dict(
                self.model,
                self.optimizer,
                model_state_dict=state["model"],
                optim_state_dict=optim_state,
                options=StateDictOptions(full_state_dict=True),
            )
        else:
            self._unwrapped().load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.epoch = state["trainer"]["epoch"]
        self.batch_in_epoch = state["trainer"]["batch_in_epoch"]
        self.global_step = state["trainer"]["global_step"]
        self._sums = dict(state["trainer"].get("sums", {}))
        self.history = list(state.get("history", []))
        for cb, cb_state in zip(self.callbacks, state.get("callbacks", [])):
            if cb_state is not None and hasattr(cb, "load_state_dict"):
                cb.load_state_dict(cb_state)
        rng = self._rng_path(self.global_step)
        if rng.is_file():
            restore_rng_state(load_checkpoint(rng))
        else:
            others = sorted(f.name for f in self._rng_files().values())
            log.warning(
                "%s is missing (found: %s), so the random state of step %d is not restored; the "
                "resumed run may differ from an uninterrupted one",
                rng,
                ", ".join(others) or f"no RNG file of rank {self.rank}",
                self.global_step,
            )
        log.info(
            "resumed %s at epoch %d, batch %d (step %d)",
            path,
            self.epoch,
            self.batch_in_epoch,
            self.global_step,
        )
        return True

    def _optimizer_state_by_name(self, state: dict) -> dict:
        """A ``torch.optim`` state dict (parameters numbered in group order) keyed by parameter name."""
        names = {id(p): n for n, p in self._unwrapped().named_parameters()}
        numbered = [names[id(p)] for g in self.optimizer.param_groups for p in g["params"]]
        groups = []
        for group in state["param_groups"]:
            groups.append({**group, "params": [numbered[i] for i in group["params"]]})
        return {"state": {numbered[i]: v for i, v in state["state"].items()}, "param_groups": groups}

    # ------------------------------------------------------------------ the loop
    def _sync_context(self, sync: bool) -> Any:
        """Skip the gradient all-reduce on micro-batches before the last of an accumulation."""
        if sync:
            return contextlib.nullcontext()
        set_sync = getattr(self.model, "set_requires_gradient_sync", None)
        if callable(set_sync):  # FSDP2
            set_sync(False)
            return _RestoreGradientSync(self.model)
        no_sync = getattr(self.model, "no_sync", None)
        if callable(no_sync):  # DDP, FSDP1
            return no_sync()
        return contextlib.nullcontext()

    def _train_step(self, batch: Any, *more: Any) -> dict[str, float]:
        """One optimiser step over ``batch`` (and ``more`` batches when accumulating gradients)."""
        batches = (batch, *more)
        if self.schedule is not None:
            self.schedule.apply(self.optimizer, self.global_step)
        self.model.train()
        amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.config.amp or "")
        self.optimizer.zero_grad(set_to_none=True)
        sums: dict[str, float] = {}
        for i, micro in enumerate(batches):
            with self._sync_context(i == len(batches) - 1):
                with torch.autocast(self.device_type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    loss, metrics = self.step_fn(self.model, micro)
                if not torch.isfinite(loss.detach()).all():
                    raise NonFiniteLossError(
                        f"step {self.global_step} (epoch {self.epoch}, batch {self.batch_in_epoch + i}): "
                        f"loss is {loss.item()}"
                    )
                self.scaler.scale(loss / len(batches) if len(batches) > 1 else loss).backward()
            values = {"loss": float(loss.detach())} | {k: float(v) for k, v in metrics.items()}
            for k, v in values.items():
                sums[k] = sums.get(k, 0.0) + v
        if self.config.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        out = {k: v / len(batches) for k, v in sums.items()}
        return {"loss": out.pop("loss"), "lr": float(self.optimizer.param_groups[0]["lr"])} | out

    def fit(self, loader_factory: Callable[[int, int], Iterable[Any]]) -> list[dict[str, float]]:
        """Train; ``loader_factory(epoch, start_batch)`` yields the batches of ``epoch`` from ``start_batch``.

        Returns:
            Per-epoch mean metrics (``history``), including those of epochs done before a resume.
        """
        self._resume()
        cfg = self.config
        bar = None
        if cfg.progress and self.rank == 0 and sys.stderr.isatty():
            from tqdm.auto import tqdm

            bar = tqdm(total=cfg.epochs * cfg.steps_per_epoch, initial=self.global_step, unit="step")
        try:
            while self.epoch < cfg.epochs:
                sums = self._sums
                accum = cfg.accum_steps
                batches = iter(loader_factory(self.epoch, self.batch_in_epoch))
                while self.batch_in_epoch < cfg.steps_per_epoch * accum:
                    group = list(itertools.islice(batches, accum))
                    if len(group) < accum:  # the loader ran out: the epoch ends early
                        break
                    metrics = self._train_step(*group)
                    self.batch_in_epoch += accum
                    self.global_step += 1
                    for k, v in metrics.items():
                        sums[k] = sums.get(k, 0.0) + v
                    for cb in self.callbacks:
                        if hasattr(cb, "on_step_end"):
                            cb.on_step_end(self, metrics)
                    if bar is not None:
                        bar.update(1)
                        if self.global_step % cfg.log_every == 0:
                            bar.set_postfix(loss=f"{metrics['loss']:.4g}", epoch=self.epoch)
                    if cfg.checkpoint_every and self.global_step % cfg.checkpoint_every == 0:
                        self.save_checkpoint()
                done = max(1, self.batch_in_epoch // accum)
                epoch_metrics = {k: v / done for k, v in sums.items()} | {"epoch": float(self.epoch)}
                finished = self.epoch
                self.epoch += 1
                self.batch_in_epoch = 0
                self._sums = {}
                if sums:
                    self.history.append(epoch_metrics)
                for cb in self.callbacks:
                    if hasattr(cb, "on_epoch_end"):
                        cb.on_epoch_end(self, finished)
                self.save_checkpoint()
        finally:
            if bar is not None:
                bar.close()
        return self.history
