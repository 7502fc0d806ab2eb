"""Unmixing, denoising and SR losses against hand-computed values, float64 references and gradcheck."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hs_tasks.losses import (
    abundance_tv,
    gradient_magnitude,
    sad_loss,
    sam_loss,
    sparsity_loss,
    sr_loss,
    upstream_endmember_tv,
)


def _cube(*spectra: list[float]) -> torch.Tensor:
    """Pixels (given as spectra) laid out as a (1, c, 1, p) cube."""
    return torch.tensor(spectra, dtype=torch.float64).T[None, :, None, :]


def test_sad_loss_hand_values() -> None:
    x = _cube([1.0, 0.0], [0.0, 2.0], [3.0, 3.0])
    y = _cube([1.0, 1.0], [0.0, 5.0], [1.0, 1.0])
    # angles: 45°, 0°, 0° (up to the eps clamp)
    assert float(sad_loss(x, y)) == pytest.approx(math.pi / 12, abs=2e-3)
    assert float(sad_loss(_cube([1.0, 0.0]), _cube([0.0, 1.0]))) == pytest.approx(math.pi / 2, abs=1e-9)
    # scale invariant, and the gradient is finite at a perfect reconstruction
    assert float(sad_loss(x, 7.0 * x)) < 2e-3
    z = x.clone().requires_grad_(True)
    sad_loss(x, z).backward()
    assert z.grad is not None and torch.isfinite(z.grad).all()


def test_sad_loss_gradcheck_and_shape_error() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 4, 2, 3, generator=g, dtype=torch.float64) + 0.1
    y = (torch.rand(1, 4, 2, 3, generator=g, dtype=torch.float64) + 0.1).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: sad_loss(x, t), (y,))
    with pytest.raises(ValueError, match="one shape"):
        sad_loss(x, y[:, :3])


def test_sparsity_loss_hand_value_and_zero() -> None:
    a = torch.tensor([[[[0.25, 0.0]], [[0.75, 1.0]]]], dtype=torch.float64)
    expected = (0.5 + math.sqrt(1e-8) + math.sqrt(0.75) + 1.0) / 4
    assert float(sparsity_loss(a)) == pytest.approx(expected, rel=1e-12)
    b = a.clone().requires_grad_(True)
    sparsity_loss(b).backward()
    assert b.grad is not None and torch.isfinite(b.grad).all()


def test_abundance_tv_hand_value() -> None:
    # one 2x3 map: vertical differences |[3,-1,0]| -> mean 4/3; horizontal |[1,2],[-3,3]| -> mean 9/4
    m = torch.tensor([[0.0, 1.0, 3.0], [3.0, 0.0, 3.0]], dtype=torch.float64)
    a = m[None, None]
    assert float(abundance_tv(a)) == pytest.approx(4 / 3 + 9 / 4, rel=1e-12)
    # a second, constant map halves the means (averaged over maps)
    two = torch.stack([m, torch.full_like(m, 0.5)])[None]
    assert float(abundance_tv(two)) == pytest.approx((4 / 3 + 9 / 4) / 2, rel=1e-12)
    assert float(abundance_tv(torch.ones(1, 3, 4, 4))) == 0.0


def test_abundance_tv_acts_within_maps_not_across_endmembers() -> None:
    # maps that differ from each other but are each constant have zero TV
    a = torch.stack([torch.full((5, 5), v) for v in (0.1, 0.3, 0.6)])[None]
    assert float(abundance_tv(a)) == 0.0
    with pytest.raises(ValueError, match=r"\(b, e, h, w\)"):
        abundance_tv(a[0])


def test_abundance_tv_has_a_gradient() -> None:
    g = torch.Generator().manual_seed(1)
    a = torch.rand(2, 3, 4, 5, generator=g, dtype=torch.float64).requires_grad_(True)
    assert torch.autograd.gradcheck(abundance_tv, (a,))
    abundance_tv(a).backward()
    assert a.grad is not None and a.grad.abs().sum() > 0


def test_upstream_endmember_tv_value_and_no_gradient() -> None:
    e = torch.tensor([[1.0, 2.0, 3.0], [4.0, 0.0, 3.0]], requires_grad=True)  # (e=2, c=3)
    # upstream: (c, e) weight, |E[:, 1] - E[:, 0]| summed over bands = 3 + 2 + 0
    out = upstream_endmember_tv(e)
    assert float(out) == pytest.approx(5.0)
    assert not out.requires_grad


def test_sam_loss_hand_value() -> None:
    y = _cube([1.0, 0.0], [2.0, 2.0])
    g = _cube([1.0, 1.0], [1.0, 1.0])
    assert float(sam_loss(y, g)) == pytest.approx((math.pi / 4) / 2 / math.pi, abs=1e-3)
    z = torch.zeros(1, 2, 1, 1, dtype=torch.float64)  # zero norm product: cos 0 -> angle π/2
    assert float(sam_loss(z, _cube([1.0, 0.0]))) == pytest.approx(0.5, abs=1e-9)


def test_gradient_magnitude_against_a_loop() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 3, 4, 5))
    ref = np.zeros((1, 2, 3, 4))
    for c in range(1, 3):
        for i in range(1, 4):
            for j in range(1, 5):
                dc = x[0, c, i, j] - x[0, c - 1, i, j]
                dh = x[0, c, i, j] - x[0, c, i - 1, j]
                dw = x[0, c, i, j] - x[0, c, i, j - 1]
                ref[0, c - 1, i - 1, j - 1] = math.sqrt(dc * dc + dh * dh + dw * dw + 1e-6)
    np.testing.assert_allclose(gradient_magnitude(torch.from_numpy(x)).numpy(), ref, rtol=1e-12)


def test_sr_loss_is_the_weighted_sum() -> None:
    g = torch.Generator().manual_seed(2)
    y = torch.rand(2, 4, 6, 6, generator=g, dtype=torch.float64)
    t = torch.rand(2, 4, 6, 6, generator=g, dtype=torch.float64)
    l1 = (y - t).abs().mean()
    grad = (gradient_magnitude(y) - gradient_magnitude(t)).abs().mean()
    expected = l1 + 0.3 * sam_loss(y, t) + 0.1 * grad
    assert float(sr_loss(y, t)) == pytest.approx(float(expected), rel=1e-12)
    assert float(sr_loss(y, t, sam_weight=0, grad_weight=0)) == pytest.approx(float(l1), rel=1e-12)
    assert float(sr_loss(t, t)) < 1e-3
    yy = y[:1, :3, :4, :4].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: sr_loss(v, t[:1, :3, :4, :4]), (yy,))
