"""Splits on synthetic label maps: per-class rule, validation from training only, seeds, save/load,
and hypothesis property tests of the spatially disjoint split's guard band."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from hs_data.datasets import PixelPatchDataset
from hs_data.splits import (
    Split,
    derive_class_mapping,
    fixed_split,
    leaking_train_pixels,
    per_class_split,
    spatially_disjoint_split,
)


def labels_map(seed: int = 0, shape: tuple[int, int] = (40, 30), k: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lab = rng.integers(1, k + 1, size=shape)
    lab[rng.random(shape) < 0.3] = 0
    return lab


def test_per_class_counts_and_partition() -> None:
    lab = labels_map()
    split = per_class_split(lab, 10, val_per_class=3, seed=1)
    assert all(v == 7 for v in split.counts("train").values())
    assert all(v == 3 for v in split.counts("val").values())
    labelled = int((lab > 0).sum())
    assert split.train.size + split.val.size + split.test.size == labelled
    flat = lab.reshape(-1)
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(flat[split.indices(part)], split.labels(part))


def test_validation_is_carved_from_training_only() -> None:
    lab = labels_map(1)
    with_val = per_class_split(lab, 12, val_per_class=4, seed=5)
    without = per_class_split(lab, 12, val_per_class=0, seed=5)
    np.testing.assert_array_equal(with_val.test, without.test)  # the test set does not change
    np.testing.assert_array_equal(np.union1d(with_val.train, with_val.val), without.train)


def test_small_class_rule_takes_at_most_half_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    lab = np.zeros((20, 20), dtype=np.int64)
    lab[:10] = 1  # 200 px
    lab[15, :7] = 2  # 7 px: 10 requested, at most half -> 3
    lab[19, 0] = 3  # 1 px: nothing for training
    with caplog.at_level(logging.WARNING, logger="hs_data.splits"):
        split = per_class_split(lab, 10, val_per_class=2, seed=0)
    assert split.counts("train") == {1: 8, 2: 1}
    assert split.counts("val") == {1: 2, 2: 2}
    assert split.counts("test") == {1: 190, 2: 4, 3: 1}
    assert "class 2: 7 px -> 3" in caplog.text and "class 3: 1 px -> 0" in caplog.text
    assert split.params["capped_classes"]


def test_fractional_budget() -> None:
    lab = labels_map(2)
    split = per_class_split(lab, 0.1, seed=0)
    for c, n in split.counts("train").items():
        assert n == round(0.1 * int((lab == c).sum()))


def test_seeds_reproduce_and_differ() -> None:
    lab = labels_map(3)
    a, b, c = (per_class_split(lab, 5, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.train, b.train)
    assert not np.array_equal(a.train, c.train)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_save_load_roundtrip(tmp_path: Path, suffix: str) -> None:
    split = spatially_disjoint_split(
        labels_map(4), block_size=8, patch_radius=1, val_fraction=0.1, seed=2, dataset="toy"
    )
    path = split.save(tmp_path / f"split{suffix}")
    back = Split.load(path)
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(back.indices(part), split.indices(part))
        np.testing.assert_array_equal(back.labels(part), split.labels(part))
    assert (back.seed, back.method, back.dataset, back.shape) == (2, "spatially_disjoint", "toy", split.shape)
    assert back.params["patch_radius"] == 1


def test_split_refuses_overlapping_parts() -> None:
    with pytest.raises(ValueError, match="share 1 pixels"):
        Split(
            (2, 2),
            np.array([0, 1]),
            np.array([], dtype=np.int64),
            np.array([1]),
            np.array([1, 1]),
            np.array([], dtype=np.int64),
            np.array([1]),
            "x",
        )
    with pytest.raises(ValueError, match="overlap on 1 pixels"):
        fixed_split(np.array([[1, 0]]), np.array([[2, 0]]))


def test_fixed_split_keeps_the_training_map_labels() -> None:
    gt = np.array([[1, 1, 2], [0, 2, 2]])
    train = np.array([[0, 1, 0], [3, 0, 0]])  # one training pixel outside the GT, with its own label
    split = fixed_split(train, labels=gt)
    assert split.counts("train") == {1: 1, 3: 1}
    assert split.counts("test") == {1: 1, 2: 3}


def test_derive_class_mapping() -> None:
    ref = np.array([[1, 1, 2, 2, 3]])
    src = np.array([[5, 5, 4, 0, 9]])
    assert derive_class_mapping(src, ref) == {4: 2, 5: 1, 9: 3}
    with pytest.raises(ValueError, match="one-to-one"):
        derive_class_mapping(np.array([[1, 2, 0, 0, 0]]), ref)


def test_random_pixel_splits_do_leak_the_checker_can_fail() -> None:
    lab = labels_map(5)
    split = per_class_split(lab, 20, seed=0)
    assert leaking_train_pixels(split, 0) == 0
    assert leaking_train_pixels(split, 2) > 0.5 * split.train.size
    unguarded = spatially_disjoint_split(lab, block_size=8, patch_radius=0, seed=0)
    assert leaking_train_pixels(unguarded, 3) > 0


@given(
    lab=arrays(np.int64, st.tuples(st.integers(4, 40), st.integers(4, 40)), elements=st.integers(0, 4)),
    block=st.integers(1, 12),
    radius=st.integers(0, 5),
    frac=st.floats(0.2, 0.8),
    val=st.sampled_from([0.0, 0.1]),
    seed=st.integers(0, 2**16),
)
def test_disjoint_guard_property(
    lab: np.ndarray, block: int, radius: int, frac: float, val: float, seed: int
) -> None:
    split = spatially_disjoint_split(
        lab,
        block_size=block,
        patch_radius=radius,
        train_fraction=frac,
        val_fraction=min(val, frac / 2),
        seed=seed,
    )
    h, w = lab.shape
    # brute force: every (2r+1)^2 window around a training pixel is free of test and val pixels
    test_or_val = split.mask("test") | split.mask("val")
    for r0, c0 in split.coords("train"):
        window = test_or_val[max(0, r0 - radius) : r0 + radius + 1, max(0, c0 - radius) : c0 + radius + 1]
        assert not window.any()
    assert leaking_train_pixels(split, radius) == 0
    # parts only hold labelled pixels, with their labels, and nothing twice
    flat = lab.reshape(-1)
    for part in ("train", "val", "test"):
        assert (flat[split.indices(part)] > 0).all()
        np.testing.assert_array_equal(flat[split.indices(part)], split.labels(part))
    assert split.test.size + split.train.size + split.val.size <= int((lab > 0).sum())
    # test pixels are never dropped: all labelled pixels of test blocks are tested
    assert split.shape == (h, w)


def test_training_patches_never_contain_test_pixels_end_to_end() -> None:
    lab = labels_map(6, shape=(48, 48))
    r = 3
    split = spatially_disjoint_split(lab, block_size=12, patch_radius=r, seed=1)
    image = np.zeros((2, 48, 48), dtype=np.float32)
    image[0].reshape(-1)[split.test] = 1.0  # test pixels carry a sentinel
    for padding in ("reflect", "zero"):
        ds = PixelPatchDataset(image, split, "train", patch_radius=r, padding=padding)
        assert len(ds) == split.train.size
        patches = torch.stack([ds[i]["image"] for i in range(len(ds))])
        assert patches.shape[1:] == (2, 7, 7)
        assert float(patches[:, 0].max()) == 0.0
    # the same check sees the sentinel in test patches (the check can fail)
    test_ds = PixelPatchDataset(image, split, "test", patch_radius=r)
    assert float(test_ds[0]["image"][0, r, r]) == 1.0


def test_guard_drops_only_what_is_needed() -> None:
    lab = np.ones((10, 20), dtype=np.int64)
    # with two blocks side by side, the guard removes exactly r columns of the training block
    split = spatially_disjoint_split(lab, block_size=10, patch_radius=2, train_fraction=0.5, seed=0)
    assert split.test.size == 100 and split.train.size == 80
    dist = ndimage.distance_transform_cdt(~split.mask("test"), metric="chessboard").reshape(-1)[split.train]
    assert dist.min() == 3
