"""MATLAB-style bicubic resize against an independent loop reference and exact properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hs_data.synthetic.degradation import (
    bicubic_downsample,
    cubic_kernel,
    imresize,
    make_sr_pair,
    resize_weights,
)


def loop_resize_1d(x: np.ndarray, out_len: int, scale: float) -> np.ndarray:
    """MATLAB imresize along one axis, written as explicit loops over output and input pixels (float64)."""
    n = x.shape[0]
    out = np.zeros((out_len, *x.shape[1:]))
    kscale = scale if scale < 1 else 1.0
    support = 2.0 / kscale
    for i in range(out_len):
        u = (i + 1) / scale + 0.5 * (1 - 1 / scale) - 1  # MATLAB 1-based mapping, shifted to 0-based
        total = 0.0
        acc = np.zeros(x.shape[1:])
        for k in range(math.floor(u - support) - 1, math.ceil(u + support) + 2):
            t = abs(u - k) * kscale
            if t >= 2:
                continue
            wgt = kscale * (
                (1.5 * t**3 - 2.5 * t**2 + 1) if t <= 1 else (-0.5 * t**3 + 2.5 * t**2 - 4 * t + 2)
            )
            src = k
            while src < 0 or src >= n:  # mirror: -1 -> 0, n -> n-1
                src = -src - 1 if src < 0 else 2 * n - 1 - src
            acc = acc + wgt * x[src]
            total += wgt
        out[i] = acc / total
    return out


@pytest.mark.parametrize(
    ("size", "scale"), [((9, 12), 0.5), ((16, 16), 0.25), ((13, 10), 0.6), ((8, 8), 1.5)]
)
def test_matches_loop_reference(size: tuple[int, int], scale: float) -> None:
    x = np.random.default_rng(0).random((3, *size))
    oh, ow = math.ceil(scale * size[0]), math.ceil(scale * size[1])
    ref = loop_resize_1d(x.transpose(1, 0, 2), oh, scale).transpose(1, 0, 2)
    ref = loop_resize_1d(ref.transpose(2, 0, 1), ow, scale).transpose(1, 2, 0)
    np.testing.assert_allclose(imresize(x, scale), ref, rtol=1e-12, atol=1e-12)


def test_weights_rows_sum_to_one_and_kernel_values() -> None:
    for n, m, s in ((20, 5, 0.25), (7, 14, 2.0), (10, 3, 0.3)):
        np.testing.assert_allclose(resize_weights(n, m, s).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(cubic_kernel(np.array([0.0, 1.0, 2.0, 0.5])), [1.0, 0.0, 0.0, 0.5625])


@pytest.mark.parametrize("factor", [2, 4, 8])
def test_constants_and_linear_ramps_are_reproduced(factor: int) -> None:
    n = 16 * factor
    const = np.full((2, n, n), 0.37)
    np.testing.assert_allclose(bicubic_downsample(const, factor), 0.37, rtol=1e-12)
    ramp = np.broadcast_to(np.arange(n, dtype=np.float64)[None, :, None], (1, n, n)).copy()
    lr = bicubic_downsample(ramp, factor)[0, :, 0]
    centres = (np.arange(n // factor) + 0.5) * factor - 0.5
    interior = slice(2, -2)  # away from the mirrored borders
    np.testing.assert_allclose(lr[interior], centres[interior], rtol=0, atol=1e-9)


def test_sr_pair_crops_and_keeps_types() -> None:
    hr = torch.rand(5, 35, 42)
    pair = make_sr_pair(hr, 4)
    assert pair["image_hr"].shape == (5, 32, 40) and pair["image_lr"].shape == (5, 8, 10)
    assert isinstance(pair["image_lr"], torch.Tensor) and pair["image_lr"].dtype == torch.float32
    np.testing.assert_allclose(
        pair["image_lr"].numpy(), bicubic_downsample(hr[:, :32, :40].numpy(), 4), rtol=1e-6
    )
    with pytest.raises(ValueError, match="not a multiple of 8"):
        bicubic_downsample(np.zeros((1, 12, 16)), 8)
