"""Change vector analysis (CVA) with an Otsu threshold: the classical change-detection floor.

Shapes: ``pre`` and ``post`` are co-registered ``(c, h, w)`` images (bands first); ``mask`` is an
optional ``(h, w)`` binary map of the pixels used to fit the normalisation and the threshold.

Method. Each band of each date is normalised, the per-pixel spectral difference is taken, and its
Euclidean norm is the change magnitude (Malila, "Change vector analysis: an approach for detecting
forest changes with Landsat", LARS Symposia, 1980; Bovolo & Bruzzone, "A theoretical framework for
unsupervised change detection based on change vector analysis in the polar domain", IEEE TGRS
45(1), 2007). The magnitude is split into changed / unchanged by Otsu's threshold (Otsu, "A threshold
selection method from gray-level histograms", IEEE TSMC 9(1), 1979), which maximises the
between-class variance of a histogram of the magnitudes.

Normalisation choices (``normalize``):

* ``"each"`` (default): z-score every band of every date separately (mean 0, std 1 over the fitted
  pixels). Removes global gain/offset differences between the acquisitions.
* ``"joint"``: min-max every band jointly over both dates (HyperSIGMA's HCD pre-processing, §4.4).
* ``"none"``: raw differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hs_tasks._utils import as_bool_array, as_float_array, check_same_shape

__all__ = ["CVAResult", "change_vector_analysis", "otsu_threshold"]


def otsu_threshold(values: Any, *, bins: int = 256) -> float:
    """Otsu's threshold of a set of values: the cut maximising the between-class variance.

    The values are binned into ``bins`` equal-width bins between their min and max; the returned
    threshold is the upper edge of the last bin of the lower class, so ``values > threshold`` is
    the upper class.

    Args:
        values: any shape, finite.
        bins: histogram bins (>= 2).

    Returns:
        The threshold. For constant input (or a range too small to hold ``bins`` distinct bin
        edges) it is the maximum, so no value lies above it.
    """
    v = as_float_array(values, "values").ravel()
    if bins < 2:
        raise ValueError(f"bins must be >= 2, got {bins}")
    lo, hi = float(v.min()), float(v.max())
    edges = np.linspace(lo, hi, bins + 1)
    if np.any(np.diff(edges) <= 0):  # (numerically) constant values: nothing to split
        return hi
    counts, _ = np.histogram(v, bins=edges)
    centers = (edges[:-1] + edges[1:]) / 2.0
    p = counts / counts.sum()
    w0 = np.cumsum(p)[:-1]  # class 0 = bins [0, t], t = 0 .. bins-2
    m0 = np.cumsum(p * centers)[:-1]
    total = float(np.sum(p * centers))
    w1 = 1.0 - w0
    with np.errstate(invalid="ignore", divide="ignore"):
        between = (total * w0 - m0) ** 2 / (w0 * w1)
    between = np.where((w0 > 0) & (w1 > 0), between, -np.inf)
    t = int(np.argmax(between))
    return float(edges[t + 1])


@dataclass(frozen=True)
class CVAResult:
    """Output of :func:`change_vector_analysis`.

    Attributes:
        magnitude: ``(h, w)`` change magnitude (larger = more likely changed).
        threshold: Otsu threshold on ``magnitude`` (fitted on the masked pixels).
        change_map: ``(h, w)`` bool, ``magnitude > threshold``.
    """

    magnitude: np.ndarray
    threshold: float
    change_map: np.ndarray


def _normalize(
    pre: np.ndarray, post: np.ndarray, mode: str, fit: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if mode == "none":
        return pre, post
    a, b = pre[:, fit], post[:, fit]
    if mode == "each":

        def z(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
            mu = ref.mean(axis=1)[:, None, None]
            sd = ref.std(axis=1)[:, None, None]
            return (x - mu) / np.where(sd > 0, sd, 1.0)

        return z(pre, a), z(post, b)
    lo = np.minimum(a.min(axis=1), b.min(axis=1))[:, None, None]
    hi = np.maximum(a.max(axis=1), b.max(axis=1))[:, None, None]
    span = np.where(hi > lo, hi - lo, 1.0)
    return (pre - lo) / span, (post - lo) / span


def change_vector_analysis(
    pre: Any,
    post: Any,
    *,
    normalize: Literal["each", "joint", "none"] = "each",
    mask: Any | None = None,
    bins: int = 256,
) -> CVAResult:
    """Change magnitude ``|x_post - x_pre|`` after per-band normalisation, thresholded by Otsu.

    Args:
        pre: ``(c, h, w)`` first-date image.
        post: ``(c, h, w)`` second-date image, co-registered.
        normalize: ``"each"``, ``"joint"`` or ``"none"`` (see the module docstring).
        mask: optional ``(h, w)`` binary map of the pixels used to fit the normalisation statistics
            and the threshold (e.g. exclude no-data borders). Scores are returned for every pixel.
        bins: histogram bins of the Otsu threshold.

    Returns:
        :class:`CVAResult` with the magnitude, the threshold and the binary change map.
    """
    a = as_float_array(pre, "pre", ndim=3)
    b = as_float_array(post, "post", ndim=3)
    check_same_shape(a, b, "pre", "post")
    if normalize not in ("each", "joint", "none"):
        raise ValueError(f"normalize must be 'each', 'joint' or 'none', got {normalize!r}")
    if mask is None:
        fit = np.ones(a.shape[1:], dtype=bool)
    else:
        fit = as_bool_array(mask, "mask")
        check_same_shape(fit, a[0], "mask", "pre[0]")
        if not fit.any():
            raise ValueError("mask selects no pixel")
    a, b = _normalize(a, b, normalize, fit)
    magnitude = np.sqrt(np.sum((b - a) ** 2, axis=0))
    threshold = otsu_threshold(magnitude[fit], bins=bins)
    return CVAResult(magnitude=magnitude, threshold=threshold, change_map=magnitude > threshold)
