"""Bicubic super-resolution floor, on the degradation convention of hs-data.

Shapes: ``(c, h, w)`` or ``(b, c, h, w)``, numpy arrays or torch tensors; the output has the same
kind, layout and float dtype as the input (computed in float64).

Degradation convention (one home: :mod:`hs_data.synthetic.degradation`). The low-resolution input of
the SR task is ``hs_data.synthetic.bicubic_downsample(hr, s)``: MATLAB's ``imresize(hr, 1/s,
'bicubic')`` — Keys' cubic kernel with ``a = -0.5``, widened by ``s`` when shrinking
(anti-aliasing), half-pixel grid, mirror-extended borders — the usual way HSI super-resolution
benchmarks make their LR images (HyperSIGMA: "LR made by bicubic down-sampling", issue #11, §4.7).
``hs_data.synthetic.make_sr_pair`` crops the HR cube to a multiple of ``s`` first.

The floor is the matching **bicubic upsampling** of the LR image back to the HR grid,
``hs_data.synthetic.imresize(lr, out_shape=(h * s, w * s))`` (MATLAB's ``imresize(lr, s,
'bicubic')``, no anti-aliasing needed when enlarging): the "Bicubic" row of SR papers, which every
learned model has to beat. Note that ``torch.nn.functional.interpolate(mode="bicubic")`` uses
``a = -0.75`` and replicated borders, so it is *not* this convention.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch

from hs_data.synthetic import imresize

__all__ = ["bicubic_upsample"]

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, torch.Tensor)


def _upsample_one(x: Any, scale: int) -> Any:
    return imresize(x, out_shape=(x.shape[-2] * scale, x.shape[-1] * scale))


def bicubic_upsample(
    lr: ArrayOrTensor, scale: int, *, clamp: tuple[float, float] | None = None
) -> ArrayOrTensor:
    """MATLAB-style bicubic upsampling by an integer ``scale``: the super-resolution floor.

    Args:
        lr: ``(c, h, w)`` or ``(b, c, h, w)`` low-resolution image (array or tensor).
        scale: integer factor (4 or 8 in HyperSIGMA).
        clamp: optional ``(low, high)`` data range to clip the kernel's overshoot to.

    Returns:
        ``(…, c, h * scale, w * scale)``, same kind as the input.

    Raises:
        ValueError: wrong number of dimensions, a non-positive or non-integer scale, or a bad clamp.
    """
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    if lr.ndim not in (3, 4):
        raise ValueError(f"lr: expected (c, h, w) or (b, c, h, w), got shape {tuple(lr.shape)}")
    if clamp is not None and not clamp[0] < clamp[1]:
        raise ValueError(f"clamp must be (low, high) with low < high, got {clamp}")
    if lr.ndim == 3:
        out = _upsample_one(lr, scale)
    elif isinstance(lr, torch.Tensor):
        out = torch.stack([_upsample_one(x, scale) for x in lr])
    else:
        out = np.stack([_upsample_one(x, scale) for x in lr])
    if clamp is not None:
        out = out.clamp(*clamp) if isinstance(out, torch.Tensor) else np.clip(out, *clamp)
    return out
