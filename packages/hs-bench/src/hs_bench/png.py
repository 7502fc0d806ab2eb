"""A small PNG writer (zlib + CRC from the standard library) and the colourings the leaderboard uses.

No imaging library is needed: :func:`encode_png` writes 8-bit greyscale, RGB or RGBA images as a
single IDAT chunk with filter type 0 per row, which every PNG reader accepts (PNG specification,
W3C Recommendation 2003, sections 5 and 11). The colourings turn the arrays a recipe returns into
images:

- :func:`label_rgb`: class maps ``(h, w)`` of integers (0 = unlabelled, black) with a fixed palette.
- :func:`scalar_rgb`: score/abundance maps ``(h, w)`` of floats, min-max scaled, with the viridis map.
- :func:`array_to_rgb`: picks one of the above (or an RGB composite for cubes ``(c, h, w)``) from the
  array's dtype and shape.
"""

from __future__ import annotations

import colorsys
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from hs_backbone.training import atomic_write

__all__ = [
    "array_to_rgb",
    "decode_png",
    "encode_png",
    "label_palette",
    "label_rgb",
    "scalar_rgb",
    "write_png",
]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)

# Anchor colours of matplotlib's viridis map at 0, 1/8, ..., 1 (van der Walt and Smith, 2015; the map
# is CC0). Linear interpolation between them is within a few 1/255 of the full 256-entry table.
_VIRIDIS = np.array(
    [
        [68, 1, 84],
        [71, 44, 122],
        [59, 81, 139],
        [44, 113, 142],
        [33, 144, 141],
        [39, 173, 129],
        [92, 200, 99],
        [170, 220, 50],
        [253, 231, 37],
    ],
    dtype=np.float64,
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(image: np.ndarray, *, level: int = 6) -> bytes:
    """Encode an 8-bit image as PNG bytes.

    Args:
        image: ``(h, w)`` greyscale, or ``(h, w, 3)`` RGB / ``(h, w, 4)`` RGBA, dtype ``uint8``.
        level: zlib compression level 0-9.

    Raises:
        ValueError: wrong dtype, shape or an empty image.
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"image: expected dtype uint8, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in _COLOR_TYPE:
        raise ValueError(f"image: expected (h, w), (h, w, 3) or (h, w, 4), got shape {np.shape(image)}")
    h, w, c = arr.shape
    if h == 0 or w == 0:
        raise ValueError(f"image: expected a non-empty image, got shape {arr.shape}")
    rows = np.concatenate([np.zeros((h, 1), np.uint8), np.ascontiguousarray(arr).reshape(h, w * c)], axis=1)
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOR_TYPE[c], 0, 0, 0)
    return (
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
        + _chunk(b"IEND", b"")
    )


def decode_png(data: bytes) -> np.ndarray:
    """Decode a PNG written by :func:`encode_png` (8-bit, non-interlaced, filter type 0 rows).

    Checks the signature and every chunk's CRC; used by the tests and to read back results.

    Raises:
        ValueError: not such a PNG (bad signature, CRC, or an unsupported variant).
    """
    if data[:8] != _SIGNATURE:
        raise ValueError("not a PNG file: bad signature")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"PNG chunk {kind!r}: CRC mismatch")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if header is None:
        raise ValueError("PNG without IHDR")
    w, h, depth, color, _, _, interlace = header
    channels = {v: k for k, v in _COLOR_TYPE.items()}.get(color)
    if depth != 8 or channels is None or interlace:
        raise ValueError(
            f"unsupported PNG variant (depth {depth}, colour type {color}, interlace {interlace})"
        )
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * channels)
    if raw[:, 0].any():
        raise ValueError("unsupported PNG row filter (only type 0 is read)")
    out = raw[:, 1:].reshape(h, w, channels)
    return out[:, :, 0] if channels == 1 else out


def write_png(path: str | os.PathLike[str], image: np.ndarray) -> Path:
    """Write ``image`` (see :func:`encode_png`) to ``path`` atomically; returns the path."""
    data = encode_png(image)
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def label_palette(k: int) -> np.ndarray:
    """``(k + 1, 3)`` uint8 colours: black for 0 (unlabelled), then ``k`` well-separated hues.

    Hues step by the golden angle so neighbouring labels differ strongly; saturation and value
    alternate to separate hues that come back close to each other.
    """
    out = np.zeros((k + 1, 3), np.uint8)
    for i in range(1, k + 1):
        hue = ((i - 1) * 0.618033988749895) % 1.0
        sat, val = (0.85, 0.95) if i % 2 else (0.6, 0.8)
        out[i] = np.round(np.array(colorsys.hsv_to_rgb(hue, sat, val)) * 255)
    return out


def label_rgb(labels: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Colour a class map ``(h, w)`` of non-negative integers -> ``(h, w, 3)`` uint8."""
    lab = np.asarray(labels)
    if lab.ndim != 2:
        raise ValueError(f"labels: expected (h, w), got shape {lab.shape}")
    if lab.size and lab.min() < 0:
        lab = np.where(lab < 0, 0, lab)
    k = int(lab.max()) if lab.size else 0
    return label_palette(max(k, num_classes or 0))[lab.astype(np.int64)]


def scalar_rgb(values: np.ndarray, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """Colour a float map ``(h, w)`` with viridis after min-max scaling -> ``(h, w, 3)`` uint8.

    Non-finite values are drawn black. A constant map is drawn at the low end of the scale.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"values: expected (h, w), got shape {v.shape}")
    finite = np.isfinite(v)
    lo = float(np.min(v[finite])) if vmin is None and finite.any() else (vmin or 0.0)
    hi = float(np.max(v[finite])) if vmax is None and finite.any() else (vmax if vmax is not None else 1.0)
    t = np.clip((np.where(finite, v, lo) - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(v)
    pos = t * (len(_VIRIDIS) - 1)
    i0 = np.minimum(np.floor(pos).astype(np.int64), len(_VIRIDIS) - 2)
    frac = (pos - i0)[..., None]
    rgb = _VIRIDIS[i0] * (1 - frac) + _VIRIDIS[i0 + 1] * frac
    rgb[~finite] = 0
    return np.round(rgb).astype(np.uint8)


def _false_colour(cube: np.ndarray) -> np.ndarray:
    c = cube.shape[0]
    bands = [round(c * f) for f in (0.8, 0.5, 0.2)] if c >= 3 else [0] * 3
    bands = [min(b, c - 1) for b in bands]
    rgb = np.stack([cube[b] for b in bands], axis=-1).astype(np.float64)
    finite = np.isfinite(rgb)
    if not finite.any():
        return np.zeros(rgb.shape, np.uint8)
    lo, hi = np.percentile(rgb[finite], [2, 98])
    scaled = np.clip((np.where(finite, rgb, lo) - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    return np.round(scaled * 255).astype(np.uint8)


def array_to_rgb(array: np.ndarray) -> np.ndarray | None:
    """Pick a colouring for a recipe artifact; ``None`` when the array is not an image.

    - ``(h, w)`` integers or booleans: :func:`label_rgb`; floats: :func:`scalar_rgb`.
    - ``(c, h, w)`` with ``c`` small (<= 8, e.g. abundances): the channels side by side, each with
      :func:`scalar_rgb` on a common scale; larger ``c`` (a cube): a false-colour composite of three
      bands with a 2-98 % stretch.
    """
    a = np.asarray(array)
    if a.ndim == 2 and min(a.shape) >= 2:
        if a.dtype == bool or np.issubdtype(a.dtype, np.integer):
            return label_rgb(a.astype(np.int64))
        return scalar_rgb(a)
    if a.ndim == 3 and min(a.shape[1:]) >= 2 and a.shape[0] >= 1:
        if a.shape[0] <= 8:
            lo = float(np.nanmin(a)) if np.isfinite(a).any() else 0.0
            hi = float(np.nanmax(a)) if np.isfinite(a).any() else 1.0
            gap = np.full((a.shape[1], 2, 3), 255, np.uint8)
            tiles: list[np.ndarray] = []
            for i in range(a.shape[0]):
                tiles += [scalar_rgb(a[i].astype(np.float64), lo, hi), gap]
            return np.concatenate(tiles[:-1], axis=1)
        return _false_colour(a)
    return None
