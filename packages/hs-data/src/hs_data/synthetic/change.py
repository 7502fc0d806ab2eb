"""Semi-synthetic change-detection pairs: a real cube, and a copy of it with implanted spectral changes.

Used where no real hyperspectral image pair is available (here: none of Hermiston, Farmland, Bay
Area, Santa Barbara). Rows built this way are named ``semisyn_*`` in the registry and are never
reported as the real dataset.

Recipe (:func:`implant_changes`): ``n_regions`` axis-aligned rectangles (sides drawn from
``size_range``) are placed at random; each is overwritten in the "post" image by a same-sized
rectangle copied from elsewhere in the scene whose mean spectrum differs from the replaced one by a
spectral angle of at least ``min_angle_deg`` (so the change is spectral, and keeps real texture).
Both dates then get independent Gaussian noise of ``noise_sigma`` times the cube's standard
deviation, so unchanged pixels are not bit-identical. ``label`` is 1 inside the implanted rectangles,
0 elsewhere; ``mask`` is all True.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["implant_changes"]


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def implant_changes(
    image: np.ndarray | torch.Tensor,
    *,
    n_regions: int = 8,
    size_range: tuple[int, int] = (4, 16),
    min_angle_deg: float = 5.0,
    noise_sigma: float = 0.01,
    max_tries: int = 200,
    seed: int | np.random.Generator | None = 0,
) -> dict[str, Any]:
    """Build ``{"image_pre", "image_post", "label", "mask"}`` from one ``(c, h, w)`` cube.

    Args:
        image: ``(c, h, w)`` real cube (float).
        n_regions: number of changed rectangles.
        size_range: inclusive range of rectangle sides in pixels.
        min_angle_deg: minimum spectral angle between the replaced and the donor mean spectra.
        noise_sigma: independent noise per date, as a fraction of the cube's standard deviation.
        max_tries: donor draws per region before giving up on that angle (the best donor is used).
        seed: ``int``, ``numpy.random.Generator`` or ``None``.

    Returns:
        numpy arrays: ``image_pre``/``image_post`` ``(c, h, w)`` float32, ``label`` ``(h, w)`` int64
        (1 = changed), ``mask`` ``(h, w)`` bool (all True), plus ``regions``: a list of
        ``(row, col, height, width, donor_row, donor_col, angle_deg)``.
    """
    arr = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if arr.ndim != 3:
        raise ValueError(f"expected a (c, h, w) cube, got shape {arr.shape}")
    c, h, w = arr.shape
    lo, hi = size_range
    if not 1 <= lo <= hi or hi >= min(h, w):
        raise ValueError(f"size_range {size_range} must satisfy 1 <= low <= high < min(h, w) = {min(h, w)}")
    if n_regions < 1:
        raise ValueError(f"n_regions must be >= 1, got {n_regions}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pre = arr.astype(np.float64)
    post = pre.copy()
    label = np.zeros((h, w), dtype=np.int64)
    regions = []
    for _ in range(n_regions):
        rh, rw = (int(v) for v in rng.integers(lo, hi + 1, 2))
        r0, c0 = int(rng.integers(0, h - rh + 1)), int(rng.integers(0, w - rw + 1))
        target_mean = pre[:, r0 : r0 + rh, c0 : c0 + rw].reshape(c, -1).mean(axis=1)
        best: tuple[float, int, int] = (-1.0, r0, c0)
        for _ in range(max_tries):
            dr, dc = int(rng.integers(0, h - rh + 1)), int(rng.integers(0, w - rw + 1))
            if abs(dr - r0) < rh and abs(dc - c0) < rw:
                continue  # overlapping donor: not a change
            angle = _angle_deg(target_mean, pre[:, dr : dr + rh, dc : dc + rw].reshape(c, -1).mean(axis=1))
            if angle > best[0]:
                best = (angle, dr, dc)
            if angle >= min_angle_deg:
                break
        angle, dr, dc = best
        if angle < 0:
            continue
        post[:, r0 : r0 + rh, c0 : c0 + rw] = pre[:, dr : dr + rh, dc : dc + rw]
        label[r0 : r0 + rh, c0 : c0 + rw] = 1
        regions.append((r0, c0, rh, rw, dr, dc, round(angle, 3)))
    scale = noise_sigma * float(pre.std())
    pre_noisy = pre + rng.standard_normal(pre.shape) * scale
    post_noisy = post + rng.standard_normal(post.shape) * scale
    return {
        "image_pre": pre_noisy.astype(np.float32),
        "image_post": post_noisy.astype(np.float32),
        "label": label,
        "mask": np.ones((h, w), dtype=bool),
        "regions": regions,
    }
