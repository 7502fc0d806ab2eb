"""Every backend that runs here against the float64 reference, plus dispatch behaviour."""

from __future__ import annotations

import pytest
import torch

from hs_attention import (
    BackendUnavailableError,
    available_backends,
    global_attention,
    select_backend,
    sparse_sampling_attention,
)
from hs_attention.backends import GLOBAL_BACKENDS, SSA_BACKENDS, get_backend
from hs_attention.reference import global_attention_reference, sparse_sampling_attention_reference
from hs_attention.testing import make_ssa_inputs

DTYPES = [torch.float64, torch.float32, torch.bfloat16]
SHAPES = [  # (b, h, w, m, d, p): odd head dims, degenerate and non-square grids, HyperSIGMA-like
    (1, 1, 1, 1, 3, 2),
    (2, 1, 7, 2, 5, 4),
    (1, 5, 3, 3, 7, 8),
    (2, 8, 8, 4, 16, 8),
    (1, 10, 10, 2, 64, 8),
]


def _skip_unless_runs(op: str, name: str, dtype: torch.dtype) -> None:
    reasons = available_backends(op, device="cpu", dtype=dtype)[name]
    if reasons:
        pytest.skip(f"{name}: " + "; ".join(reasons))


def _grads(out: torch.Tensor, inputs: tuple[torch.Tensor, ...], seed: int = 1) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    g = torch.randn(out.shape, generator=gen, dtype=torch.float64).to(out.dtype)
    return torch.autograd.grad(out, inputs, g)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", sorted(SSA_BACKENDS))
def test_ssa_backend_matches_reference(name: str, shape: tuple[int, ...], dtype: torch.dtype) -> None:
    """Same inputs, same dtype: the reference computes half types in float32, like the kernels, so
    both take the same side of every bilinear cell and the gradients are comparable everywhere."""
    _skip_unless_runs("ssa", name, dtype)
    backend = get_backend("ssa", name)
    b, h, w, m, d, p = shape
    x = make_ssa_inputs(b, h, w, m, d, p, dtype=dtype, offset_scale=2.0, seed=11, requires_grad=True)
    x_ref = [t.detach().clone().requires_grad_(True) for t in x.tensors()]
    out = sparse_sampling_attention(*x.tensors(), x.shape, backend=name)
    ref = sparse_sampling_attention_reference(*x_ref, x.shape)
    assert out.dtype == dtype and out.shape == (b, h * w, m, d)
    tol = backend.FWD_TOL[dtype]
    torch.testing.assert_close(out.double(), ref.double(), atol=tol.atol, rtol=tol.rtol)
    tol = backend.BWD_TOL[dtype]
    for label, got, want in zip("qkvo", _grads(out, x.tensors()), _grads(ref, tuple(x_ref))):
        torch.testing.assert_close(
            got.double(),
            want.double(),
            atol=tol.atol,
            rtol=tol.rtol,
            msg=lambda msg, lb=label: f"grad {lb}: {msg}",
        )


@pytest.mark.parametrize("name", sorted(SSA_BACKENDS))
def test_ssa_backend_is_deterministic(name: str) -> None:
    _skip_unless_runs("ssa", name, torch.float32)
    if not get_backend("ssa", name).IS_DETERMINISTIC:
        pytest.skip(f"{name} declares IS_DETERMINISTIC = False")
    x = make_ssa_inputs(2, 6, 5, 3, 8, 4, offset_scale=2.0, seed=5, requires_grad=True)
    runs = []
    for _ in range(2):
        out = sparse_sampling_attention(*x.tensors(), x.shape, backend=name)
        runs.append((out, *_grads(out, x.tensors())))
    for a, b in zip(*runs):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", sorted(SSA_BACKENDS))
def test_ssa_backend_accepts_strided_views(name: str) -> None:
    """q, k, v as views of one packed projection and transposed offsets, as the module produces."""
    _skip_unless_runs("ssa", name, torch.float64)
    b, h, w, m, d, p = 2, 3, 4, 2, 5, 3
    gen = torch.Generator().manual_seed(0)
    qkv = torch.randn(b, h * w, 3, m, d, generator=gen, dtype=torch.float64)
    q, k, v = qkv.unbind(2)
    offsets = torch.randn(b, h * w, m, 2, p, generator=gen, dtype=torch.float64).transpose(-1, -2)
    assert not q.is_contiguous() and not offsets.is_contiguous()
    out = sparse_sampling_attention(q, k, v, offsets, (h, w), backend=name)
    ref = sparse_sampling_attention_reference(
        q.contiguous(), k.contiguous(), v.contiguous(), offsets.contiguous(), (h, w)
    )
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("name", sorted(SSA_BACKENDS))
def test_far_offsets_give_zero_and_no_nan(name: str) -> None:
    _skip_unless_runs("ssa", name, torch.float32)
    x = make_ssa_inputs(1, 4, 4, 2, 4, 3, seed=2, requires_grad=True)
    offsets = torch.full_like(x.offsets, 1e30).requires_grad_(True)
    out = sparse_sampling_attention(x.q, x.k, x.v, offsets, x.shape, backend=name)
    assert torch.equal(out, torch.zeros_like(out))
    grads = torch.autograd.grad(out.sum(), (x.q, x.k, x.v, offsets))
    for g in grads:
        assert torch.isfinite(g).all() and torch.equal(g, torch.zeros_like(g))


# ---------------------------------------------------------------- dispatch


def test_reference_is_always_available() -> None:
    assert available_backends("ssa")["reference"] == []
    assert available_backends("global")["naive"] == []
    assert set(available_backends("ssa")) == set(SSA_BACKENDS)
    assert set(available_backends("global")) == set(GLOBAL_BACKENDS)


def test_unavailable_backends_say_why() -> None:
    for op in ("ssa", "global"):
        for name, reasons in available_backends(op, device="cpu", dtype=torch.float32).items():
            assert all(isinstance(r, str) and r for r in reasons), (op, name, reasons)
    # xformers has no CPU kernels: asking for it on CPU names the device.
    reasons = available_backends("global", device="cpu", dtype=torch.float32)["xformers"]
    assert any("cpu" in r for r in reasons)


def test_auto_takes_the_highest_priority_backend_that_runs() -> None:
    chosen = select_backend("ssa", "cpu", torch.float32)
    runnable = [b for b in SSA_BACKENDS.values() if not b.not_supported_reasons("cpu", torch.float32)]
    runnable = [b for b in runnable if b.AUTO_DEVICES is None or "cpu" in b.AUTO_DEVICES]
    assert chosen is max(runnable, key=lambda b: b.PRIORITY)
    assert select_backend("global", "cpu", torch.float32).NAME == "sdpa"


def test_explicit_unavailable_backend_raises_with_reasons() -> None:
    with pytest.raises(BackendUnavailableError, match="xformers"):
        select_backend("global", "cpu", torch.float32, "xformers")


def test_unknown_backend_name_is_a_value_error() -> None:
    x = make_ssa_inputs(1, 2, 2, 1, 2, 1)
    with pytest.raises(ValueError, match=r"backend: expected 'auto' or one of .*'reference'.* got 'fast'"):
        sparse_sampling_attention(*x.tensors(), x.shape, backend="fast")


def test_environment_variable_forces_a_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HS_ATTENTION_BACKEND", "reference")
    assert select_backend("ssa", "cpu", torch.float32).NAME == "reference"
    monkeypatch.setenv("HS_GLOBAL_ATTENTION_BACKEND", "naive")
    assert select_backend("global", "cpu", torch.float32).NAME == "naive"
    monkeypatch.setenv("HS_ATTENTION_BACKEND", "warp")
    with pytest.raises(ValueError, match="HS_ATTENTION_BACKEND: expected"):
        select_backend("ssa", "cpu", torch.float32)


# ---------------------------------------------------------------- global attention


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("name", sorted(GLOBAL_BACKENDS))
def test_global_backend_matches_reference(name: str, dtype: torch.dtype) -> None:
    _skip_unless_runs("global", name, dtype)
    gen = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(2, 37, 3, 16, generator=gen, dtype=dtype).requires_grad_(True) for _ in range(3))
    out = global_attention(q, k, v, backend=name)
    q64, k64, v64 = (t.detach().double().requires_grad_(True) for t in (q, k, v))
    ref = global_attention_reference(q64, k64, v64)
    tol = get_backend("global", name).FWD_TOL[dtype]
    torch.testing.assert_close(out.double(), ref, atol=tol.atol, rtol=tol.rtol)
    tol = get_backend("global", name).BWD_TOL[dtype]
    for got, want in zip(_grads(out, (q, k, v)), _grads(ref, (q64, k64, v64))):
        torch.testing.assert_close(got.double(), want, atol=tol.atol, rtol=tol.rtol)


def test_global_attention_dropout_only_when_asked() -> None:
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 16, 2, 8, generator=gen) for _ in range(3))
    base = global_attention(q, k, v)
    torch.manual_seed(0)
    dropped = global_attention(q, k, v, dropout_p=0.5)
    assert not torch.allclose(base, dropped)
    with pytest.raises(ValueError, match="dropout_p"):
        global_attention(q, k, v, dropout_p=1.5)


@pytest.mark.parametrize("name", sorted(SSA_BACKENDS))
def test_empty_batch(name: str) -> None:
    _skip_unless_runs("ssa", name, torch.float32)
    x = make_ssa_inputs(0, 3, 4, 2, 5, 3, requires_grad=True)
    out = sparse_sampling_attention(*x.tensors(), x.shape, backend=name)
    assert out.shape == (0, 12, 2, 5)
    grads = torch.autograd.grad(out.sum(), x.tensors())
    assert [g.shape for g in grads] == [t.shape for t in x.tensors()]
