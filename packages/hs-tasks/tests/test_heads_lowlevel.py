"""Unmixing, denoising and SR heads: shapes, constraints, gradients, and the documented formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from hs_backbone import create_backbone
from hs_tasks.heads import DenoisingHead, EndmemberDecoder, SumToOne, SuperResolutionHead, UnmixingHead
from hs_tasks.heads.common import (
    ConvActNorm,
    GatedAdapter,
    PixelShuffleUpsampler,
    SpectralTokenAdapter,
    TokenAdapter,
    largest_divisor_at_most,
)


def test_largest_divisor() -> None:
    assert largest_divisor_at_most(191, 12) == 1
    assert largest_divisor_at_most(102, 12) == 6
    assert largest_divisor_at_most(48, 12) == 12
    assert largest_divisor_at_most(31, 2) == 1


@pytest.mark.parametrize("scale", [2, 3, 4, 8])
def test_pixel_shuffle_upsampler_shapes(scale: int) -> None:
    up = PixelShuffleUpsampler(5, scale)
    assert up(torch.randn(2, 5, 3, 4)).shape == (2, 5, 3 * scale, 4 * scale)


def test_pixel_shuffle_upsampler_rejects_other_scales() -> None:
    for bad in (1, 5, 6):
        with pytest.raises(ValueError, match="scale"):
            PixelShuffleUpsampler(4, bad)


def test_conv_act_norm_order_and_size() -> None:
    block = ConvActNorm(3, 4, 3, dropout=0.2)
    assert [type(m) for m in block] == [nn.Conv2d, nn.LeakyReLU, nn.BatchNorm2d, nn.Dropout]
    assert block(torch.randn(2, 3, 5, 6)).shape == (2, 4, 5, 6)
    with pytest.raises(ValueError, match="odd"):
        ConvActNorm(3, 4, 2)


def test_token_adapters_shapes_and_position_tables() -> None:
    adapter = TokenAdapter(6, 4, depth=3, num_heads=2, num_points=2, grid=(4, 5))
    assert adapter(torch.randn(2, 6, 4, 5)).shape == (2, 4, 4, 5)
    assert adapter.no_weight_decay() == {"pos_table"}
    with pytest.raises(ValueError, match="token grid"):
        adapter(torch.randn(1, 6, 5, 5))
    spec = SpectralTokenAdapter(8, 9, depth=2, num_heads=2, num_points=2, pos_table=True)
    assert spec.token_grid == (3, 3)
    assert spec(torch.randn(2, 9, 8)).shape == (2, 9, 8)
    with pytest.raises(ValueError, match="perfect square"):
        SpectralTokenAdapter(8, 10)
    # block 3 of 4 is global (interval 3), as upstream's adapters
    assert [blk.sampling for blk in TokenAdapter(4, 4, num_points=2).layers] == [True, True, False, True]


def test_head_parameters_are_not_mistaken_for_backbone_blocks() -> None:
    from hs_backbone.training import param_groups

    model = nn.Module()
    model.backbone = create_backbone("test_spatial_vit")
    model.head = TokenAdapter(4, 4, num_points=2, grid=(2, 2))
    groups = param_groups(model, weight_decay=0.05, layer_decay=0.5)
    top = max(g["layer_id"] for g in groups)
    for group in groups:
        for name in group["names"]:
            if name.startswith("head."):
                assert group["layer_id"] == top and group["lr_scale"] == 1.0, name
    assert all(g["weight_decay"] == 0 for g in groups if "head.pos_table" in g["names"])


def test_gated_adapter_is_the_sem_formula() -> None:
    torch.manual_seed(0)
    fusion = GatedAdapter(
        6,
        4,
        upsample=2,
        num_tokens=4,
        spectral_dim=8,
        sem_hidden=5,
        num_heads=2,
        spectral_heads=2,
        num_points=2,
    )
    spatial, tokens = torch.randn(2, 6, 3, 3), torch.randn(2, 4, 8)
    out = fusion(spatial, tokens)
    assert out.shape == (2, 4, 6, 6)
    assert fusion.sem is not None and fusion.spectral_adapter is not None
    feat = fusion.adapter(fusion.up(spatial))
    v = fusion.spectral_adapter(tokens).mean(-1)
    gate = fusion.sem.gates[0]
    w = torch.sigmoid(gate[2].weight @ torch.relu(gate[0].weight @ v.T)).T  # (b, a)
    torch.testing.assert_close(out, (1 + w)[:, :, None, None] * feat)
    plain = GatedAdapter(6, 4, num_heads=2, num_points=2)
    assert plain(torch.randn(1, 6, 3, 3)).shape == (1, 4, 3, 3)
    with pytest.raises(ValueError, match="spectral"):
        plain(torch.randn(1, 6, 3, 3), tokens[:1])


def test_sum_to_one_and_decoder() -> None:
    a = SumToOne(2.0)(torch.randn(3, 4, 5, 6))
    assert (a >= 0).all()
    torch.testing.assert_close(a.sum(1), torch.ones(3, 5, 6))
    rng = np.random.default_rng(0)
    em = rng.random((4, 7))
    dec = EndmemberDecoder(4, 7).double()
    dec.set_endmembers(em)
    ab = torch.from_numpy(rng.random((2, 4, 3, 3)))
    expected = np.maximum(np.einsum("behw,ec->bchw", ab.numpy(), em), 0)
    np.testing.assert_allclose(dec(ab).detach().numpy(), expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"\(e, c\)"):
        dec.set_endmembers(em[:3])


def test_decoder_projects_endmembers_in_training_only() -> None:
    dec = EndmemberDecoder(2, 3, init=np.ones((2, 3)))
    with torch.no_grad():
        dec.endmembers[0, 0] = -1.0
    dec.eval()
    dec(torch.ones(1, 2, 1, 1))
    assert float(dec.endmembers.detach()[0, 0]) == -1.0  # eval: no side effect, but mixing uses 0
    assert float(dec.nonnegative().detach()[0, 0]) == 0.0
    dec.train()
    dec(torch.ones(1, 2, 1, 1))
    assert (
        float(dec.endmembers.detach()[0, 0]) == 0.0
    )  # training: projected in place (upstream weightConstraint)


def test_unmixing_head_constraints_and_gradients() -> None:
    torch.manual_seed(0)
    head = UnmixingHead(8, 3, 10, in_channels=5)
    levels = [
        torch.randn(2, 5, 4, 4),
        torch.randn(2, 5, 4, 4),
        torch.randn(2, 5, 2, 2),
        torch.randn(2, 5, 4, 4),
    ]
    a, recon = head(levels, (8, 8))
    assert a.shape == (2, 3, 8, 8) and recon.shape == (2, 10, 8, 8)
    assert (a >= 0).all() and (recon >= 0).all()
    torch.testing.assert_close(a.sum(1), torch.ones(2, 8, 8))
    (recon.mean() + a[:, 0].mean()).backward()
    assert all(p.grad is not None for p in head.parameters())
    assert [m[0].kernel_size for m in head.level_convs] == [(3, 3), (3, 3), (1, 1), (1, 1)]  # upstream
    with pytest.raises(ValueError, match="levels"):
        head(levels[:3], (8, 8))


def _hypersigma(bands: int, size: int, patch: int, tokens: int = 16) -> nn.Module:
    return create_backbone(
        "test_hypersigma",
        in_chans=bands,
        img_size=size,
        patch_size=patch,
        num_tokens=tokens,
        fpn="identity",
        spectral_level=3,
        proj_levels=(3,),
    )


def test_denoising_head_residual_and_shapes() -> None:
    torch.manual_seed(0)
    head = DenoisingHead(6, 32, patch_size=2, num_tokens=16, spectral_dim=16, grid=(8, 8), num_points=2)
    x = torch.randn(2, 6, 8, 8)
    out = head(x, torch.randn(2, 32, 4, 4), torch.randn(2, 16, 16))
    assert out.shape == x.shape
    res = DenoisingHead(6, 32, patch_size=2, residual=True, num_points=2)
    for conv in (res.fuse, res.tail):
        nn.init.zeros_(conv.weight)
        nn.init.zeros_(conv.bias)
    torch.testing.assert_close(res(x, torch.randn(2, 32, 4, 4)), x)  # zero correction: identity
    with pytest.raises(ValueError, match="bands"):
        head(torch.randn(2, 5, 8, 8), torch.randn(2, 32, 4, 4), torch.randn(2, 16, 16))


def test_sr_head_residual_is_the_bicubic_image() -> None:
    torch.manual_seed(0)
    head = SuperResolutionHead(5, 32, 4, num_tokens=16, spectral_dim=16, num_points=2)
    lr, bic = torch.randn(2, 5, 4, 4), torch.randn(2, 5, 16, 16)
    assert head(lr, bic, torch.randn(2, 32, 4, 4), torch.randn(2, 16, 16)).shape == (2, 5, 16, 16)
    res = SuperResolutionHead(5, 32, 4, residual=True, num_points=2)
    nn.init.zeros_(res.tail.weight)
    nn.init.zeros_(res.tail.bias)
    torch.testing.assert_close(res(lr, bic, torch.randn(2, 32, 4, 4)), bic)
    with pytest.raises(ValueError, match="4x the LR size"):
        head(lr, bic[..., :8, :8], torch.randn(2, 32, 4, 4), torch.randn(2, 16, 16))


def test_heads_on_a_real_backbone_get_gradients_everywhere() -> None:
    torch.manual_seed(0)
    bb = _hypersigma(6, 8, 2)
    head = DenoisingHead(6, 32, patch_size=2, num_tokens=16, spectral_dim=16, grid=(8, 8))
    x = torch.randn(2, 6, 8, 8)
    spatial = bb.spatial.forward_intermediates(x, indices=[3])[0]
    spectral = bb.spectral(x, levels=[3])[0]
    head(x, spatial, spectral).square().mean().backward()
    missing = [n for n, p in head.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
