"""Speed of the baselines and the heavier metrics (pytest-benchmark; skipped in the default run).

Run from packages/hs-tasks::

    OPENBLAS_NUM_THREADS=1 pytest -o addopts="" benchmarks --benchmark-only

Shapes are named after the scenes they stand for; the data are synthetic so no files are needed.
"""

from __future__ import annotations

import numpy as np
import pytest

from hs_tasks.baselines import RBFSVM, change_vector_analysis, fcls, rx, subspace_denoise, vca
from hs_tasks.metrics import detection_aucs, mssim

SHAPES = {
    "abu_100x100x200": (200, 100, 100),
    "cave_31x256x256": (31, 256, 256),
    "nanjing_6x800x800": (6, 800, 800),
    "jasper_198x100x100": (198, 100, 100),
}


def _spectra(n: int, bands: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    g = np.random.default_rng(seed)
    means = g.normal(size=(k, bands))
    y = g.integers(0, k, n)
    return 0.3 * means[y] + g.normal(size=(n, bands)), y


@pytest.mark.parametrize("n", [1000, 3000])
def test_svm_fit(benchmark, n: int) -> None:  # type: ignore[no-untyped-def]
    """One RBF SVM fit (fixed C, γ) on n noisy pixels, 100 bands, 8 classes."""
    x, y = _spectra(n, 100, 8)
    model = benchmark.pedantic(lambda: RBFSVM(C=10.0).fit(x, y), rounds=1, iterations=1)
    assert model.converged_


def test_rx(benchmark) -> None:  # type: ignore[no-untyped-def]
    cube = np.random.default_rng(0).random(SHAPES["abu_100x100x200"])
    benchmark(rx, cube)


def test_detection_aucs(benchmark) -> None:  # type: ignore[no-untyped-def]
    g = np.random.default_rng(0)
    scores, truth = g.random((1000, 1000)), g.random((1000, 1000)) < 0.01
    benchmark(detection_aucs, scores, truth)


def test_vca_fcls(benchmark) -> None:  # type: ignore[no-untyped-def]
    g = np.random.default_rng(0)
    c, h, w = SHAPES["jasper_198x100x100"]
    cube = np.einsum("ec,ehw->chw", g.random((4, c)), g.dirichlet(np.ones(4), size=(h, w)).transpose(2, 0, 1))
    benchmark.pedantic(lambda: fcls(cube, vca(cube, 4).endmembers), rounds=3, iterations=1)


def test_cva(benchmark) -> None:  # type: ignore[no-untyped-def]
    g = np.random.default_rng(0)
    pre, post = g.random(SHAPES["nanjing_6x800x800"]), g.random(SHAPES["nanjing_6x800x800"])
    benchmark(change_vector_analysis, pre, post)


def test_subspace_denoise(benchmark) -> None:  # type: ignore[no-untyped-def]
    noisy = np.random.default_rng(0).random(SHAPES["cave_31x256x256"])
    benchmark.pedantic(lambda: subspace_denoise(noisy), rounds=3, iterations=1)


def test_mssim(benchmark) -> None:  # type: ignore[no-untyped-def]
    g = np.random.default_rng(0)
    x = g.random(SHAPES["cave_31x256x256"])
    benchmark(mssim, x, x + 0.01 * g.random(x.shape), data_range=1.0)
