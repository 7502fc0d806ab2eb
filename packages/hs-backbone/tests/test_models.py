from __future__ import annotations

import json
import math
import os

import pytest
import torch

import hs_backbone as hb
from hs_attention import GlobalAttention, SparseSamplingAttention


def _x(c: int = 8, size: int = 8, b: int = 2, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(b, c, size, size, dtype=dtype, generator=torch.Generator().manual_seed(1))


# ---------------------------------------------------------------------------- registry and sizes
def test_registry_names_and_lookup() -> None:
    names = hb.list_backbones()
    for family in ("spatial_vit", "spectral_vit", "hypersigma"):
        for size in ("base", "large", "huge"):
            assert f"{family}_{size}" in names
            assert hb.OFFICIAL_CHECKPOINTS[f"{family}_{size}"]
    assert hb.list_backbones("test_*") == ["test_hypersigma", "test_spatial_vit", "test_spectral_vit"]
    assert hb.is_backbone("spatial_vit_base") and not hb.is_backbone("spatial_vit_small")
    with pytest.raises(ValueError, match="did you mean spatial_vit_base"):
        hb.create_backbone("spatial_vit_bse")


def test_create_backbone_prunes_none_and_routes_in_chans() -> None:
    model = hb.create_backbone("test_spatial_vit", in_chans=5, patch_size=None, img_size=12)
    assert isinstance(model, hb.SpatialViT)
    assert (model.in_chans, model.patch_size, model.img_size) == (5, 2, (12, 12))
    both = hb.create_backbone("test_hypersigma", in_chans=6, spectral_kwargs={"use_abs_pos_emb": False})
    assert both.spatial.in_chans == 6 and both.spectral.in_chans == 6
    assert both.spectral.pos_embed is None and both.spatial.pos_embed is not None
    # Branch-only arguments go to their branch: upstream's change-detection configuration (§2.7).
    cd = hb.create_backbone(
        "hypersigma_base",
        in_chans=154,
        img_size=5,
        patch_size=1,
        num_tokens=144,
        fpn="identity",
        proj_levels=(0, 1, 2, 3),
        use_abs_pos_emb=False,
        sem_hidden=32,
        sem_channels=144,
        device="meta",
    )
    assert cd.spatial.fpn_kind == "identity" and cd.spectral.proj_levels == (0, 1, 2, 3)
    assert cd.spectral.token_grid == (12, 12) and cd.sem.gates[0][2].weight.shape == (144, 32)


@pytest.mark.parametrize(
    ("size", "block_m", "offset_m", "global_blocks"),
    [
        ("base", 85.054464, 1.181184, [2, 5, 8, 11]),
        ("large", 302.309376, 5.248, [5, 11, 17, 23]),
        ("huge", 629.67808, 9.182208, [7, 15, 23, 31]),
    ],
)
def test_sizes_match_the_spec_table(
    size: str, block_m: float, offset_m: float, global_blocks: list[int]
) -> None:
    # hypersigma.md §2.2: block params depth·(12D²+13D) plus the SSA offset heads; 4 global blocks.
    model = hb.create_backbone(f"spatial_vit_{size}", device="meta")
    sizes = hb.SIZES[size]
    params = dict(model.named_parameters())
    blocks = sum(
        p.numel() for n, p in params.items() if n.startswith("blocks.") and "sampling_offsets" not in n
    )
    offsets = sum(p.numel() for n, p in params.items() if "sampling_offsets" in n)
    assert blocks == sizes.depth * (12 * sizes.embed_dim**2 + 13 * sizes.embed_dim)
    assert blocks / 1e6 == pytest.approx(block_m) and offsets / 1e6 == pytest.approx(offset_m)
    assert [i for i, b in enumerate(model.blocks) if isinstance(b.attn, GlobalAttention)] == global_blocks
    assert model.out_indices == sizes.out_indices
    assert all(model.blocks[i].attn.num_points == 8 for i in model.sampling_blocks)


def test_official_classifier_keys_map_onto_hypersigma_base(official) -> None:
    # The B fusion classifier's parameter list (names and shapes, no weights) maps exactly onto ours.
    from hs_attention.testing import fixtures_root

    official("ssa_tiny")  # skips without fixtures
    with open(os.path.join(fixtures_root(), "checkpoint_keys.json")) as f:
        params = json.load(f)["models"]["ss_fusion_cls_base"]["params"]
    state = {k: torch.empty(v, device="meta") for k, v in params.items()}
    backbone, head, dropped = hb.split_official_fusion_state_dict(state)
    model = hb.create_backbone("hypersigma_base", in_chans=30, img_size=33, patch_size=2, device="meta")
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert ours == {k: tuple(v.shape) for k, v in backbone.items()}
    assert sorted(head) == [f"classifier.{i}.{w}" for i in (0, 2, 4) for w in ("bias", "weight")]
    assert all(k.startswith(("spat_encoder.", "spec_encoder.", "conv")) for k in dropped)


# ---------------------------------------------------------------------------- shapes and metadata
@pytest.mark.parametrize(
    ("patch", "fpn", "sizes"),
    [
        (2, "auto", [8, 4, 2, 1]),  # up2: ConvT, id, pool 2, pool 4 on a 4x4 grid
        (1, "down", [8, 8, 4, 2]),
        (1, "up4", [32, 16, 8, 4]),
        (2, "identity", [4, 4, 4, 4]),
    ],
)
def test_spatial_levels_follow_the_pyramid(patch: int, fpn: str, sizes: list[int]) -> None:
    model = hb.create_backbone("test_spatial_vit", patch_size=patch, fpn=fpn).double()
    out = model(_x())
    assert [o.shape[-1] for o in out] == sizes
    assert all(o.shape[:2] == (2, 32) for o in out)
    assert [8 / info["reduction"] for info in model.feature_info] == sizes


def test_spectral_levels_projection_and_grid() -> None:
    model = hb.create_backbone("test_spectral_vit", proj_levels=(0, 3)).double()
    out = model(_x(c=13))
    assert [tuple(o.shape) for o in out] == [(2, 16, 16), (2, 16, 32), (2, 16, 32), (2, 16, 16)]
    assert [i["num_chs"] for i in model.feature_info] == [16, 32, 32, 16]
    assert model.token_grid == (4, 4)
    grid = model.forward_intermediates(_x(c=13), output_fmt="NCHW")
    tokens = model.forward_intermediates(_x(c=13))
    torch.testing.assert_close(grid[1].flatten(2).transpose(1, 2), tokens[1])


def test_spectral_branch_accepts_any_band_count() -> None:
    model = hb.create_backbone("test_spectral_vit").double().eval()
    for c in (1, 3, 16, 50):
        assert model(_x(c=c))[0].shape == (2, 16, 16)


def test_spatial_without_position_embedding_runs_at_any_size() -> None:
    model = hb.create_backbone("test_spatial_vit", use_abs_pos_emb=False).double()
    assert model.no_weight_decay() == set()
    for size in (8, 13, 20):
        assert model(_x(size=size))[1].shape[-1] == size // 2


def test_forward_features_intermediates_and_final_norm() -> None:
    model = hb.create_backbone("test_spatial_vit", final_norm=True).double().eval()
    x = _x()
    taps = model.forward_intermediates(x, indices=[1, 3], output_fmt="NLC")
    feats = model.forward_features(x)
    torch.testing.assert_close(feats, model.norm(taps[1]))
    assert model.no_weight_decay() == {"pos_embed"}


def test_hypersigma_output_and_truncated_spectral_branch() -> None:
    model = hb.create_backbone("test_hypersigma").double().eval()
    x = _x()
    out = model(x)
    assert [tuple(e.shape) for e in out.enhanced] == [(2, 16, s, s) for s in (16, 8, 4, 2)]
    assert out.descriptor.shape == (2, 16)
    full = model.spectral(x)  # every level, all blocks run
    torch.testing.assert_close(out.spectral, full[0], rtol=0, atol=0)
    torch.testing.assert_close(out.descriptor, full[0].mean(-1))
    gates = model.sem.gate_weights(out.descriptor)
    torch.testing.assert_close(
        out.enhanced[2], (1 + gates[2])[:, :, None, None] * model.sem.proj[2](out.spatial[2])
    )
    assert [i["num_chs"] for i in model.feature_info] == [16] * 4
    assert model.no_weight_decay() == {"spatial.pos_embed", "spectral.pos_embed"}


# ---------------------------------------------------------------------------- numerics
def _run(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.clone().requires_grad_(True)
    out = model(x)
    parts = out.enhanced if isinstance(out, hb.HyperSIGMAOutput) else out
    total = sum((p * torch.linspace(0.5, 1.5, p.numel(), dtype=p.dtype).view_as(p)).sum() for p in parts)
    total.backward()
    return torch.cat([p.detach().flatten() for p in parts]), x.grad


@pytest.mark.parametrize("name", ["test_spatial_vit", "test_spectral_vit", "test_hypersigma"])
def test_fast_backends_match_the_reference_configuration(name: str) -> None:
    model = hb.create_backbone(name).double().eval()
    x = _x()
    with torch.no_grad():  # large offsets, so SSA samples far from the query and outside the grid
        for blk in model.modules():
            if isinstance(blk, SparseSamplingAttention):
                blk.sampling_offsets.bias.mul_(1.7)
    model.set_attention_backends(ssa="reference", global_="naive")
    ref_out, ref_grad = _run(model, x)
    model.set_attention_backends(ssa="auto", global_="auto")
    out, grad = _run(model, x)
    torch.testing.assert_close(out, ref_out, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-9, atol=1e-10)
    assert ref_grad.abs().max() > 1e-3


@pytest.mark.parametrize("name", ["test_spatial_vit", "test_hypersigma"])
def test_grad_checkpointing_gives_the_same_outputs_and_gradients(name: str) -> None:
    model = hb.create_backbone(name).double().train()
    x = _x()
    out, grad = _run(model, x)
    params = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    model.set_grad_checkpointing(True)
    out2, grad2 = _run(model, x)
    torch.testing.assert_close(out2, out, rtol=0, atol=1e-13)
    torch.testing.assert_close(grad2, grad, rtol=0, atol=1e-13)
    for n, p in model.named_parameters():
        if n in params:
            torch.testing.assert_close(p.grad, params[n], rtol=0, atol=1e-12)


def test_every_parameter_used_receives_a_gradient() -> None:
    model = hb.create_backbone("test_hypersigma").double()
    _run(model, _x())
    no_grad = sorted({n.split(".")[2] for n, p in model.named_parameters() if p.grad is None})
    # Only the spectral blocks after the tap that feeds SEM (level 0 = block 0) are not run.
    assert no_grad == ["1", "2", "3"]
    assert all(n.startswith("spectral.blocks.") for n, p in model.named_parameters() if p.grad is None)
    assert all(p.grad.abs().sum() > 0 for p in model.parameters() if p.grad is not None)


def test_training_is_stochastic_with_drop_path_and_eval_is_deterministic() -> None:
    model = hb.create_backbone("test_spatial_vit", drop_path_rate=0.5).double()
    x = _x(b=8)
    model.train()
    assert not torch.equal(model(x)[3], model(x)[3])
    model.eval()
    assert torch.equal(model(x)[3], model(x)[3])


def test_bf16_autocast_forward_and_backward() -> None:
    model = hb.create_backbone("test_hypersigma")
    x = _x(dtype=torch.float32)
    ref = model(x).enhanced[0]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
        loss = sum(e.float().square().mean() for e in out.enhanced)
    loss.backward()
    assert out.enhanced[0].dtype == torch.bfloat16
    rel = (out.enhanced[0].float() - ref).norm() / ref.norm()
    assert rel < 3e-2
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


# ---------------------------------------------------------------------------- initialisation
def test_offset_init_survives_the_model_wide_initialisation() -> None:
    detr = hb.create_backbone("test_spatial_vit")
    fresh = SparseSamplingAttention(32, 2, 4, offset_init="detr")
    for i in detr.sampling_blocks:
        attn = detr.blocks[i].attn
        assert torch.equal(attn.sampling_offsets.weight, torch.zeros_like(attn.sampling_offsets.weight))
        torch.testing.assert_close(attn.sampling_offsets.bias, fresh.sampling_offsets.bias)
    upstream = hb.create_backbone("test_spatial_vit", offset_init="upstream")
    for i in upstream.sampling_blocks:
        off = upstream.blocks[i].attn.sampling_offsets
        assert torch.equal(off.bias, torch.zeros_like(off.bias))
        assert 0.01 < off.weight.std() < 0.03


def test_model_wide_initialisation() -> None:
    model = hb.create_backbone(
        "test_spatial_vit", embed_dim=256, depth=8, num_heads=4, out_indices=(1, 3, 5, 7)
    )
    assert 0.018 < model.pos_embed.std() < 0.022
    assert torch.equal(model.blocks[0].norm1.weight, torch.ones(256))
    assert torch.equal(model.blocks[0].attn.qkv.bias, torch.zeros(768))
    assert 0.018 < model.blocks[0].attn.qkv.weight.std() < 0.022
    for layer_id in (1, 8):  # BEiT rescaling of attn.proj and mlp.fc2 by sqrt(2·layer_id)
        blk = model.blocks[layer_id - 1]
        for weight in (blk.attn.proj.weight, blk.mlp.fc2.weight):
            assert weight.std().item() * math.sqrt(2 * layer_id) == pytest.approx(0.02, rel=0.05)
