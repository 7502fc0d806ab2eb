"""Official splits and the spatially disjoint split on the real ground-truth maps (HS_DATA_ROOT)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from hs_data import load_scene
from hs_data._catalog import INDIAN_PINES_DISJOINT_TO_GT
from hs_data.io import read_mat
from hs_data.splits import derive_class_mapping, official_split, spatially_disjoint_split


def min_chebyshev_distance_to(part_mask: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """Independent checker: chessboard distance from each pixel to the nearest pixel of part_mask."""
    dist = ndimage.distance_transform_cdt(~part_mask, metric="chessboard")
    return dist.reshape(-1)[pixels]


def test_pavia_university_fixed_split_counts(data_root: Path) -> None:
    split = official_split("pavia_university", root=data_root)
    assert split.counts("train") == dict(zip(range(1, 10), [548, 540, 392, 524, 265, 532, 375, 514, 231]))
    assert split.train.size == 3921 and split.test.size == 40002 and split.val.size == 0
    gt = load_scene("pavia_university", data_root, keys=("label",))["label"].reshape(-1)
    np.testing.assert_array_equal(gt[split.test], split.y_test)  # test labels are the GT's


def test_houston_official_maps(data_root: Path) -> None:
    split = official_split("houston2013", root=data_root)
    assert split.train.size == 2832 and split.test.size == 12197
    assert split.counts("train")[1] == 198 and split.counts("test")[1] == 1053


def test_indian_pines_disjoint_mapping_is_derived_from_the_data(data_root: Path) -> None:
    raw = read_mat(data_root / "classification/indian_pines/indianpines_disjoint_dset.mat")[
        "indianpines_disjoint_dset"
    ]
    gt = load_scene("indian_pines", data_root, keys=("label",))["label"]
    derived = derive_class_mapping(raw, gt)
    assert derived == dict(INDIAN_PINES_DISJOINT_TO_GT)
    remapped = load_scene("indian_pines", data_root, keys=("train_map",))["train_map"]
    both = (remapped > 0) & (gt > 0)
    agreement = float((remapped[both] == gt[both]).mean())
    assert agreement > 0.99, agreement  # 10 of 5,538 pixels disagree
    # the identity numbering would be badly wrong: the remap matters
    assert float((raw[both] == gt[both]).mean()) < 0.2


def test_indian_pines_disjoint_split(data_root: Path) -> None:
    split = official_split("indian_pines", root=data_root)
    assert split.train.size == 5689
    gt = load_scene("indian_pines", data_root, keys=("label",))["label"]
    assert split.test.size == int((gt > 0).sum()) - int(((gt > 0) & split.mask("train")).sum())


@pytest.mark.parametrize("name", ["pavia_university", "indian_pines"])
@pytest.mark.parametrize("radius", [0, 1, 2, 4, 7])
def test_spatially_disjoint_split_leaks_nothing_on_real_gt(data_root: Path, name: str, radius: int) -> None:
    gt = load_scene(name, data_root, keys=("label",))["label"]
    block = 32 if name == "indian_pines" else 64
    split = spatially_disjoint_split(
        gt, block_size=block, patch_radius=radius, val_fraction=0.1, seed=3, dataset=name
    )
    assert split.train.size > 0 and split.test.size > 0
    # no training pixel within Chebyshev distance r of a test or validation pixel, i.e. no
    # (2r+1)^2 training patch contains one
    assert min_chebyshev_distance_to(split.mask("test"), split.train).min() > radius
    if split.val.size:
        assert min_chebyshev_distance_to(split.mask("val"), split.train).min() > radius
    # every labelled pixel is in one part or was dropped by the guard, never in two
    dropped = split.params["guard_dropped"]["train"] + split.params["guard_dropped"]["val"]
    assert split.train.size + split.val.size + split.test.size + dropped == int((gt > 0).sum())
