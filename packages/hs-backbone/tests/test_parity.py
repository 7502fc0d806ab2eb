"""Parity with the official HyperSIGMA code (fixtures made by running it in float64; see the fixtures README).

Both attention configurations are checked: ``reference`` SSA + ``naive`` global attention (the
definitions, as upstream computes them) and ``auto`` (the fused CPU SSA kernel and SDPA).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import hs_backbone as hb

BACKENDS = [("reference", "naive"), ("auto", "auto")]
TOL = {"rtol": 1e-9, "atol": 1e-10}


def _arch(cfg: dict) -> dict:
    return {
        "img_size": cfg["img_size"],
        "embed_dim": cfg["embed_dim"],
        "depth": cfg["depth"],
        "num_heads": cfg["num_heads"],
        "out_indices": cfg["out_indices"],
        "interval": cfg["interval"],
        "num_points": cfg["n_points"],
        "mlp_ratio": cfg["mlp_ratio"],
        "qkv_bias": cfg["qkv_bias"],
        "use_abs_pos_emb": cfg["use_abs_pos_emb"],
    }


@pytest.mark.parametrize(("ssa", "glob"), BACKENDS)
def test_spatial_vit_matches_the_official_encoder(official, ssa: str, glob: str) -> None:
    data = official("spatial_vit_tiny")
    cfg = data["config"]
    model = hb.SpatialViT(
        **_arch(cfg),
        patch_size=cfg["patch_size"],
        in_chans=cfg["in_chans"],
        ssa_backend=ssa,
        global_backend=glob,
    )
    model = model.double().eval()
    report = hb.load_pretrained(model, data["state_dict"])
    assert report.initialised == {} and report.adapted == {}
    assert sorted(report.dropped) == ["norm.bias", "norm.weight"]  # created but never applied upstream

    x = data["x"].clone().requires_grad_(True)
    taps = model.forward_intermediates(x, indices=range(cfg["depth"]), output_fmt="NLC")
    for ours, theirs in zip(taps, data["intermediates"]["block_outputs"]):
        torch.testing.assert_close(ours, theirs, **TOL)
    out = model(x)
    # Upstream returns the levels deepest first: (fpn4(F3), fpn3(F2), fpn2(F1), fpn1(F0)).
    expected = list(reversed(data["outputs"]))
    assert [tuple(o.shape) for o in out] == [tuple(e.shape) for e in expected]
    for ours, theirs in zip(out, expected):
        torch.testing.assert_close(ours, theirs, **TOL)
    sum(o.sum() for o in out).backward()
    torch.testing.assert_close(x.grad, data["grad_x"], **TOL)
    assert data["grad_x"].abs().max() > 1e-2


@pytest.mark.parametrize(("ssa", "glob"), BACKENDS)
def test_spectral_vit_matches_the_official_encoder(official, ssa: str, glob: str) -> None:
    data = official("spectral_vit_tiny")
    cfg = data["config"]
    model = hb.SpectralViT(
        **_arch(cfg),
        num_tokens=cfg["NUM_TOKENS"],
        in_chans=cfg["in_chans"],
        ssa_backend=ssa,
        global_backend=glob,
    )
    model = model.double().eval()
    report = hb.load_pretrained(model, data["state_dict"])
    assert report.initialised == {} and report.adapted == {}
    assert "level_proj.0.weight" in report.loaded  # upstream's l1
    assert sorted(report.dropped) == sorted(
        ["norm.weight", "norm.bias"]
        + [f"conv_{a}.{i}.{w}" for a in "qkv" for i in range(4) for w in ("weight", "bias")]
    )

    x = data["x"].clone().requires_grad_(True)
    tokens = model.embed(x)
    torch.testing.assert_close(tokens, data["intermediates"]["spat_map_out"] + model.pos_embed, **TOL)
    taps = model.forward_intermediates(x, indices=range(cfg["depth"]))
    for ours, theirs in zip(taps, data["intermediates"]["block_outputs"]):
        torch.testing.assert_close(ours, theirs, **TOL)
    out = model(x)
    # [l1(Z1), Z2, Z4, Z5]: only the first tap is projected.
    assert [tuple(o.shape) for o in out] == [(2, 16, 128), (2, 16, 64), (2, 16, 64), (2, 16, 64)]
    for ours, theirs in zip(out, data["outputs"]):
        torch.testing.assert_close(ours, theirs, **TOL)
    sum(o.sum() for o in out).backward()
    torch.testing.assert_close(x.grad, data["grad_x"], **TOL)
    assert data["grad_x"].abs().max() > 1e-2


def _official_head(classes: int) -> nn.Sequential:
    """Upstream's classification MLP (no nonlinearity), built here: heads belong to hs-tasks."""
    return nn.Sequential(
        nn.Linear(512, 256), nn.Dropout(0.4), nn.Linear(256, 128), nn.Dropout(0.4), nn.Linear(128, classes)
    )


@pytest.mark.parametrize(("ssa", "glob"), BACKENDS)
def test_hypersigma_reproduces_the_official_classifier(official, ssa: str, glob: str) -> None:
    data = official("fusion_cls_tiny")
    cfg, over = data["config"], data["config"]["encoder_overrides"]
    model = hb.create_backbone(
        "hypersigma_base",
        in_chans=cfg["in_channels"],
        img_size=cfg["img_size"],
        patch_size=cfg["patch_size"],
        num_tokens=cfg["NUM_TOKENS"],
        embed_dim=over["embed_dim"],
        depth=over["depth"],
        num_heads=over["num_heads"],
        out_indices=over["out_indices"],
        interval=over["interval"],
        num_points=over["n_points"],
        ssa_backend=ssa,
        global_backend=glob,
    )
    model = model.double().eval()
    report = hb.load_pretrained(model, data["state_dict"])
    assert report.initialised == {} and report.adapted == {}
    assert len(report.loaded) == len(model.state_dict())
    head_keys = [k for k in data["state_dict"] if k.startswith("classifier.")]
    assert sorted(k for k, why in report.dropped.items() if "head" in why) == sorted(head_keys)
    head = _official_head(cfg["classes"]).double().eval()
    head.load_state_dict({k.removeprefix("classifier."): data["state_dict"][k] for k in head_keys})

    x = data["x"].clone().requires_grad_(True)
    out = model(x)
    inter = data["intermediates"]
    for ours, theirs in zip(out.spatial, reversed(inter["spat_encoder_outputs"])):
        torch.testing.assert_close(ours, theirs, **TOL)
    torch.testing.assert_close(out.spectral, inter["spec_encoder_output0"], **TOL)
    gates = model.sem.gate_weights(out.descriptor)  # SEM level l is upstream's fc_spec{4-l}
    for level in range(4):
        torch.testing.assert_close(gates[level], inter[f"fc_spec{4 - level}_out"], **TOL)
    # Upstream pools DR_j's gated maps and concatenates them deepest first.
    pooled = torch.cat([e.mean(dim=(2, 3)) for e in reversed(out.enhanced)], dim=1)
    torch.testing.assert_close(pooled, inter["classifier_in"], **TOL)
    logits = head(pooled)
    torch.testing.assert_close(logits, data["logits"], **TOL)
    logits.sum().backward()
    torch.testing.assert_close(x.grad, data["grad_x"], **TOL)
    assert data["grad_x"].abs().max() > 1e-5
