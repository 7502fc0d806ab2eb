from __future__ import annotations

import numpy as np
import pytest
import torch

from hs_tasks.metrics import cc, ergas, image_quality, mpsnr, mssim, psnr_per_band, rmse, sam, ssim_per_band
from hs_tasks.metrics.image_quality import gaussian_window


def _ssim_brute_force(x: np.ndarray, y: np.ndarray, peak: float) -> float:
    """Mean SSIM of one band by explicit 11x11 windows (valid positions), Wang et al. (2004)."""
    r = np.arange(11) - 5.0
    g = np.exp(-(r**2) / (2 * 1.5**2))
    win = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    vals = []
    for i in range(x.shape[0] - 10):
        for j in range(x.shape[1] - 10):
            a, b = x[i : i + 11, j : j + 11], y[i : i + 11, j : j + 11]
            ma, mb = (win * a).sum(), (win * b).sum()
            va = (win * (a - ma) ** 2).sum()
            vb = (win * (b - mb) ** 2).sum()
            cov = (win * (a - ma) * (b - mb)).sum()
            vals.append(((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
    return float(np.mean(vals))


def test_ssim_against_brute_force(rng: np.random.Generator) -> None:
    x = rng.random((2, 14, 17))
    y = np.clip(x + 0.1 * rng.normal(size=x.shape), 0, 1)
    got = ssim_per_band(x, y, data_range=1.0)
    for b in range(2):
        assert got[b] == pytest.approx(_ssim_brute_force(x[b], y[b], 1.0), abs=1e-12)


def test_ssim_identical_constant_and_symmetry(rng: np.random.Generator) -> None:
    x = rng.random((3, 20, 20))
    assert mssim(x, x, data_range=1.0) == pytest.approx(1.0, abs=1e-12)
    # constant images: only the luminance term remains, (2ab + C1) / (a² + b² + C1)
    a, b = 0.3, 0.6
    c1 = (0.01 * 1.0) ** 2
    got = mssim(np.full((1, 12, 12), a), np.full((1, 12, 12), b), data_range=1.0)
    assert got == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), abs=1e-12)
    y = rng.random((3, 20, 20))
    assert mssim(x, y, data_range=1.0) == pytest.approx(mssim(y, x, data_range=1.0))
    assert mssim(x, y, data_range=1.0) < 0.5
    np.testing.assert_allclose(gaussian_window().sum(), 1.0)


def test_psnr_hand_values() -> None:
    x = np.zeros((2, 4, 4))
    y = x.copy()
    y[0] += 0.1
    np.testing.assert_allclose(psnr_per_band(x, y, data_range=1.0), [20.0, np.inf])
    assert mpsnr(x, y + 0.1, data_range=1.0) == pytest.approx(np.mean([10 * np.log10(1 / 0.04), 20.0]))
    assert mpsnr(x, y, data_range=1.0) == np.inf
    assert mpsnr(x, x + 25.5, data_range=255.0) == pytest.approx(20.0)


def test_sam_hand_value() -> None:
    x = np.zeros((2, 1, 2))
    y = np.zeros((2, 1, 2))
    x[:, 0, 0], y[:, 0, 0] = [1, 0], [1, 1]  # 45°
    x[:, 0, 1], y[:, 0, 1] = [2, 2], [1, 1]  # 0°
    assert sam(x, y) == pytest.approx(22.5)
    y[:, 0, 1] = 0.0  # a zero estimate against a non-zero truth counts 90°
    assert sam(x, y) == pytest.approx(67.5)


def test_ergas_hand_value() -> None:
    x = np.full((2, 3, 3), 2.0)
    y = np.full((2, 3, 3), 2.2)  # RMSE/mean = 0.1 in both bands
    assert ergas(x, y) == pytest.approx(10.0)
    assert ergas(x, y, scale=4) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="zero mean"):
        ergas(np.zeros((1, 3, 3)), y[:1])


def test_cc_and_rmse_against_numpy(rng: np.random.Generator) -> None:
    x = rng.random((3, 8, 9))
    y = x + 0.3 * rng.random((3, 8, 9))
    expected = np.mean([np.corrcoef(x[b].ravel(), y[b].ravel())[0, 1] for b in range(3)])
    assert cc(x, y) == pytest.approx(expected)
    assert rmse(x, y) == pytest.approx(np.sqrt(np.mean((x - y) ** 2)))
    flat = np.ones((1, 4, 4))
    assert cc(flat, flat) == 1.0 and cc(flat, 2 * flat) == 0.0


def test_report_and_tensor_input(rng: np.random.Generator) -> None:
    x = rng.random((4, 16, 16)).astype(np.float32)
    y = x + 0.01
    rep = image_quality(torch.from_numpy(x), torch.from_numpy(y), data_range=1.0, scale=4)
    assert rep.mpsnr == pytest.approx(40.0, abs=1e-3)
    assert rep.rmse == pytest.approx(0.01, abs=1e-6)
    assert set(rep.as_dict()) == {"mpsnr", "mssim", "sam", "ergas", "cc", "rmse"}
    half = torch.from_numpy(x).to(torch.bfloat16)  # what a mixed-precision head would hand over
    assert mpsnr(half, half, data_range=1.0) == np.inf


@pytest.mark.parametrize(
    ("shape_x", "shape_y", "kwargs", "match"),
    [
        ((2, 16, 16), (2, 16, 15), {}, "same shape"),
        ((16, 16), (16, 16), {}, "3 dims"),
        ((1, 10, 16), (1, 10, 16), {}, ">= 11"),
        ((1, 16, 16), (1, 16, 16), {"data_range": 0.0}, "data_range"),
    ],
)
def test_bad_input(shape_x: tuple, shape_y: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        mssim(np.ones(shape_x), np.ones(shape_y), **{"data_range": 1.0, **kwargs})
