from __future__ import annotations

import numpy as np
import pytest
from realdata import load_mat, load_nanjing

from hs_tasks.baselines import change_vector_analysis, otsu_threshold
from hs_tasks.metrics import auc_pf_pd, change_detection_report


def _otsu_brute_force(values: np.ndarray, bins: int) -> float:
    """Try every cut between histogram bins; between-class variance from explicit class moments."""
    counts, edges = np.histogram(values, bins=bins)
    centers = (edges[:-1] + edges[1:]) / 2
    best, best_t = -1.0, 0.0
    for t in range(bins - 1):
        lo_w, hi_w = counts[: t + 1].sum(), counts[t + 1 :].sum()
        if lo_w == 0 or hi_w == 0:
            continue
        lo_m = (counts[: t + 1] * centers[: t + 1]).sum() / lo_w
        hi_m = (counts[t + 1 :] * centers[t + 1 :]).sum() / hi_w
        var = lo_w * hi_w * (lo_m - hi_m) ** 2
        if var > best:
            best, best_t = var, edges[t + 1]
    return float(best_t)


@pytest.mark.parametrize("seed", range(3))
def test_otsu_against_brute_force(seed: int) -> None:
    g = np.random.default_rng(seed)
    values = np.concatenate([g.normal(0, 1, 700), g.normal(5, 1.5, 300)])
    assert otsu_threshold(values, bins=64) == pytest.approx(_otsu_brute_force(values, 64))
    assert 1.0 < otsu_threshold(values) < 4.0  # between the two modes


def test_otsu_constant_input() -> None:
    assert otsu_threshold(np.full(10, 3.0)) == 3.0
    with pytest.raises(ValueError, match="bins"):
        otsu_threshold(np.arange(4.0), bins=1)


def _semi_synthetic_pair(g: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A real spectral scene (the ROSIS Pavia crop) as date 1. Date 2 = a radiometric change of the
    whole scene (gain and offset per band, as between two acquisitions) plus noise, and a rectangle
    half covered by a new material: the spectrum of one pixel from elsewhere in the scene."""
    cube = load_mat("anomaly_detection/pavia/pavia_car.mat")["data"].astype(np.float64)
    pre = np.moveaxis(cube, -1, 0)
    c = pre.shape[0]
    changed = np.zeros(pre.shape[1:], dtype=bool)
    changed[10:30, 60:90] = True
    post = pre.copy()
    post[:, changed] = 0.5 * pre[:, changed] + 0.5 * pre[:, 60, 15][:, None]  # a new material, half-cover
    post = post * g.uniform(0.8, 1.2, c)[:, None, None] + g.uniform(-50, 50, c)[:, None, None]
    post += g.normal(0, 40, post.shape)
    return pre, post, changed


def test_cva_detects_a_semi_synthetic_change(rng: np.random.Generator) -> None:
    pre, post, changed = _semi_synthetic_pair(rng)
    result = change_vector_analysis(pre, post)
    assert auc_pf_pd(result.magnitude, changed) > 0.95
    rep = change_detection_report(result.change_map, changed)
    assert rep.f1 > 0.95 and rep.kappa > 0.95
    assert result.change_map.dtype == bool and result.magnitude.shape == changed.shape


def test_cva_normalisations_and_mask(rng: np.random.Generator) -> None:
    pre = rng.random((4, 10, 12))
    # 'each' removes any per-band gain/offset between dates: identical scenes up to it give 0
    post = 3.0 * pre + 7.0
    np.testing.assert_allclose(change_vector_analysis(pre, post).magnitude, 0.0, atol=1e-9)
    raw = change_vector_analysis(pre, pre + 1.0, normalize="none").magnitude
    np.testing.assert_allclose(raw, 2.0)  # sqrt(4 bands * 1²)
    joint = change_vector_analysis(pre, pre, normalize="joint").magnitude
    np.testing.assert_allclose(joint, 0.0)
    mask = np.zeros((10, 12), dtype=bool)
    mask[:5] = True
    masked = change_vector_analysis(pre, post + rng.random(post.shape), mask=mask)
    assert masked.magnitude.shape == (10, 12)
    with pytest.raises(ValueError, match="mask selects no pixel"):
        change_vector_analysis(pre, post, mask=np.zeros((10, 12)))
    with pytest.raises(ValueError, match="normalize"):
        change_vector_analysis(pre, post, normalize="zscore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same shape"):
        change_vector_analysis(pre, post[:, :5])


def test_cva_on_nanjing_landsat_pair() -> None:
    """Real multispectral CD: Landsat-5 Nanjing 2000/2002 (6 bands, 800x800), scored on the 14,756
    labelled reference pixels only (2,363 changed, 12,393 unchanged; the rest is unlabelled).
    Measured with per-band z-scores: OA 0.900, kappa 0.682, F1 0.742, AUC(magnitude) 0.957."""
    pre, post, changed, labelled = load_nanjing()
    assert changed.sum() == 2363 and labelled.sum() == 2363 + 12393
    result = change_vector_analysis(pre, post)
    rep = change_detection_report(result.change_map, changed, mask=labelled)
    assert rep.oa > 0.88
    assert rep.kappa > 0.64
    assert rep.f1 > 0.70
    assert auc_pf_pd(result.magnitude, changed, mask=labelled) > 0.94
