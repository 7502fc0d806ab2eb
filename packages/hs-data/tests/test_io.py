"""Readers: MAT v5 and v7.3 agree, GeoTIFF layouts, npy, ENVI, BMP; damaged files name the file."""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
import tifffile

from hs_data import DataFormatError
from hs_data.io import read_array, read_bmp, read_envi, read_mat, read_npy, read_tiff


def write_mat73(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A MATLAB v7.3 file: 512-byte MATLAB header (HDF5 user block), arrays stored column-major."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for key, arr in arrays.items():
            f.create_dataset(key, data=np.ascontiguousarray(arr.T))
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: test HDF5 schema 1.00 ."
    with path.open("r+b") as f:
        f.write(header.ljust(128, b" "))


@pytest.fixture
def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "cube": rng.integers(0, 5000, size=(7, 5, 3)).astype(np.uint16),
        "gt": rng.integers(0, 4, size=(7, 5)).astype(np.uint8),
        "spec": rng.random((3, 1)),
    }


def test_mat_v5_and_v73_give_the_same_arrays(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    scipy.io.savemat(tmp_path / "v5.mat", arrays)
    write_mat73(tmp_path / "v73.mat", arrays)
    a = read_mat(tmp_path / "v5.mat")
    b = read_mat(tmp_path / "v73.mat")
    assert set(a) == set(b) == set(arrays)
    for key, ref in arrays.items():
        np.testing.assert_array_equal(a[key], ref)
        np.testing.assert_array_equal(b[key], ref)
        assert b[key].dtype == ref.dtype


@pytest.mark.parametrize("version", ["v5", "v73"])
def test_missing_key_names_file_and_lists_keys(
    tmp_path: Path, arrays: dict[str, np.ndarray], version: str
) -> None:
    path = tmp_path / f"{version}.mat"
    if version == "v5":
        scipy.io.savemat(path, arrays)
    else:
        write_mat73(path, arrays)
    with pytest.raises(DataFormatError) as err:
        read_mat(path, ["data"])
    msg = str(err.value)
    assert str(path) in msg and "'data'" in msg and "cube" in msg and "gt" in msg


@pytest.mark.parametrize("cut", [10, 200, 0.5, -8])
def test_truncated_mat_raises_naming_the_file(
    tmp_path: Path, arrays: dict[str, np.ndarray], cut: float
) -> None:
    scipy.io.savemat(tmp_path / "ok.mat", arrays, do_compression=True)
    data = (tmp_path / "ok.mat").read_bytes()
    n = int(cut * len(data)) if isinstance(cut, float) else (cut if cut > 0 else len(data) + cut)
    bad = tmp_path / "bad.mat"
    bad.write_bytes(data[:n])
    with pytest.raises(DataFormatError, match=r"bad\.mat.*truncated or corrupted"):
        read_mat(bad, ["cube", "gt", "spec"])


def test_corrupted_v73_raises(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    write_mat73(tmp_path / "ok.mat", arrays)
    data = bytearray((tmp_path / "ok.mat").read_bytes())
    (tmp_path / "bad.mat").write_bytes(bytes(data[: len(data) // 3]))
    with pytest.raises(DataFormatError, match=r"bad\.mat"):
        read_mat(tmp_path / "bad.mat", ["cube"])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothere\.mat"):
        read_mat(tmp_path / "nothere.mat")


def test_tiff_layouts_come_back_band_first(tmp_path: Path) -> None:
    cube = np.arange(4 * 6 * 3, dtype=np.uint16).reshape(4, 6, 3)  # (h, w, c)
    tifffile.imwrite(tmp_path / "contig.tif", cube, photometric="rgb", planarconfig="contig")
    tifffile.imwrite(
        tmp_path / "separate.tif", cube.transpose(2, 0, 1), photometric="minisblack", planarconfig="separate"
    )
    tifffile.imwrite(tmp_path / "map.tif", cube[..., 0])
    np.testing.assert_array_equal(read_tiff(tmp_path / "contig.tif"), cube.transpose(2, 0, 1))
    np.testing.assert_array_equal(read_tiff(tmp_path / "separate.tif"), cube.transpose(2, 0, 1))
    np.testing.assert_array_equal(read_array(tmp_path / "map.tif"), cube[..., 0])
    (tmp_path / "bad.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(DataFormatError, match=r"bad\.tif"):
        read_tiff(tmp_path / "bad.tif")


def test_npy_roundtrip_and_truncation(tmp_path: Path) -> None:
    arr = np.random.default_rng(1).random((3, 4, 5)).astype(np.float32)
    np.save(tmp_path / "a.npy", arr)
    np.testing.assert_array_equal(read_array(tmp_path / "a.npy"), arr)
    data = (tmp_path / "a.npy").read_bytes()
    (tmp_path / "b.npy").write_bytes(data[:-20])
    with pytest.raises(DataFormatError, match=r"b\.npy"):
        read_npy(tmp_path / "b.npy")


@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
def test_envi_interleaves(tmp_path: Path, interleave: str) -> None:
    cube = np.arange(3 * 4 * 5, dtype=np.int16).reshape(3, 4, 5)  # (c, h, w)
    order = {"bsq": (0, 1, 2), "bil": (1, 0, 2), "bip": (1, 2, 0)}[interleave]
    path = tmp_path / "img"
    cube.transpose(order).tofile(path)
    (tmp_path / "img.hdr").write_text(
        f"ENVI\ndescription = {{test}}\nsamples = 5\nlines = 4\nbands = 3\nheader offset = 0\n"
        f"data type = 2\ninterleave = {interleave}\nbyte order = 0\n"
    )
    np.testing.assert_array_equal(read_envi(path), cube)
    np.testing.assert_array_equal(read_array(path), cube)
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(DataFormatError, match="does not match its header"):
        read_envi(path)


def write_bmp8(path: Path, img: np.ndarray) -> None:
    """Minimal 8-bit grey-palette bottom-up BMP writer (test helper)."""
    h, w = img.shape
    row = (w + 3) // 4 * 4
    pixels = np.zeros((h, row), dtype=np.uint8)
    pixels[:, :w] = img[::-1]
    palette = bytes(b for i in range(256) for b in (i, i, i, 0))
    offset = 14 + 40 + len(palette)
    header = struct.pack("<2sIHHI", b"BM", offset + pixels.size, 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 0, pixels.size, 2835, 2835, 256, 0)
    path.write_bytes(header + info + palette + pixels.tobytes())


def test_bmp_reader(tmp_path: Path) -> None:
    img = np.zeros((5, 7), dtype=np.uint8)
    img[1, 2] = 255
    img[4, 6] = 255
    write_bmp8(tmp_path / "m.bmp", img)
    np.testing.assert_array_equal(read_bmp(tmp_path / "m.bmp"), img)
    data = (tmp_path / "m.bmp").read_bytes()
    (tmp_path / "t.bmp").write_bytes(data[:-10])
    with pytest.raises(DataFormatError, match="truncated"):
        read_bmp(tmp_path / "t.bmp")


def test_unknown_format(tmp_path: Path) -> None:
    (tmp_path / "x.xyz").write_bytes(b"123")
    with pytest.raises(DataFormatError, match="unknown file format"):
        read_array(tmp_path / "x.xyz")
