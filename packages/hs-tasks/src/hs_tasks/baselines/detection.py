"""Classical target and anomaly detectors: CEM, ACE, global RX and local (dual-window) RX.

Shapes: ``cube`` is ``(c, *spatial)``, bands first (``(c, h, w)`` for an image, ``(c, p)`` for a
pixel list); transpose a MATLAB ``(h, w, c)`` array with ``np.moveaxis(x, -1, 0)``. ``target`` is a
``(c,)`` spectrum. Every detector returns a score array of shape ``spatial`` (higher = more
target/anomaly-like), ready for :func:`hs_tasks.metrics.detection.detection_aucs`.

Regularised inverses (diagonal loading): each detector inverts a ``(c, c)`` correlation or covariance
matrix ``R``. We invert ``R + λ · (trace(R) / c) · I`` with ``λ = loading`` (relative to the mean
eigenvalue, so it is scale-free). The default ``λ = 1e-9`` is numerically a no-op on well-posed
scenes (global RX then reproduces the unregularised AUCs usually published, to 4 decimals) and only
keeps the factorisation defined when ``R`` is singular (fewer pixels than bands, collinear or
constant bands). Larger loading (1e-4 .. 1e-2) is a tuning choice that often helps: on ABU
airport-2, global RX goes from AUC 0.840 (λ = 1e-9) to 0.910 (λ = 1e-4). ``loading=0`` gives the
textbook detector and raises a clear ValueError if ``R`` is singular.

References:

* CEM: J. C. Harsanyi, "Detection and classification of subpixel spectral signatures in
  hyperspectral image sequences", PhD thesis, UMBC, 1993; C.-I Chang, *Hyperspectral Imaging*,
  Kluwer 2003, ch. 2. Filter ``w = R⁻¹d / (dᵀR⁻¹d)`` with ``R`` the sample **autocorrelation** matrix.
* ACE: S. Kraut, L. L. Scharf, "The CFAR adaptive subspace detector is a scale-invariant GLRT",
  IEEE TSP 47(9), 1999; D. Manolakis, G. Shaw, "Detection algorithms for hyperspectral imaging
  applications", IEEE SPM 19(1), 2002. ``(sᵀΣ⁻¹x)² / ((sᵀΣ⁻¹s)(xᵀΣ⁻¹x))`` on mean-removed data and
  target; scores lie in [0, 1].
* RX: I. S. Reed, X. Yu, "Adaptive multiple-band CFAR detection of an optical pattern with unknown
  spectral distribution", IEEE TASSP 38(10), 1990. Global RX = Mahalanobis distance to the scene
  mean; local RX estimates mean and covariance in a dual window around each pixel (an outer window
  minus an inner guard window), after an optional PCA reduction that keeps it affordable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from einops import rearrange
from scipy import linalg
from scipy.ndimage import uniform_filter

from hs_tasks._utils import as_float_array, flatten_spatial

__all__ = ["ace", "cem", "local_rx", "rx"]


def _loaded(r: np.ndarray, loading: float) -> np.ndarray:
    if loading < 0:
        raise ValueError(f"loading must be >= 0, got {loading}")
    c = r.shape[0]
    return r + loading * (np.trace(r) / c) * np.eye(c)


def _cholesky(r: np.ndarray, what: str) -> tuple[np.ndarray, bool]:
    try:
        return linalg.cho_factor(r, lower=True, check_finite=False)
    except linalg.LinAlgError as err:
        raise ValueError(
            f"{what} is singular or not positive definite (fewer pixels than bands, or collinear "
            "bands); increase `loading` (e.g. 1e-4)"
        ) from err


def _target(target: Any, c: int) -> np.ndarray:
    d = as_float_array(target, "target").reshape(-1)
    if d.size != c:
        raise ValueError(f"target: expected a spectrum of {c} bands (the cube's), got {d.size}")
    return d


def cem(cube: Any, target: Any, *, loading: float = 1e-9) -> np.ndarray:
    """Constrained energy minimisation scores ``wᵀx`` with ``w = R⁻¹d / (dᵀR⁻¹d)``.

    Args:
        cube: ``(c, *spatial)`` image.
        target: ``(c,)`` target spectrum ``d`` (same units as the cube).
        loading: relative diagonal loading λ of the autocorrelation matrix (see module docstring).

    Returns:
        ``spatial`` scores; a pixel equal to ``d`` scores exactly 1 when ``loading == 0``.
    """
    x, spatial = flatten_spatial(as_float_array(cube, "cube"), "cube")
    d = _target(target, x.shape[1])
    r = _loaded(x.T @ x / x.shape[0], loading)
    factor = _cholesky(r, "the autocorrelation matrix")
    rd = linalg.cho_solve(factor, d, check_finite=False)
    w = rd / float(d @ rd)
    return (x @ w).reshape(spatial)


def ace(cube: Any, target: Any, *, loading: float = 1e-9) -> np.ndarray:
    """Adaptive coherence/cosine estimator ``(sᵀΣ⁻¹x)² / ((sᵀΣ⁻¹s)(xᵀΣ⁻¹x))`` in [0, 1].

    The scene mean is removed from pixels and target; ``Σ`` is the scene covariance (loaded).
    A pixel equal to the scene mean (zero whitened norm) scores 0.

    Args:
        cube: ``(c, *spatial)`` image.
        target: ``(c,)`` target spectrum.
        loading: relative diagonal loading λ of the covariance matrix.
    """
    x, spatial = flatten_spatial(as_float_array(cube, "cube"), "cube")
    d = _target(target, x.shape[1])
    mu = x.mean(axis=0)
    xc = x - mu
    s = d - mu
    cov = _loaded(xc.T @ xc / x.shape[0], loading)
    factor = _cholesky(cov, "the covariance matrix")
    si = linalg.cho_solve(factor, s, check_finite=False)
    ss = float(s @ si)
    if ss <= 0:
        raise ValueError("target spectrum equals the scene mean: ACE is undefined")
    num = (xc @ si) ** 2
    # xᵀΣ⁻¹x through the triangular factor: |L⁻¹x|²
    z = linalg.solve_triangular(factor[0], xc.T, lower=True, check_finite=False)
    xx = np.sum(z * z, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(xx > 0, num / (ss * np.where(xx > 0, xx, 1.0)), 0.0)
    return np.clip(out, 0.0, 1.0).reshape(spatial)


def rx(cube: Any, *, loading: float = 1e-9) -> np.ndarray:
    """Global RX anomaly scores: Mahalanobis distance ``(x-μ)ᵀΣ⁻¹(x-μ)`` to the scene statistics.

    Args:
        cube: ``(c, *spatial)`` image.
        loading: relative diagonal loading λ of the covariance matrix.
    """
    x, spatial = flatten_spatial(as_float_array(cube, "cube"), "cube")
    xc = x - x.mean(axis=0)
    cov = _loaded(xc.T @ xc / x.shape[0], loading)
    factor = _cholesky(cov, "the covariance matrix")
    z = linalg.solve_triangular(factor[0], xc.T, lower=True, check_finite=False)
    return np.sum(z * z, axis=0).reshape(spatial)


def local_rx(
    cube: Any,
    *,
    outer: int = 15,
    inner: int = 5,
    n_components: int | None = 10,
    loading: float = 1e-3,
) -> np.ndarray:
    """Dual-window (local) RX: each pixel against the statistics of its surrounding annulus.

    The background of pixel (i, j) is the ``outer x outer`` window centred on it minus the
    ``inner x inner`` guard window (which should cover the expected anomaly size). Borders use
    mirror padding. With ``n_components`` set, the cube is first projected on its leading principal
    components (a common reduction: the local covariance then needs far fewer samples than bands).

    Args:
        cube: ``(c, h, w)`` image.
        outer: odd outer window size.
        inner: odd guard window size, ``< outer``.
        n_components: PCA components kept (None = all bands; slow and ill-posed for many bands).
        loading: relative diagonal loading of each local covariance (default larger than the global
            detectors' because each local covariance comes from few pixels).

    Returns:
        ``(h, w)`` scores.
    """
    arr = as_float_array(cube, "cube", ndim=3)
    c, h, w = arr.shape
    if outer % 2 == 0 or inner % 2 == 0 or not (0 < inner < outer):
        raise ValueError(f"need odd window sizes with 0 < inner < outer, got inner={inner}, outer={outer}")
    if outer > min(h, w):
        raise ValueError(f"outer window {outer} is larger than the image {h}x{w}")
    if loading < 0:
        raise ValueError(f"loading must be >= 0, got {loading}")
    x = rearrange(arr, "c h w -> (h w) c")
    x = x - x.mean(axis=0)
    if n_components is not None:
        if not 1 <= n_components <= c:
            raise ValueError(f"n_components must lie in [1, {c}], got {n_components}")
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        x = x @ vt[:n_components].T
        x = x / x.std(axis=0).clip(min=np.finfo(np.float64).tiny)
    k = x.shape[1]
    img = rearrange(x, "(h w) k -> h w k", h=h, w=w)
    iu = np.triu_indices(k)
    prods = img[..., iu[0]] * img[..., iu[1]]

    def annulus_mean(a: np.ndarray) -> np.ndarray:
        big = uniform_filter(a, size=(outer, outer, 1), mode="mirror") * outer**2
        small = uniform_filter(a, size=(inner, inner, 1), mode="mirror") * inner**2
        return (big - small) / (outer**2 - inner**2)

    mu = annulus_mean(img)
    second = annulus_mean(prods)
    cov = np.zeros((h, w, k, k))
    cov[..., iu[0], iu[1]] = second
    cov[..., iu[1], iu[0]] = second
    cov -= mu[..., :, None] * mu[..., None, :]
    scale = np.trace(cov, axis1=-2, axis2=-1)[..., None, None] / k
    cov += loading * scale * np.eye(k) + np.finfo(np.float64).eps * np.eye(k)
    diff = img - mu
    sol = np.linalg.solve(cov, diff[..., None])[..., 0]
    return np.sum(diff * sol, axis=-1)
