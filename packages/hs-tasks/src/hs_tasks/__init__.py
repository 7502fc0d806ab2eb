"""Heads, losses, metrics and fine-tuning for the seven HyperSIGMA tasks."""

from hs_tasks._version import __version__
from hs_tasks.core import Evaluator, TaskModel, TaskOutput, create_task_model, list_tasks, register_task
from hs_tasks.finetuning import FinetuneConfig, FinetuneResult, SelectBest, evaluate, finetune

__all__ = [
    "Evaluator",
    "FinetuneConfig",
    "FinetuneResult",
    "SelectBest",
    "TaskModel",
    "TaskOutput",
    "__version__",
    "create_task_model",
    "evaluate",
    "finetune",
    "list_tasks",
    "register_task",
]
