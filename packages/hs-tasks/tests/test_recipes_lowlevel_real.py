"""Unmixing, denoising and SR recipes end to end on real scenes (HS_DATA_ROOT), tiny budgets.

Each test runs the registered recipe with the tiny ``test_hypersigma`` backbone for a few steps and
checks: it runs, the metrics are finite, the split keeps test pixels out of training (recorded from
the training dataset itself), and a quality floor that training from scratch reaches reliably in that
budget (an identity or trivial-method floor, not the classical baseline: see the README table for
the longer comparison). Heavier variants are marked ``slow``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from realdata import data_root

import hs_data
from hs_data.synthetic import make_sr_pair
from hs_tasks import FinetuneConfig, RecipeConfig, run_recipe
from hs_tasks.dense import RandomCrops, SRCrops, take_band
from hs_tasks.metrics import image_quality, unmixing_report
from hs_tasks.tasks import denoising as denoising_module
from hs_tasks.tasks import super_resolution as sr_module
from hs_tasks.tasks import unmixing as unmixing_module


class _Seen:
    cubes: ClassVar[list[np.ndarray]] = []


class _Crops(RandomCrops):
    def __init__(self, cube: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(cube, *args, **kwargs)
        _Seen.cubes.append(self.cube.numpy().copy())


class _SRCrops(SRCrops):
    def __init__(self, hr: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(hr, *args, **kwargs)
        _Seen.cubes.append(np.asarray(hr).copy())


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> type[_Seen]:
    data_root()  # skip without HS_DATA_ROOT
    _Seen.cubes = []
    monkeypatch.setattr(unmixing_module, "RandomCrops", _Crops)
    monkeypatch.setattr(denoising_module, "RandomCrops", _Crops)
    monkeypatch.setattr(sr_module, "SRCrops", _SRCrops)
    return _Seen


def _config(epochs: int, options: dict[str, Any], **finetune: Any) -> RecipeConfig:
    return RecipeConfig(
        backbone="test_hypersigma",
        seed=0,
        options=options,
        finetune=FinetuneConfig(epochs=epochs, batch_size=8, progress=False, **finetune),
    )


def _finite(values: dict[str, float]) -> None:
    bad = {k: v for k, v in values.items() if not np.isfinite(v)}
    assert not bad, bad


# ----------------------------------------------------------------------------------------- unmixing


def _uniform_rmse(dataset: str) -> float:
    scene = hs_data.load_scene(dataset)
    ab = scene["abundances"]
    flat = np.full_like(ab, 1.0 / ab.shape[0])
    return float(
        unmixing_report(scene["endmembers"], scene["endmembers"], ab, flat).mean_abundance_rmse or 0.0
    )


@pytest.mark.parametrize(
    "dataset",
    ["samson", pytest.param("jasper_ridge", marks=pytest.mark.slow)],
)
def test_unmixing_recipe_on_real_scene(dataset: str, recorded: type[_Seen]) -> None:
    r = run_recipe("unmixing", dataset, _config(4, {"patches_per_epoch": 32}))
    _finite(r.metrics)
    _finite(r.baseline)
    scene = hs_data.load_scene(dataset)
    # unsupervised: the training tiles come from the cube alone (no reference key is ever read)
    (cube,) = recorded.cubes
    np.testing.assert_array_equal(cube, scene["image"])
    ab = r.artifacts["abundances"]
    assert ab.shape == scene["abundances"].shape
    np.testing.assert_allclose(ab.sum(0), 1.0, atol=1e-5)
    assert (ab >= 0).all() and (r.artifacts["endmembers"] >= 0).all()
    # floor: better abundances than the uninformed guess 1/e everywhere
    assert r.metrics["abundance_rmse"] < _uniform_rmse(dataset)
    # the decoder starts from the baseline's VCA endmembers; a short run keeps them close
    assert r.metrics["mean_sad"] < r.baseline["mean_sad"] + 0.1


# ---------------------------------------------------------------------------------------- denoising


DENOISE = [
    pytest.param("cave_chart_and_stuffed_toy", {"noise": "gaussian"}, 3.0, id="cave-gaussian"),
    pytest.param(
        "cave_chart_and_stuffed_toy", {"noise": "complex"}, 3.0, id="cave-complex", marks=pytest.mark.slow
    ),
    pytest.param(
        "aviris_gatorsense",
        {"noise": "gaussian", "tile": 16},
        3.0,
        id="aviris-gaussian",
        marks=pytest.mark.slow,
    ),
]


@pytest.mark.parametrize(("dataset", "options", "gain_db"), DENOISE)
def test_denoising_recipe_on_real_scene(
    dataset: str, options: dict[str, Any], gain_db: float, recorded: type[_Seen]
) -> None:
    r = run_recipe("denoising", dataset, _config(10, {"patches_per_epoch": 32, **options}))
    _finite(r.metrics)
    _finite(r.baseline)
    side, bands = r.split["side"], r.split["bands"]
    test, train = bands["test"], bands["train"]
    assert train[1] <= test[0] or test[1] <= train[0]  # disjoint bands of rows
    (seen,) = recorded.cubes
    image = hs_data.load_scene(dataset)["image"][r.split["bands_kept"]]
    low, high = r.split["scaling"]["min"], r.split["scaling"]["max"]
    expected = (take_band(image.astype(np.float64), tuple(train), side) - low) / (high - low)
    np.testing.assert_allclose(seen, expected, rtol=1e-5, atol=1e-6)  # trained on the train rows only
    assert r.finetune is not None and r.finetune.val_history  # selected on validation rows
    # floor: clearly better than the noisy input
    assert r.metrics["mpsnr"] > r.metrics["input_mpsnr"] + gain_db


# ----------------------------------------------------------------------------------- super-resolution


def _nearest_mpsnr(hr: np.ndarray, lr: np.ndarray, scale: int) -> float:
    up = torch.nn.functional.interpolate(torch.from_numpy(lr)[None], scale_factor=scale, mode="nearest")[0]
    return image_quality(hr, up.numpy(), data_range=1.0).mpsnr


SR = [
    pytest.param("pavia_car_had", 4, id="pavia-x4"),
    pytest.param("pavia_car_had", 8, id="pavia-x8", marks=pytest.mark.slow),
    pytest.param("paris_eo1_hs_ms", 4, id="paris-x4", marks=pytest.mark.slow),
    pytest.param("paris_eo1_hs_ms", 8, id="paris-x8", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("dataset", "scale"), SR)
def test_sr_recipe_on_real_scene(dataset: str, scale: int, recorded: type[_Seen]) -> None:
    r = run_recipe("super_resolution", dataset, _config(2, {"scale": scale, "patches_per_epoch": 32}))
    _finite(r.metrics)
    _finite(r.baseline)
    side, bands = r.split["side"], r.split["bands"]
    assert bands["train"][1] <= bands["test"][0] or bands["test"][1] <= bands["train"][0]
    (seen,) = recorded.cubes
    image = hs_data.load_scene(dataset)["image"].astype(np.float64) / r.split["scaling"]["divided_by"]
    np.testing.assert_allclose(seen, take_band(image, tuple(bands["train"]), side), rtol=1e-5, atol=1e-7)
    hr, lr = r.artifacts["hr"], r.artifacts["lr"]
    pair = make_sr_pair(take_band(image, tuple(bands["test"]), side), scale)
    np.testing.assert_allclose(hr, pair["image_hr"], rtol=1e-5, atol=1e-7)  # the test region, whole
    assert r.artifacts["sr"].shape == hr.shape
    # floor: better than nearest-neighbour upsampling (the trivial method)
    assert r.metrics["mpsnr"] > _nearest_mpsnr(hr, lr, scale)


# ------------------------------------------------------------------------- semi-synthetic scenes


def test_denoising_semisynthetic_cases_test_on_their_stored_noise(recorded: type[_Seen]) -> None:
    """``semisyn_denoising_cave_case{k}`` ship a noisy cube: the recipe scores that noise, per case."""
    inputs = {}
    for case in (2, 4):
        dataset = f"semisyn_denoising_cave_case{case}"
        r = run_recipe("denoising", dataset, _config(1, {"patches_per_epoch": 8}))
        _finite(r.metrics)
        assert r.config["options"]["noise"] == "complex"  # trained with the family the cases come from
        scene = hs_data.load_scene(dataset)
        kept, side = r.split["bands_kept"], r.split["side"]
        low, high = r.split["scaling"]["min"], r.split["scaling"]["max"]
        test = tuple(r.split["bands"]["test"])
        clean = (take_band(scene["image"][kept].astype(np.float64), test, side) - low) / (high - low)
        noisy = (take_band(scene["image_noisy"][kept].astype(np.float64), test, side) - low) / (high - low)
        expected = image_quality(clean, noisy, data_range=1.0).mpsnr
        assert r.metrics["input_mpsnr"] == pytest.approx(expected, abs=1e-3)
        inputs[case] = r.metrics["input_mpsnr"]
    assert abs(inputs[2] - inputs[4]) > 0.1  # different cases are different rows


def test_sr_semisynthetic_pair_fixes_its_scale(recorded: type[_Seen]) -> None:
    r = run_recipe("super_resolution", "semisyn_sr_cave_x8", _config(1, {"patches_per_epoch": 8}))
    _finite(r.metrics)
    assert r.split["scale"] == 8 and r.config["options"]["scale"] == 8
    hr = r.artifacts["hr"]
    assert r.artifacts["lr"].shape[1:] == (hr.shape[1] // 8, hr.shape[2] // 8)
    with pytest.raises(ValueError, match="x8 pair"):
        run_recipe("super_resolution", "semisyn_sr_cave_x8", _config(1, {"scale": 4}))
