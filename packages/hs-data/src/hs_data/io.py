"""Readers for the file formats of the benchmark scenes: MAT (v5 and v7.3/HDF5), GeoTIFF, ``.npy``,
ENVI raw rasters and uncompressed BMP masks.

Every reader returns plain numpy arrays **as stored** (dtype and axis order of the file; MAT arrays
in MATLAB's axis order whatever the MAT version). Turning them into the sample vocabulary
(``image`` ``(c, h, w)`` float32, ...) is the job of :mod:`hs_data.scenes`.

Failures name the file: a missing file raises ``FileNotFoundError``; a file that cannot be parsed
(truncated, corrupted, another format) or lacks a requested key raises
:class:`~hs_data.errors.DataFormatError` with the reason and, for a missing key, the keys present.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hs_data.errors import DataFormatError

__all__ = [
    "read_array",
    "read_bmp",
    "read_envi",
    "read_mat",
    "read_npy",
    "read_tiff",
]

_MAT73_MAGIC = b"MATLAB 7.3"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")


def read_mat(path: str | Path, keys: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Read variables of a MATLAB file, v5 (``scipy.io``) or v7.3 (HDF5, ``h5py``).

    v7.3 arrays are transposed back to MATLAB's axis order (HDF5 stores them column-major, so h5py
    returns the axes reversed); a v5 and a v7.3 file of the same variable give the same array.

    Args:
        path: the ``.mat`` file.
        keys: variable names to read; ``None`` reads every numeric variable.

    Returns:
        ``{name: array}`` for the requested variables.

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: the file cannot be parsed, or a requested key is absent (the message lists
            the keys present).
    """
    path = Path(path)
    _require_file(path)
    with path.open("rb") as f:
        head = f.read(512 + 8)
    if head.startswith(_MAT73_MAGIC) or _HDF5_MAGIC in (head[:8], head[512 : 512 + 8]):
        return _read_mat73(path, keys)
    return _read_mat5(path, keys)


def _read_mat5(path: Path, keys: Sequence[str] | None) -> dict[str, np.ndarray]:
    import scipy.io

    try:
        data = scipy.io.loadmat(str(path), variable_names=list(keys) if keys is not None else None)
    except Exception as exc:  # scipy raises many types on damaged files (OSError, zlib.error, ...)
        raise DataFormatError(
            path, f"cannot read MAT v5 file ({type(exc).__name__}: {exc}); it may be truncated or corrupted"
        ) from exc
    out = {k: v for k, v in data.items() if not k.startswith("__")}
    if keys is not None:
        missing = [k for k in keys if k not in out]
        if missing:
            try:
                present = sorted(name for name, _, _ in scipy.io.whosmat(str(path)))
            except Exception:  # the listing is only for the message
                present = sorted(out)
            raise DataFormatError(path, f"missing key(s) {missing}; keys present: {present}")
    return out


def _read_mat73(path: Path, keys: Sequence[str] | None) -> dict[str, np.ndarray]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            present = sorted(k for k in f if not k.startswith("#"))
            wanted = list(keys) if keys is not None else present
            missing = [k for k in wanted if k not in f]
            if missing:
                raise DataFormatError(path, f"missing key(s) {missing}; keys present: {present}")
            out: dict[str, np.ndarray] = {}
            for k in wanted:
                node = f[k]
                if not isinstance(node, h5py.Dataset):
                    if keys is None:
                        continue  # structs and cells are not arrays; skip them when listing all
                    raise DataFormatError(path, f"key {k!r} is a MATLAB struct/cell, not a numeric array")
                arr = np.asarray(node[()])
                out[k] = arr.T if arr.ndim > 1 else arr
            return out
    except DataFormatError:
        raise
    except Exception as exc:
        raise DataFormatError(
            path,
            f"cannot read MAT v7.3/HDF5 file ({type(exc).__name__}: {exc}); it may be truncated or corrupted",
        ) from exc


def read_tiff(path: str | Path) -> np.ndarray:
    """Read the first image series of a (Geo)TIFF as ``(h, w)`` or ``(c, h, w)``.

    Band-interleaved (``YXS``) and band-sequential (``SYX``, or one page per band) layouts both come
    back with the band axis first.

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: the file cannot be parsed as TIFF or has an unsupported layout.
    """
    import tifffile

    path = Path(path)
    _require_file(path)
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            arr = series.asarray()
            axes = series.axes
    except Exception as exc:
        raise DataFormatError(
            path, f"cannot read TIFF ({type(exc).__name__}: {exc}); it may be truncated or corrupted"
        ) from exc
    if arr.ndim == 2:
        return arr
    if arr.ndim == 3:
        if axes.endswith("YX"):  # SYX, QYX, IYX, CYX: band-sequential
            return arr
        if axes.startswith("YX"):  # YXS: band-interleaved
            return np.moveaxis(arr, -1, 0)
    raise DataFormatError(path, f"unsupported TIFF layout: axes {axes!r}, shape {arr.shape}")


def read_npy(path: str | Path) -> np.ndarray:
    """Read a ``.npy`` array (no pickles).

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: the file is not a valid (complete) ``.npy`` array.
    """
    path = Path(path)
    _require_file(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DataFormatError(
            path, f"cannot read .npy ({type(exc).__name__}: {exc}); it may be truncated or corrupted"
        ) from exc
    if not isinstance(arr, np.ndarray):
        raise DataFormatError(path, f"expected one array, found {type(arr).__name__}")
    return arr


_ENVI_DTYPES = {
    1: "u1",
    2: "i2",
    3: "i4",
    4: "f4",
    5: "f8",
    12: "u2",
    13: "u4",
    14: "i8",
    15: "u8",
}


def _envi_header(path: Path) -> dict[str, str]:
    text = path.read_text(errors="replace")
    if not text.lstrip().upper().startswith("ENVI"):
        raise DataFormatError(path, "not an ENVI header (first word is not 'ENVI')")
    fields: dict[str, str] = {}
    for match in re.finditer(r"^\s*([^=\n]+?)\s*=\s*(\{[^}]*\}|[^\n]*)", text, flags=re.M):
        fields[match.group(1).strip().lower()] = match.group(2).strip()
    return fields


def read_envi(path: str | Path, header: str | Path | None = None) -> np.ndarray:
    """Read an ENVI raw raster as ``(c, h, w)`` (any of BSQ, BIL, BIP).

    Args:
        path: the binary file.
        header: its ``.hdr``; default: ``path`` + ``.hdr``, or ``path`` with its suffix replaced.

    Raises:
        FileNotFoundError: the raster or its header does not exist.
        DataFormatError: the header is invalid or the file size does not match it (truncated file).
    """
    path = Path(path)
    _require_file(path)
    if header is None:
        candidates = [Path(str(path) + ".hdr"), path.with_suffix(".hdr")]
        found = [c for c in candidates if c.is_file()]
        if not found:
            raise FileNotFoundError(
                f"{path}: ENVI header not found (looked for {[str(c) for c in candidates]})"
            )
        header = found[0]
    header = Path(header)
    _require_file(header)
    fields = _envi_header(header)
    try:
        samples, lines, bands = (int(fields[k]) for k in ("samples", "lines", "bands"))
        dtype = np.dtype(_ENVI_DTYPES[int(fields["data type"])])
    except (KeyError, ValueError) as exc:
        raise DataFormatError(header, f"incomplete or unsupported ENVI header ({exc})") from exc
    offset = int(fields.get("header offset", "0"))
    if int(fields.get("byte order", "0")) == 1:
        dtype = dtype.newbyteorder(">")
    interleave = fields.get("interleave", "bsq").lower()
    expected = offset + samples * lines * bands * dtype.itemsize
    actual = path.stat().st_size
    if actual != expected:
        raise DataFormatError(
            path,
            f"size {actual} bytes does not match its header {header.name} "
            f"({lines}x{samples}x{bands} {dtype} + offset {offset} = {expected} bytes); "
            "truncated or corrupted",
        )
    flat = np.fromfile(path, dtype=dtype, offset=offset)
    if interleave == "bsq":
        cube = flat.reshape(bands, lines, samples)
    elif interleave == "bil":
        cube = flat.reshape(lines, bands, samples).transpose(1, 0, 2)
    elif interleave == "bip":
        cube = flat.reshape(lines, samples, bands).transpose(2, 0, 1)
    else:
        raise DataFormatError(header, f"unknown interleave {interleave!r} (expected bsq, bil or bip)")
    return np.ascontiguousarray(cube.astype(dtype.newbyteorder("=")))


def read_bmp(path: str | Path) -> np.ndarray:
    """Read an uncompressed 8-bit (palette) or 24-bit BMP.

    Returns:
        ``(h, w)`` uint8 for 8-bit files (grey value of the palette entry when the palette is grey,
        else the palette index), ``(3, h, w)`` uint8 (RGB) for 24-bit files.

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: not a BMP, compressed, an unsupported bit depth, or truncated.
    """
    path = Path(path)
    _require_file(path)
    data = path.read_bytes()
    if len(data) < 54 or data[:2] != b"BM":
        raise DataFormatError(path, "not a BMP file (missing 'BM' signature or header)")
    (offset,) = struct.unpack_from("<I", data, 10)
    (header_size, width, height, _planes, bpp, compression) = struct.unpack_from("<IiiHHI", data, 14)
    if compression != 0:
        raise DataFormatError(path, f"compressed BMP (compression {compression}) is not supported")
    if bpp not in (8, 24):
        raise DataFormatError(path, f"{bpp}-bit BMP is not supported (8 or 24 bits)")
    top_down = height < 0
    height = abs(height)
    row_bytes = ((width * bpp + 31) // 32) * 4
    if len(data) < offset + row_bytes * height:
        raise DataFormatError(
            path, f"truncated: {len(data)} bytes, pixel data needs {offset + row_bytes * height}"
        )
    raw = np.frombuffer(data, dtype=np.uint8, count=row_bytes * height, offset=offset).reshape(
        height, row_bytes
    )
    if not top_down:
        raw = raw[::-1]
    if bpp == 24:
        bgr = raw[:, : width * 3].reshape(height, width, 3)
        return np.ascontiguousarray(bgr[..., ::-1].transpose(2, 0, 1))
    idx = np.ascontiguousarray(raw[:, :width])
    (n_colors,) = struct.unpack_from("<I", data, 46)
    n_colors = n_colors or 256
    palette_start = 14 + header_size
    palette = np.frombuffer(data, dtype=np.uint8, count=4 * n_colors, offset=palette_start).reshape(
        n_colors, 4
    )
    grey = bool(np.all(palette[:, 0] == palette[:, 1]) and np.all(palette[:, 1] == palette[:, 2]))
    if grey:
        if idx.max(initial=0) >= n_colors:
            raise DataFormatError(
                path, f"palette index {int(idx.max())} beyond the {n_colors}-colour palette"
            )
        return palette[idx, 0]
    return idx


def read_array(path: str | Path, key: str | None = None) -> np.ndarray:
    """Read one array from a file, choosing the reader from the suffix.

    ``.mat`` needs ``key``; ``.tif``/``.tiff`` -> :func:`read_tiff`; ``.npy`` -> :func:`read_npy`;
    ``.bmp`` -> :func:`read_bmp`; a file with an ENVI ``.hdr`` beside it -> :func:`read_envi`.

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: unknown format, unreadable file or missing key.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".mat":
        if key is None:
            raise DataFormatError(path, "a MAT file needs a variable name (key)")
        return read_mat(path, [key])[key]
    if suffix in (".tif", ".tiff"):
        return read_tiff(path)
    if suffix == ".npy":
        return read_npy(path)
    if suffix == ".bmp":
        return read_bmp(path)
    if Path(str(path) + ".hdr").is_file() or (suffix and path.with_suffix(".hdr").is_file()):
        return read_envi(path)
    _require_file(path)
    raise DataFormatError(path, f"unknown file format (suffix {suffix!r}; no ENVI .hdr beside it)")
