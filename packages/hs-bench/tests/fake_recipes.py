"""Fake recipes and datasets for the hs-bench tests (importing this module registers them).

The recipes run the real fine-tuning loop (:func:`hs_tasks.finetune`, so trainer callbacks and
validation-based selection are exercised) on a tiny linear model, but their metrics are
deterministic functions of the configuration, so the tests know the right answers:

- ``fake_cls``: validation ``score`` peaks at ``lr = BEST_LR`` and grows with the epoch; the test
  ``score`` is ``quality(lr, TEST_BEST_LR) + 0.01 * seed`` (it peaks elsewhere, so a tuner that read
  test metrics would be caught); the baseline's is ``0.5 + 0.02 * seed``.
- ``fake_err``: ``rmse`` (lower is better) = ``0.2 + 0.1 * seed``; baseline ``0.4``.
- ``fake_fail``: raises on dataset ``fake_scene_b`` (a failing job among working ones).
- ``fake_interrupt``: raises ``KeyboardInterrupt`` in the second epoch when ``INTERRUPT["on"]`` names
  the dataset (a simulated Ctrl-C inside the training loop).

Datasets ``fake_scene_a``, ``fake_scene_b`` (present once :func:`make_root` wrote their files) and
``fake_missing`` (never written) are registered in hs-data under the classification task.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hs_data import list_datasets
from hs_data.registry import DatasetInfo, FileSpec, Role, register_dataset
from hs_tasks import (
    Evaluator,
    FinetuneConfig,
    RecipeConfig,
    RecipeResult,
    TaskModel,
    TaskOutput,
    finetune,
    list_recipes,
    register_recipe,
)

BEST_LR = 3e-3  # where the validation score peaks
TEST_BEST_LR = 3e-2  # where the test score peaks (tuning must not find this one)
DATASETS = ("fake_scene_a", "fake_scene_b", "fake_missing")
INTERRUPT: dict[str, Any] = {"on": None}
CALLS: list[tuple[str, str, str, int]] = []


def quality(lr: float, best: float = BEST_LR) -> float:
    """The quality of ``fake_cls`` as a function of the learning rate (max 0.9 at ``best``)."""
    return 0.9 - 0.1 * (math.log10(lr) - math.log10(best)) ** 2


list_datasets()  # load hs-data's catalog first (registering into an empty registry would skip it)
for _name in DATASETS:
    register_dataset(
        DatasetInfo(
            name=_name,
            title=f"{_name} (test fixture)",
            task="classification",
            sensor="none",
            height=8,
            width=8,
            bands=4,
            files=(FileSpec(f"fake/{_name}.npy", None, None),),
            roles={"image": Role(f"fake/{_name}.npy", None, "hwc")},
            how_to_get=f"tests: make_root() writes fake/{_name}.npy",
        ),
        overwrite=True,
    )


def make_root(root: Path) -> Path:
    """Write the files of the present fake datasets under ``root``."""
    for name in DATASETS[:2]:
        path = root / "fake" / f"{name}.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, np.zeros((8, 8, 4), np.float32))
    return root


class _ScoreEvaluator(Evaluator):
    def __init__(self, value: float, key: str) -> None:
        self.value, self.key = value, key

    def update(self, output: TaskOutput, batch: dict[str, Any]) -> None:
        pass

    def compute(self) -> dict[str, float]:
        return {self.key: self.value, "aux": 1.0}


class FakeModel(TaskModel):
    """A linear layer whose 'validation metric' follows a known curve of (lr, validation count)."""

    task = "fake"
    main_metric = "score"
    higher_is_better = True

    def __init__(self, curve: Any, key: str = "score", higher: bool = True, interrupt_at: int | None = None):
        super().__init__(nn.Identity(), nn.Linear(4, 2))
        self.curve, self.evals, self.interrupt_at = curve, 0, interrupt_at
        self.main_metric, self.higher_is_better = key, higher  # type: ignore[misc]

    def forward(self, batch: dict[str, Any]) -> TaskOutput:
        return TaskOutput(self.head(batch["x"]))

    def loss(self, output: TaskOutput, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        loss = nn.functional.cross_entropy(output.pred, batch["y"])
        return loss, {"ce": float(loss.detach())}

    def evaluator(self) -> Evaluator:
        self.evals += 1
        if self.interrupt_at is not None and self.evals >= self.interrupt_at:
            raise KeyboardInterrupt
        return _ScoreEvaluator(self.curve(self.evals), self.main_metric)


def _data(n: int, seed: int) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] > 0).long()
    return [{"x": x[i], "y": y[i]} for i in range(n)]


def _train(model: FakeModel, cfg: RecipeConfig) -> Any:
    ft = FinetuneConfig(**{**cfg.finetune.__dict__, "progress": False})
    return finetune(model, _data(16, cfg.seed), _data(8, cfg.seed + 100), ft)


def _result(
    task: str,
    dataset: str,
    cfg: RecipeConfig,
    metrics: dict[str, float],
    main: str,
    higher: bool,
    baseline: dict[str, float],
    ft: Any,
    t0: float,
) -> RecipeResult:
    labels = np.arange(64).reshape(8, 8) % 3
    return RecipeResult(
        task=task,
        dataset=dataset,
        backbone=cfg.backbone,
        metrics=metrics,
        main_metric=main,
        higher_is_better=higher,
        baseline_name="fake-baseline",
        baseline=baseline,
        split={"seed": cfg.seed, "train": 16, "val": 8, "test": 40},
        finetune=ft,
        artifacts={
            "prediction": labels,
            "score_map": np.linspace(0, 1, 64).reshape(8, 8),
            "confusion_matrix": np.array([[5, 1], [2, 7]]),
        },
        seconds=time.perf_counter() - t0,
        config={"backbone": cfg.backbone, "seed": cfg.seed, "options": dict(cfg.options)},
    )


_BARRIER = {"passed": False}


def _barrier() -> None:
    """With ``HS_FAKE_BARRIER=DIR:N``, the first recipe call of each process waits until N processes
    have arrived (so that tuning workers provably run trials of one study at the same time)."""
    spec = os.environ.get("HS_FAKE_BARRIER")
    if not spec or _BARRIER["passed"]:
        return
    folder, n = spec.rsplit(":", 1)
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / str(os.getpid())).touch()
    deadline = time.monotonic() + 180
    while len(list(Path(folder).iterdir())) < int(n) and time.monotonic() < deadline:
        time.sleep(0.2)
    _BARRIER["passed"] = True


def _register() -> None:
    if "fake_cls" in list_recipes():
        return

    @register_recipe("fake_cls")
    def fake_cls(dataset: str, cfg: RecipeConfig) -> RecipeResult:
        t0 = time.perf_counter()
        CALLS.append(("fake_cls", dataset, cfg.backbone, cfg.seed))
        _barrier()
        q = quality(cfg.finetune.lr)
        epochs = cfg.finetune.epochs
        model = FakeModel(lambda k: q * (1 - 0.5**k) + 0.01 * epochs / 10)
        ft = _train(model, cfg)
        metrics = {"score": quality(cfg.finetune.lr, TEST_BEST_LR) + 0.01 * cfg.seed, "other": 2.0 + cfg.seed}
        return _result(
            "fake_cls", dataset, cfg, metrics, "score", True, {"score": 0.5 + 0.02 * cfg.seed}, ft, t0
        )

    @register_recipe("fake_err")
    def fake_err(dataset: str, cfg: RecipeConfig) -> RecipeResult:
        t0 = time.perf_counter()
        CALLS.append(("fake_err", dataset, cfg.backbone, cfg.seed))
        model = FakeModel(lambda k: 1.0 / k, key="rmse", higher=False)
        ft = _train(model, cfg)
        return _result(
            "fake_err", dataset, cfg, {"rmse": 0.2 + 0.1 * cfg.seed}, "rmse", False, {"rmse": 0.4}, ft, t0
        )

    @register_recipe("fake_fail")
    def fake_fail(dataset: str, cfg: RecipeConfig) -> RecipeResult:
        t0 = time.perf_counter()
        CALLS.append(("fake_fail", dataset, cfg.backbone, cfg.seed))
        if dataset == "fake_scene_b":
            raise RuntimeError("fake failure on purpose")
        ft = _train(FakeModel(lambda k: 0.5), cfg)
        return _result("fake_fail", dataset, cfg, {"score": 0.7}, "score", True, {"score": 0.6}, ft, t0)

    @register_recipe("fake_interrupt")
    def fake_interrupt(dataset: str, cfg: RecipeConfig) -> RecipeResult:
        t0 = time.perf_counter()
        CALLS.append(("fake_interrupt", dataset, cfg.backbone, cfg.seed))
        stop = 2 if INTERRUPT["on"] == (dataset, cfg.seed) else None
        ft = _train(FakeModel(lambda k: 0.5 + 0.1 * k, interrupt_at=stop), cfg)
        return _result("fake_interrupt", dataset, cfg, {"score": 0.8}, "score", True, {"score": 0.6}, ft, t0)


_register()
