"""Bicubic degradation for super-resolution on ``(c, h, w)`` cubes.

:func:`imresize` follows MATLAB's ``imresize(..., 'bicubic')``, the usual way HSI super-resolution
benchmarks make their low-resolution inputs (HyperSIGMA: "LR made by bicubic down-sampling", issue
#11): the Keys cubic kernel with ``a = -0.5``, stretched by the scale when shrinking (anti-aliasing),
input coordinate ``u = (i + 0.5) / scale - 0.5`` for output pixel ``i`` (0-based), weights
normalised to sum 1, borders extended by mirror reflection (``symmetric``). It is separable, done in
float64, and returns the input's type and float dtype. (torch's ``interpolate(mode="bicubic")`` uses
``a = -0.75`` and so differs.)

:func:`make_sr_pair` crops the cube to a multiple of the factor and returns
``{"image_hr": (c, H, W), "image_lr": (c, H/f, W/f)}``.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar, cast

import numpy as np
import torch

__all__ = ["bicubic_downsample", "cubic_kernel", "imresize", "make_sr_pair", "resize_weights"]

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def cubic_kernel(t: np.ndarray, a: float = -0.5) -> np.ndarray:
    """Keys' cubic convolution kernel (``a = -0.5`` as MATLAB), support ``|t| < 2``."""
    t = np.abs(np.asarray(t, dtype=np.float64))
    t2, t3 = t * t, t * t * t
    near = (a + 2) * t3 - (a + 3) * t2 + 1
    far = a * t3 - 5 * a * t2 + 8 * a * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def resize_weights(in_len: int, out_len: int, scale: float, *, antialias: bool = True) -> np.ndarray:
    """``(out_len, in_len)`` matrix ``W`` with ``out = W @ in`` along one axis (MATLAB semantics)."""
    if in_len < 1 or out_len < 1 or scale <= 0:
        raise ValueError(f"invalid resize: in_len={in_len}, out_len={out_len}, scale={scale}")
    shrink = scale < 1 and antialias
    width = 4.0 / scale if shrink else 4.0
    i = np.arange(out_len, dtype=np.float64)
    u = (i + 0.5) / scale - 0.5
    left = np.floor(u - width / 2).astype(np.int64)
    taps = math.ceil(width) + 2
    idx = left[:, None] + np.arange(taps)[None, :]
    dist = u[:, None] - idx
    wts = scale * cubic_kernel(scale * dist) if shrink else cubic_kernel(dist)
    wts = wts / wts.sum(axis=1, keepdims=True)
    # symmetric (mirror) extension: ... 1 0 | 0 1 2 ... n-1 | n-1 n-2 ...
    period = 2 * in_len
    m = np.mod(idx, period)
    src = np.where(m < in_len, m, period - 1 - m)
    out = np.zeros((out_len, in_len), dtype=np.float64)
    np.add.at(out, (np.repeat(np.arange(out_len), taps), src.reshape(-1)), wts.reshape(-1))
    return out


def imresize(
    x: ArrayT,
    scale: float | None = None,
    *,
    out_shape: tuple[int, int] | None = None,
    antialias: bool = True,
) -> ArrayT:
    """Resize the spatial axes of a ``(c, h, w)`` cube like MATLAB ``imresize(x, scale, 'bicubic')``.

    Args:
        x: ``(c, h, w)`` cube (array or tensor).
        scale: factor (``0.25`` shrinks by 4); ``out_shape = ceil(scale * (h, w))`` as MATLAB.
        out_shape: ``(h', w')`` instead of ``scale`` (the scale is then ``h'/h`` and ``w'/w``).
        antialias: widen the kernel when shrinking (MATLAB's default).
    """
    device = x.device if isinstance(x, torch.Tensor) else None
    arr = _numpy(x)
    if arr.ndim != 3:
        raise ValueError(f"expected a (c, h, w) cube, got shape {tuple(arr.shape)}")
    _, h, w = arr.shape
    if (scale is None) == (out_shape is None):
        raise ValueError("give exactly one of scale and out_shape")
    if scale is not None:
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        oh, ow = math.ceil(scale * h), math.ceil(scale * w)
        sh = sw = float(scale)
    else:
        assert out_shape is not None
        oh, ow = out_shape
        sh, sw = oh / h, ow / w
    wh = resize_weights(h, oh, sh, antialias=antialias)
    ww = resize_weights(w, ow, sw, antialias=antialias)
    out = np.einsum("oh,chw,pw->cop", wh, arr.astype(np.float64), ww, optimize=True)
    dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)
    out = out.astype(dtype)
    result: Any = torch.from_numpy(np.ascontiguousarray(out)).to(device) if device is not None else out
    return cast(ArrayT, result)


def bicubic_downsample(x: ArrayT, factor: int) -> ArrayT:
    """Bicubic down-sampling by an integer ``factor`` (the cube must be a multiple of it in h and w)."""
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    h, w = x.shape[1], x.shape[2]
    if h % factor or w % factor:
        raise ValueError(
            f"spatial size {(h, w)} is not a multiple of {factor}; crop first (make_sr_pair does)"
        )
    return imresize(x, out_shape=(h // factor, w // factor))


def make_sr_pair(hr: ArrayT, factor: int) -> dict[str, Any]:
    """``{"image_hr": cropped hr, "image_lr": bicubic_downsample(hr, factor)}``.

    The high-resolution cube is cropped at the bottom/right to a multiple of ``factor``.
    """
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    h, w = hr.shape[1] // factor * factor, hr.shape[2] // factor * factor
    if h == 0 or w == 0:
        raise ValueError(f"cube {tuple(hr.shape)} is smaller than the factor {factor}")
    crop = hr[:, :h, :w]
    return {"image_hr": crop, "image_lr": bicubic_downsample(crop, factor)}
