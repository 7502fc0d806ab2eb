from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu

from hs_tasks.metrics import auc_pf_pd, detection_aucs, minmax_normalize, roc_curve


def _pairwise_auc(s: np.ndarray, t: np.ndarray) -> float:
    """P(score_target > score_background) + 0.5 P(tie), by brute force over all pairs."""
    pos, neg = s[t], s[~t]
    diff = pos[:, None] - neg[None, :]
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


def _random_case(g: np.random.Generator, n: int = 400, ties: bool = True) -> tuple[np.ndarray, np.ndarray]:
    t = g.random(n) < 0.2
    t[:2] = [True, False]
    s = g.normal(size=n) + 1.2 * t
    if ties:
        s = np.round(s, 1)  # many exact ties across both classes
    return s, t


@pytest.mark.parametrize("seed", range(5))
def test_auc_equals_mann_whitney(seed: int) -> None:
    s, t = _random_case(np.random.default_rng(seed))
    u = mannwhitneyu(s[t], s[~t], alternative="two-sided").statistic
    assert auc_pf_pd(s, t) == pytest.approx(u / (t.sum() * (~t).sum()), abs=1e-12)
    assert detection_aucs(s, t).auc_pf_pd == pytest.approx(u / (t.sum() * (~t).sum()), abs=1e-12)


@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=2, max_size=40))
def test_auc_matches_pair_counting(pairs: list[tuple[int, bool]]) -> None:
    s = np.array([p[0] for p in pairs], dtype=float)
    t = np.array([p[1] for p in pairs])
    if t.all() or not t.any():
        with pytest.raises(ValueError, match="at least one target and one background"):
            auc_pf_pd(s, t)
        return
    assert auc_pf_pd(s, t) == pytest.approx(_pairwise_auc(s, t), abs=1e-12)


def test_roc_vertices_by_brute_force(rng: np.random.Generator) -> None:
    s, t = _random_case(rng, n=120)
    curve = roc_curve(s, t)
    assert curve.thresholds[0] == np.inf and (curve.pf[0], curve.pd[0]) == (0.0, 0.0)
    assert (curve.pf[-1], curve.pd[-1]) == (1.0, 1.0)
    assert np.all(np.diff(curve.thresholds) < 0)
    for tau, pf, pd in zip(curve.thresholds[1:], curve.pf[1:], curve.pd[1:]):
        assert pd == pytest.approx(np.mean(s[t] >= tau))
        assert pf == pytest.approx(np.mean(s[~t] >= tau))


def test_tau_aucs_step_equal_mean_normalised_scores(rng: np.random.Generator) -> None:
    s, t = _random_case(rng)
    u = (s - s.min()) / (s.max() - s.min())
    a = detection_aucs(s, t)
    # ∫_0^1 P(u >= τ) dτ = E[u] for u in [0, 1]
    assert a.auc_tau_pd == pytest.approx(u[t].mean(), abs=1e-12)
    assert a.auc_tau_pf == pytest.approx(u[~t].mean(), abs=1e-12)


def test_tau_aucs_trapezoid_matches_upstream_rule(rng: np.random.Generator) -> None:
    s, t = _random_case(rng, n=200)
    u = (s - s.min()) / (s.max() - s.min())
    taus = np.unique(u)  # increasing: upstream integrates Pd/Pf linearly between thresholds
    pd = np.array([np.mean(u[t] >= x) for x in taus])
    pf = np.array([np.mean(u[~t] >= x) for x in taus])
    a = detection_aucs(s, t, tau_integration="trapezoid")
    assert a.auc_tau_pd == pytest.approx(np.trapezoid(pd, taus), abs=1e-12)
    assert a.auc_tau_pf == pytest.approx(np.trapezoid(pf, taus), abs=1e-12)
    step = detection_aucs(s, t)
    assert step.auc_tau_pd <= a.auc_tau_pd and step.auc_tau_pf <= a.auc_tau_pf
    assert step.auc_pf_pd == a.auc_pf_pd


def test_derived_measures_and_upstream_order(rng: np.random.Generator) -> None:
    s, t = _random_case(rng)
    a = detection_aucs(s, t)
    assert a.auc_od == pytest.approx(a.auc_pf_pd + a.auc_tau_pd - a.auc_tau_pf)
    assert a.auc_snpr == pytest.approx(a.auc_tau_pd / a.auc_tau_pf)
    assert a.auc_td == pytest.approx(a.auc_pf_pd + a.auc_tau_pd)
    assert a.auc_bs == pytest.approx(a.auc_pf_pd - a.auc_tau_pf)
    assert a.auc_tdbs == pytest.approx(a.auc_tau_pd - a.auc_tau_pf)
    assert a.auc_odp == pytest.approx(a.auc_tau_pd + 1 - a.auc_tau_pf)
    assert a.upstream_five() == (a.auc_pf_pd, a.auc_tau_pf, a.auc_tau_pd, a.auc_od, a.auc_snpr)
    assert set(a.as_dict()) >= {"auc_pf_pd", "auc_snpr", "auc_od"}


def test_invariances(rng: np.random.Generator) -> None:
    s, t = _random_case(rng, ties=False)
    base = detection_aucs(s, t)
    # AUC(Pf, Pd) only sees the ranking; the τ-AUCs see min-max normalised scores
    assert auc_pf_pd(np.exp(s), t) == pytest.approx(base.auc_pf_pd, abs=1e-12)
    affine = detection_aucs(3.0 * s - 7.0, t)
    assert affine.auc_tau_pd == pytest.approx(base.auc_tau_pd, abs=1e-12)
    assert affine.auc_tau_pf == pytest.approx(base.auc_tau_pf, abs=1e-12)


def test_mask_equals_subset(rng: np.random.Generator) -> None:
    s, t = _random_case(rng)
    mask = rng.random(s.shape) < 0.5
    mask[:2] = True
    a, b = detection_aucs(s, t, mask=mask), detection_aucs(s[mask], t[mask])
    assert a == b


def test_perfect_reversed_and_constant() -> None:
    t = np.array([0, 0, 0, 1, 1], dtype=bool)
    perfect = detection_aucs(t.astype(float), t)
    assert (perfect.auc_pf_pd, perfect.auc_tau_pd, perfect.auc_tau_pf) == (1.0, 1.0, 0.0)
    assert perfect.auc_snpr == float("inf")
    assert auc_pf_pd(-t.astype(float), t) == 0.0
    flat = detection_aucs(np.full(5, 2.5), t)
    assert flat.auc_pf_pd == 0.5
    assert (flat.auc_tau_pd, flat.auc_tau_pf) == (0.0, 0.0)
    assert np.isnan(flat.auc_snpr)
    np.testing.assert_array_equal(minmax_normalize(np.full(3, 4.0)), np.zeros(3))


def test_two_dimensional_maps_and_tensors() -> None:
    scores = torch.tensor([[0.1, 0.9], [0.4, 0.2]])
    target = torch.tensor([[0, 1], [1, 0]])
    assert auc_pf_pd(scores, target) == 1.0


@pytest.mark.parametrize(
    ("scores", "target", "kwargs", "match"),
    [
        ([0.1, 0.2], [0, 0], {}, "at least one target and one background"),
        ([0.1, 0.2], [1, 1], {}, "0 background"),
        ([0.1, 0.2], [0, 2], {}, "binary map"),
        ([0.1, 0.2, 0.3], [0, 1], {}, "same shape"),
        ([0.1, np.nan], [0, 1], {}, "finite"),
        ([0.1, 1.2], [0, 1], {"normalize": False}, r"\[0, 1\]"),
        ([0.1, 0.2], [0, 1], {"tau_integration": "simpson"}, "tau_integration"),
        ([0.1, 0.2], [0, 1], {"mask": [0, 0]}, "at least one target"),
    ],
)
def test_bad_input(scores: list, target: list, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        detection_aucs(np.array(scores), np.array(target), **kwargs)
