"""Unmixing metrics: spectral angle distance (SAD) per endmember and abundance RMSE after matching.

Shapes: endmember matrices are ``(e, c)`` (one spectrum per row; transpose MATLAB's ``M`` of shape
``(c, e)``). Abundances are ``(e, *spatial)`` (``(e, h, w)`` maps or ``(e, p)`` pixels), endmember
axis first, in the same order as the endmember rows.

Matching: estimated endmembers come in arbitrary order. :func:`match_endmembers` pairs them with the
reference by the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``) on the SAD matrix,
i.e. it minimises the **sum** of angles over one-to-one pairings. HyperSIGMA matches greedily
(§4.5), which can pair worse when two estimates compete for one reference; greedy and optimal agree
when every estimate's best reference is distinct.

Units: SAD is returned in **radians** by default (``degrees=True`` for degrees); HyperSIGMA's unmixing
reports radians. Abundance errors are reported as RMSE (per endmember, and over all entries) and MSE
(HyperSIGMA's headline unmixing number is the per-endmember abundance MSE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from hs_tasks._utils import as_float_array

__all__ = [
    "UnmixingReport",
    "match_endmembers",
    "sad_matrix",
    "spectral_angle",
    "unmixing_report",
]


def _angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    dot = np.sum(a * b, axis=-1)
    den = na * nb
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(den > 0, dot / np.where(den > 0, den, 1.0), 0.0)
    ang = np.arccos(np.clip(cos, -1.0, 1.0))
    # zero vectors: angle 0 between two zero vectors, π/2 between a zero and a non-zero vector
    return np.where((na == 0) & (nb == 0), 0.0, ang)


def spectral_angle(a: Any, b: Any, *, degrees: bool = False) -> np.ndarray:
    """Angle between corresponding spectra along the last axis: ``arccos(<a, b> / (|a| |b|))``.

    Args:
        a: ``(..., c)`` spectra.
        b: ``(..., c)`` spectra, same shape (or broadcastable).
        degrees: return degrees instead of radians.

    Returns:
        ``(...)`` angles in [0, π] (or [0, 180]). Two zero vectors have angle 0; a zero and a non-zero
        vector have angle π/2.
    """
    x = as_float_array(a, "a")
    y = as_float_array(b, "b")
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError as err:
        raise ValueError(f"a and b must broadcast, got shapes {x.shape} and {y.shape}") from err
    ang = _angles(x, y)
    return np.degrees(ang) if degrees else ang


def sad_matrix(reference: Any, estimate: Any, *, degrees: bool = False) -> np.ndarray:
    """All pairwise SADs: ``out[i, j]`` = angle between ``reference[i]`` and ``estimate[j]``.

    Args:
        reference: ``(e_ref, c)`` reference endmembers.
        estimate: ``(e_est, c)`` estimated endmembers.
    """
    r = as_float_array(reference, "reference", ndim=2)
    s = as_float_array(estimate, "estimate", ndim=2)
    if r.shape[1] != s.shape[1]:
        raise ValueError(
            f"reference and estimate must have the same number of bands, got {r.shape[1]} and {s.shape[1]}"
        )
    return spectral_angle(r[:, None, :], s[None, :, :], degrees=degrees)


def match_endmembers(reference: Any, estimate: Any) -> np.ndarray:
    """Optimal one-to-one pairing of estimated to reference endmembers by minimum total SAD.

    Args:
        reference: ``(e_ref, c)``.
        estimate: ``(e_est, c)`` with ``e_est >= e_ref``.

    Returns:
        ``perm`` ``(e_ref,)`` int64: reference endmember ``i`` is paired with ``estimate[perm[i]]``.
    """
    cost = sad_matrix(reference, estimate)
    if cost.shape[1] < cost.shape[0]:
        raise ValueError(
            "need at least as many estimated endmembers as reference ones, "
            f"got {cost.shape[1]} < {cost.shape[0]}"
        )
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(cost.shape[0], dtype=np.int64)
    perm[rows] = cols
    return perm


@dataclass(frozen=True)
class UnmixingReport:
    """Unmixing scores after matching.

    Attributes:
        permutation: ``(e,)``; reference endmember i is paired with estimate ``permutation[i]``.
        sad: ``(e,)`` SAD per reference endmember (radians unless ``degrees=True`` was asked).
        mean_sad: mean of ``sad``.
        abundance_rmse: ``(e,)`` per-endmember RMSE over pixels, or None without abundances.
        abundance_mse: ``(e,)`` per-endmember MSE over pixels, or None.
        mean_abundance_rmse: RMSE over all entries = sqrt(mean of ``abundance_mse``), or None.
        mean_abundance_mse: mean of ``abundance_mse``, or None.
    """

    permutation: np.ndarray
    sad: np.ndarray
    mean_sad: float
    abundance_rmse: np.ndarray | None
    abundance_mse: np.ndarray | None
    mean_abundance_rmse: float | None
    mean_abundance_mse: float | None


def unmixing_report(
    reference_endmembers: Any,
    estimated_endmembers: Any,
    reference_abundances: Any | None = None,
    estimated_abundances: Any | None = None,
    *,
    degrees: bool = False,
    permutation: Any | None = None,
) -> UnmixingReport:
    """Match estimated endmembers to the reference (Hungarian on SAD), then score SAD and abundances.

    Args:
        reference_endmembers: ``(e, c)``.
        estimated_endmembers: ``(e_est, c)``, ``e_est >= e``.
        reference_abundances: optional ``(e, *spatial)``.
        estimated_abundances: optional ``(e_est, *spatial)``; rows follow ``estimated_endmembers``.
        degrees: report SAD in degrees instead of radians.
        permutation: optional fixed pairing ``(e,)`` (skips the matching), e.g. to score abundances
            with a pairing decided elsewhere.

    Raises:
        ValueError: shape mismatches, or only one of the two abundance arrays given.
    """
    ref = as_float_array(reference_endmembers, "reference_endmembers", ndim=2)
    est = as_float_array(estimated_endmembers, "estimated_endmembers", ndim=2)
    if permutation is None:
        perm = match_endmembers(ref, est)
    else:
        perm = np.asarray(permutation, dtype=np.int64)
        if perm.shape != (ref.shape[0],) or len(set(perm.tolist())) != perm.size:
            raise ValueError(f"permutation must be {ref.shape[0]} distinct indices, got {perm.tolist()}")
        if perm.min() < 0 or perm.max() >= est.shape[0]:
            raise ValueError(f"permutation indices must lie in [0, {est.shape[0]}), got {perm.tolist()}")
    sad = spectral_angle(ref, est[perm], degrees=degrees)
    rmse = mse = None
    mean_rmse = mean_mse = None
    if (reference_abundances is None) != (estimated_abundances is None):
        raise ValueError("give both reference_abundances and estimated_abundances, or neither")
    if reference_abundances is not None:
        a_ref = as_float_array(reference_abundances, "reference_abundances")
        a_est = as_float_array(estimated_abundances, "estimated_abundances")
        if a_ref.shape[0] != ref.shape[0] or a_est.shape[0] != est.shape[0]:
            raise ValueError(
                "abundances must have the endmember axis first: reference_abundances "
                f"{a_ref.shape} vs {ref.shape[0]} endmembers, estimated_abundances {a_est.shape} vs "
                f"{est.shape[0]} endmembers"
            )
        if a_ref.shape[1:] != a_est.shape[1:]:
            raise ValueError(
                "abundance maps must have the same spatial shape, "
                f"got {a_ref.shape[1:]} and {a_est.shape[1:]}"
            )
        diff = a_ref.reshape(a_ref.shape[0], -1) - a_est[perm].reshape(a_ref.shape[0], -1)
        mse = np.mean(diff**2, axis=1)
        rmse = np.sqrt(mse)
        mean_mse = float(np.mean(mse))
        mean_rmse = float(np.sqrt(mean_mse))
    return UnmixingReport(
        permutation=perm,
        sad=sad,
        mean_sad=float(np.mean(sad)),
        abundance_rmse=rmse,
        abundance_mse=mse,
        mean_abundance_rmse=mean_rmse,
        mean_abundance_mse=mean_mse,
    )
