"""Noise models for hyperspectral denoising, on ``(c, h, w)`` cubes (numpy arrays or torch tensors).

One home for them in the monorepo: hs-tasks imports these to make noisy/clean training pairs on the
fly. Every function is pure (the input is not modified), returns the input's type, dtype and device,
and is seeded: ``seed`` is an ``int``, a ``numpy.random.Generator`` (advanced in place, for streams
of samples) or ``None`` (fresh entropy). Random numbers are drawn with numpy on the CPU, so a given
seed gives the same noise for an array and for a tensor on any device.

Values are assumed scaled to ``[0, 1]``; ``sigma`` is in those units (``30 / 255`` is the
literature's "sigma 30").

Models and parameters follow QRNN3D (K. Wei, Y. Fu, H. Huang, "3-D Quasi-Recurrent Neural Network
for Hyperspectral Image Denoising", IEEE TNNLS 32(1):363-375, 2021; their ``utility/dataset.py``),
which SST and HyperSIGMA's denoising code inherit:

- :func:`gaussian_iid`: one sigma for the whole cube; :func:`gaussian_blind`: sigma drawn uniformly
  from a range per call (HyperSIGMA's Gaussian model: U[10, 70] / 255).
- :func:`gaussian_noniid`: each band's sigma drawn from a set ({10, 30, 50, 70} / 255).
- :func:`impulse`: salt-and-pepper on a fraction of the bands (1/3), each band with a ratio drawn
  from {0.1, 0.3, 0.5, 0.7}; salt = 1, pepper = 0.
- :func:`stripes`: on 1/3 of the bands, 5-15 % of the columns are shifted by U[-0.25, 0.25].
- :func:`deadlines`: on 1/3 of the bands, 5-15 % of the columns are set to 0.
- :func:`noise_case` 1-5, the complex-noise cases of QRNN3D's ICVL experiments: 1 non-i.i.d.
  Gaussian; 2 = 1 + stripes; 3 = 1 + deadlines; 4 = 1 + impulse; 5 = 1 + stripes, deadlines and
  impulse, each on its own third of the bands.

Note: HyperSIGMA's own test cases on Washington DC Mall (hypersigma.md 4.6) reorder these (impulse,
deadline + impulse, stripe + impulse, each with non-i.i.d. sigma in {30, 50, 70, 90}); pass
``sigmas=`` and compose the functions to reproduce them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

import numpy as np
import torch

__all__ = [
    "NOISE_CASES",
    "deadlines",
    "gaussian_blind",
    "gaussian_iid",
    "gaussian_noniid",
    "impulse",
    "noise_case",
    "stripes",
]

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)
Seed = int | np.random.Generator | None

DEFAULT_SIGMAS = (10 / 255, 30 / 255, 50 / 255, 70 / 255)
DEFAULT_IMPULSE_AMOUNTS = (0.1, 0.3, 0.5, 0.7)
NOISE_CASES = {
    1: "non-i.i.d. Gaussian (sigma per band from {10,30,50,70}/255)",
    2: "case 1 + stripes on 1/3 of the bands (5-15% of columns)",
    3: "case 1 + deadlines on 1/3 of the bands (5-15% of columns)",
    4: "case 1 + impulse on 1/3 of the bands (ratio from {0.1,0.3,0.5,0.7})",
    5: "case 1 + stripes, deadlines and impulse, each on its own 1/3 of the bands",
}


def _rng(seed: Seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _to_numpy(x: np.ndarray | torch.Tensor) -> np.ndarray:
    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if arr.ndim != 3:
        raise ValueError(f"expected a (c, h, w) cube, got shape {tuple(arr.shape)}")
    if arr.dtype.kind != "f":
        raise ValueError(f"expected a floating-point cube scaled to [0, 1], got dtype {arr.dtype}")
    return arr.astype(np.float64)


def _back(out: np.ndarray, like: ArrayT) -> ArrayT:
    if isinstance(like, torch.Tensor):
        result: Any = torch.from_numpy(out).to(dtype=like.dtype, device=like.device)
    else:
        result = out.astype(like.dtype)
    return cast(ArrayT, result)


def _pick_bands(
    c: int, bands: Sequence[int] | np.ndarray | None, band_fraction: float, rng: np.random.Generator
) -> np.ndarray:
    if bands is not None:
        out = np.asarray(bands, dtype=np.int64)
        if out.size and (out.min() < 0 or out.max() >= c):
            raise ValueError(f"band indices must be in [0, {c}), got {out.tolist()}")
        return out
    if not 0.0 <= band_fraction <= 1.0:
        raise ValueError(f"band_fraction must be in [0, 1], got {band_fraction}")
    return rng.permutation(c)[: int(np.floor(band_fraction * c))]


def gaussian_iid(x: ArrayT, sigma: float, *, seed: Seed = None) -> ArrayT:
    """Add zero-mean Gaussian noise of standard deviation ``sigma`` to every entry.

    Args:
        x: ``(c, h, w)`` clean cube in [0, 1].
        sigma: noise standard deviation (``>= 0``).
        seed: see the module docstring.
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    arr = _to_numpy(x)
    return _back(arr + _rng(seed).standard_normal(arr.shape) * sigma, x)


def gaussian_blind(
    x: ArrayT, sigma_range: tuple[float, float] = (10 / 255, 70 / 255), *, seed: Seed = None
) -> ArrayT:
    """Gaussian noise with one sigma drawn uniformly from ``sigma_range`` (blind denoising)."""
    low, high = sigma_range
    if not 0 <= low <= high:
        raise ValueError(f"sigma_range must satisfy 0 <= low <= high, got {sigma_range}")
    rng = _rng(seed)
    return gaussian_iid(x, float(rng.uniform(low, high)), seed=rng)


def gaussian_noniid(x: ArrayT, sigmas: Sequence[float] = DEFAULT_SIGMAS, *, seed: Seed = None) -> ArrayT:
    """Gaussian noise whose sigma is drawn per band from ``sigmas`` (non-i.i.d. across bands)."""
    if len(sigmas) == 0 or min(sigmas) < 0:
        raise ValueError(f"sigmas must be a non-empty list of values >= 0, got {sigmas}")
    arr = _to_numpy(x)
    rng = _rng(seed)
    per_band = np.asarray(sigmas, dtype=np.float64)[rng.integers(0, len(sigmas), arr.shape[0])]
    return _back(arr + rng.standard_normal(arr.shape) * per_band[:, None, None], x)


def impulse(
    x: ArrayT,
    amounts: Sequence[float] = DEFAULT_IMPULSE_AMOUNTS,
    *,
    bands: Sequence[int] | np.ndarray | None = None,
    band_fraction: float = 1 / 3,
    salt_vs_pepper: float = 0.5,
    low: float = 0.0,
    high: float = 1.0,
    seed: Seed = None,
) -> ArrayT:
    """Salt-and-pepper noise on some bands.

    Args:
        x: ``(c, h, w)`` cube.
        amounts: per selected band, the fraction of corrupted pixels is drawn from these.
        bands: bands to corrupt; default a random ``band_fraction`` of them.
        band_fraction: fraction of bands chosen when ``bands`` is ``None``.
        salt_vs_pepper: probability that a corrupted pixel is salt (``high``) rather than pepper (``low``).
        low, high: pepper and salt values.
        seed: see the module docstring.
    """
    arr = _to_numpy(x)
    rng = _rng(seed)
    chosen = _pick_bands(arr.shape[0], bands, band_fraction, rng)
    out = arr.copy()
    for b in chosen:
        amount = float(np.asarray(amounts)[rng.integers(0, len(amounts))])
        flipped = rng.random(arr.shape[1:]) < amount
        salted = rng.random(arr.shape[1:]) < salt_vs_pepper
        out[b][flipped & salted] = high
        out[b][flipped & ~salted] = low
    return _back(out, x)


def _column_counts(
    w: int, n: int, min_amount: float, max_amount: float, rng: np.random.Generator, rounding: str
) -> np.ndarray:
    if not 0.0 <= min_amount <= max_amount <= 1.0:
        raise ValueError(f"need 0 <= min_amount <= max_amount <= 1, got {min_amount}, {max_amount}")
    f = np.floor if rounding == "floor" else np.ceil
    lo, hi = int(f(min_amount * w)), int(f(max_amount * w))
    return rng.integers(lo, max(hi, lo + 1), n)


def stripes(
    x: ArrayT,
    min_amount: float = 0.05,
    max_amount: float = 0.15,
    *,
    bands: Sequence[int] | np.ndarray | None = None,
    band_fraction: float = 1 / 3,
    strength: float = 0.25,
    seed: Seed = None,
) -> ArrayT:
    """Stripe noise: on each selected band, a random 5-15 % of the columns are shifted.

    Each striped column gets one offset drawn from ``U[-strength, strength]`` (QRNN3D: 0.25).
    """
    arr = _to_numpy(x)
    rng = _rng(seed)
    c, _, w = arr.shape
    chosen = _pick_bands(c, bands, band_fraction, rng)
    out = arr.copy()
    for b, n in zip(chosen, _column_counts(w, chosen.size, min_amount, max_amount, rng, "floor")):
        cols = rng.permutation(w)[:n]
        out[b][:, cols] -= rng.uniform(-strength, strength, size=cols.size)[None, :]
    return _back(out, x)


def deadlines(
    x: ArrayT,
    min_amount: float = 0.05,
    max_amount: float = 0.15,
    *,
    bands: Sequence[int] | np.ndarray | None = None,
    band_fraction: float = 1 / 3,
    seed: Seed = None,
) -> ArrayT:
    """Dead-line noise: on each selected band, a random 5-15 % of the columns are set to 0."""
    arr = _to_numpy(x)
    rng = _rng(seed)
    c, _, w = arr.shape
    chosen = _pick_bands(c, bands, band_fraction, rng)
    out = arr.copy()
    for b, n in zip(chosen, _column_counts(w, chosen.size, min_amount, max_amount, rng, "ceil")):
        out[b][:, rng.permutation(w)[:n]] = 0.0
    return _back(out, x)


def noise_case(
    x: ArrayT, case: int, *, sigmas: Sequence[float] = DEFAULT_SIGMAS, seed: Seed = None
) -> ArrayT:
    """One of the five complex-noise cases (see :data:`NOISE_CASES` and the module docstring).

    Args:
        x: ``(c, h, w)`` clean cube in [0, 1].
        case: 1 to 5.
        sigmas: the non-i.i.d. Gaussian sigma set of every case.
        seed: see the module docstring.
    """
    if case not in NOISE_CASES:
        raise ValueError(f"case must be one of {sorted(NOISE_CASES)}, got {case}")
    rng = _rng(seed)
    noisy = gaussian_noniid(x, sigmas, seed=rng)
    if case == 2:
        noisy = stripes(noisy, seed=rng)
    elif case == 3:
        noisy = deadlines(noisy, seed=rng)
    elif case == 4:
        noisy = impulse(noisy, seed=rng)
    elif case == 5:
        c = x.shape[0]
        order = rng.permutation(c)
        third = c // 3
        noisy = stripes(noisy, bands=order[:third], seed=rng)
        noisy = deadlines(noisy, bands=order[third : 2 * third], seed=rng)
        noisy = impulse(noisy, bands=order[2 * third : 3 * third], seed=rng)
    return noisy
