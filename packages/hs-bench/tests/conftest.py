"""Shared fixtures: fake recipes/datasets (``fake_recipes``), an isolated data root, cache and results."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import fake_recipes  # noqa: E402  (registers the fake recipes and datasets)


@pytest.fixture
def bench_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A data root holding the fake scenes, an empty download cache, and a results folder."""
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
    return {"root": root, "results": tmp_path / "results", "tmp": tmp_path}
