"""The Triton backend compiled for a CUDA device, against the reference (run with ``./noxw -s gpu``).

The reference runs on CPU copies of the same inputs: PyTorch's CUDA ``grid_sample`` is compiled
with multiply-add contraction, so at rare coordinates within an ulp of a token boundary it can take
the other bilinear cell than the (uncontracted) definition; its CPU kernel does not. Shapes are
HyperSIGMA's SSA layers (dim 768, 12 heads of 64 features, 8 points, a 32×32 token grid), with
q, k, v as views of one packed projection, as the module produces them.
"""

from __future__ import annotations

import pytest
import torch

from hs_attention import select_backend, sparse_sampling_attention
from hs_attention.backends import get_backend
from hs_attention.reference import sparse_sampling_attention_reference

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

HYPERSIGMA = (2, 32, 32, 12, 64, 8)  # (b, h, w, m, d, p)


def _packed_inputs(
    shape: tuple[int, ...], dtype: torch.dtype, *, offset_scale: float = 2.0, seed: int = 0
) -> tuple[torch.Tensor, ...]:
    """q, k, v as views of one (b, n, 3, m, d) projection and (b, n, m, p, 2) offsets, on CUDA."""
    b, h, w, m, d, p = shape
    gen = torch.Generator().manual_seed(seed)
    qkv = torch.randn(b, h * w, 3, m, d, generator=gen, dtype=torch.float64)
    offsets = torch.randn(b, h * w, m, p, 2, generator=gen, dtype=torch.float64) * offset_scale
    qkv, offsets = qkv.to("cuda", dtype), offsets.to("cuda", dtype)
    q, k, v = (t.requires_grad_(True) for t in qkv.unbind(2))
    return q, k, v, offsets.requires_grad_(True)


def _check_against_reference(shape: tuple[int, ...], dtype: torch.dtype, seed: int = 0) -> None:
    backend = get_backend("ssa", "triton")
    b, h, w, m, d, _ = shape
    inputs = _packed_inputs(shape, dtype, seed=seed)
    out = sparse_sampling_attention(*inputs, (h, w), backend="triton")
    assert out.dtype == dtype and out.shape == (b, h * w, m, d) and out.is_cuda
    cpu = [t.detach().cpu().requires_grad_(True) for t in inputs]
    ref = sparse_sampling_attention_reference(*cpu, (h, w))
    tol = backend.FWD_TOL[dtype]
    torch.testing.assert_close(out.cpu().double(), ref.double(), atol=tol.atol, rtol=tol.rtol)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    got = torch.autograd.grad(out, inputs, g.to("cuda", dtype))
    want = torch.autograd.grad(ref, cpu, g.to(dtype))
    tol = backend.BWD_TOL[dtype]
    for label, a, c in zip("qkvo", got, want):
        torch.testing.assert_close(
            a.cpu().double(),
            c.double(),
            atol=tol.atol,
            rtol=tol.rtol,
            msg=lambda s, lb=label: f"grad {lb}: {s}",
        )


def test_auto_picks_triton_on_cuda() -> None:
    assert select_backend("ssa", "cuda", torch.float32).NAME == "triton"


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16, torch.float16], ids=str)
def test_triton_matches_reference_at_hypersigma_shapes(dtype: torch.dtype) -> None:
    _check_against_reference(HYPERSIGMA, dtype)


@pytest.mark.parametrize(
    "shape",
    [(1, 1, 1, 1, 3, 2), (2, 1, 7, 2, 5, 4), (1, 5, 3, 3, 7, 8), (2, 6, 9, 3, 1, 1), (1, 4, 4, 2, 96, 3)],
    ids=lambda s: "x".join(map(str, s)),
)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_triton_matches_reference_on_odd_shapes(shape: tuple[int, ...], dtype: torch.dtype) -> None:
    """Degenerate and non-square grids, odd head dims (masked feature tiles), one point."""
    _check_against_reference(shape, dtype, seed=3)


def test_triton_large_grid() -> None:
    """A 128×128 grid (n = 16384): row and pointer arithmetic beyond the small test grids."""
    _check_against_reference((1, 128, 128, 12, 64, 8), torch.float32, seed=5)


def test_triton_far_and_nan_offsets_give_zero_without_nan() -> None:
    q, k, v, offsets = _packed_inputs((1, 8, 8, 2, 16, 4), torch.float32)
    off = torch.full_like(offsets, 1e30)
    off[..., 0, :] = float("nan")
    off[..., 1, 0] = float("-inf")
    off = off.detach().requires_grad_(True)
    out = sparse_sampling_attention(q, k, v, off, (8, 8), backend="triton")
    assert torch.equal(out, torch.zeros_like(out))
    for g in torch.autograd.grad(out.sum(), (q, k, v, off)):
        assert torch.equal(g, torch.zeros_like(g))


def test_triton_fp64_matches_official_parity_tolerance_at_hypersigma_shapes() -> None:
    """float64 agrees with the definition to the official-code parity tolerance (1e-10)."""
    h, w = HYPERSIGMA[1:3]
    inputs = _packed_inputs(HYPERSIGMA, torch.float64, seed=7)
    out = sparse_sampling_attention(*inputs, (h, w), backend="triton")
    ref = sparse_sampling_attention_reference(*(t.detach().cpu() for t in inputs), (h, w))
    torch.testing.assert_close(out.cpu(), ref, atol=1e-10, rtol=1e-9)


def test_triton_forward_and_q_offset_grads_are_deterministic() -> None:
    """Only dK and dV are summed with atomics; everything else is bitwise repeatable."""
    h, w = HYPERSIGMA[1:3]
    inputs = _packed_inputs(HYPERSIGMA, torch.float32, seed=9)
    runs = []
    for _ in range(2):
        out = sparse_sampling_attention(*inputs, (h, w), backend="triton")
        gq, _, _, goff = torch.autograd.grad(out.square().sum(), inputs)
        runs.append((out, gq, goff))
    for a, b in zip(*runs):
        assert torch.equal(a, b)
