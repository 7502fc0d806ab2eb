"""Heads, losses, metrics and fine-tuning for the seven HyperSIGMA tasks.

* :mod:`hs_tasks.core` / :mod:`hs_tasks.finetuning`: the task-model interface, registry and loop.
* :mod:`hs_tasks.metrics`: every task's metrics (backbone-free pure functions).
* :mod:`hs_tasks.baselines`: one classical floor per task (backbone-free).
* :mod:`hs_tasks.recipes`: each task's whole protocol on a dataset (:func:`run_recipe`), what the
  leaderboard runs.
* :mod:`hs_tasks.heads` / :mod:`hs_tasks.losses`: the task heads and losses.
* :mod:`hs_tasks.tasks`: the task models, evaluators and recipes (importing ``hs_tasks`` registers them).
* :mod:`hs_tasks.dense`: random crops, tiling and stitching for image-to-image tasks.
"""

from hs_tasks import baselines, dense, heads, losses, metrics, tasks  # tasks: registers models and recipes
from hs_tasks._version import __version__
from hs_tasks.core import Evaluator, TaskModel, TaskOutput, create_task_model, list_tasks, register_task
from hs_tasks.finetuning import (
    FinetuneConfig,
    FinetuneResult,
    SelectBest,
    evaluate,
    extra_callbacks,
    finetune,
)
from hs_tasks.recipes import (
    RecipeConfig,
    RecipeResult,
    list_recipes,
    register_recipe,
    resolve_finetune,
    run_recipe,
)

__all__ = [
    "Evaluator",
    "FinetuneConfig",
    "FinetuneResult",
    "RecipeConfig",
    "RecipeResult",
    "SelectBest",
    "TaskModel",
    "TaskOutput",
    "__version__",
    "baselines",
    "create_task_model",
    "dense",
    "evaluate",
    "extra_callbacks",
    "finetune",
    "heads",
    "list_recipes",
    "list_tasks",
    "losses",
    "metrics",
    "register_recipe",
    "register_task",
    "resolve_finetune",
    "run_recipe",
    "tasks",
]
