"""Private helpers shared by the metrics and the baselines: array conversion and validation.

Every public function of :mod:`hs_tasks.metrics` and :mod:`hs_tasks.baselines` accepts numpy arrays,
anything ``np.asarray`` understands, or ``torch.Tensor`` (any device, any dtype; the tensor is
detached and copied to host memory). Computation happens in float64 numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = [
    "as_bool_array",
    "as_float_array",
    "as_int_array",
    "check_same_shape",
    "flatten_spatial",
]


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        if t.dtype == torch.bfloat16:  # numpy has no bfloat16
            t = t.float()
        return t.numpy()
    return np.asarray(x)


def as_float_array(x: Any, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """``x`` as a float64 numpy array, checked for dimensionality and finiteness.

    Raises:
        ValueError: wrong number of dimensions, empty, or non-finite values.
    """
    arr = _to_numpy(x)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.complexfloating)
    ):
        raise ValueError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    _check_ndim(arr, name, ndim)
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, found {int((~np.isfinite(arr)).sum())} NaN/inf")
    return arr


def as_int_array(x: Any, name: str) -> np.ndarray:
    """``x`` as an int64 numpy array; floats are accepted only when they hold whole numbers."""
    arr = _to_numpy(x)
    if arr.dtype == np.bool_:
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64, copy=False)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name}: expected integer labels, found non-integer values")
        return arr.astype(np.int64)
    raise ValueError(f"{name}: expected an integer array, got dtype {arr.dtype}")


def as_bool_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a bool numpy array. Accepts bool, or numbers that are all 0 or 1."""
    arr = _to_numpy(x)
    if arr.dtype == np.bool_:
        return arr
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name}: expected a binary (0/1 or bool) array, got dtype {arr.dtype}")
    values = np.unique(arr)
    if not np.all(np.isin(values, (0, 1))):
        shown = values[:8].tolist()
        raise ValueError(f"{name}: expected a binary map with values in {{0, 1}}, found values {shown}")
    return arr.astype(bool)


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ValueError unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def flatten_spatial(cube: np.ndarray, name: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """``(c, *spatial)`` -> ``(p, c)`` pixel matrix and the spatial shape."""
    if cube.ndim < 2:
        raise ValueError(f"{name}: expected (c, *spatial) with at least 2 dims, got shape {cube.shape}")
    spatial = cube.shape[1:]
    return cube.reshape(cube.shape[0], -1).T, spatial


def _check_ndim(arr: np.ndarray, name: str, ndim: int | tuple[int, ...] | None) -> None:
    if ndim is None:
        return
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in allowed:
        raise ValueError(f"{name}: expected {' or '.join(map(str, allowed))} dims, got shape {arr.shape}")
