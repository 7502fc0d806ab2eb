"""Preprocessing fitted on training pixels only: :class:`BandScaler` and :class:`PCA`.

Each transform has ``fit(pixels)`` on an ``(n, c)`` matrix and ``transform(x)`` on ``(n, c)``
pixels or a ``(c, h, w)`` cube (numpy array or torch tensor). :func:`fit_on_split` fits on the
training pixels of a :class:`~hs_data.splits.Split` (and, if asked, its validation pixels); it never
reads a test pixel, so changing test pixels cannot change the fitted transform.

**Upstream (transductive) variants, for reproducing the paper.** HyperSIGMA fits PCA on every pixel
of the image (``split_data.apply_PCA``) and min-max normalises the whole cube before PCA in the
segmentation pipeline (hypersigma.md 4.1, 7.3 #8). ``fit_on_split(..., transductive=True)`` does
exactly that (fit on all pixels, a warning is logged); ``BandScaler(method="minmax",
per_band=False)`` is the whole-cube min-max. These are flags, never defaults.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar, cast

import numpy as np
import torch

from hs_data.splits import Split

__all__ = ["PCA", "BandScaler", "fit_on_split", "pixels_of"]

log = logging.getLogger(__name__)

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def pixels_of(image: np.ndarray | torch.Tensor, indices: np.ndarray | None = None) -> np.ndarray:
    """``(n, c)`` float64 matrix of the pixels of a ``(c, h, w)`` cube (all, or the flat ``indices``)."""
    arr = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if arr.ndim != 3:
        raise ValueError(f"image must be (c, h, w), got shape {arr.shape}")
    flat = arr.reshape(arr.shape[0], -1)
    if indices is not None:
        flat = flat[:, np.asarray(indices, dtype=np.int64)]
    return np.ascontiguousarray(flat.T, dtype=np.float64)


def _apply(x: ArrayT, fn: Any) -> ArrayT:
    """Apply ``fn`` ((n, c) float64 -> (n, k) float64) to (n, c) pixels or a (c, h, w) cube."""
    device = x.device if isinstance(x, torch.Tensor) else None
    arr = _numpy(x)
    dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)
    if arr.ndim == 2:
        out = fn(arr.astype(np.float64)).astype(dtype)
    elif arr.ndim == 3:
        c, h, w = arr.shape
        out = fn(arr.reshape(c, h * w).T.astype(np.float64)).T.reshape(-1, h, w).astype(dtype)
    else:
        raise ValueError(f"expected (n, c) pixels or a (c, h, w) cube, got shape {arr.shape}")
    result: Any = torch.from_numpy(np.ascontiguousarray(out)).to(device) if device is not None else out
    return cast(ArrayT, result)


class BandScaler:
    """Per-band (or whole-cube) standardisation or min-max scaling.

    Args:
        method: ``"standard"`` ((x - mean) / std) or ``"minmax"`` ((x - min) / (max - min)).
        per_band: statistics per band (default) or one scalar for the whole cube (upstream seg).
        eps: floor of the divisor (constant bands map to 0).
    """

    def __init__(self, method: str = "standard", *, per_band: bool = True, eps: float = 1e-12) -> None:
        if method not in ("standard", "minmax"):
            raise ValueError(f"method must be 'standard' or 'minmax', got {method!r}")
        self.method = method
        self.per_band = per_band
        self.eps = eps
        self.offset_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, pixels: np.ndarray) -> BandScaler:
        """Fit on an ``(n, c)`` pixel matrix."""
        x = np.asarray(pixels, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"fit expects a non-empty (n, c) matrix, got shape {x.shape}")
        axis = 0 if self.per_band else None
        if self.method == "standard":
            offset, spread = x.mean(axis=axis), x.std(axis=axis)
        else:
            offset, spread = x.min(axis=axis), x.max(axis=axis) - x.min(axis=axis)
        self.offset_ = np.broadcast_to(np.asarray(offset, dtype=np.float64), (x.shape[1],)).copy()
        self.scale_ = np.maximum(
            np.broadcast_to(np.asarray(spread, dtype=np.float64), (x.shape[1],)), self.eps
        ).copy()
        return self

    def transform(self, x: ArrayT) -> ArrayT:
        """Scale ``(n, c)`` pixels or a ``(c, h, w)`` cube (same type and float dtype back)."""
        if self.offset_ is None or self.scale_ is None:
            raise RuntimeError("BandScaler is not fitted; call fit() (or fit_on_split) first")
        offset, scale = self.offset_, self.scale_

        def fn(p: np.ndarray) -> np.ndarray:
            if p.shape[1] != offset.shape[0]:
                raise ValueError(f"fitted on {offset.shape[0]} bands, got {p.shape[1]}")
            return (p - offset) / scale

        return _apply(x, fn)

    def state_dict(self) -> dict[str, Any]:
        """Parameters as plain lists (JSON-ready), to save with a run."""
        if self.offset_ is None or self.scale_ is None:
            raise RuntimeError("BandScaler is not fitted")
        return {
            "type": "BandScaler",
            "method": self.method,
            "per_band": self.per_band,
            "offset": self.offset_.tolist(),
            "scale": self.scale_.tolist(),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> BandScaler:
        """Rebuild a fitted scaler from :meth:`state_dict`."""
        out = cls(state["method"], per_band=state["per_band"])
        out.offset_ = np.asarray(state["offset"], dtype=np.float64)
        out.scale_ = np.asarray(state["scale"], dtype=np.float64)
        return out


class PCA:
    """Principal component projection of the band axis (float64 SVD).

    Args:
        n_components: number of components ``k`` kept.
        whiten: divide each component by its standard deviation (upstream uses ``whiten=True``).
        eps: floor of the whitening divisor.

    The sign of each component is fixed (largest-magnitude loading positive) so a refit on the same
    pixels gives the same transform.
    """

    def __init__(self, n_components: int, *, whiten: bool = False, eps: float = 1e-12) -> None:
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        self.n_components = n_components
        self.whiten = whiten
        self.eps = eps
        self.mean_: np.ndarray | None = None
        self.components_: np.ndarray | None = None
        self.explained_variance_: np.ndarray | None = None

    def fit(self, pixels: np.ndarray) -> PCA:
        """Fit on an ``(n, c)`` pixel matrix (needs ``n >= 2`` and ``k <= min(n, c)``)."""
        x = np.asarray(pixels, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] < 2:
            raise ValueError(f"fit expects an (n, c) matrix with n >= 2, got shape {x.shape}")
        if self.n_components > min(x.shape):
            raise ValueError(f"n_components={self.n_components} > min(n, c) = {min(x.shape)}")
        mean = x.mean(axis=0)
        _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
        comps = vt[: self.n_components]
        signs = np.sign(comps[np.arange(comps.shape[0]), np.abs(comps).argmax(axis=1)])
        self.mean_ = mean
        self.components_ = comps * signs[:, None]
        self.explained_variance_ = (s[: self.n_components] ** 2) / (x.shape[0] - 1)
        return self

    def transform(self, x: ArrayT) -> ArrayT:
        """Project ``(n, c)`` pixels to ``(n, k)``, or a ``(c, h, w)`` cube to ``(k, h, w)``."""
        if self.mean_ is None or self.components_ is None or self.explained_variance_ is None:
            raise RuntimeError("PCA is not fitted; call fit() (or fit_on_split) first")
        mean, comps, var = self.mean_, self.components_, self.explained_variance_

        def fn(p: np.ndarray) -> np.ndarray:
            if p.shape[1] != mean.shape[0]:
                raise ValueError(f"fitted on {mean.shape[0]} bands, got {p.shape[1]}")
            out = (p - mean) @ comps.T
            return out / np.sqrt(np.maximum(var, self.eps)) if self.whiten else out

        return _apply(x, fn)

    def state_dict(self) -> dict[str, Any]:
        """Parameters as plain lists (JSON-ready), to save with a run."""
        if self.mean_ is None or self.components_ is None or self.explained_variance_ is None:
            raise RuntimeError("PCA is not fitted")
        return {
            "type": "PCA",
            "n_components": self.n_components,
            "whiten": self.whiten,
            "mean": self.mean_.tolist(),
            "components": self.components_.tolist(),
            "explained_variance": self.explained_variance_.tolist(),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> PCA:
        """Rebuild a fitted PCA from :meth:`state_dict`."""
        out = cls(state["n_components"], whiten=state["whiten"])
        out.mean_ = np.asarray(state["mean"], dtype=np.float64)
        out.components_ = np.asarray(state["components"], dtype=np.float64)
        out.explained_variance_ = np.asarray(state["explained_variance"], dtype=np.float64)
        return out


TransformT = TypeVar("TransformT", BandScaler, PCA)


def fit_on_split(
    transform: TransformT,
    image: np.ndarray | torch.Tensor,
    split: Split,
    *,
    include_val: bool = False,
    transductive: bool = False,
) -> TransformT:
    """Fit ``transform`` on the training pixels of ``split`` (inductive, the default).

    Args:
        transform: an unfitted :class:`BandScaler` or :class:`PCA`.
        image: ``(c, h, w)`` cube the split refers to.
        split: the split; only ``split.train`` (and ``split.val`` with ``include_val``) is read.
        include_val: also fit on validation pixels.
        transductive: upstream behaviour: fit on **every** pixel of the image, test pixels included
            (logged as a warning). Only for reproducing published numbers.

    Returns:
        ``transform``, fitted.
    """
    shape = tuple(image.shape[1:])
    if shape != split.shape:
        raise ValueError(f"image spatial shape {shape} != split shape {split.shape}")
    if transductive:
        log.warning(
            "fit_on_split: transductive=True fits %s on all %d pixels, test pixels included "
            "(upstream behaviour)",
            type(transform).__name__,
            shape[0] * shape[1],
        )
        return transform.fit(pixels_of(image))
    idx = split.train if not include_val else np.concatenate([split.train, split.val])
    if idx.size == 0:
        raise ValueError("split has no training pixels to fit on")
    return transform.fit(pixels_of(image, idx))
