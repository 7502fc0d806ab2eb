from __future__ import annotations

import os

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture
def official():
    """Load an official-code fixture, skipping (with the reason) when HS_FIXTURES_ROOT is unset."""
    from hs_attention.testing import fixtures_root, load_official_fixture

    if fixtures_root() is None:
        pytest.skip("HS_FIXTURES_ROOT is not set (official-code fixtures live in shared/fixtures)")
    return load_official_fixture
