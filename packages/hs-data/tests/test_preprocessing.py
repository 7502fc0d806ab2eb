"""PCA / BandScaler against float64 references; the inductive fit never looks at test pixels."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from hs_data.preprocessing import PCA, BandScaler, fit_on_split, pixels_of
from hs_data.splits import per_class_split


def scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mix = rng.random((6, 3))
    image = (mix @ rng.random((3, 20 * 15)) + 0.05 * rng.standard_normal((6, 300))).reshape(6, 20, 15)
    labels = rng.integers(1, 4, size=(20, 15))
    return image.astype(np.float32), labels


def test_pca_matches_covariance_eigendecomposition() -> None:
    x = pixels_of(scene()[0])
    pca = PCA(3).fit(x)
    cov = np.cov(x, rowvar=False)
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1][:3]
    np.testing.assert_allclose(pca.explained_variance_, evals[order], rtol=1e-9)
    np.testing.assert_allclose(np.abs(pca.components_ @ evecs[:, order]), np.eye(3), atol=1e-8)
    z = pca.transform(x)
    np.testing.assert_allclose(z.var(axis=0, ddof=1), evals[order], rtol=1e-9)
    w = PCA(3, whiten=True).fit(x).transform(x)
    np.testing.assert_allclose(w.var(axis=0, ddof=1), 1.0, rtol=1e-9)


def test_transform_of_cube_and_tensor() -> None:
    image, _ = scene()
    pca = PCA(2).fit(pixels_of(image))
    cube = pca.transform(image)
    assert cube.shape == (2, 20, 15) and cube.dtype == np.float32
    np.testing.assert_allclose(cube.reshape(2, -1).T, pca.transform(pixels_of(image)), rtol=1e-5, atol=1e-5)
    t = pca.transform(torch.from_numpy(image))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), cube)


def test_band_scaler_standardises_training_pixels() -> None:
    image, labels = scene(1)
    split = per_class_split(labels, 20, seed=0)
    scaler = fit_on_split(BandScaler(), image, split)
    train = scaler.transform(pixels_of(image, split.train))
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(train.std(axis=0), 1.0, rtol=1e-9)
    mm = fit_on_split(BandScaler("minmax"), image, split).transform(pixels_of(image, split.train))
    np.testing.assert_allclose(mm.min(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(mm.max(axis=0), 1.0, rtol=1e-12)
    whole = BandScaler("minmax", per_band=False).fit(pixels_of(image)).transform(image)
    assert whole.min() == pytest.approx(0.0, abs=1e-6) and whole.max() == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("make", [lambda: PCA(3, whiten=True), lambda: BandScaler()])
def test_fitted_transform_never_reads_test_pixels(make) -> None:
    image, labels = scene(2)
    split = per_class_split(labels, 10, val_per_class=2, seed=0)
    changed = image.copy()
    changed.reshape(6, -1)[:, split.test] = np.random.default_rng(9).random((6, split.test.size)) * 100
    a = fit_on_split(make(), image, split).state_dict()
    b = fit_on_split(make(), changed, split).state_dict()
    assert a == b  # bit-identical: the test pixels were not used
    # the upstream transductive variant does depend on them (so the comparison above can fail)
    c = fit_on_split(make(), image, split, transductive=True).state_dict()
    d = fit_on_split(make(), changed, split, transductive=True).state_dict()
    assert c != d


def test_transductive_fit_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    image, labels = scene(3)
    split = per_class_split(labels, 10, seed=0)
    with caplog.at_level(logging.WARNING, logger="hs_data.preprocessing"):
        fit_on_split(PCA(2), image, split, transductive=True)
    assert "test pixels included" in caplog.text


def test_state_dict_roundtrip_and_errors() -> None:
    image, _ = scene(4)
    x = pixels_of(image)
    for t in (PCA(3, whiten=True).fit(x), BandScaler().fit(x)):
        back = type(t).from_state_dict(t.state_dict())
        np.testing.assert_array_equal(back.transform(x), t.transform(x))
    with pytest.raises(RuntimeError, match="not fitted"):
        PCA(2).transform(x)
    with pytest.raises(ValueError, match="fitted on 6 bands, got 5"):
        BandScaler().fit(x).transform(x[:, :5])
    with pytest.raises(ValueError, match="n_components=7"):
        PCA(7).fit(x)
