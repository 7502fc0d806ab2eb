"""load_scene on small files written here: layouts, scaling, and every kind of bad input."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io

from hs_data import (
    ChecksumError,
    DataFormatError,
    DatasetInfo,
    DatasetNotFoundError,
    FileSpec,
    Role,
    load_scene,
)
from hs_data import registry as reg
from hs_data.download import sha256sum


@pytest.fixture
def make_dataset(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Write MAT files under tmp_path/root and register a throw-away dataset over them."""
    names: list[str] = []

    def make(
        files: dict[str, dict[str, np.ndarray]],
        roles: dict[str, Role],
        *,
        with_sha: bool = True,
        **info_kw: Any,
    ) -> str:
        root = tmp_path / "root"
        specs = []
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            scipy.io.savemat(path, content)
            specs.append(FileSpec(rel, sha256sum(path) if with_sha else None, path.stat().st_size))
        name = f"tmp_dataset_{len(names)}"
        defaults: dict[str, Any] = {
            "task": "classification",
            "sensor": "test",
            "height": 6,
            "width": 5,
            "bands": 4,
        }
        reg.register_dataset(
            DatasetInfo(name=name, title=name, files=tuple(specs), roles=roles, **(defaults | info_kw)),
            overwrite=True,
        )
        names.append(name)
        return name

    yield make
    for name in names:
        reg._REGISTRY.pop(name, None)


def _cube(rng: np.random.Generator, h: int = 6, w: int = 5, c: int = 4) -> np.ndarray:
    return rng.integers(0, 1000, size=(h, w, c)).astype(np.uint16)


def test_hwc_cube_and_label(make_dataset: Callable[..., str], tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cube, gt = _cube(rng), rng.integers(0, 3, size=(6, 5)).astype(np.uint8)
    name = make_dataset(
        {"a/img.mat": {"x": cube}, "a/gt.mat": {"y": gt}},
        {"image": Role("a/img.mat", "x", "hwc"), "label": Role("a/gt.mat", "y", "hw")},
        classes=("one", "two"),
        scale=1000.0,
    )
    s = load_scene(name, tmp_path / "root")
    assert s["image"].shape == (4, 6, 5) and s["image"].dtype == np.float32
    np.testing.assert_allclose(s["image"], cube.transpose(2, 0, 1) / 1000.0, rtol=1e-7)
    np.testing.assert_array_equal(s["label"], gt)
    np.testing.assert_array_equal(s["mask"], gt > 0)
    assert s["band_mask"].all() and s["meta"]["name"] == name


def test_bands_by_pixels_is_column_major(make_dataset: Callable[..., str], tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    cube = rng.random((4, 6, 5))  # (c, h, w)
    y = cube.reshape(4, 6 * 5, order="F")  # MATLAB reshape: pixel p = row + col * h
    name = make_dataset({"u.mat": {"Y": y}}, {"image": Role("u.mat", "Y", "c_p")}, task="unmixing")
    np.testing.assert_allclose(load_scene(name, tmp_path / "root")["image"], cube, rtol=1e-6)


def test_nan_band_is_masked_and_logged(
    make_dataset: Callable[..., str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cube = np.random.default_rng(2).random((6, 5, 4))
    cube[2, 3, 1] = np.nan
    cube[0, 0, 3] = np.inf
    name = make_dataset({"n.mat": {"x": cube}}, {"image": Role("n.mat", "x", "hwc")}, task="denoising")
    with caplog.at_level(logging.WARNING, logger="hs_data.scenes"):
        s = load_scene(name, tmp_path / "root")
    assert s["band_mask"].tolist() == [True, False, True, False]
    assert np.isfinite(s["image"]).all() and s["image"][1, 2, 3] == 0
    assert "n.mat" in caplog.text and "[1, 3]" in caplog.text
    with pytest.raises(DataFormatError, match=r"n\.mat.*NaN/Inf.*\[1, 3\]"):
        load_scene(name, tmp_path / "root", nonfinite="raise")


def test_label_out_of_range(make_dataset: Callable[..., str], tmp_path: Path) -> None:
    gt = np.zeros((6, 5), dtype=np.uint8)
    gt[1, 1] = 7
    name = make_dataset({"g.mat": {"y": gt}}, {"label": Role("g.mat", "y", "hw")}, classes=("a", "b", "c"))
    with pytest.raises(DataFormatError, match=r"g\.mat \[y\].*allowed 0\.\.3, found \[7\]"):
        load_scene(name, tmp_path / "root")


def test_mismatched_cube_and_label(make_dataset: Callable[..., str], tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    name = make_dataset(
        {"img.mat": {"x": _cube(rng)}, "gt.mat": {"y": np.zeros((6, 4), dtype=np.uint8)}},
        {"image": Role("img.mat", "x", "hwc"), "label": Role("gt.mat", "y", "hw")},
        height=None,
        width=None,
        classes=("a",),
    )
    with pytest.raises(DataFormatError) as err:
        load_scene(name, tmp_path / "root")
    msg = str(err.value)
    assert "img.mat" in msg and "gt.mat" in msg and "(6, 5)" in msg and "(6, 4)" in msg


def test_wrong_size_against_registry(make_dataset: Callable[..., str], tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    name = make_dataset(
        {"img.mat": {"x": _cube(rng, h=7)}}, {"image": Role("img.mat", "x", "hwc")}, task="denoising"
    )
    with pytest.raises(DataFormatError, match=r"img\.mat.*\(7, 5\).*\(6, 5\)"):
        load_scene(name, tmp_path / "root")


def test_wrong_key(make_dataset: Callable[..., str], tmp_path: Path) -> None:
    name = make_dataset(
        {"img.mat": {"data": _cube(np.random.default_rng(4))}},
        {"image": Role("img.mat", "x", "hwc")},
        task="denoising",
    )
    with pytest.raises(
        DataFormatError, match=r"img\.mat: missing key\(s\) \['x'\]; keys present: \['data'\]"
    ):
        load_scene(name, tmp_path / "root")


def test_checksum_mismatch_shows_expected_and_actual(
    make_dataset: Callable[..., str], tmp_path: Path
) -> None:
    name = make_dataset(
        {"img.mat": {"x": _cube(np.random.default_rng(5))}},
        {"image": Role("img.mat", "x", "hwc")},
        task="denoising",
    )
    path = tmp_path / "root" / "img.mat"
    expected = sha256sum(path)
    path.write_bytes(path.read_bytes()[:-7])  # truncated after registration
    with pytest.raises(ChecksumError) as err:
        load_scene(name, tmp_path / "root")
    assert f"expected {expected}" in str(err.value) and f"actual {sha256sum(path)}" in str(err.value)
    assert str(path) in str(err.value)
    # without a known checksum the truncation is still caught by the reader, naming the file
    with pytest.raises(DataFormatError, match=r"img\.mat"):
        load_scene(name, tmp_path / "root", checksum=False)


def test_missing_file_and_partial_keys(make_dataset: Callable[..., str], tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    name = make_dataset(
        {"img.mat": {"x": _cube(rng)}, "gt.mat": {"y": np.ones((6, 5), dtype=np.uint8)}},
        {"image": Role("img.mat", "x", "hwc"), "label": Role("gt.mat", "y", "hw")},
        classes=("a",),
        how_to_get="ask the test",
    )
    (tmp_path / "root" / "img.mat").unlink()
    with pytest.raises(DatasetNotFoundError) as err:
        load_scene(name, tmp_path / "root")
    assert (
        "img.mat not found" in str(err.value)
        and "ask the test" in str(err.value)
        and "['label', 'mask']" in str(err.value)
    )
    assert load_scene(name, tmp_path / "root", keys=("label",))["label"].sum() == 30


def test_remap_and_unknown_code(make_dataset: Callable[..., str], tmp_path: Path) -> None:
    raw = np.array(
        [[1, 2, 0, 2, 1]] * 6, dtype=np.uint8
    )  # upstream CD codes: 1 changed, 2 unchanged, 0 unknown
    name = make_dataset(
        {"cd.mat": {"GT": raw}},
        {"label": Role("cd.mat", "GT", "hw", remap=((1, 1), (2, 0), (0, -1)), max_value=1)},
        task="change_detection",
        num_label_values=2,
    )
    s = load_scene(name, tmp_path / "root")
    np.testing.assert_array_equal(s["label"], (raw == 1).astype(np.int64))
    np.testing.assert_array_equal(s["mask"], raw != 0)


def test_unknown_dataset_and_key() -> None:
    with pytest.raises(ValueError, match="did you mean"):
        load_scene("pavia_univercity")
    with pytest.raises(ValueError, match="unknown sample key 'cube'"):
        load_scene("samson", keys=("cube",))
    with pytest.raises(DatasetNotFoundError, match="no loadable files"):
        load_scene("zy1_02d")
