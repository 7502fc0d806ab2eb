from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from hs_tasks.metrics import match_endmembers, sad_matrix, spectral_angle, unmixing_report


def test_spectral_angle_hand_values() -> None:
    a = np.array([[1.0, 0.0], [1.0, 1.0], [2.0, 0.0], [1.0, 0.0]])
    b = np.array([[0.0, 3.0], [2.0, 2.0], [-1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(spectral_angle(a, b), [np.pi / 2, 0.0, np.pi, np.pi / 4], atol=1e-7)
    np.testing.assert_allclose(spectral_angle(a, b, degrees=True), [90.0, 0.0, 180.0, 45.0], atol=1e-5)


def test_zero_vector_conventions() -> None:
    z = np.zeros(3)
    assert spectral_angle(z, z) == 0.0
    assert spectral_angle(z, np.ones(3)) == pytest.approx(np.pi / 2)


def test_sad_matrix_against_cosine_distance(rng: np.random.Generator) -> None:
    ref, est = rng.random((4, 30)), rng.random((6, 30))
    expected = np.arccos(np.clip(1.0 - cdist(ref, est, metric="cosine"), -1, 1))
    np.testing.assert_allclose(sad_matrix(ref, est), expected, atol=1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_hungarian_matching_is_optimal(seed: int) -> None:
    g = np.random.default_rng(seed)
    ref, est = g.random((5, 12)), g.random((5, 12))
    cost = sad_matrix(ref, est)
    perm = match_endmembers(ref, est)
    best = min(itertools.permutations(range(5)), key=lambda q: sum(cost[i, q[i]] for i in range(5)))
    assert cost[np.arange(5), perm].sum() == pytest.approx(sum(cost[i, best[i]] for i in range(5)))


def _unit(deg: float) -> np.ndarray:
    return np.array([np.cos(np.radians(deg)), np.sin(np.radians(deg)), 0.0])


def test_matching_beats_greedy_on_a_conflict() -> None:
    # SAD = angle difference: ref at 0° and 30°, estimates at 5° and -40°.
    ref = np.stack([_unit(0), _unit(30)])
    est = np.stack([_unit(5), _unit(-40)])
    cost = np.degrees(sad_matrix(ref, est))
    # greedy in reference order (upstream): ref 0 takes est 0 (5°), ref 1 is left with est 1 (70°)
    used: list[int] = []
    for i in range(2):
        used.append(min((j for j in range(2) if j not in used), key=lambda j: cost[i, j]))
    assert cost[[0, 1], used].sum() == pytest.approx(75.0)
    perm = match_endmembers(ref, est)
    assert perm.tolist() == [1, 0]
    assert cost[[0, 1], perm].sum() == pytest.approx(65.0)


def test_report_recovers_permutation_and_scores(rng: np.random.Generator) -> None:
    ref = rng.random((3, 20)) + 0.1
    a_ref = rng.dirichlet(np.ones(3), size=(5, 6)).transpose(2, 0, 1)  # (e, h, w)
    order = np.array([2, 0, 1])
    est = np.empty_like(ref)
    est[order] = 2.0 * ref  # scaled copies, shuffled: SAD is scale-invariant
    a_est = np.empty_like(a_ref)
    a_est[order] = a_ref + 0.1
    rep = unmixing_report(ref, est, a_ref, a_est)
    np.testing.assert_array_equal(rep.permutation, order)
    np.testing.assert_allclose(rep.sad, 0.0, atol=1e-6)
    np.testing.assert_allclose(rep.abundance_rmse, 0.1)
    assert rep.mean_abundance_rmse == pytest.approx(0.1)
    assert rep.mean_abundance_mse == pytest.approx(0.01)
    deg = unmixing_report(ref, est, degrees=True)
    assert deg.abundance_rmse is None and deg.mean_sad == pytest.approx(0.0, abs=1e-4)


def test_report_rmse_hand_value() -> None:
    ref = np.eye(2)
    a_ref = np.array([[1.0, 0.0, 0.5, 0.5], [0.0, 1.0, 0.5, 0.5]])
    a_est = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    rep = unmixing_report(ref, ref, a_ref, a_est)
    np.testing.assert_allclose(rep.abundance_rmse, [np.sqrt(0.5 / 4), np.sqrt(0.5 / 4)])
    np.testing.assert_allclose(rep.abundance_mse, [0.125, 0.125])


def test_fixed_permutation_and_errors(rng: np.random.Generator) -> None:
    ref = rng.random((2, 5))
    rep = unmixing_report(ref, ref[::-1], permutation=[1, 0])
    np.testing.assert_allclose(rep.sad, 0.0, atol=1e-7)
    with pytest.raises(ValueError, match="distinct"):
        unmixing_report(ref, ref, permutation=[0, 0])
    with pytest.raises(ValueError, match="at least as many"):
        match_endmembers(ref, ref[:1])
    with pytest.raises(ValueError, match="same number of bands"):
        sad_matrix(ref, rng.random((2, 6)))
    with pytest.raises(ValueError, match="both"):
        unmixing_report(ref, ref, rng.random((2, 4)))
    with pytest.raises(ValueError, match="endmember axis first"):
        unmixing_report(ref, ref, rng.random((4, 2)), rng.random((4, 2)))
