from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from hs_backbone.layers import (
    DropPath,
    Mlp,
    PatchEmbed,
    drop_path,
    drop_path_add,
    group_bands,
    resize_pos_embed_1d,
    resize_pos_embed_2d,
    sincos_pos_embed_1d,
    sincos_pos_embed_2d,
)


def test_drop_path_is_identity_in_eval_and_at_zero() -> None:
    x = torch.randn(4, 5, 6)
    assert drop_path(x, 0.5, training=False) is x
    assert drop_path(x, 0.0, training=True) is x
    layer = DropPath(0.3).eval()
    assert torch.equal(layer(x), x)


def test_drop_path_drops_whole_samples_and_keeps_the_mean() -> None:
    x = torch.ones(20000, 3, dtype=torch.float64)
    out = drop_path(x, 0.25, training=True)
    per_sample = out[:, 0]
    assert torch.equal(out, per_sample[:, None].expand_as(out))  # one decision per sample
    assert set(per_sample.unique().tolist()) == {0.0, 1 / 0.75}
    assert abs(per_sample.mean().item() - 1.0) < 0.03
    with pytest.raises(ValueError, match="drop_prob"):
        DropPath(1.0)


def test_drop_path_add_is_the_residual_sum_with_the_same_mask() -> None:
    x, y = torch.randn(500, 4, dtype=torch.float64), torch.randn(500, 4, dtype=torch.float64)
    assert torch.equal(drop_path_add(x, y, 0.3, training=False), x + y)
    torch.manual_seed(5)
    fused = drop_path_add(x, y, 0.3, training=True)
    torch.manual_seed(5)
    torch.testing.assert_close(fused, x + drop_path(y, 0.3, training=True), rtol=0, atol=1e-15)
    layer = DropPath(0.3).train()
    torch.manual_seed(5)
    torch.testing.assert_close(layer.add(x, y), fused, rtol=0, atol=0)


def test_mlp_is_fc1_gelu_fc2() -> None:
    mlp = Mlp(6, 10).double()
    x = torch.randn(2, 3, 6, dtype=torch.float64)
    expected = F.linear(F.gelu(F.linear(x, mlp.fc1.weight, mlp.fc1.bias)), mlp.fc2.weight, mlp.fc2.bias)
    torch.testing.assert_close(mlp(x), expected)


def test_patch_embed_tokens_are_row_major_conv_outputs() -> None:
    embed = PatchEmbed(3, in_chans=4, embed_dim=5).double()
    x = torch.randn(2, 4, 10, 11, dtype=torch.float64)
    tokens = embed(x)
    assert embed.grid_size(10, 11) == (3, 3)
    conv = F.conv2d(x, embed.proj.weight, embed.proj.bias, stride=3)  # (2, 5, 3, 3)
    assert tokens.shape == (2, 9, 5)
    torch.testing.assert_close(tokens[:, 1 * 3 + 2], conv[:, :, 1, 2])


@pytest.mark.parametrize(("c", "t"), [(30, 16), (30, 100), (100, 100), (7, 3), (5, 5)])
def test_group_bands_averages_the_adaptive_pool_bins(c: int, t: int) -> None:
    x = torch.randn(2, c, 3, 4, dtype=torch.float64)
    groups = group_bands(x, t)
    assert groups.shape == (2, t, 12)
    for i in range(t):
        lo, hi = math.floor(i * c / t), math.ceil((i + 1) * c / t)
        expected = x[:, lo:hi].mean(dim=1).flatten(1)
        torch.testing.assert_close(groups[:, i], expected, rtol=0, atol=1e-14)


def test_sincos_2d_matches_the_official_mae_decoder_table(official) -> None:
    data = official("mae_spatial_tiny")
    table = data["state_dict"]["decoder_pos_embed"][0]  # (16, 32), float32-rounded upstream values
    ours = sincos_pos_embed_2d(table.shape[1], 4)
    torch.testing.assert_close(ours, table, rtol=0, atol=1e-7)
    assert not torch.allclose(ours, sincos_pos_embed_2d(table.shape[1], (2, 8)), atol=1e-3)


def test_sincos_layouts() -> None:
    one = sincos_pos_embed_1d(8, 5)
    assert one.shape == (5, 8)
    torch.testing.assert_close(one[:, 0], torch.arange(5, dtype=torch.float64).sin())  # ω_0 = 1
    two = sincos_pos_embed_2d(8, (2, 3))
    torch.testing.assert_close(two[4, :4], sincos_pos_embed_1d(4, 3)[1])  # token (1, 1): column half
    torch.testing.assert_close(two[4, 4:], sincos_pos_embed_1d(4, 2)[1])  # row half
    with pytest.raises(ValueError, match="multiple of 4"):
        sincos_pos_embed_2d(6, 2)


def test_resize_pos_embed_keeps_constants_and_same_size_tables() -> None:
    pos = torch.randn(1, 16, 5)
    torch.testing.assert_close(resize_pos_embed_2d(pos, (4, 4)), pos)
    torch.testing.assert_close(resize_pos_embed_1d(pos, 16), pos)
    const = torch.full((1, 64, 3), 0.7)
    torch.testing.assert_close(resize_pos_embed_2d(const, (5, 9)), torch.full((1, 45, 3), 0.7))
    torch.testing.assert_close(resize_pos_embed_1d(const, 100), torch.full((1, 100, 3), 0.7))
    with pytest.raises(ValueError, match="old_grid"):
        resize_pos_embed_2d(torch.zeros(1, 10, 3), (4, 4))


def test_resize_pos_embed_2d_follows_the_grid_axes() -> None:
    # A table that varies only along the columns stays column-only after resampling.
    cols = torch.linspace(-1, 1, 6, dtype=torch.float64)
    table = cols[None, :].expand(4, 6).reshape(1, 24, 1)
    out = resize_pos_embed_2d(table, (8, 3), old_grid=(4, 6)).reshape(8, 3)
    torch.testing.assert_close(out, out[:1].expand(8, 3))
    assert out[0, 0] < out[0, 1] < out[0, 2]
