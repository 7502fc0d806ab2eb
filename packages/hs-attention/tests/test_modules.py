"""The nn.Module layers: parameter layout, initialisation, backend equivalence, autocast."""

from __future__ import annotations

import math

import pytest
import torch

from hs_attention import GlobalAttention, SparseSamplingAttention, available_backends


def test_parameter_names_and_shapes_follow_upstream() -> None:
    mod = SparseSamplingAttention(64, 4, 8)
    shapes = {k: tuple(v.shape) for k, v in mod.state_dict().items()}
    assert shapes == {
        "qkv.weight": (192, 64),
        "qkv.bias": (192,),
        "sampling_offsets.weight": (64, 64),
        "sampling_offsets.bias": (64,),
        "proj.weight": (64, 64),
        "proj.bias": (64,),
    }
    glob = GlobalAttention(64, 4)
    assert {k: tuple(v.shape) for k, v in glob.state_dict().items()} == {
        "qkv.weight": (192, 64),
        "qkv.bias": (192,),
        "proj.weight": (64, 64),
        "proj.bias": (64,),
    }
    assert "qkv.bias" not in SparseSamplingAttention(64, 4, 8, qkv_bias=False).state_dict()


def test_detr_offset_init_spreads_points_by_head_direction() -> None:
    mod = SparseSamplingAttention(32, 4, 3)
    assert torch.count_nonzero(mod.sampling_offsets.weight) == 0
    grid = mod.sampling_offsets.bias.detach().view(4, 3, 2)  # [head][point][x, y]
    # head 0 looks right (+x), head 1 down (+y), head 2 left, head 3 up; point j at distance j + 1
    for head, direction in enumerate([(1, 0), (0, 1), (-1, 0), (0, -1)]):
        for j in range(3):
            expected = torch.tensor(direction, dtype=torch.float32) * (j + 1)
            torch.testing.assert_close(grid[head, j], expected, atol=1e-6, rtol=0)


def test_detr_offset_init_normalises_diagonals_to_the_square() -> None:
    mod = SparseSamplingAttention(32, 8, 1)
    grid = mod.sampling_offsets.bias.detach().view(8, 2)
    assert torch.allclose(grid.abs().amax(dim=-1), torch.ones(8))  # on the unit square's border
    theta = torch.atan2(grid[:, 1], grid[:, 0])
    torch.testing.assert_close(torch.remainder(theta, 2 * math.pi), torch.arange(8) * (math.pi / 4))


def test_upstream_offset_init_starts_on_the_own_token() -> None:
    torch.manual_seed(0)
    mod = SparseSamplingAttention(256, 8, 8, offset_init="upstream")
    assert torch.count_nonzero(mod.sampling_offsets.bias) == 0
    std = mod.sampling_offsets.weight.std().item()
    assert 0.015 < std < 0.025  # trunc_normal(0.02)


def test_ssa_backends_give_the_same_module_output() -> None:
    mod = SparseSamplingAttention(48, 4, 8, backend="reference").double()
    x = torch.randn(2, 30, 48, dtype=torch.float64, requires_grad=True)
    ref = mod(x, (5, 6))
    (g_ref,) = torch.autograd.grad(ref.sum(), x)
    for name, reasons in available_backends("ssa", device="cpu", dtype=torch.float64).items():
        if reasons:
            continue
        mod.backend = name
        out = mod(x, (5, 6))
        (g,) = torch.autograd.grad(out.sum(), x)
        torch.testing.assert_close(out, ref, atol=1e-10, rtol=1e-9)
        torch.testing.assert_close(g, g_ref, atol=1e-10, rtol=1e-9)


def test_global_attention_naive_and_fused_agree() -> None:
    mod = GlobalAttention(48, 4, backend="naive").double().eval()
    x = torch.randn(2, 33, 48, dtype=torch.float64)
    ref = mod(x)
    mod.backend = "sdpa"
    torch.testing.assert_close(mod(x), ref, atol=1e-12, rtol=1e-10)


def test_every_parameter_receives_a_gradient() -> None:
    for mod in (SparseSamplingAttention(16, 2, 4), GlobalAttention(16, 2)):
        out = mod(torch.randn(2, 12, 16), (3, 4))
        out.square().sum().backward()
        for name, p in mod.named_parameters():
            assert p.grad is not None and torch.count_nonzero(p.grad) > 0, name


def test_bf16_autocast_runs_close_to_float32() -> None:
    torch.manual_seed(0)
    mod = SparseSamplingAttention(64, 4, 8)
    x = torch.randn(2, 36, 64)
    ref = mod(x, (6, 6))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = mod(x, (6, 6))
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, atol=0.05, rtol=0.05)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_factory_kwargs(dtype: torch.dtype) -> None:
    mod = SparseSamplingAttention(16, 2, 2, dtype=dtype)
    assert all(p.dtype == dtype for p in mod.parameters())
    glob = GlobalAttention(16, 2, dtype=dtype, device="cpu")
    assert all(p.dtype == dtype for p in glob.parameters())
