"""Image-quality metrics for denoising and super-resolution: MPSNR, MSSIM, SAM, ERGAS, CC, RMSE.

Shapes: ``reference`` (the clean / high-resolution truth) and ``estimate`` are ``(c, h, w)`` cubes,
bands first. Average over test images yourself (HyperSIGMA averages per-image values).

Definitions:

* PSNR of band b: ``10 log10(data_range² / MSE_b)``; **MPSNR** = mean over bands. ``data_range`` is
  required (1.0 for data scaled to [0, 1], the HyperSIGMA convention for both tasks). A band with
  zero error has PSNR = +inf, so MPSNR is +inf for an exact reconstruction.
* **MSSIM** = mean over bands of the mean SSIM map of Wang, Bovik, Sheikh, Simoncelli, "Image quality
  assessment: from error visibility to structural similarity", IEEE TIP 13(4):600-612, 2004: an
  11x11 Gaussian window (σ = 1.5, normalised to sum 1), ``C1 = (0.01 L)²``, ``C2 = (0.03 L)²``
  with ``L = data_range``, weighted (biased) local moments, and the map kept on the "valid" region
  only (no padding), as in the authors' reference implementation. Needs h, w >= 11.
  Upstream differs: HyperSIGMA calls ``skimage.metrics.structural_similarity`` with its defaults,
  a 7x7 *uniform* window with sample-covariance correction (SR, ``metrics.py``), and its denoising
  notes describe a simplified per-band formula (§4.6); their SSIM values are not comparable to
  these.
* **SAM**: mean over pixels of the angle between the reference and estimated spectra, in
  **degrees**. Two zero spectra have angle 0; a zero and a non-zero spectrum have 90°. (Upstream SR
  skips pixels where either spectrum is zero; upstream denoising adds an eps and reports radians.)
* **ERGAS** (Wald 2000): ``(100 / scale) * sqrt(mean_b(MSE_b / mean(reference_b)²))``, with ``scale``
  the resolution ratio (4 for x4 super-resolution, 1 for denoising); same as upstream SR.
* **CC**: mean over bands of the Pearson correlation between reference and estimate bands. A band
  that is constant in either image has CC 1.0 if the two bands are equal and 0.0 otherwise.
* **RMSE**: root mean squared error over all entries, in data units (upstream denoising reports
  RMSE x 255 for data in [0, 1]).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import correlate1d

from hs_tasks._utils import as_float_array, check_same_shape
from hs_tasks.metrics.unmixing import spectral_angle

__all__ = [
    "ImageQualityReport",
    "cc",
    "ergas",
    "gaussian_window",
    "image_quality",
    "mpsnr",
    "mssim",
    "psnr_per_band",
    "rmse",
    "sam",
    "ssim_per_band",
]

SSIM_K1 = 0.01
SSIM_K2 = 0.03
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5


def _pair(reference: Any, estimate: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(reference, "reference", ndim=3)
    y = as_float_array(estimate, "estimate", ndim=3)
    check_same_shape(x, y, "reference", "estimate")
    return x, y


def _check_range(data_range: float) -> float:
    if not (np.isfinite(data_range) and data_range > 0):
        raise ValueError(f"data_range must be a positive finite number, got {data_range}")
    return float(data_range)


def psnr_per_band(reference: Any, estimate: Any, *, data_range: float) -> np.ndarray:
    """PSNR of each band ``(c,)`` in dB; +inf for a band reconstructed exactly."""
    x, y = _pair(reference, estimate)
    peak = _check_range(data_range)
    mse = np.mean((x - y) ** 2, axis=(1, 2))
    out = np.full(mse.shape, np.inf)
    nz = mse > 0
    out[nz] = 10.0 * np.log10(peak**2 / mse[nz])
    return out


def mpsnr(reference: Any, estimate: Any, *, data_range: float) -> float:
    """Mean over bands of the per-band PSNR (dB)."""
    return float(np.mean(psnr_per_band(reference, estimate, data_range=data_range)))


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """1-D Gaussian ``(size,)`` normalised to sum 1; the 2-D SSIM window is its outer product."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"window size must be a positive odd integer, got {size}")
    r = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(r**2) / (2.0 * sigma**2))
    return g / g.sum()


def _filter_valid(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable correlation of ``(c, h, w)`` with ``g`` ⊗ ``g``, keeping the 'valid' region."""
    half = g.size // 2
    out = correlate1d(img, g, axis=1, mode="reflect")
    out = correlate1d(out, g, axis=2, mode="reflect")
    return out[:, half : img.shape[1] - half, half : img.shape[2] - half]


def ssim_per_band(reference: Any, estimate: Any, *, data_range: float) -> np.ndarray:
    """Mean SSIM of each band ``(c,)`` (Wang et al. 2004; see the module docstring)."""
    x, y = _pair(reference, estimate)
    peak = _check_range(data_range)
    if x.shape[1] < SSIM_WINDOW or x.shape[2] < SSIM_WINDOW:
        raise ValueError(
            f"SSIM needs h and w >= {SSIM_WINDOW} (the Gaussian window), got spatial shape {x.shape[1:]}"
        )
    g = gaussian_window()
    c1 = (SSIM_K1 * peak) ** 2
    c2 = (SSIM_K2 * peak) ** 2
    mu_x = _filter_valid(x, g)
    mu_y = _filter_valid(y, g)
    var_x = _filter_valid(x * x, g) - mu_x**2
    var_y = _filter_valid(y * y, g) - mu_y**2
    cov = _filter_valid(x * y, g) - mu_x * mu_y
    num = (2.0 * mu_x * mu_y + c1) * (2.0 * cov + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return np.mean(num / den, axis=(1, 2))


def mssim(reference: Any, estimate: Any, *, data_range: float) -> float:
    """Mean over bands of the mean SSIM (Gaussian-window SSIM of Wang et al. 2004)."""
    return float(np.mean(ssim_per_band(reference, estimate, data_range=data_range)))


def sam(reference: Any, estimate: Any) -> float:
    """Mean spectral angle over pixels, in degrees."""
    x, y = _pair(reference, estimate)
    return float(np.mean(spectral_angle(np.moveaxis(x, 0, -1), np.moveaxis(y, 0, -1), degrees=True)))


def ergas(reference: Any, estimate: Any, *, scale: float = 1.0) -> float:
    """ERGAS = (100 / scale) sqrt(mean_b MSE_b / mean(reference_b)²); lower is better.

    Args:
        reference: ``(c, h, w)``.
        estimate: ``(c, h, w)``.
        scale: resolution ratio between the low- and high-resolution grids (4 for x4 SR; 1 for
            denoising).

    Raises:
        ValueError: a reference band has zero mean (the relative error is undefined).
    """
    x, y = _pair(reference, estimate)
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale}")
    mean_b = np.mean(x, axis=(1, 2))
    if np.any(mean_b == 0):
        raise ValueError(
            f"ERGAS is undefined: reference bands {np.flatnonzero(mean_b == 0).tolist()} have zero mean"
        )
    mse = np.mean((x - y) ** 2, axis=(1, 2))
    return float(100.0 / scale * np.sqrt(np.mean(mse / mean_b**2)))


def cc(reference: Any, estimate: Any) -> float:
    """Mean over bands of the Pearson correlation coefficient (spatial CC)."""
    x, y = _pair(reference, estimate)
    xc = x.reshape(x.shape[0], -1)
    yc = y.reshape(y.shape[0], -1)
    xc = xc - xc.mean(axis=1, keepdims=True)
    yc = yc - yc.mean(axis=1, keepdims=True)
    den = np.sqrt(np.sum(xc * xc, axis=1) * np.sum(yc * yc, axis=1))
    num = np.sum(xc * yc, axis=1)
    equal = np.all(x.reshape(x.shape[0], -1) == y.reshape(y.shape[0], -1), axis=1)
    per_band = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(equal, 1.0, 0.0))
    return float(np.mean(per_band))


def rmse(reference: Any, estimate: Any) -> float:
    """Root mean squared error over all entries (data units)."""
    x, y = _pair(reference, estimate)
    return float(np.sqrt(np.mean((x - y) ** 2)))


@dataclass(frozen=True)
class ImageQualityReport:
    """MPSNR (dB), MSSIM, SAM (degrees), ERGAS, CC, RMSE of one reconstructed cube."""

    mpsnr: float
    mssim: float
    sam: float
    ergas: float
    cc: float
    rmse: float

    def as_dict(self) -> dict[str, float]:
        """All values keyed by name (for logging)."""
        return dict(self.__dict__)


def image_quality(
    reference: Any, estimate: Any, *, data_range: float, scale: float = 1.0
) -> ImageQualityReport:
    """All six image-quality metrics of one ``(c, h, w)`` reconstruction.

    Args:
        reference: ``(c, h, w)`` clean / high-resolution truth.
        estimate: ``(c, h, w)`` reconstruction.
        data_range: peak-to-peak range of the data for PSNR/SSIM (1.0 for data in [0, 1]).
        scale: resolution ratio for ERGAS (1 for denoising).
    """
    x, y = _pair(reference, estimate)
    return ImageQualityReport(
        mpsnr=mpsnr(x, y, data_range=data_range),
        mssim=mssim(x, y, data_range=data_range),
        sam=sam(x, y),
        ergas=ergas(x, y, scale=scale),
        cc=cc(x, y),
        rmse=rmse(x, y),
    )
