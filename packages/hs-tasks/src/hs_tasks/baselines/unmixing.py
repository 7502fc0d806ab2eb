"""Linear unmixing floor: VCA endmember extraction and FCLS abundance estimation.

Shapes: ``cube`` is ``(c, *spatial)`` (``(c, h, w)`` or ``(c, p)``); endmembers are ``(e, c)`` (one
spectrum per row, as in :mod:`hs_tasks.metrics.unmixing`); abundances are ``(e, *spatial)``.

* **VCA** — J. M. P. Nascimento, J. M. Bioucas-Dias, "Vertex component analysis: a fast algorithm
  to unmix hyperspectral data", IEEE TGRS 43(4):898-910, 2005. The data are projected on a
  ``p``-dimensional signal subspace (a projective projection when the estimated SNR exceeds
  ``15 + 10 log10(p)`` dB, otherwise PCA to ``p - 1`` dimensions plus a constant coordinate);
  then, ``p`` times, the data are projected on a random direction orthogonal to the endmembers found
  so far and the extreme pixel is the next endmember. Returned spectra are the subspace-projected
  pixels, as in the paper (``indices`` give the raw pixels).
* **FCLS** — D. C. Heinz, C.-I Chang, "Fully constrained least squares linear spectral mixture
  analysis method for material quantification in hyperspectral imagery", IEEE TGRS 39(3):529-545,
  2001. Per pixel ``min |Ma - x|²`` s.t. ``a >= 0``, ``sum(a) = 1``, solved as a non-negative
  least squares problem (``scipy.optimize.nnls``) on the system augmented with a heavily weighted
  sum-to-one row ``w·1ᵀa = w``: the sum constraint then holds to ~(residual / w)², i.e. to
  rounding error with the default weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import nnls

from hs_tasks._utils import as_float_array, flatten_spatial

__all__ = ["VCAResult", "estimate_snr", "fcls", "vca"]


@dataclass(frozen=True)
class VCAResult:
    """Output of :func:`vca`.

    Attributes:
        endmembers: ``(e, c)`` extracted endmember spectra (subspace-projected pixels).
        indices: ``(e,)`` flat pixel indices of the selected pixels.
        snr_db: the SNR used to choose the projection (estimated unless given).
        projective: True if the projective (high-SNR) projection was used.
    """

    endmembers: np.ndarray
    indices: np.ndarray
    snr_db: float
    projective: bool


def _top_left_singular(m: np.ndarray, d: int) -> np.ndarray:
    """First ``d`` eigenvectors ``(c, d)`` of ``m mᵀ / n`` (``m`` is ``(c, n)``)."""
    cov = m @ m.T / m.shape[1]
    _, vecs = np.linalg.eigh(cov)
    return vecs[:, ::-1][:, :d]


def estimate_snr(pixels: Any, n_endmembers: int) -> float:
    """VCA's signal-to-noise estimate in dB (Nascimento & Bioucas-Dias 2005, eq. 13).

    Args:
        pixels: ``(c, n)`` data matrix.
        n_endmembers: ``p``, the signal-subspace dimension.
    """
    r = as_float_array(pixels, "pixels", ndim=2)
    c, n = r.shape
    mean = r.mean(axis=1, keepdims=True)
    r0 = r - mean
    ud = _top_left_singular(r0, n_endmembers)
    xp = ud.T @ r0
    p_y = float(np.sum(r**2) / n)
    p_x = float(np.sum(xp**2) / n + np.sum(mean**2))
    num = p_x - n_endmembers / c * p_y
    den = p_y - p_x
    if den <= 0:
        return float("inf")
    if num <= 0:
        return float("-inf")
    return float(10.0 * np.log10(num / den))


def vca(cube: Any, n_endmembers: int, *, snr_db: float | None = None, seed: int | None = 0) -> VCAResult:
    """Extract ``n_endmembers`` endmembers with vertex component analysis.

    Args:
        cube: ``(c, *spatial)`` image or ``(c, p)`` pixels, non-negative reflectance-like data.
        n_endmembers: ``p``; ``2 <= p <= c``.
        snr_db: known SNR in dB; estimated from the data if None.
        seed: seed of the random projection directions (None = nondeterministic).

    Returns:
        :class:`VCAResult`.
    """
    arr = as_float_array(cube, "cube")
    pixels_pc, _ = flatten_spatial(arr, "cube")
    r = pixels_pc.T  # (c, n)
    c, n = r.shape
    p = int(n_endmembers)
    if not 2 <= p <= c:
        raise ValueError(f"n_endmembers must lie in [2, c={c}], got {n_endmembers}")
    if n < p:
        raise ValueError(f"need at least n_endmembers={p} pixels, got {n}")
    snr = estimate_snr(r, p) if snr_db is None else float(snr_db)
    projective = snr > 15.0 + 10.0 * np.log10(p)
    if projective:
        ud = _top_left_singular(r, p)
        x = ud.T @ r
        u = x.mean(axis=1, keepdims=True)
        denom = np.sum(x * u, axis=0, keepdims=True)
        if np.any(denom <= 0):
            raise ValueError(
                "VCA projective projection failed: data are not in a positive cone (negative values?)"
            )
        y = x / denom
    else:
        mean = r.mean(axis=1, keepdims=True)
        ud = _top_left_singular(r - mean, p - 1)
        x = ud.T @ (r - mean)
        scale = float(np.max(np.linalg.norm(x, axis=0)))
        y = np.vstack([x, np.full((1, n), scale)])
    rng = np.random.default_rng(seed)
    a = np.zeros((p, p))
    a[p - 1, 0] = 1.0
    indices = np.zeros(p, dtype=np.int64)
    for i in range(p):
        w = rng.standard_normal(p)
        f = w - a @ (np.linalg.pinv(a) @ w)
        f /= np.linalg.norm(f)
        v = f @ y
        k = int(np.argmax(np.abs(v)))
        a[:, i] = y[:, k]
        indices[i] = k
    if projective:
        endmembers = (ud @ x[:, indices]).T
    else:
        endmembers = (ud @ x[:, indices] + mean).T
    return VCAResult(endmembers=endmembers, indices=indices, snr_db=snr, projective=bool(projective))


def fcls(cube: Any, endmembers: Any, *, sum_to_one_weight: float = 1e3) -> np.ndarray:
    """Fully constrained least-squares abundances (non-negative, sum to one) for every pixel.

    Args:
        cube: ``(c, *spatial)`` image or ``(c, p)`` pixels.
        endmembers: ``(e, c)`` endmember spectra.
        sum_to_one_weight: weight of the sum-to-one row, relative to the mean endmember norm.

    Returns:
        ``(e, *spatial)`` abundances, each pixel's column non-negative and summing to 1 (to rounding).
    """
    arr = as_float_array(cube, "cube")
    x, spatial = flatten_spatial(arr, "cube")  # (n, c)
    m = as_float_array(endmembers, "endmembers", ndim=2)
    if m.shape[1] != x.shape[1]:
        raise ValueError(f"endmembers have {m.shape[1]} bands but the cube has {x.shape[1]}")
    if not sum_to_one_weight > 0:
        raise ValueError(f"sum_to_one_weight must be > 0, got {sum_to_one_weight}")
    weight = sum_to_one_weight * float(np.mean(np.linalg.norm(m, axis=1)))
    if weight == 0:
        raise ValueError("endmembers are all zero")
    design = np.vstack([m.T, np.full((1, m.shape[0]), weight)])  # (c + 1, e)
    out = np.empty((x.shape[0], m.shape[0]))
    rhs = np.empty(design.shape[0])
    rhs[-1] = weight
    for i in range(x.shape[0]):
        rhs[:-1] = x[i]
        out[i] = nnls(design, rhs)[0]
    return out.T.reshape((m.shape[0], *spatial))
