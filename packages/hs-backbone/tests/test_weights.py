"""Loading the released MAE checkpoints, tested on synthetic files with their exact container layout.

The real files (``spat-vit-*-ultra-checkpoint-1599.pth``, ``spec-vit-*``) are 1.4-8 GB and not
available here; these tiny stand-ins have the same container ``{'model', 'optimizer', 'epoch',
'scaler', 'args'}`` and the same key names (``checkpoint_keys.json`` in the fixtures).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
import torch
from torch import nn

import hs_backbone as hb
from hs_backbone.layers import resize_pos_embed_1d, resize_pos_embed_2d

D, DEPTH, DEC = 32, 4, 16  # encoder width/depth (the test_* sizes), decoder width


def _blocks(prefix: str, dim: int, depth: int) -> dict[str, torch.Tensor]:
    out = {}
    for i in range(depth):
        for name, shape in (
            ("norm1.weight", (dim,)),
            ("norm1.bias", (dim,)),
            ("attn.qkv.weight", (3 * dim, dim)),
            ("attn.qkv.bias", (3 * dim,)),
            ("attn.proj.weight", (dim, dim)),
            ("attn.proj.bias", (dim,)),
            ("norm2.weight", (dim,)),
            ("norm2.bias", (dim,)),
            ("mlp.fc1.weight", (4 * dim, dim)),
            ("mlp.fc1.bias", (4 * dim,)),
            ("mlp.fc2.weight", (dim, 4 * dim)),
            ("mlp.fc2.bias", (dim,)),
        ):
            out[f"{prefix}{i}.{name}"] = torch.randn(shape) * 0.05
    return out


def make_official_checkpoint(
    path: Path, family: str, *, in_chans: int = 10, img: int = 16, patch: int = 4, tokens: int = 16
) -> dict[str, torch.Tensor]:
    """Write an MAE checkpoint like the released ones (tiny shapes) and return its 'model' dict."""
    gen_state = torch.get_rng_state()
    torch.manual_seed(123)
    if family == "spatial":
        n = (img // patch) ** 2
        sd = {
            "pos_embed": torch.randn(1, n, D) * 0.02,
            "mask_token": torch.randn(1, 1, DEC),
            "decoder_pos_embed": torch.randn(1, n, DEC),
            "patch_embed.proj.weight": torch.randn(D, in_chans, patch, patch) * 0.05,
            "patch_embed.proj.bias": torch.randn(D) * 0.05,
        }
        pred = patch * patch * in_chans
        model_name = "spat_mae_b"
    else:
        n = tokens
        sd = {
            "pos_embed": torch.randn(1, n, D) * 0.02,
            "mask_token": torch.randn(1, 1, DEC),
            "decoder_pos_embed": torch.zeros(1, n, DEC),
            "spat_map.weight": torch.randn(D, img * img) * 0.05,
            "spat_map.bias": torch.randn(D) * 0.05,
        }
        pred = (in_chans // tokens) * img * img
        model_name = "spec_mae_b"
    sd.update(_blocks("blocks.", D, DEPTH))
    sd.update({"norm.weight": torch.ones(D), "norm.bias": torch.zeros(D)})
    sd.update({"decoder_embed.weight": torch.randn(DEC, D), "decoder_embed.bias": torch.randn(DEC)})
    sd.update(_blocks("decoder_blocks.", DEC, 2))
    sd.update({"decoder_norm.weight": torch.ones(DEC), "decoder_norm.bias": torch.zeros(DEC)})
    sd.update(
        {
            "decoder_pred.weight": torch.randn(max(pred, 1), DEC),
            "decoder_pred.bias": torch.randn(max(pred, 1)),
        }
    )
    params = [nn.Parameter(v.clone()) for k, v in sd.items() if k != "decoder_pos_embed"]
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
    sum(p.sum() for p in params).backward()
    opt.step()
    args = argparse.Namespace(
        model=model_name,
        batch_size=32,
        epochs=1600,
        blr=1.5e-4,
        lr=1.2e-3,
        mask_ratio=0.75,
        norm_pix_loss=True,
        image_size=img,
        in_channels=in_chans,
        in_chans=in_chans,
        num_tokens=tokens,
        output_dir="output_dir",  # upstream stores its run arguments, paths included
        data_path="HyperGlobal-450K",
        distributed=True,
        world_size=64,
    )
    scaler = {
        "scale": 65536.0,
        "growth_factor": 2.0,
        "backoff_factor": 0.5,
        "growth_interval": 2000,
        "_growth_tracker": 7,
    }
    torch.save(
        {"model": sd, "optimizer": opt.state_dict(), "epoch": 1599, "scaler": scaler, "args": args}, path
    )
    torch.set_rng_state(gen_state)
    return sd


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("official")
    out = {}
    for family in ("spatial", "spectral"):
        path = root / f"{'spat' if family == 'spatial' else 'spec'}-vit-test-ultra-checkpoint-1599.pth"
        out[family] = (path, make_official_checkpoint(path, family))
    return out


# ---------------------------------------------------------------------------- safe reading
def test_the_container_needs_only_namespace_on_the_allow_list(ckpts: dict) -> None:
    path, _ = ckpts["spatial"]
    with pytest.raises(Exception, match="Weights only load failed"):
        torch.load(path, weights_only=True)  # plain weights_only refuses the Namespace
    container = hb.load_checkpoint_file(path)
    assert set(container) == {"model", "optimizer", "epoch", "scaler", "args"}
    assert isinstance(container["args"], argparse.Namespace) and container["epoch"] == 1599
    assert (argparse.Namespace,) == hb.SAFE_GLOBALS


class _Payload:
    def __reduce__(self):  # what a malicious pickle would do
        return (os.system, ("echo pwned",))


def test_anything_else_is_refused_with_the_type_named(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"model": {"w": torch.zeros(1)}, "args": _Payload()}, path)
    with pytest.raises(ValueError, match=r"refused to unpickle the type .*system.*extra_safe_globals"):
        hb.load_checkpoint_file(path)
    with pytest.raises(FileNotFoundError, match=r"missing\.pth"):
        hb.load_checkpoint_file(tmp_path / "missing.pth")


def test_extract_state_dict_accepts_the_usual_containers() -> None:
    sd = {"module.a": torch.zeros(1), "module.b": torch.ones(2)}
    for container in (sd, {"model": sd, "epoch": 1}, {"state_dict": sd}):
        assert list(hb.extract_state_dict(container)) == ["a", "b"]
    with pytest.raises(ValueError, match="'model' state dict"):
        hb.extract_state_dict({"epoch": 3})


# ---------------------------------------------------------------------------- spatial branch
def test_spatial_checkpoint_into_a_task_configuration(ckpts: dict) -> None:
    path, sd = ckpts["spatial"]
    # Task: 8 bands (checkpoint 10), patch 2 (checkpoint 4), 12x12 inputs -> 6x6 grid (checkpoint 4x4).
    model = hb.create_backbone("test_spatial_vit", in_chans=8, img_size=12, pretrained=path)
    report = model.load_report
    assert report is not None and report.source == str(path)
    for key in ("patch_embed.proj.weight", "patch_embed.proj.bias"):
        assert (
            "band_adapter='reinit'" in report.initialised[key] or "with its weight" in report.initialised[key]
        )
    assert "(4, 4) to (6, 6)" not in report.adapted["pos_embed"] and "(6, 6)" in report.adapted["pos_embed"]
    torch.testing.assert_close(model.pos_embed.detach(), resize_pos_embed_2d(sd["pos_embed"], (6, 6)))
    decoder = {k for k in sd if k.startswith("decoder_") or k == "mask_token"}
    assert {k for k, why in report.dropped.items() if why.startswith("MAE decoder")} == decoder
    assert "final_norm=True" in report.dropped["norm.weight"]
    offsets = {k for k in model.state_dict() if "sampling_offsets" in k}
    assert offsets and all("offset_init='detr'" in report.initialised[k] for k in offsets)
    assert {k for k in report.initialised if k.startswith("fpn")} == {"fpn1.0.weight", "fpn1.0.bias"}
    assert set(report.initialised) == offsets | {
        "fpn1.0.weight",
        "fpn1.0.bias",
        "patch_embed.proj.weight",
        "patch_embed.proj.bias",
    }
    for key in ("blocks.0.attn.qkv.weight", "blocks.3.mlp.fc2.bias", "blocks.1.norm1.weight"):
        assert key in report.loaded
        torch.testing.assert_close(model.state_dict()[key], sd[key], rtol=0, atol=0)
    # The detr offset pattern is in place after loading.
    first = model.blocks[0].attn.sampling_offsets
    assert first.weight.abs().sum() == 0 and first.bias.abs().max() > 0.5
    assert "loaded" in str(report) and "MAE decoder" in report.summary()
    model(torch.randn(1, 8, 12, 12))


def test_band_adapter_interpolate_keeps_the_response_to_smooth_inputs(ckpts: dict, tmp_path: Path) -> None:
    path = tmp_path / "smooth.pth"
    sd = make_official_checkpoint(path, "spatial", in_chans=6, patch=4)
    # Weights linear in the band index and constant over the kernel: resampling is then exact.
    w = torch.arange(6.0)[None, :, None, None] * torch.randn(D, 1, 1, 1) + torch.randn(D, 1, 1, 1)
    sd["patch_embed.proj.weight"] = w.expand(D, 6, 4, 4).clone()
    state = hb.extract_state_dict(hb.load_checkpoint_file(path))
    state["patch_embed.proj.weight"] = sd["patch_embed.proj.weight"]
    model = hb.create_backbone("test_spatial_vit", in_chans=11, img_size=8).double()
    report = hb.load_pretrained(model, state, band_adapter="interpolate")
    assert "resampled over bands and kernel pixels" in report.adapted["patch_embed.proj.weight"]
    assert "patch_embed.proj.bias" in report.loaded
    flat_new = torch.full((1, 11, 8, 8), 0.3, dtype=torch.float64)
    flat_old = torch.full((1, 6, 8, 8), 0.3, dtype=torch.float64)
    ours = model.patch_embed(flat_new)
    theirs = nn.functional.conv2d(
        flat_old, sd["patch_embed.proj.weight"].double(), sd["patch_embed.proj.bias"].double(), stride=4
    )
    torch.testing.assert_close(ours[0, 0], theirs[0, :, 0, 0], rtol=1e-6, atol=1e-6)


def test_shape_mismatch_that_cannot_be_adapted_is_an_error(ckpts: dict) -> None:
    path, _ = ckpts["spatial"]
    with pytest.raises(
        ValueError,
        match=r"pos_embed: checkpoint tensor \(1, 16, 32\) does not fit .*\(1, 16, 64\).*embedding size",
    ):
        hb.create_backbone("test_spatial_vit", embed_dim=64, pretrained=path)
    with pytest.raises(ValueError, match="band_adapter: expected"):
        hb.create_backbone("test_spatial_vit", pretrained=path, band_adapter="repeat")


# ---------------------------------------------------------------------------- spectral branch
def test_spectral_checkpoint_keeps_the_position_embedding_without_off_by_one(ckpts: dict) -> None:
    path, sd = ckpts["spectral"]
    model = hb.create_backbone("test_spectral_vit", img_size=16, pretrained=path)  # t = 16 as trained
    report = model.load_report
    assert "pos_embed" in report.loaded and "spat_map.weight" in report.loaded
    torch.testing.assert_close(model.pos_embed.detach(), sd["pos_embed"], rtol=0, atol=0)
    upstream = hb.create_backbone("test_spectral_vit", img_size=16)
    rep = hb.load_pretrained(upstream, path, upstream_spectral_pos_embed=True)
    assert "token 0 dropped" in rep.adapted["pos_embed"]
    expected = resize_pos_embed_1d(sd["pos_embed"][:, 1:], 16)
    torch.testing.assert_close(upstream.pos_embed.detach(), expected)
    assert not torch.allclose(upstream.pos_embed.detach(), sd["pos_embed"], atol=1e-3)
    assert report.initialised.keys() == {
        k for k in model.state_dict() if "sampling_offsets" in k or "level_proj" in k
    }


def test_spectral_checkpoint_into_other_tokens_and_sizes(ckpts: dict) -> None:
    path, _ = ckpts["spectral"]
    model = hb.create_backbone("test_spectral_vit", num_tokens=25, img_size=8, pretrained=path)
    report = model.load_report
    assert "16 → 25 band-token positions" in report.adapted["pos_embed"]
    assert "size_adapter='reinit'" in report.initialised["spat_map.weight"]
    assert "with its weight" in report.initialised["spat_map.bias"]
    # Rows constant over the pixels: a constant image keeps its response after resampling 16x16 -> 8x8.
    state = hb.extract_state_dict(hb.load_checkpoint_file(path))
    state["spat_map.weight"] = torch.randn(D, 1).expand(D, 256).clone()
    resampled = hb.create_backbone("test_spectral_vit", img_size=8)
    rep = hb.load_pretrained(resampled, state, size_adapter="interpolate")
    assert "256 pixels, the model 64" in rep.adapted["spat_map.weight"] and "spat_map.bias" in rep.loaded
    expected = nn.functional.linear(
        torch.full((1, 256), 0.5), state["spat_map.weight"], state["spat_map.bias"]
    )
    torch.testing.assert_close(resampled.spat_map(torch.full((1, 64), 0.5)), expected, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------- HyperSIGMA and our format
def test_hypersigma_from_two_official_checkpoints(ckpts: dict) -> None:
    paths = {"spatial": ckpts["spatial"][0], "spectral": ckpts["spectral"][0]}
    model = hb.create_backbone("test_hypersigma", in_chans=10, img_size=16, patch_size=4, pretrained=paths)
    report = model.load_report
    assert "spatial.blocks.0.attn.qkv.weight" in report.loaded and "spectral.spat_map.weight" in report.loaded
    assert "spatial.decoder_pred.weight" in report.dropped and "spectral.mask_token" in report.dropped
    assert all(f"sem.{k}" in report.initialised for k in model.sem.state_dict())
    with pytest.raises(ValueError, match=r"one branch's weights.*'spatial'"):
        hb.load_pretrained(model, paths["spatial"])


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_converter_writes_our_format_with_bands_and_provenance(
    ckpts: dict, tmp_path: Path, suffix: str
) -> None:
    src, sd = ckpts["spatial"]
    dst = tmp_path / f"spatial{suffix}"
    config = hb.convert_checkpoint(src, dst, bands_note="synthetic test bands")
    assert sorted(os.listdir(tmp_path)) == [dst.name]  # atomic: no temporary file left behind
    assert config["family"] == "spatial_vit" and config["size"] is None
    assert config["arch"] == {
        "in_chans": 10,
        "patch_size": 4,
        "img_size": 16,
        "embed_dim": D,
        "depth": DEPTH,
        "num_heads": None,
    }
    assert config["bands"] == {"count": 10, "wavelengths_nm": None, "note": "synthetic test bands"}
    prov = config["provenance"]
    assert prov["epoch"] == 1599 and prov["source_file"] == src.name and len(prov["source_sha256"]) == 64
    assert prov["training_args"]["blr"] == 1.5e-4 and prov["training_args"]["model"] == "spat_mae_b"
    assert "output_dir" not in prov["training_args"] and "data_path" not in prov["training_args"]
    assert "mask_token" in prov["dropped"]["MAE decoder (pretraining only)"]
    state, read_config = hb.read_converted(dst)
    assert read_config == config
    assert set(state) == {k for k in sd if not k.startswith("decoder_") and k != "mask_token"}
    direct = hb.create_backbone("test_spatial_vit", in_chans=10, img_size=16, patch_size=4, pretrained=src)
    converted = hb.create_backbone("test_spatial_vit", in_chans=10, img_size=16, patch_size=4, pretrained=dst)
    assert sorted(converted.load_report.loaded) == sorted(direct.load_report.loaded)
    for key in converted.load_report.loaded:
        torch.testing.assert_close(converted.state_dict()[key], direct.state_dict()[key], rtol=0, atol=0)


def test_converter_names_the_registry_size(tmp_path: Path) -> None:
    sd = {f"blocks.{i}.norm1.weight": torch.ones(768) for i in range(12)}
    sd |= {"spat_map.weight": torch.zeros(768, 4096), "pos_embed": torch.zeros(1, 100, 768)}
    torch.save({"model": sd, "epoch": 3}, tmp_path / "spec.pth")
    config = hb.convert_checkpoint(tmp_path / "spec.pth", tmp_path / "spec.safetensors")
    assert config["name"] == "spectral_vit_base"
    assert config["arch"] == {
        "num_tokens": 100,
        "img_size": 64,
        "embed_dim": 768,
        "depth": 12,
        "num_heads": 12,
        "interval": 3,
        "out_indices": [3, 5, 7, 11],
    }


def test_whole_model_round_trip(tmp_path: Path) -> None:
    model = hb.create_backbone("test_hypersigma").double()
    hb.save_weights(model, tmp_path / "whole.safetensors")
    again = hb.create_backbone("test_hypersigma", pretrained=tmp_path / "whole.safetensors").double()
    assert again.load_report.initialised == {} and again.load_report.dropped == {}
    for key, value in model.state_dict().items():
        torch.testing.assert_close(again.state_dict()[key], value, rtol=0, atol=0)
    with pytest.raises(ValueError, match="not an hs_backbone"):
        from safetensors.torch import save_file

        save_file({"a": torch.zeros(1)}, str(tmp_path / "foreign.safetensors"))
        hb.read_converted(tmp_path / "foreign.safetensors")
