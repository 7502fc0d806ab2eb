"""Properties of sparse sampling attention, checked on every backend that runs, over random shapes.

Each test builds its hypothesis property for one backend, with that backend's example budget
(``strategies.backend_settings``: the Triton interpreter gets fewer examples than the profile).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import SSACase, backend_settings, ssa_cases

from hs_attention import SparseSamplingAttention, available_backends, sparse_sampling_attention
from hs_attention.backends import SSA_BACKENDS, get_backend
from hs_attention.reference import sparse_sampling_attention_reference

BACKENDS = sorted(SSA_BACKENDS)
# gradcheck's full Jacobian costs two forward calls per input element: too slow for the Triton
# interpreter, which gets gradcheck's fast mode (a random projection v·J·u of the same Jacobians).
FAST_GRADCHECK = {"triton"}


def _runs(name: str, dtype: torch.dtype) -> None:
    reasons = available_backends("ssa", device="cpu", dtype=dtype)[name]
    if reasons:
        pytest.skip(f"{name}: " + "; ".join(reasons))


@pytest.mark.parametrize("name", BACKENDS)
def test_backends_agree_with_reference_forward_and_backward(name: str) -> None:
    backend = get_backend("ssa", name)

    @backend_settings(name)
    @given(case=ssa_cases(), dtype=st.sampled_from([torch.float64, torch.float32, torch.bfloat16]))
    def check(case: SSACase, dtype: torch.dtype) -> None:
        _runs(name, dtype)
        x = case.inputs(dtype, requires_grad=True)
        x_ref = [t.detach().clone().requires_grad_(True) for t in x.tensors()]
        out = sparse_sampling_attention(*x.tensors(), x.shape, backend=name)
        ref = sparse_sampling_attention_reference(*x_ref, x.shape)
        fwd, bwd = backend.FWD_TOL[dtype], backend.BWD_TOL[dtype]
        torch.testing.assert_close(out.double(), ref.double(), atol=fwd.atol, rtol=fwd.rtol)
        g = torch.randn(out.shape, generator=torch.Generator().manual_seed(case.seed)).to(dtype)
        got = torch.autograd.grad(out, x.tensors(), g)
        want = torch.autograd.grad(ref, x_ref, g)
        for a, b in zip(got, want):
            torch.testing.assert_close(a.double(), b.double(), atol=bwd.atol, rtol=bwd.rtol)

    check()


@pytest.mark.parametrize("name", BACKENDS)
def test_points_outside_the_grid_contribute_zero(name: str) -> None:
    """A point wholly outside the grid reads K = V = 0: wherever it sits, the output is the same,
    and if every point is outside, the output is exactly zero."""
    _runs(name, torch.float64)

    @backend_settings(name)
    @given(case=ssa_cases(max_p=4), data=st.data())
    def check(case: SSACase, data: st.DataObject) -> None:
        x = case.inputs(torch.float64)
        far = float(max(case.h, case.w) + 2)
        outside = data.draw(st.lists(st.booleans(), min_size=case.p, max_size=case.p))
        mask = torch.tensor(outside)
        a, b = x.offsets.clone(), x.offsets.clone()
        a[..., mask, 0] = far  # one far location ...
        b[..., mask, 0] = -3 * far  # ... and another
        b[..., mask, 1] = 7 * far
        out_a = sparse_sampling_attention(x.q, x.k, x.v, a, x.shape, backend=name)
        out_b = sparse_sampling_attention(x.q, x.k, x.v, b, x.shape, backend=name)
        torch.testing.assert_close(out_a, out_b, atol=1e-12, rtol=0)
        if all(outside):
            assert torch.equal(out_a, torch.zeros_like(out_a))

    check()


@pytest.mark.parametrize("name", BACKENDS)
def test_permuting_the_points_changes_nothing(name: str) -> None:
    _runs(name, torch.float64)

    @backend_settings(name)
    @given(case=ssa_cases(), seed=st.integers(0, 1000))
    def check(case: SSACase, seed: int) -> None:
        x = case.inputs(torch.float64)
        perm = torch.randperm(case.p, generator=torch.Generator().manual_seed(seed))
        out = sparse_sampling_attention(*x.tensors(), x.shape, backend=name)
        permuted = sparse_sampling_attention(x.q, x.k, x.v, x.offsets[:, :, :, perm], x.shape, backend=name)
        torch.testing.assert_close(permuted, out, atol=1e-12, rtol=1e-12)

    check()


@pytest.mark.parametrize("name", BACKENDS)
def test_a_single_point_at_zero_offset_reads_the_own_token(name: str) -> None:
    """p = 1 at offset 0: softmax over one point is 1, so the output is the query token's value.
    (Up to the float32 rounding of the token centres, which moves the point by < 1e-6 tokens.)"""
    _runs(name, torch.float64)

    @backend_settings(name)
    @given(case=ssa_cases())
    def check(case: SSACase) -> None:
        x = case.inputs(torch.float64)
        offsets = torch.zeros(*x.offsets.shape[:3], 1, 2, dtype=torch.float64)
        out = sparse_sampling_attention(x.q, x.k, x.v, offsets, x.shape, backend=name)
        torch.testing.assert_close(out, x.v, atol=1e-5, rtol=1e-5)

    check()


@pytest.mark.parametrize("name", BACKENDS)
def test_module_with_zero_offsets_projects_the_own_value(name: str) -> None:
    _runs(name, torch.float64)
    mod = SparseSamplingAttention(24, 3, 4, backend=name).double()
    torch.nn.init.zeros_(mod.sampling_offsets.weight)
    torch.nn.init.zeros_(mod.sampling_offsets.bias)
    x = torch.randn(2, 15, 24, dtype=torch.float64)
    v = mod.qkv(x)[..., 48:]
    torch.testing.assert_close(mod(x, (3, 5)), mod.proj(v), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", BACKENDS)
def test_batch_elements_are_independent(name: str) -> None:
    _runs(name, torch.float64)

    @backend_settings(name)
    @given(case=ssa_cases())
    def check(case: SSACase) -> None:
        x = case.inputs(torch.float64)
        out = sparse_sampling_attention(*x.tensors(), x.shape, backend=name)
        for i in range(case.b):
            alone = sparse_sampling_attention(*(t[i : i + 1] for t in x.tensors()), x.shape, backend=name)
            torch.testing.assert_close(alone, out[i : i + 1], atol=1e-12, rtol=1e-12)
        if case.b > 1:  # perturbing element 1 leaves element 0 untouched (its gradient is zero)
            q = x.q.clone().requires_grad_(True)
            out = sparse_sampling_attention(q, x.k, x.v, x.offsets, x.shape, backend=name)
            (grad,) = torch.autograd.grad(out[0].sum(), q)
            assert torch.equal(grad[1:], torch.zeros_like(grad[1:]))

    check()


@pytest.mark.parametrize("name", BACKENDS)
def test_gradcheck(name: str) -> None:
    _runs(name, torch.float64)

    @backend_settings(name)
    @given(case=ssa_cases(max_side=3, max_d=3, max_p=3))
    def check(case: SSACase) -> None:
        x = case.inputs(torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(
            lambda q, k, v, o: sparse_sampling_attention(q, k, v, o, x.shape, backend=name),
            x.tensors(),
            fast_mode=name in FAST_GRADCHECK,
        )

    check()
