from __future__ import annotations

import numpy as np
import pytest
from realdata import load_unmixing
from scipy.optimize import minimize

from hs_tasks.baselines import estimate_snr, fcls, vca
from hs_tasks.metrics import unmixing_report


def _synthetic_mixture(g: np.random.Generator, e: int = 4, c: int = 50, side: int = 30, noise: float = 0.0):
    """Smooth positive endmembers, Dirichlet abundances with one pure pixel per endmember."""
    grid = np.linspace(0, 1, c)
    endmembers = np.stack([0.2 + 0.6 * np.exp(-((grid - m) ** 2) / 0.05) for m in g.uniform(0, 1, e)])
    endmembers += 0.1 * g.random((e, c))
    abundances = g.dirichlet(0.5 * np.ones(e), size=side * side).T  # (e, p)
    abundances[:, :e] = np.eye(e)
    pixels = endmembers.T @ abundances + noise * g.normal(size=(c, side * side))
    return pixels.reshape(c, side, side), endmembers, abundances.reshape(e, side, side)


def test_vca_finds_pure_pixels_without_noise(rng: np.random.Generator) -> None:
    cube, endmembers, _ = _synthetic_mixture(rng)
    result = vca(cube, 4, seed=0)
    assert result.projective  # noise-free data: very high SNR
    rep = unmixing_report(endmembers, result.endmembers)
    assert rep.mean_sad < 1e-6
    assert sorted(result.indices.tolist()) == [0, 1, 2, 3]  # the pure pixels we planted


def test_vca_low_snr_branch(rng: np.random.Generator) -> None:
    cube, endmembers, _ = _synthetic_mixture(rng, noise=0.05)
    result = vca(cube, 4, snr_db=5.0, seed=0)  # force the PCA (p - 1) projection
    assert not result.projective
    assert unmixing_report(endmembers, result.endmembers).mean_sad < 0.15
    assert estimate_snr(cube.reshape(cube.shape[0], -1), 4) > 10.0


def _fcls_slsqp(m: np.ndarray, x: np.ndarray) -> np.ndarray:
    e = m.shape[0]
    res = minimize(
        lambda a: float(np.sum((m.T @ a - x) ** 2)),
        np.full(e, 1.0 / e),
        jac=lambda a: 2.0 * m @ (m.T @ a - x),
        bounds=[(0.0, 1.0)] * e,
        constraints=[{"type": "eq", "fun": lambda a: a.sum() - 1.0, "jac": lambda a: np.ones_like(a)}],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 500},
    )
    return res.x


def test_fcls_against_a_generic_constrained_solver(rng: np.random.Generator) -> None:
    cube, endmembers, _ = _synthetic_mixture(rng, noise=0.05, side=6)
    cube[:, 0, 0] = -0.5 * endmembers[0] + 1.5 * endmembers[1]  # outside the simplex: a bound is active
    ab = fcls(cube, endmembers)
    assert np.all(ab >= 0)
    np.testing.assert_allclose(ab.sum(axis=0), 1.0, atol=1e-6)
    pixels = cube.reshape(cube.shape[0], -1)
    for i in range(0, pixels.shape[1], 5):
        np.testing.assert_allclose(ab.reshape(4, -1)[:, i], _fcls_slsqp(endmembers, pixels[:, i]), atol=1e-4)
    assert ab[0, 0, 0] == pytest.approx(0.0, abs=1e-6)


def test_fcls_recovers_exact_abundances(rng: np.random.Generator) -> None:
    cube, endmembers, abundances = _synthetic_mixture(rng, side=8)
    np.testing.assert_allclose(fcls(cube, endmembers), abundances, atol=1e-6)


def test_bad_input(rng: np.random.Generator) -> None:
    cube = rng.random((5, 4, 4))
    with pytest.raises(ValueError, match="n_endmembers"):
        vca(cube, 1)
    with pytest.raises(ValueError, match="bands"):
        fcls(cube, rng.random((3, 6)))


# Real scenes (Zhu's benchmark release, via HS_DATA_ROOT). Numbers measured with seed 0. The
# reference abundances are not consistent in scale with the reference endmembers (Samson's M is
# max-normalised), so FCLS with the *reference* endmembers already has abundance RMSE 0.42 on
# Samson and 0.085 on Jasper Ridge: the RMSE floor mostly reflects that convention.
def test_vca_fcls_on_samson() -> None:
    """Samson (95x95, 156 bands, 3 endmembers). Measured: SAD (rad) [0.021, 0.050, 0.105],
    mean SAD 0.058; abundance RMSE 0.272."""
    cube, endmembers, abundances = load_unmixing("samson")
    found = vca(cube, 3, seed=0)
    rep = unmixing_report(endmembers, found.endmembers, abundances, fcls(cube, found.endmembers))
    assert rep.mean_sad < 0.08
    assert np.all(rep.sad < 0.15)
    assert rep.mean_abundance_rmse < 0.30


def test_vca_fcls_on_jasper_ridge() -> None:
    """Jasper Ridge (100x100, 198 bands, 4 endmembers). Measured: SAD (rad) [0.177, 0.254, 0.226,
    0.532] (the road endmember is the hard one, as usual for VCA here), mean SAD 0.297; abundance
    RMSE 0.199."""
    cube, endmembers, abundances = load_unmixing("jasper_ridge")
    found = vca(cube, 4, seed=0)
    rep = unmixing_report(endmembers, found.endmembers, abundances, fcls(cube, found.endmembers))
    assert rep.mean_sad < 0.33
    assert rep.mean_abundance_rmse < 0.23
    np.testing.assert_allclose(fcls(cube[:, :10, :10], endmembers).sum(axis=0), 1.0, atol=1e-6)
