"""Shared fixtures: fake recipes/datasets (``fake_recipes``), an isolated data root, cache and results."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import fake_recipes


@pytest.fixture(scope="session")
def empty_mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite store with its tables created (the schema migrations take ~10 s per store)."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def bench_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_mlflow_db: Path) -> dict[str, Path]:
    """A data root holding the fake scenes, an empty download cache, and a results folder whose
    MLflow store already has its tables (a copy of ``empty_mlflow_db``)."""
    results = tmp_path / "results"
    results.mkdir()
    shutil.copyfile(empty_mlflow_db, results / "mlflow.db")
    root = fake_recipes.make_root(tmp_path / "data")
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("HS_CACHE_DIR", str(cache))
    monkeypatch.setenv("HS_DATA_ROOT", str(root))
    monkeypatch.delenv("HS_RESULTS_DIR", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("HS_WEIGHTS_DIR", raising=False)
    fake_recipes.INTERRUPT["on"] = None
    fake_recipes.CALLS.clear()
    return {"root": root, "results": results, "tmp": tmp_path}
