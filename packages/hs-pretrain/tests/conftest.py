from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    torch.manual_seed(0)
    # The test models are tiny: one thread is fastest, and avoids thread contention on busy CI hosts.
    torch.set_num_threads(1)


@pytest.fixture
def official():
    """Load an official-code fixture, skipping (with the reason) when HS_FIXTURES_ROOT is unset."""
    from hs_attention.testing import fixtures_root, load_official_fixture

    if fixtures_root() is None:
        pytest.skip("HS_FIXTURES_ROOT is not set (official-code fixtures live in shared/fixtures)")
    return load_official_fixture


@pytest.fixture
def data_root() -> Path:
    root = os.environ.get("HS_DATA_ROOT")
    if not root:
        pytest.skip("HS_DATA_ROOT is not set (the real scenes live in shared/data)")
    return Path(root)


@pytest.fixture
def scenes(tmp_path: Path) -> Callable[..., Path]:
    """Write small random scenes as .npy (bands, h, w) and return their folder."""

    def make(n: int = 3, bands: int = 20, size: int = 24, seed: int = 0, folder: str = "scenes") -> Path:
        out = tmp_path / folder
        out.mkdir(exist_ok=True)
        rng = np.random.default_rng(seed)
        for i in range(n):
            np.save(out / f"scene{i}.npy", rng.random((bands, size, size), dtype=np.float32) * 4000)
        return out

    return make
