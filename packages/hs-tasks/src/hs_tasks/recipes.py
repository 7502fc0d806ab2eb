"""Recipes: a task's whole protocol on one dataset, from the scene to test metrics and a baseline.

A recipe loads a scene (``hs_data.load_scene``), builds the split (seeded, saved with the result),
fits preprocessing on training pixels only, builds the task model from a hs-backbone name, fine-tunes
it (:func:`hs_tasks.finetune`, validation carved from the training data), evaluates it on the test
pixels, and runs the task's classical baseline on the same split. The leaderboard (hs-bench) only
calls :func:`run_recipe`; every recipe returns a :class:`RecipeResult`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hs_tasks.finetuning import FinetuneConfig, FinetuneResult, extra_callbacks

__all__ = [
    "RecipeConfig",
    "RecipeResult",
    "list_recipes",
    "register_recipe",
    "resolve_finetune",
    "run_recipe",
]


@dataclass
class RecipeConfig:
    """How to run a recipe.

    Attributes:
        backbone: a hs-backbone registry name (``test_hypersigma`` for CI-sized runs,
            ``hypersigma_base`` for the paper's model, spatial-only names for SpatSIGMA).
        pretrained: checkpoint(s) for ``create_backbone(pretrained=...)``; ``None``: from scratch.
        finetune: the fine-tuning hyper-parameters.
        seed: seeds the split, the initialisation and the data order.
        data_root: where the scenes are (default ``HS_DATA_ROOT``).
        options: task-specific protocol options (documented by each recipe), e.g. training pixels per
            class, patch size, pseudo-label percentages, noise case, scale factor.
    """

    backbone: str = "test_hypersigma"
    pretrained: str | dict[str, str] | None = None
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    seed: int = 0
    data_root: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class RecipeResult:
    """Everything a leaderboard row needs.

    Attributes:
        task: registered recipe name.
        dataset: hs-data registry name.
        backbone: the backbone name used.
        metrics: test metrics of the fine-tuned model.
        main_metric: the key of ``metrics`` that ranks models; ``higher_is_better`` its direction.
        baseline_name: the classical method run on the same split.
        baseline: its test metrics (same keys as ``metrics`` where they apply).
        split: the split's seed and parameters (JSON-serialisable), so a run can be reproduced.
        finetune: the fine-tuning history and selection (``None`` for training-free recipes).
        artifacts: arrays worth plotting (prediction maps, score maps, abundances), by name.
        seconds: wall time of the recipe.
        config: the resolved configuration (JSON-serialisable).
    """

    task: str
    dataset: str
    backbone: str
    metrics: dict[str, float]
    main_metric: str
    higher_is_better: bool
    baseline_name: str
    baseline: dict[str, float]
    split: dict[str, Any]
    finetune: FinetuneResult | None
    artifacts: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)


def resolve_finetune(config: RecipeConfig, **task_defaults: Any) -> FinetuneConfig:
    """The fine-tuning configuration a recipe runs with.

    A field of ``config.finetune`` left at the generic :class:`FinetuneConfig` default (HyperSIGMA's
    classification recipe) takes the task's default from ``task_defaults`` instead; a field the caller
    changed is kept. ``seed`` is always ``config.seed`` (one seed per run).
    """
    generic = FinetuneConfig()
    unknown = set(task_defaults) - {f.name for f in dataclasses.fields(FinetuneConfig)}
    if unknown:
        raise ValueError(f"task_defaults: unknown FinetuneConfig fields {sorted(unknown)}")
    chosen = {
        name: value
        for name, value in task_defaults.items()
        if getattr(config.finetune, name) == getattr(generic, name)
    }
    return dataclasses.replace(config.finetune, **chosen, seed=config.seed)


Recipe = Callable[[str, RecipeConfig], RecipeResult]
_RECIPES: dict[str, Recipe] = {}


def register_recipe(task: str) -> Callable[[Recipe], Recipe]:
    """Decorator registering ``recipe(dataset_name, config) -> RecipeResult`` under ``task``."""

    def decorate(fn: Recipe) -> Recipe:
        if task in _RECIPES:
            raise ValueError(f"recipe {task!r} is already registered")
        _RECIPES[task] = fn
        return fn

    return decorate


def list_recipes() -> list[str]:
    """Names of the registered recipes."""
    return sorted(_RECIPES)


def run_recipe(
    task: str, dataset: str, config: RecipeConfig | None = None, *, callbacks: Sequence[object] = ()
) -> RecipeResult:
    """Run the recipe of ``task`` on ``dataset`` (an hs-data registry name).

    ``callbacks`` reach every fine-tuning loop the recipe runs (see
    :func:`hs_tasks.finetuning.extra_callbacks`): per-epoch logging, Optuna pruning.
    """
    if task not in _RECIPES:
        close = difflib.get_close_matches(task, list(_RECIPES), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"task: expected one of {list_recipes()}, got {task!r}{hint}")
    with extra_callbacks(*callbacks):
        return _RECIPES[task](dataset, config or RecipeConfig())
