"""Noise models: seeded, pure, numpy/torch parity, and each model's defining property."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from hs_data.synthetic import noise


def clean(c: int = 30, h: int = 40, w: int = 50) -> np.ndarray:
    return np.random.default_rng(0).uniform(0.2, 0.8, size=(c, h, w)).astype(np.float32)


FUNCS = [
    lambda x, s: noise.gaussian_iid(x, 0.1, seed=s),
    lambda x, s: noise.gaussian_blind(x, seed=s),
    lambda x, s: noise.gaussian_noniid(x, seed=s),
    lambda x, s: noise.impulse(x, seed=s),
    lambda x, s: noise.stripes(x, seed=s),
    lambda x, s: noise.deadlines(x, seed=s),
    *[functools.partial(lambda k, x, s: noise.noise_case(x, k, seed=s), k) for k in range(1, 6)],
]


@pytest.mark.parametrize("fn", FUNCS)
def test_seeded_pure_and_array_tensor_parity(fn) -> None:
    x = clean()
    before = x.copy()
    a, b, c = fn(x, 3), fn(x, 3), fn(x, 4)
    np.testing.assert_array_equal(x, before)  # input untouched
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and a.dtype == np.float32 and a.shape == x.shape
    t = fn(torch.from_numpy(x), 3)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_array_equal(t.numpy(), a)


def test_generator_streams_advance() -> None:
    rng = np.random.default_rng(0)
    x = clean(4, 8, 8)
    assert not np.array_equal(noise.gaussian_iid(x, 0.1, seed=rng), noise.gaussian_iid(x, 0.1, seed=rng))


def test_gaussian_iid_statistics() -> None:
    x = clean(8, 128, 128).astype(np.float64)
    d = noise.gaussian_iid(x, 30 / 255, seed=1) - x
    assert abs(d.mean()) < 2e-3 and d.std() == pytest.approx(30 / 255, rel=0.01)


def test_gaussian_noniid_per_band_sigmas_come_from_the_set() -> None:
    x = clean(40, 96, 96).astype(np.float64)
    d = noise.gaussian_noniid(x, seed=2) - x
    stds = d.reshape(40, -1).std(axis=1)
    sigmas = np.array(noise.DEFAULT_SIGMAS)
    nearest = sigmas[np.abs(stds[:, None] - sigmas[None]).argmin(axis=1)]
    np.testing.assert_allclose(stds, nearest, rtol=0.03)
    assert len(np.unique(nearest)) > 1


def test_impulse_hits_a_third_of_the_bands_with_salt_and_pepper() -> None:
    x = clean(30)
    y = noise.impulse(x, seed=5)
    changed = np.flatnonzero((y != x).reshape(30, -1).any(axis=1))
    assert changed.size == 10
    diff = y != x
    assert set(np.unique(y[diff]).tolist()) <= {0.0, 1.0}
    ratios = diff.reshape(30, -1)[changed].mean(axis=1)
    allowed = np.array(noise.DEFAULT_IMPULSE_AMOUNTS)
    assert np.all(np.abs(ratios[:, None] - allowed[None]).min(axis=1) < 0.03)


def test_stripes_shift_whole_columns() -> None:
    x = clean(30, 40, 100)
    y = noise.stripes(x, seed=6)
    d = (y - x).astype(np.float64)
    bands = np.flatnonzero(np.abs(d).reshape(30, -1).max(axis=1) > 0)
    assert bands.size == 10
    for b in bands:
        cols = np.flatnonzero(np.abs(d[b]).max(axis=0) > 0)
        assert 5 <= cols.size < 15
        np.testing.assert_allclose(d[b][:, cols], np.broadcast_to(d[b][:1, cols], (40, cols.size)), atol=1e-6)
        assert np.abs(d[b][:, cols]).max() <= 0.25 + 1e-6


def test_deadlines_zero_whole_columns() -> None:
    x = clean(30, 40, 100)
    y = noise.deadlines(x, seed=7)
    zero_cols = (y == 0).all(axis=1)  # (c, w)
    bands = np.flatnonzero(zero_cols.any(axis=1))
    assert bands.size == 10 and all(5 <= zero_cols[b].sum() < 15 for b in bands)
    np.testing.assert_array_equal(y[y != 0], x[y != 0])


def test_case5_puts_each_corruption_on_its_own_third() -> None:
    x = clean(30, 40, 100)
    rng = np.random.default_rng(11)
    y = noise.noise_case(x, 5, sigmas=(0.0,), seed=rng)  # sigma 0 isolates the structured noise
    d = y - x
    dead = np.flatnonzero(((y == 0).all(axis=1)).any(axis=1))
    salt = np.flatnonzero((y == 1).reshape(30, -1).any(axis=1))  # only impulse makes 1s
    moved = np.flatnonzero(np.abs(d).reshape(30, -1).max(axis=1) > 0)
    stripe = np.setdiff1d(moved, np.union1d(dead, salt))
    assert dead.size == salt.size == stripe.size == 10
    assert np.intersect1d(dead, salt).size == 0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="case must be one of"):
        noise.noise_case(clean(), 6)
    with pytest.raises(ValueError, match="floating-point"):
        noise.gaussian_iid(np.zeros((2, 3, 3), dtype=np.uint8), 0.1)
    with pytest.raises(ValueError, match=r"\(c, h, w\)"):
        noise.stripes(np.zeros((3, 3), dtype=np.float32))
