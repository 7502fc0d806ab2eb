"""Bicubic super-resolution floor and the bicubic degradation it inverts.

Shapes: ``(c, h, w)`` or ``(b, c, h, w)``, numpy arrays or torch tensors; the output has the same
kind, layout and dtype as the input (numpy inputs are computed in float64).

Degradation convention (shared with the dataset layer, hs-data): the low-resolution image is
``torch.nn.functional.interpolate(hr, scale_factor=1 / scale, mode="bicubic", antialias=True,
align_corners=False)``: a bicubic (Keys, a = -0.75) resampling whose kernel is widened by
``scale`` (``antialias=True``) so that it low-pass filters before decimating, like MATLAB's
``imresize``. HyperSIGMA makes its Houston 2018 LR inputs by "bicubic down-sampling" (issue #11;
§4.7); the exact filter of their MATLAB/PIL scripts was not recoverable, which is why the convention
is fixed here explicitly. The HR size must be divisible by ``scale`` so that LR and HR grids align.

The floor is plain bicubic upsampling of the LR image back to the HR grid (``antialias`` is
irrelevant when enlarging), optionally clamped to the data range.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["bicubic_downsample", "bicubic_upsample"]

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, torch.Tensor)


def _as_batch(x: Any, name: str) -> tuple[torch.Tensor, bool, bool]:
    """Return a float ``(b, c, h, w)`` tensor, whether the input was unbatched, and was numpy."""
    is_numpy = not isinstance(x, torch.Tensor)
    t = torch.from_numpy(np.asarray(x, dtype=np.float64)) if is_numpy else x
    if t.ndim not in (3, 4):
        raise ValueError(f"{name}: expected (c, h, w) or (b, c, h, w), got shape {tuple(t.shape)}")
    if not t.is_floating_point():
        raise ValueError(f"{name}: expected a floating-point array, got dtype {t.dtype}")
    unbatched = t.ndim == 3
    return (t.unsqueeze(0) if unbatched else t), unbatched, is_numpy


def _restore(t: torch.Tensor, unbatched: bool, is_numpy: bool) -> Any:
    t = t.squeeze(0) if unbatched else t
    return t.numpy() if is_numpy else t


def _check_scale(scale: int) -> int:
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    return scale


def bicubic_downsample(hr: ArrayOrTensor, scale: int) -> ArrayOrTensor:
    """Degrade a high-resolution image by antialiased bicubic downsampling (the SR convention).

    Args:
        hr: ``(c, h, w)`` or ``(b, c, h, w)`` float image; ``h`` and ``w`` divisible by ``scale``.
        scale: integer factor (4 or 8 in HyperSIGMA).

    Returns:
        ``(…, c, h / scale, w / scale)``, same kind as the input.
    """
    s = _check_scale(scale)
    t, unbatched, is_numpy = _as_batch(hr, "hr")
    h, w = t.shape[-2:]
    if h % s or w % s:
        raise ValueError(f"hr: spatial size {h}x{w} is not divisible by scale {s}; crop it first")
    lr = F.interpolate(t, size=(h // s, w // s), mode="bicubic", antialias=True, align_corners=False)
    return _restore(lr, unbatched, is_numpy)


def bicubic_upsample(
    lr: ArrayOrTensor, scale: int, *, clamp: tuple[float, float] | None = None
) -> ArrayOrTensor:
    """Bicubic upsampling by ``scale``: the super-resolution floor.

    Args:
        lr: ``(c, h, w)`` or ``(b, c, h, w)`` float low-resolution image.
        scale: integer factor.
        clamp: optional ``(low, high)`` data range to clip the overshoot of the cubic kernel to.

    Returns:
        ``(…, c, h * scale, w * scale)``, same kind as the input.
    """
    s = _check_scale(scale)
    t, unbatched, is_numpy = _as_batch(lr, "lr")
    h, w = t.shape[-2:]
    hr = F.interpolate(t, size=(h * s, w * s), mode="bicubic", align_corners=False)
    if clamp is not None:
        lo, hi = clamp
        if not lo < hi:
            raise ValueError(f"clamp must be (low, high) with low < high, got {clamp}")
        hr = hr.clamp(lo, hi)
    return _restore(hr, unbatched, is_numpy)
