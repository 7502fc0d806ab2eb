"""One fine-tuning loop for all tasks.

:func:`finetune` trains a :class:`~hs_tasks.core.TaskModel` with AdamW and layer-wise learning-rate
decay that applies to hs-backbone parameter names (upstream's is a no-op), a warm-up + cosine
schedule stepped per optimiser step, optional autocast and gradient checkpointing, progress bars, and
atomic checkpoints with optimiser and RNG state: an interrupted run restarted with the same arguments
resumes and ends with the same result as an uninterrupted one (``hs_backbone.training.Trainer``).

Model selection uses the validation set only (carved from the training data by the caller, e.g. with
``hs_data`` splits); the test set is never seen here. Without a validation set the last epoch is kept.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from hs_backbone.training import (
    TrainConfig,
    Trainer,
    WarmupCosine,
    atomic_save,
    build_adamw,
    epoch_loader,
    load_checkpoint,
)
from hs_tasks.core import TaskModel

__all__ = ["FinetuneConfig", "FinetuneResult", "SelectBest", "evaluate", "extra_callbacks", "finetune"]

log = logging.getLogger(__name__)

_EXTRA_CALLBACKS: contextvars.ContextVar[tuple[object, ...]] = contextvars.ContextVar(
    "hs_tasks_extra_callbacks", default=()
)


@contextlib.contextmanager
def extra_callbacks(*callbacks: object) -> Iterator[None]:
    """Add trainer callbacks to every :func:`finetune` call made inside the block.

    This is how a caller that does not build the model itself (the leaderboard logging per-epoch
    metrics to MLflow, an Optuna trial reporting validation scores for pruning) reaches the training
    loop of a recipe, without every recipe forwarding callbacks.
    """
    token = _EXTRA_CALLBACKS.set(_EXTRA_CALLBACKS.get() + tuple(callbacks))
    try:
        yield
    finally:
        _EXTRA_CALLBACKS.reset(token)


@dataclass
class FinetuneConfig:
    """Hyper-parameters of one fine-tuning run (defaults: HyperSIGMA's classification recipe, with a
    working layer decay and a stepped schedule; see ``shared/reference/hypersigma.md`` Appendix A).

    Attributes:
        epochs: training epochs.
        batch_size: training batch size.
        lr: peak learning rate (of the head; earlier layers get ``lr · layer_decay^depth``).
        weight_decay: AdamW weight decay (not on biases, norms, position embeddings).
        layer_decay: per-layer learning-rate decay in (0, 1]; 1 disables it.
        warmup_epochs: linear warm-up length in epochs (may be fractional).
        min_lr: final learning rate of the cosine.
        amp: ``None``, ``"bf16"`` or ``"fp16"``.
        grad_clip: global gradient-norm clipping (``None``: off).
        grad_checkpointing: recompute backbone activations in the backward (saves memory).
        val_every: validate every this many epochs (and after the last).
        eval_batch_size: batch size of validation (default: ``batch_size``).
        seed: seeds the model-independent randomness (data order, dropout).
        device: where to train.
        out_dir: checkpoints (``last.pt``, ``best.pt``); ``None``: in memory only, no resume.
        progress: progress bar on a terminal.
    """

    epochs: int = 100
    batch_size: int = 64
    lr: float = 6e-5
    weight_decay: float = 0.05
    layer_decay: float = 0.9
    warmup_epochs: float = 0.0
    min_lr: float = 0.0
    amp: str | None = None
    grad_clip: float | None = None
    grad_checkpointing: bool = False
    val_every: int = 1
    eval_batch_size: int | None = None
    seed: int = 0
    device: str = "cpu"
    out_dir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "val_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr: expected > 0, got {self.lr}")
        if self.warmup_epochs < 0 or self.warmup_epochs > self.epochs:
            raise ValueError(f"warmup_epochs: expected 0..epochs={self.epochs}, got {self.warmup_epochs}")


@dataclass
class FinetuneResult:
    """What :func:`finetune` returns (the model itself holds the selected weights)."""

    best_epoch: int | None
    best_val: dict[str, float]
    history: list[dict[str, float]]
    val_history: list[dict[str, float]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def _loader(data: Dataset, batch_size: int) -> DataLoader:
    return DataLoader(data, batch_size=batch_size, shuffle=False)


def evaluate(
    model: TaskModel, data: Dataset, *, batch_size: int = 64, device: str | None = None
) -> dict[str, float]:
    """The task's metrics of ``model`` on ``data`` (eval mode, no gradients)."""
    return model.evaluate(_loader(data, batch_size), device=device)


class SelectBest:
    """Validation-based model selection: keeps the weights of the best validation epoch.

    Its state (best value, epoch, history) is saved with the run's checkpoint, and the best weights
    in ``out_dir/best.pt``, so selection survives a resume.
    """

    def __init__(
        self,
        model: TaskModel,
        val_set: Dataset,
        *,
        batch_size: int,
        every: int,
        epochs: int,
        out_dir: str | None,
    ) -> None:
        self.model, self.val_set, self.batch_size = model, val_set, batch_size
        self.every, self.epochs = every, epochs
        self.path = Path(out_dir) / "best.pt" if out_dir else None
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.best_metrics: dict[str, float] = {}
        self.history: list[dict[str, float]] = []
        self._best_state: dict[str, Tensor] | None = None

    def _better(self, value: float) -> bool:
        if self.best_value is None or math.isnan(self.best_value):
            return not math.isnan(value)
        return value > self.best_value if self.model.higher_is_better else value < self.best_value

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        if (epoch + 1) % self.every and epoch + 1 != self.epochs:
            return
        metrics = evaluate(self.model, self.val_set, batch_size=self.batch_size)
        self.history.append({"epoch": float(epoch), **metrics})
        key = self.model.main_metric
        if key not in metrics:
            raise KeyError(
                f"{type(self.model).__name__}.main_metric {key!r} not among the metrics {sorted(metrics)}"
            )
        log.info("epoch %d validation %s = %.6g", epoch, key, metrics[key])
        if self._better(metrics[key]):
            self.best_value, self.best_epoch, self.best_metrics = metrics[key], epoch, metrics
            self._best_state = copy.deepcopy(self.model.state_dict())
            if self.path is not None:
                atomic_save({"model": self._best_state, "epoch": epoch, "metrics": metrics}, self.path)

    def state_dict(self) -> dict:
        return {
            "best_value": self.best_value,
            "best_epoch": self.best_epoch,
            "best_metrics": self.best_metrics,
            "history": self.history,
        }

    def load_state_dict(self, state: dict) -> None:
        self.best_value, self.best_epoch = state["best_value"], state["best_epoch"]
        self.best_metrics, self.history = dict(state["best_metrics"]), list(state["history"])
        if self.path is not None and self.path.is_file():
            self._best_state = load_checkpoint(self.path)["model"]

    def restore_best(self) -> None:
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)


def finetune(
    model: TaskModel,
    train_set: Dataset,
    val_set: Dataset | None = None,
    config: FinetuneConfig | None = None,
    *,
    callbacks: Sequence[object] = (),
) -> FinetuneResult:
    """Fine-tune ``model`` on ``train_set``; select on ``val_set`` (never on test data).

    Args:
        model: a task model (backbone + head).
        train_set: a dataset of sample dicts (see :mod:`hs_tasks.core` for the keys).
        val_set: validation samples carved from the training data; ``None``: keep the last epoch.
        config: :class:`FinetuneConfig`.
        callbacks: extra trainer callbacks (logging, ...).

    Returns:
        :class:`FinetuneResult`; ``model`` holds the selected weights afterwards.
    """
    cfg = config or FinetuneConfig()
    n = len(train_set)  # type: ignore[arg-type]
    if n < 1:
        raise ValueError("train_set: expected at least one sample, got an empty dataset")
    torch.manual_seed(cfg.seed)
    model.to(cfg.device)
    enable_checkpointing = getattr(model.backbone, "set_grad_checkpointing", None)
    if cfg.grad_checkpointing and callable(enable_checkpointing):
        enable_checkpointing(True)
    steps = max(1, math.ceil(n / cfg.batch_size))
    optimizer = build_adamw(
        model,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        layer_decay=cfg.layer_decay,
        num_layers=model.num_layers,
    )
    schedule = WarmupCosine(
        cfg.lr,
        total_steps=cfg.epochs * steps,
        warmup_steps=round(cfg.warmup_epochs * steps),
        min_lr=cfg.min_lr,
    )
    selector = None
    if val_set is not None:
        selector = SelectBest(
            model,
            val_set,
            batch_size=cfg.eval_batch_size or cfg.batch_size,
            every=cfg.val_every,
            epochs=cfg.epochs,
            out_dir=cfg.out_dir,
        )
    train_cfg = TrainConfig(
        epochs=cfg.epochs,
        steps_per_epoch=steps,
        out_dir=cfg.out_dir,
        amp=cfg.amp,
        grad_clip=cfg.grad_clip,
        progress=cfg.progress,
        seed=cfg.seed,
    )

    def step_fn(m: nn.Module, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        batch = {k: v.to(cfg.device) if isinstance(v, Tensor) else v for k, v in batch.items()}
        output = m(batch)
        return model.loss(output, batch)  # m may be a DDP wrapper of model

    trainer = Trainer(
        model,
        step_fn,
        optimizer,
        train_cfg,
        schedule=schedule,
        callbacks=[*([selector] if selector else []), *callbacks, *_EXTRA_CALLBACKS.get()],
    )
    history = trainer.fit(
        lambda epoch, start: epoch_loader(
            train_set,
            batch_size=cfg.batch_size,
            epoch=epoch,
            start_batch=start,
            seed=cfg.seed,
            drop_last=False,
        )
    )
    if selector is not None:
        selector.restore_best()
    return FinetuneResult(
        best_epoch=selector.best_epoch if selector else cfg.epochs - 1,
        best_val=selector.best_metrics if selector else {},
        history=history,
        val_history=selector.history if selector else [],
        config=asdict(cfg),
    )
