"""What every task is made of: a model (backbone + head) that maps a batch to a :class:`TaskOutput`,
a loss on that output, and an :class:`Evaluator` that accumulates predictions and computes the task's
metrics. A registry builds task models by name.

The seven HyperSIGMA tasks are subclasses of :class:`TaskModel`; the fine-tuning loop
(:func:`hs_tasks.finetune`) and the leaderboard only talk to this interface.

Batches are dicts of tensors with the sample vocabulary shared by all packages (``hs_data``):
``image`` ``(b, c, h, w)``, ``label``, ``mask``, ``image_pre``/``image_post``, ``abundances``
``(b, e, h, w)``, ``endmembers`` ``(b, e, c)``, ``image_lr``/``image_hr``, ``target`` ``(b, c)``, ...
Each task documents which keys it reads.
"""

from __future__ import annotations

import abc
import difflib
import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

__all__ = [
    "Evaluator",
    "TaskModel",
    "TaskOutput",
    "create_task_model",
    "list_tasks",
    "register_task",
]


@dataclass
class TaskOutput:
    """A task model's output.

    Attributes:
        pred: the head's main output (logits ``(b, k)`` or ``(b, k, h, w)``, detection scores
            ``(b, h, w)``, abundances ``(b, e, h, w)``, a restored image ``(b, c, h, w)``, ...).
        extras: named auxiliary tensors (features, reconstructions) a loss or a metric may need.
    """

    pred: Tensor
    extras: dict[str, Tensor] = field(default_factory=dict)


class Evaluator(abc.ABC):
    """Accumulates ``(output, batch)`` pairs over an evaluation set, then computes the metrics."""

    @abc.abstractmethod
    def update(self, output: TaskOutput, batch: dict[str, Any]) -> None:
        """Add one batch (outputs are detached and may be moved to the CPU)."""

    @abc.abstractmethod
    def compute(self) -> dict[str, float]:
        """The task's metrics over everything added so far."""


class TaskModel(nn.Module, abc.ABC):
    """A backbone plus a task head.

    Subclasses set :attr:`task` (the registry name), :attr:`main_metric` (what model selection and the
    leaderboard rank by) and :attr:`higher_is_better`, and implement :meth:`forward`, :meth:`loss` and
    :meth:`evaluator`.

    Args:
        backbone: a hs-backbone model (``HyperSIGMA``, or ``SpatialViT`` for SpatSIGMA), or any module
            the head understands (tests use tiny stand-ins).
        head: the task head.
    """

    task: ClassVar[str] = ""
    main_metric: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    @abc.abstractmethod
    def forward(self, batch: dict[str, Any]) -> TaskOutput:
        """Run backbone and head on a batch."""

    @abc.abstractmethod
    def loss(self, output: TaskOutput, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        """The training loss and the metrics to log for this batch."""

    @abc.abstractmethod
    def evaluator(self) -> Evaluator:
        """A fresh evaluator for this task's metrics."""

    def no_weight_decay(self) -> set[str]:
        """Parameters without weight decay: the backbone's (position embeddings), prefixed."""
        method = getattr(self.backbone, "no_weight_decay", None)
        return {f"backbone.{n}" for n in method()} if callable(method) else set()

    @property
    def num_layers(self) -> int | None:
        """Encoder depth for layer-wise learning-rate decay (``None``: inferred from the block names)."""
        return None

    @torch.no_grad()
    def evaluate(
        self,
        batches: Iterable[dict[str, Any]],
        device: torch.device | str | None = None,
        *,
        evaluator: Evaluator | None = None,
    ) -> dict[str, float]:
        """Run the model in eval mode over ``batches`` and return the evaluator's metrics.

        ``evaluator``: fill this one instead of a fresh :meth:`evaluator` (to read what it keeps
        afterwards, e.g. stitched prediction maps).
        """
        was_training = self.training
        self.eval()
        evaluator = evaluator if evaluator is not None else self.evaluator()
        dev = torch.device(device) if device is not None else next(self.parameters()).device
        try:
            for batch in batches:
                batch = {k: v.to(dev) if isinstance(v, Tensor) else v for k, v in batch.items()}
                evaluator.update(self(batch), batch)
        finally:
            self.train(was_training)
        return evaluator.compute()


_TASKS: dict[str, Callable[..., TaskModel]] = {}


def register_task(name: str) -> Callable[[Callable[..., TaskModel]], Callable[..., TaskModel]]:
    """Decorator registering a task-model factory ``factory(backbone=..., **kwargs) -> TaskModel``."""

    def decorate(factory: Callable[..., TaskModel]) -> Callable[..., TaskModel]:
        if name in _TASKS:
            raise ValueError(f"task {name!r} is already registered")
        _TASKS[name] = factory
        return factory

    return decorate


def list_tasks(pattern: str = "*") -> list[str]:
    """Registered task names matching a glob ``pattern``."""
    return sorted(n for n in _TASKS if fnmatch.fnmatch(n, pattern))


def create_task_model(task: str, **kwargs: Any) -> TaskModel:
    """Build the model of ``task`` (see :func:`list_tasks`); keyword arguments go to its factory."""
    if task not in _TASKS:
        close = difflib.get_close_matches(task, list(_TASKS), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"task: expected one of {list_tasks()}, got {task!r}{hint}")
    return _TASKS[task](**kwargs)
