"""Export: the trained encoder loads into hs-backbone with no unexpected keys and computes the same."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import hs_backbone
from hs_backbone.training import load_checkpoint
from hs_pretrain import (
    PretrainConfig,
    backbone_recipe,
    create_backbone_from_export,
    create_mae,
    export_encoder,
    export_official,
    load_mae,
    pretrain,
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import numpy as np

    root = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(0)
    (root / "scenes").mkdir()
    for i in range(2):
        np.save(root / "scenes" / f"s{i}.npy", rng.random((16, 16, 16), dtype=np.float32))
    out = {}
    torch.set_num_threads(1)
    for name in ("test_spatial_mae", "test_spectral_mae"):
        cfg = PretrainConfig(
            model=name,
            sources=[str(root / "scenes")],
            scale=None,
            epochs=1,
            batch_size=4,
            samples_per_epoch=8,
            blr=0.1,
            warmup_epochs=0,
            out_dir=str(root / name),
            progress=False,
            dtype="float64",
        )
        out[name] = Path(pretrain(cfg).checkpoint or "")
    return out


def _backbone_kwargs(name: str) -> tuple[str, dict]:
    if name == "test_spatial_mae":
        return "test_spatial_vit", {"in_chans": 8, "img_size": 8, "patch_size": 2}
    return "test_spectral_vit", {"num_tokens": 16, "img_size": 8, "in_chans": 16}


@pytest.mark.parametrize("name", ["test_spatial_mae", "test_spectral_mae"])
def test_the_export_loads_with_no_unexpected_keys_and_computes_the_mae_encoder(
    runs: dict[str, Path], tmp_path: Path, name: str
) -> None:
    path = tmp_path / "encoder.pt"
    config = export_encoder(runs[name], path)
    assert config["format"] == "hs_backbone" and config["bands"]["count"] in (8, 16)
    backbone_name, kwargs = _backbone_kwargs(name)
    assert config["backbone"] == {"name": backbone_name, "overrides": kwargs}
    exported = load_checkpoint(path)["state_dict"]
    assert not [k for k in exported if k.startswith(("decoder", "mask_token", "encoder."))]

    model = hs_backbone.create_backbone(backbone_name, pretrained=str(path), dtype=torch.float64, **kwargs)
    report = model.load_report
    assert set(report.dropped) == {"norm.weight", "norm.bias"}  # only the MAE's final norm, explained
    assert not report.adapted
    assert set(report.loaded) == set(exported) - {"norm.weight", "norm.bias"}
    assert all("sampling_offsets" in k or k.startswith(("fpn", "level_proj")) for k in report.initialised)

    # built with the MAE's layout (all-global blocks, final norm), it computes the MAE encoder exactly
    same = hs_backbone.create_backbone(
        backbone_name, pretrained=str(path), dtype=torch.float64, interval=1, final_norm=True, **kwargs
    )
    assert not same.load_report.dropped and not same.load_report.initialised.keys() - {
        k for k in same.load_report.initialised if k.startswith(("fpn", "level_proj"))
    }
    mae = load_mae(runs[name]).eval()
    same.eval()
    x = torch.randn(2, *((8, 8, 8) if name == "test_spatial_mae" else (16, 8, 8)), dtype=torch.float64)
    keep_all = mae.masking(2, 0.0, noise=torch.arange(16, dtype=torch.float32).expand(2, 16))
    with torch.no_grad():
        torch.testing.assert_close(
            same.forward_features(x), mae.forward_encoder(x, keep_all), rtol=1e-12, atol=1e-12
        )

    # the helper builds the same backbone from the export's recipe
    built = create_backbone_from_export(path, dtype=torch.float64)
    assert type(built) is type(model) and set(built.load_report.loaded) == set(report.loaded)


def test_safetensors_and_official_layouts(runs: dict[str, Path], tmp_path: Path) -> None:
    cfg = export_encoder(runs["test_spatial_mae"], tmp_path / "enc.safetensors", bands_note="synthetic")
    _, read_cfg = hs_backbone.read_converted(tmp_path / "enc.safetensors")
    assert read_cfg["bands"]["note"] == "synthetic" and read_cfg["backbone"] == cfg["backbone"]
    model = create_backbone_from_export(tmp_path / "enc.safetensors", dtype=torch.float64)
    assert set(model.load_report.dropped) == {"norm.weight", "norm.bias"}
    # upstream's container: every MAE key under upstream's names; the backbone drops the decoder
    export_official(runs["test_spatial_mae"], tmp_path / "official.pth")
    official = load_checkpoint(tmp_path / "official.pth")
    mae = load_mae(runs["test_spatial_mae"])
    assert (
        set(official["model"]) == set(mae.official_state_dict())
        and "blocks.0.attn.qkv.weight" in official["model"]
    )
    back = create_mae("test_spatial_mae", dtype=torch.float64)
    back.load_official_state_dict(official["model"])
    for k, v in mae.state_dict().items():
        assert torch.equal(back.state_dict()[k], v), k
    loaded = hs_backbone.create_backbone(
        "test_spatial_vit",
        in_chans=8,
        img_size=8,
        patch_size=2,
        pretrained=str(tmp_path / "official.pth"),
        dtype=torch.float64,
    )
    reasons = set(loaded.load_report.dropped.values())
    assert "MAE decoder (pretraining only)" in reasons and len(reasons) == 2  # decoder + final norm


def test_task_settings_adapt_the_export(runs: dict[str, Path], tmp_path: Path) -> None:
    export_encoder(runs["test_spatial_mae"], tmp_path / "enc.pt")
    model = create_backbone_from_export(tmp_path / "enc.pt", in_chans=5, img_size=12, dtype=torch.float64)
    assert "patch_embed.proj.weight" in model.load_report.initialised  # other band count: re-initialised
    assert "pos_embed" in model.load_report.adapted  # 4x4 -> 6x6 grid: interpolated
    assert model(torch.randn(1, 5, 12, 12, dtype=torch.float64))[0].shape[0] == 1


def test_recipes_for_every_size() -> None:
    for family, branch in (("spatial_mae", "spatial_vit"), ("spectral_mae", "spectral_vit")):
        for size in ("tiny", "base", "large", "huge"):
            mae = create_mae(f"{family}_{size}", device="meta")
            recipe = backbone_recipe(f"{family}_{size}", mae.mae_config["kwargs"])
            backbone = hs_backbone.create_backbone(recipe["name"], device="meta", **recipe["overrides"])
            assert recipe["name"].startswith(branch)
            target = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
            for key, value in mae.encoder.state_dict().items():
                if key.startswith("norm."):
                    continue
                assert target[key] == tuple(value.shape), (family, size, key)


def test_export_refuses_foreign_checkpoints(tmp_path: Path) -> None:
    from hs_backbone.training import atomic_save

    atomic_save({"model": {}, "config": {"extra": {}}}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not an hs-pretrain training checkpoint"):
        export_encoder(tmp_path / "x.pt", tmp_path / "y.pt")
    with pytest.raises(ValueError, match=r"not built by hs_pretrain\.create_mae"):
        from hs_pretrain import SpatialMAE

        export_encoder(
            SpatialMAE(
                img_size=8,
                patch_size=2,
                in_chans=4,
                embed_dim=32,
                depth=1,
                num_heads=2,
                decoder_embed_dim=16,
                decoder_depth=1,
                decoder_num_heads=2,
            ),
            tmp_path / "z.pt",
        )
