"""Unmixing, denoising and SR task models and recipes on tiny backbones and synthetic scenes."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
import torch

import hs_data
from hs_backbone import create_backbone
from hs_data.synthetic import make_synthetic_scene
from hs_tasks import (
    FinetuneConfig,
    RecipeConfig,
    create_task_model,
    list_recipes,
    list_tasks,
    resolve_finetune,
    run_recipe,
)
from hs_tasks.dense import RandomCrops, SRCrops, band_split
from hs_tasks.tasks import denoising as denoising_module
from hs_tasks.tasks import super_resolution as sr_module
from hs_tasks.tasks import unmixing as unmixing_module
from hs_tasks.tasks.denoising import complex_training_noise

QUIET = {"progress": False}


def test_tasks_and_recipes_are_registered() -> None:
    for name in ("unmixing", "denoising", "super_resolution"):
        assert name in list_tasks()
        assert name in list_recipes()


def _backbone(kind: str, bands: int, size: int, patch: int) -> torch.nn.Module:
    common: dict[str, Any] = {"in_chans": bands, "img_size": size, "patch_size": patch, "fpn": "identity"}
    if kind == "spatial":
        return create_backbone("test_spatial_vit", **common, use_abs_pos_emb=False)
    return create_backbone("test_hypersigma", **common, num_tokens=16, spectral_level=3, proj_levels=(3,))


@pytest.mark.parametrize("kind", ["hypersigma", "spatial"])
def test_unmixing_model_forward_loss_backward(kind: str) -> None:
    torch.manual_seed(0)
    scene = make_synthetic_scene("unmixing", bands=12, size=(8, 8), num_classes=3)
    model = create_task_model(
        "unmixing",
        backbone=_backbone(kind, 12, 8, 2),
        num_endmembers=3,
        bands=12,
        endmembers=scene["endmembers"],
        channels=16,
    )
    batch = {
        k: torch.from_numpy(scene[k])[None].repeat(2, *([1] * scene[k].ndim))
        for k in ("image", "abundances", "endmembers")
    }
    out = model(batch)
    assert out.pred.shape == (2, 3, 8, 8) and out.extras["reconstruction"].shape == (2, 12, 8, 8)
    loss, logs = model.loss(out, batch)
    assert torch.isfinite(loss) and set(logs) == {"sad", "sparsity", "tv"}
    loss.backward()
    assert model.head.decoder.endmembers.grad is not None
    metrics = model.evaluate([batch])
    assert {"abundance_rmse", "mean_sad", "sad_0", "reconstruction_sad"} <= set(metrics)
    assert all(np.isfinite(v) for v in metrics.values())


def test_unmixing_tv_modes() -> None:
    scene = make_synthetic_scene("unmixing", bands=12, size=(8, 8), num_classes=3)
    batch = {"image": torch.from_numpy(scene["image"])[None]}
    values = {}
    for mode in ("abundance", "upstream", "none"):
        torch.manual_seed(0)
        model = create_task_model(
            "unmixing", backbone=_backbone("hypersigma", 12, 8, 2), num_endmembers=3, bands=12, tv_mode=mode
        )
        model.eval()
        values[mode] = model.loss(model(batch), batch)[1]["tv"]
    assert values["none"] == 0.0 and values["abundance"] > 0 and values["upstream"] > 0
    with pytest.raises(ValueError, match="tv_mode"):
        create_task_model(
            "unmixing", backbone=_backbone("hypersigma", 12, 8, 2), num_endmembers=3, bands=12, tv_mode="x"
        )


@pytest.mark.parametrize("kind", ["hypersigma", "spatial"])
def test_denoising_model_forward_loss_backward(kind: str) -> None:
    torch.manual_seed(0)
    model = create_task_model("denoising", backbone=_backbone(kind, 6, 8, 2), bands=6, tile=8)
    batch = {"image": torch.rand(2, 6, 8, 8), "image_noisy": torch.rand(2, 6, 8, 8)}
    out = model(batch)
    assert out.pred.shape == (2, 6, 8, 8)
    loss, _ = model.loss(out, batch)
    loss.backward()
    head_grads = [p.grad for p in model.head.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in head_grads)
    big = {k: torch.rand(1, 6, 16, 16) for k in ("image", "image_noisy")}
    tiles = [
        {k: v[..., r : r + 8, c : c + 8] for k, v in big.items()} | {"origin": torch.tensor([[r, c]])}
        for r in (0, 8)
        for c in (0, 4, 8)
    ]
    metrics = model.evaluate(tiles)
    assert set(metrics) == {"mpsnr", "mssim", "sam", "ergas"}


@pytest.mark.parametrize(("kind", "scale"), [("hypersigma", 4), ("spatial", 2)])
def test_sr_model_forward_loss_backward(kind: str, scale: int) -> None:
    torch.manual_seed(0)
    model = create_task_model("super_resolution", backbone=_backbone(kind, 5, 4, 1), bands=5, scale=scale)
    hr = torch.rand(2, 5, 4 * scale, 4 * scale)
    lr = torch.nn.functional.avg_pool2d(hr, scale)
    batch = {"image_lr": lr, "image_hr": hr}  # no image_bicubic: computed by the model
    out = model(batch)
    assert out.pred.shape == hr.shape
    loss, _ = model.loss(out, batch)
    loss.backward()
    assert all(p.grad is not None for p in model.head.parameters())
    assert model.evaluator().scale == scale


def test_resolve_finetune_uses_task_defaults_only_for_untouched_fields() -> None:
    cfg = RecipeConfig(seed=5, finetune=FinetuneConfig(epochs=3, progress=False))
    ft = resolve_finetune(cfg, epochs=20, lr=1e-3, batch_size=8)
    assert (ft.epochs, ft.lr, ft.batch_size, ft.seed, ft.progress) == (3, 1e-3, 8, 5, False)
    with pytest.raises(ValueError, match="unknown FinetuneConfig fields"):
        resolve_finetune(cfg, epoch=1)


def test_band_split_gives_disjoint_bands() -> None:
    assert band_split(256, 0.25, 0.125, 32) == {"train": (0, 160), "val": (160, 192), "test": (192, 256)}
    assert band_split(256, 0.25, 0.125, 32, side="top") == {
        "test": (0, 64),
        "val": (64, 96),
        "train": (96, 256),
    }
    assert band_split(90, 0.25, 0.0, 16) == {"train": (0, 68), "val": (68, 68), "test": (68, 90)}
    cols = band_split(100, 0.4, 0.0, 32, side="right", multiple=8)
    assert cols["test"] == (60, 100) and cols["train"] == (0, 56)
    for part in cols.values():
        assert (part[1] - part[0]) % 8 == 0
    with pytest.raises(ValueError, match="training pixels"):
        band_split(60, 0.5, 0.25, 32)
    with pytest.raises(ValueError, match="training pixels"):
        band_split(60, 0.5, 0.0, 32, multiple=8)
    with pytest.raises(ValueError, match="side"):
        band_split(60, 0.25, 0.0, 8, side="middle")


def test_complex_training_noise_adds_noise() -> None:
    x = torch.full((6, 16, 16), 0.5)
    outs = [complex_training_noise(x, np.random.default_rng(s)) for s in range(6)]
    assert all(o.shape == x.shape and not torch.equal(o, x) for o in outs)


# ----------------------------------------------------------------------------- recipes, no files


class _Recorder(RandomCrops):
    """RandomCrops that remembers the cubes the recipes train on."""

    seen: ClassVar[list[np.ndarray]] = []

    def __init__(self, cube: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(cube, *args, **kwargs)
        _Recorder.seen.append(self.cube.numpy().copy())


class _SRRecorder(SRCrops):
    """SRCrops that remembers the HR region it trains on."""

    def __init__(self, hr: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(hr, *args, **kwargs)
        _Recorder.seen.append(np.asarray(hr).copy())


@pytest.fixture
def synthetic_scenes(monkeypatch: pytest.MonkeyPatch) -> None:
    """``load_scene`` returns synthetic scenes (the recipes' file-free path); RandomCrops records."""

    def fake(name: str, root: Any = None, keys: Any = None, **_: Any) -> dict[str, Any]:
        task = {"syn_unmix": "unmixing", "syn_denoise": "denoising", "syn_sr": "denoising"}[name]
        size = (40, 48) if name == "syn_sr" else (40, 40)
        return make_synthetic_scene(task, bands=10, size=size, num_classes=3, seed=1)

    monkeypatch.setattr(hs_data, "load_scene", fake)
    _Recorder.seen = []
    for module in (unmixing_module, denoising_module):
        monkeypatch.setattr(module, "RandomCrops", _Recorder)
    monkeypatch.setattr(sr_module, "SRCrops", _SRRecorder)


def _tiny(**options: Any) -> RecipeConfig:
    return RecipeConfig(finetune=FinetuneConfig(epochs=1, batch_size=4, **QUIET), options=options)


def test_unmixing_recipe_end_to_end_synthetic(synthetic_scenes: None) -> None:
    r = run_recipe("unmixing", "syn_unmix", _tiny(tile=8, patches_per_epoch=4, num_tokens=4))
    assert r.main_metric == "abundance_rmse" and not r.higher_is_better
    assert {"abundance_rmse", "mean_sad"} <= set(r.metrics) and {"abundance_rmse", "mean_sad"} <= set(
        r.baseline
    )
    assert r.artifacts["abundances"].shape == (3, 40, 40)
    assert r.finetune is not None and r.finetune.val_history == []  # no selection
    assert len(_Recorder.seen) == 1


def test_denoising_recipe_end_to_end_synthetic_without_leakage(synthetic_scenes: None) -> None:
    r = run_recipe(
        "denoising", "syn_denoise", _tiny(tile=12, test_fraction=0.3, patches_per_epoch=4, num_tokens=4)
    )
    rows = r.split["bands"]
    assert r.split["side"] == "bottom"
    assert rows["train"][1] <= rows["val"][0] <= rows["val"][1] <= rows["test"][0]
    scene = make_synthetic_scene("denoising", bands=10, size=(40, 40), num_classes=3, seed=1)["image"]
    low, high = r.split["scaling"]["min"], r.split["scaling"]["max"]
    (trained,) = _Recorder.seen
    expected = (scene[:, slice(*rows["train"])] - low) / (high - low)
    np.testing.assert_allclose(trained, expected, rtol=1e-6, atol=1e-6)  # the training rows, nothing else
    assert r.artifacts["denoised"].shape == (10, rows["test"][1] - rows["test"][0], 40)
    assert r.finetune is not None and len(r.finetune.val_history) == 1  # selection on validation rows
    assert {"mpsnr", "input_mpsnr"} <= set(r.metrics) and "mpsnr" in r.baseline


def test_sr_recipe_end_to_end_synthetic_without_leakage(synthetic_scenes: None) -> None:
    r = run_recipe(
        "super_resolution",
        "syn_sr",
        _tiny(scale=4, lr_tile=2, patches_per_epoch=4, num_tokens=4, test_side="right"),
    )
    cols = r.split["bands"]
    assert r.split["side"] == "right"
    (trained,) = _Recorder.seen
    scene = make_synthetic_scene("denoising", bands=10, size=(40, 48), num_classes=3, seed=1)["image"]
    peak = r.split["scaling"]["divided_by"]
    np.testing.assert_allclose(trained, scene[:, :, slice(*cols["train"])] / peak, rtol=1e-6)
    assert cols["train"][1] <= cols["test"][0]
    assert r.artifacts["sr"].shape == r.artifacts["hr"].shape
    assert set(r.metrics) == {"mpsnr", "mssim", "sam", "ergas", "cc", "rmse"} == set(r.baseline)


def test_recipes_reject_unknown_options(synthetic_scenes: None) -> None:
    with pytest.raises(ValueError, match="unknown option"):
        run_recipe("denoising", "syn_denoise", _tiny(tile_size=8))
