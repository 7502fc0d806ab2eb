"""Every file of the shared data folder: registered, present, right sha256, keys, shapes and dtypes;
plus sanity facts of the real scenes. Skips (with the reason) when HS_DATA_ROOT is unset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hs_data
from hs_data import get_dataset_info, list_datasets, load_scene, sha256sum
from hs_data.io import read_array, read_mat


def _registered_files() -> dict[str, hs_data.FileSpec]:
    out: dict[str, hs_data.FileSpec] = {}
    for name in list_datasets():
        for spec in get_dataset_info(name).files:
            if spec.shared:
                out.setdefault(spec.path, spec)
    return out


def test_every_file_of_sha256sums_is_registered_with_its_digest(data_root: Path) -> None:
    listed = dict(
        reversed(line.split()) for line in (data_root / "SHA256SUMS").read_text().splitlines() if line.strip()
    )
    registered = _registered_files()
    assert set(listed) == set(registered), set(listed) ^ set(registered)
    assert len(listed) == 47
    for path, sha in listed.items():
        assert registered[path].sha256 == sha, path


@pytest.mark.parametrize("rel", sorted(_registered_files()))
def test_shared_file_sha_size_keys_shapes(data_root: Path, rel: str) -> None:
    spec = _registered_files()[rel]
    path = data_root / rel
    assert path.is_file(), f"{path} is registered as shared but missing"
    assert path.stat().st_size == spec.size
    assert sha256sum(path) == spec.sha256
    if rel.endswith(".mat"):
        data = read_mat(path)
        for arr in spec.arrays:
            assert arr.key in data, f"{rel}: key {arr.key!r} missing"
            assert data[arr.key].shape == arr.shape and str(data[arr.key].dtype) == arr.dtype, arr
    else:
        for arr in spec.arrays:
            got = read_array(path)
            assert got.shape == arr.shape and str(got.dtype) == arr.dtype


@pytest.mark.parametrize("name", [n for n in list_datasets() if get_dataset_info(n).shared_status == "all"])
def test_every_complete_dataset_loads(data_root: Path, name: str) -> None:
    sample = load_scene(name, data_root)
    info = get_dataset_info(name)
    for key in ("image", "image_pre", "image_hr"):
        if key in sample:
            assert sample[key].dtype == np.float32 and np.isfinite(sample[key]).all()
            if info.bands is not None:
                assert sample[key].shape[0] == info.bands
    if "label" in sample:
        assert sample["label"].dtype == np.int64 and sample["mask"].dtype == np.bool_


def test_jasper_abundances_sum_to_one_and_scaling(data_root: Path) -> None:
    s = load_scene("jasper_ridge", data_root)
    np.testing.assert_allclose(s["abundances"].sum(axis=0), 1.0, atol=1e-5)
    raw = read_mat(data_root / "unmixing/jasper_ridge/jasperRidge2_R198.mat", ["Y", "maxValue"])
    assert int(raw["maxValue"].item()) == 5000
    assert s["image"].max() == pytest.approx(raw["Y"].max() / 5000, rel=1e-6)
    assert s["band_indices"][0] == 4 and s["band_indices"].size == 198


def test_column_major_pixel_order_reconstructs_moffett(data_root: Path) -> None:
    # moffett.mat holds Y (bands x pixels) and S_GT (h, w, e): the linear mixture E^T A reproduces Y
    # only with MATLAB's column-major pixel order, which the loader uses for every Zhu-style file.
    s = load_scene("moffett", data_root)
    recon = np.einsum("ec,ehw->chw", s["endmembers"].astype(np.float64), s["abundances"].astype(np.float64))
    good = np.abs(recon - s["image"]).mean()
    wrong = np.abs(recon - s["image"].transpose(0, 2, 1)).mean()
    assert good < 0.02 and wrong > 10 * good, (good, wrong)


def _mean_sam_deg(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(a.shape[0], -1).astype(np.float64), b.reshape(b.shape[0], -1).astype(np.float64)
    cos = (a * b).sum(0) / (np.linalg.norm(a, axis=0) * np.linalg.norm(b, axis=0))
    return float(np.degrees(np.arccos(np.clip(cos, -1, 1))).mean())


@pytest.mark.parametrize("name", ["jasper_ridge", "samson", "moffett"])
def test_unmixing_ground_truth_explains_the_cube(data_root: Path, name: str) -> None:
    # E^T A matches the cube spectrally (mean spectral angle; scale-free, as Samson's endmembers are
    # max-normalised) in the loader's orientation, and not in the transposed one.
    s = load_scene(name, data_root)
    recon = np.einsum("ec,ehw->chw", s["endmembers"], s["abundances"])
    good = _mean_sam_deg(recon, s["image"])
    wrong = _mean_sam_deg(recon, s["image"].transpose(0, 2, 1))
    assert good < 8.0 and wrong > 3 * good, (good, wrong)


def test_classification_gt_class_counts(data_root: Path) -> None:
    counts = {
        "pavia_university": [6631, 18649, 2099, 3064, 1345, 5029, 1330, 3682, 947],
        "indian_pines": [46, 1428, 830, 237, 483, 730, 28, 478, 20, 972, 2455, 593, 205, 1265, 386, 93],
        "salinas_a": [391, 1343, 616, 1525, 674, 799],
    }
    for name, expected in counts.items():
        lab = load_scene(name, data_root, keys=("label",))["label"]
        assert np.bincount(lab.ravel(), minlength=len(expected) + 1)[1:].tolist() == expected, name


def test_nanjing_partial_reference(data_root: Path) -> None:
    s = load_scene("nanjing", data_root)
    assert int(s["label"].sum()) == 2363 and int(s["mask"].sum()) == 2363 + 12393
    assert s["wavelengths"].tolist() == [485.0, 569.0, 660.0, 840.0, 1676.0, 2223.0]


def test_change_maps_binary_convention(data_root: Path) -> None:
    s = load_scene("liu_irrigated_agricultural_area", data_root)
    assert int(s["label"].sum()) == 9921 and s["mask"].all()
    # the multiclass map's "no change" class (7) is exactly the binary map's 0
    np.testing.assert_array_equal(s["label_multiclass"] == 7, s["label"] == 0)
