"""Loading the real scenes of shared/data for the tests (read through HS_DATA_ROOT, never copied).

Layouts follow shared/data/MANIFEST.md. Everything is returned bands-first, ``(c, h, w)`` float64.
Tests that call these helpers are skipped, with the reason, when HS_DATA_ROOT is unset.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io


def data_root() -> Path:
    root = os.environ.get("HS_DATA_ROOT")
    if not root:
        pytest.skip("HS_DATA_ROOT is not set: real-scene quality floors need the shared benchmark data")
    return Path(root)


def load_mat(rel: str) -> dict[str, np.ndarray]:
    path = data_root() / rel
    if not path.is_file():
        raise FileNotFoundError(f"{path}: expected benchmark file (see HS_DATA_ROOT/MANIFEST.md)")
    return scipy.io.loadmat(path)


def hwc_to_chw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(np.asarray(x, dtype=np.float64), -1, 0))


def load_scene(rel: str, cube_key: str, map_key: str) -> tuple[np.ndarray, np.ndarray]:
    """An anomaly/target scene: ``(c, h, w)`` cube and ``(h, w)`` bool ground truth."""
    d = load_mat(rel)
    return hwc_to_chw(d[cube_key]), d[map_key].astype(bool)


def zhu_cube(values: np.ndarray, n_row: int, n_col: int) -> np.ndarray:
    """Zhu's unmixing format: ``(bands or endmembers, pixels)`` in MATLAB column-major pixel order."""
    return np.ascontiguousarray(values.reshape(values.shape[0], n_col, n_row).transpose(0, 2, 1))


def load_unmixing(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cube (c, h, w), endmembers (e, c), abundances (e, h, w))`` for 'samson' or 'jasper_ridge'."""
    if name == "samson":
        d, g = load_mat("unmixing/samson/samson_1.mat"), load_mat("unmixing/samson/end3.mat")
        y = d["V"].astype(np.float64)
    elif name == "jasper_ridge":
        d = load_mat("unmixing/jasper_ridge/jasperRidge2_R198.mat")
        g = load_mat("unmixing/jasper_ridge/end4.mat")
        y = d["Y"].astype(np.float64) / float(d["maxValue"].item())
    else:
        raise ValueError(name)
    n_row, n_col = int(d["nRow"].item()), int(d["nCol"].item())
    return zhu_cube(y, n_row, n_col), g["M"].T.astype(np.float64), zhu_cube(g["A"], n_row, n_col)


def read_bmp8(path: Path) -> np.ndarray:
    """Minimal reader for the 8-bit palette BMP reference maps (no Pillow in the test env)."""
    raw = path.read_bytes()
    if raw[:2] != b"BM":
        raise ValueError(f"{path}: not a BMP file")
    offset = int.from_bytes(raw[10:14], "little")
    width = int.from_bytes(raw[18:22], "little", signed=True)
    height = int.from_bytes(raw[22:26], "little", signed=True)
    bpp = int.from_bytes(raw[28:30], "little")
    if bpp != 8:
        raise ValueError(f"{path}: expected an 8-bit BMP, got {bpp} bits per pixel")
    stride = (width + 3) // 4 * 4
    rows = np.frombuffer(raw, np.uint8, count=stride * abs(height), offset=offset).reshape(
        abs(height), stride
    )
    img = rows[:, :width]
    return img[::-1] if height > 0 else img  # positive height = bottom-up rows


def load_nanjing() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Landsat-5 Nanjing pair ``(6, 800, 800)`` x 2, reference changed map, labelled-pixel mask."""
    base = data_root() / "multispectral_change_detection" / "nanjing"
    pre = np.fromfile(base / "LT51200382000124BJC00_Nanjing", np.uint8).reshape(6, 800, 800)
    post = np.fromfile(base / "LT51200382002193BJC00_Nanjing", np.uint8).reshape(6, 800, 800)
    changed = read_bmp8(base / "change.bmp") == 255
    unchanged = read_bmp8(base / "unchanged.bmp") == 255
    return pre.astype(np.float64), post.astype(np.float64), changed, changed | unchanged
