"""Speed of the data layer on Pavia-University-sized inputs (run: pytest benchmarks --benchmark-only)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hs_data.datasets import PixelPatchDataset
from hs_data.preprocessing import PCA, fit_on_split
from hs_data.splits import per_class_split, spatially_disjoint_split
from hs_data.synthetic import bicubic_downsample, noise_case


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    rng = np.random.default_rng(0)
    lab = rng.integers(1, 10, size=(610, 340))
    lab[rng.random((610, 340)) < 0.8] = 0
    return lab


@pytest.mark.benchmark(group="splits")
def test_bench_spatially_disjoint_split(benchmark, labels: np.ndarray) -> None:
    split = benchmark(
        lambda: spatially_disjoint_split(labels, block_size=64, patch_radius=4, val_fraction=0.1)
    )
    assert split.train.size > 0


@pytest.mark.benchmark(group="preprocessing")
def test_bench_pca_fit_transform(benchmark, labels: np.ndarray) -> None:
    image = np.random.default_rng(1).random((103, 610, 340)).astype(np.float32)
    split = per_class_split(labels, 50, seed=0)
    out = benchmark(lambda: fit_on_split(PCA(20, whiten=True), image, split).transform(image))
    assert out.shape == (20, 610, 340)


@pytest.mark.benchmark(group="patches")
def test_bench_patch_batch(benchmark, labels: np.ndarray) -> None:
    image = torch.rand(20, 610, 340)
    split = per_class_split(labels, 50, seed=0)
    ds = PixelPatchDataset(image, split, "train", patch_radius=16)
    batch = benchmark(lambda: torch.stack([ds[i]["image"] for i in range(256)]))
    assert batch.shape == (256, 20, 33, 33)


@pytest.mark.benchmark(group="synthetic")
def test_bench_noise_case5_and_bicubic(benchmark) -> None:
    cube = np.random.default_rng(2).random((31, 256, 256)).astype(np.float32)
    out = benchmark(lambda: bicubic_downsample(noise_case(cube, 5, seed=0), 4))
    assert out.shape == (31, 64, 64)
