from __future__ import annotations

import numpy as np
import pytest
from realdata import load_mat
from scipy.optimize import minimize

from hs_tasks.baselines import RBFSVM, cross_validate_svm, fit_svm
from hs_tasks.baselines.svm import _coordinate_descent, _interior_point, _rbf_from_sq, _solve_ovr, _sq_dists
from hs_tasks.metrics import classification_report


def _rings(g: np.random.Generator, n: int, bands: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Three concentric rings (radius 1, 2, 3) in a 2-D latent space, mixed into ``bands``
    correlated "spectral" bands plus noise, like spectra driven by a few latent factors. No linear
    rule separates concentric rings."""
    y = g.integers(0, 3, n)
    radius = 1.0 + y + 0.12 * g.normal(size=n)
    angle = g.uniform(0, 2 * np.pi, n)
    latent = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    mixing = np.random.default_rng(123).normal(size=(2, bands))
    return latent @ mixing + 0.1 * g.normal(size=(n, bands)) + 5.0, y


def test_solver_matches_a_generic_qp_solver(rng: np.random.Generator) -> None:
    """The dual solution equals L-BFGS-B's on the same box-constrained QP (independent solver)."""
    x, y = _rings(rng, 60, bands=3)
    kernel = _rbf_from_sq(_sq_dists(x, x), 0.5, 1.0)
    t = np.where(y == 1, 1.0, -1.0)
    c_value = 5.0
    coef, _, converged = _solve_ovr(kernel, t[:, None], c_value, 1e-8, 200_000)
    assert converged
    q = (t[:, None] * t[None, :]) * kernel
    res = minimize(
        lambda a: (0.5 * a @ q @ a - a.sum(), q @ a - 1.0),
        np.zeros(60),
        jac=True,
        bounds=[(0.0, c_value)] * 60,
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20_000},
    )
    ours = 0.5 * coef[:, 0] @ kernel @ coef[:, 0] - np.abs(coef[:, 0]).sum()
    assert ours == pytest.approx(res.fun, rel=1e-7)
    np.testing.assert_allclose(kernel @ coef[:, 0], kernel @ (t * res.x), atol=1e-4)


def test_ill_conditioned_dual_takes_the_interior_point_path(rng: np.random.Generator) -> None:
    """Tiny γ and large C: coordinate descent stalls, the interior-point method finishes the job."""
    x, y = _rings(rng, 150)
    z = (x - x.mean(0)) / x.std(0)
    kernel = _rbf_from_sq(_sq_dists(z, z), 0.25 / z.shape[1], 1.0)
    t = np.where(y == 1, 1.0, -1.0)[:, None]
    _, _, done = _coordinate_descent(kernel, t, np.zeros_like(t), 1000.0, 1e-3, 4 * 150)
    assert not done.all()  # the warm-up alone does not converge here
    coef, _, converged = _solve_ovr(kernel, t, 1000.0, 1e-3, 200 * 150)
    assert converged
    q = (t * t.T) * kernel
    ipm = _interior_point(q, -np.ones(150), 1000.0)  # the full problem, no working set
    a = np.abs(coef[:, 0])
    assert np.all((a >= 0) & (a <= 1000.0))
    ours, reference = 0.5 * a @ q @ a - a.sum(), 0.5 * ipm @ q @ ipm - ipm.sum()
    assert ours == pytest.approx(reference, rel=1e-6)


def test_kkt_conditions_hold_after_fit(rng: np.random.Generator) -> None:
    x, y = _rings(rng, 150)
    model = RBFSVM(C=10.0, gamma=0.5, tol=1e-4).fit(x, y)
    assert model.converged_
    z = (x - model.mean_) / model.scale_
    kernel = _rbf_from_sq(_sq_dists(z, z), 0.5, 1.0)
    targets = np.where(y[:, None] == model.classes_[None, :], 1.0, -1.0)
    full = np.zeros((150, 3))
    support_rows = [int(np.flatnonzero(np.all(z == s, axis=1))[0]) for s in model.support_]
    full[support_rows] = model.coef_
    alpha = targets * full
    grad = targets * (kernel @ full) - 1.0
    assert np.all((alpha >= -1e-12) & (alpha <= 10.0 + 1e-12))
    assert np.all(grad[alpha <= 0] >= -1e-4)
    assert np.all(grad[alpha >= 10.0] <= 1e-4)
    inside = (alpha > 0) & (alpha < 10.0)
    assert np.all(np.abs(grad[inside]) <= 1e-4)


def test_rbf_svm_solves_a_nonlinear_problem(rng: np.random.Generator) -> None:
    x, y = _rings(rng, 450)
    xt, yt = _rings(np.random.default_rng(1), 600)
    model, cv = fit_svm(x, y, n_folds=3)
    acc = np.mean(model.predict(xt) == yt)
    assert acc > 0.9
    assert cv.table[(cv.C, cv.gamma)] == max(cv.table.values())
    # a linear rule cannot do this: least squares on one-hot targets stays near chance
    design = np.c_[x, np.ones(len(x))]
    w = np.linalg.lstsq(design, np.eye(3)[y], rcond=None)[0]
    linear_acc = np.mean(np.argmax(np.c_[xt, np.ones(len(xt))] @ w, axis=1) == yt)
    assert linear_acc < 0.6


def test_labels_are_kept_and_standardisation_uses_training_pixels(rng: np.random.Generator) -> None:
    x, y = _rings(rng, 200)
    labels = np.array([3, 7, 11])[y]
    model = RBFSVM(C=10.0).fit(1000.0 * x + 5.0, labels)  # scale-free thanks to standardisation
    assert set(np.unique(model.predict(1000.0 * x + 5.0))) <= {3, 7, 11}
    np.testing.assert_allclose(model.mean_, (1000.0 * x + 5.0).mean(axis=0))
    assert np.mean(model.predict(1000.0 * x + 5.0) == labels) > 0.9


def test_unconverged_fit_warns(rng: np.random.Generator) -> None:
    x, y = _rings(rng, 60)
    with pytest.warns(RuntimeWarning, match="stopped after 5 coordinate steps"):
        model = RBFSVM(C=10.0, max_iter=5).fit(x, y)
    assert not model.converged_


def test_cv_is_deterministic_and_errors(rng: np.random.Generator) -> None:
    x, y = _rings(rng, 90)
    a = cross_validate_svm(x, y, c_grid=(1.0, 10.0), gamma_factors=(1.0,), seed=3)
    b = cross_validate_svm(x, y, c_grid=(1.0, 10.0), gamma_factors=(1.0,), seed=3)
    assert a == b
    with pytest.raises(ValueError, match="n_folds"):
        cross_validate_svm(x[:4], np.array([0, 0, 0, 1]), n_folds=3)
    with pytest.raises(ValueError, match="at least 2 classes"):
        RBFSVM().fit(x, np.zeros(90, dtype=int))
    with pytest.raises(RuntimeError, match="not fitted"):
        RBFSVM().predict(x)
    with pytest.raises(ValueError, match="bands"):
        RBFSVM().fit(x, y).predict(x[:, :3])
    with pytest.raises(ValueError, match="labels must be >= 0"):
        RBFSVM().fit(x, y - 1)


def test_salinas_a_real_scene() -> None:
    """Salinas-A (AVIRIS, 204 bands, 6 classes): 20 random training pixels per class, C/γ by 3-fold
    CV on those 120 pixels only, tested on the other 5,228 labelled pixels. Measured OA 0.964
    (seed 0); spectral SVMs are known to do well on this small, spectrally distinct subscene."""
    cube = load_mat("classification/salinas_a/SalinasA_corrected.mat")["salinasA_corrected"].astype(float)
    gt = load_mat("classification/salinas_a/SalinasA_gt.mat")["salinasA_gt"].astype(np.int64).ravel()
    pixels = cube.reshape(-1, cube.shape[-1])
    g = np.random.default_rng(0)
    train = np.concatenate([g.permutation(np.flatnonzero(gt == c))[:20] for c in np.unique(gt[gt > 0])])
    test = np.setdiff1d(np.flatnonzero(gt > 0), train)
    model, _ = fit_svm(pixels[train], gt[train])
    rep = classification_report(gt[test], model.predict(pixels[test]), num_classes=15)
    assert rep.oa > 0.93
    assert rep.aa > 0.93
    assert rep.kappa > 0.91
