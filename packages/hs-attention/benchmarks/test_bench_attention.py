"""Micro-benchmarks of sparse sampling attention and global attention at HyperSIGMA's shapes.

Run with ``./noxw -s kernels`` (JSON + Markdown report under ``results/kernels/``), or directly:
``cd packages/hs-attention && pytest -o addopts= benchmarks --benchmark-only``.

Every case records, besides the timing, the peak tensor memory of one call (``peak_mib``) and what it
measures (``extra_info``), which ``benchmarks/report.py`` turns into the table and the target checks.
Shapes: dim 768, 12 heads, 8 points (HyperSIGMA-B); batch sized for 2 CPU cores.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from einops import rearrange

from hs_attention import GlobalAttention, SparseSamplingAttention, available_backends
from hs_attention.reference import global_attention_reference
from hs_attention.testing import peak_memory_bytes

DIM, HEADS, POINTS = 768, 12, 8
# name -> (batch, h, w): the token grids HyperSIGMA runs SSA on
GRIDS = {
    "cls16": (8, 16, 16),  # classification: 33x33 patches, p=2 -> 16x16, batch 8
    "det32": (2, 32, 32),  # detection / unmixing / denoising: 32x32 grid, batch 2
    "spec10": (8, 10, 10),  # spectral branch: T = 100 tokens on a 10x10 grid, batch 8
}
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _dtypes(device: str) -> list[torch.dtype]:
    return [torch.float32] if device == "cpu" else [torch.float32, torch.bfloat16]


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _run(benchmark, fn: Callable[[], object], device: str, info: dict, rounds: int = 5) -> None:
    def call() -> None:
        fn()
        _sync(device)

    call()  # warm-up (kernel build/JIT, allocator)
    info["peak_mib"] = round(peak_memory_bytes(call, device) / 2**20, 2)
    info["threads"] = torch.get_num_threads()
    benchmark.extra_info.update(info)
    benchmark.pedantic(call, rounds=rounds, warmup_rounds=1, iterations=1)


def _input(b: int, n: int, device: str, dtype: torch.dtype, grad: bool) -> torch.Tensor:
    x = torch.randn(b, n, DIM, generator=torch.Generator().manual_seed(0)).to(device=device, dtype=dtype)
    return x.requires_grad_(grad)


CASES = [(d, dt, g, be) for d in DEVICES for dt in _dtypes(d) for g in GRIDS for be in ("reference", "fast")]


@pytest.mark.parametrize("mode", ["fwd", "fwd+bwd"])
@pytest.mark.parametrize(
    ("device", "dtype", "grid", "which"), CASES, ids=lambda v: str(v).replace("torch.", "")
)
def test_ssa_module(benchmark, device: str, dtype: torch.dtype, grid: str, which: str, mode: str) -> None:
    """The whole SparseSamplingAttention layer (qkv, offsets, sampling, projection)."""
    backend = which if which == "reference" else ("triton" if device == "cuda" else "cpu")
    reasons = available_backends("ssa", device=device, dtype=dtype)[backend]
    if reasons:
        pytest.skip(f"{backend}: " + "; ".join(reasons))
    b, h, w = GRIDS[grid]
    torch.manual_seed(0)
    mod = SparseSamplingAttention(DIM, HEADS, POINTS, backend=backend).to(device=device, dtype=dtype)
    x = _input(b, h * w, device, dtype, grad=mode != "fwd")

    def fn() -> None:
        if mode == "fwd":
            with torch.no_grad():
                mod(x, (h, w))
        else:
            mod(x, (h, w)).sum().backward()

    info = {"op": "ssa_module", "grid": grid, "backend": backend, "mode": mode, "device": device}
    _run(benchmark, fn, device, info | {"dtype": str(dtype).replace("torch.", ""), "tokens": b * h * w})


@pytest.mark.parametrize(
    ("device", "dtype", "grid"), [(d, dt, g) for d in DEVICES for dt in _dtypes(d) for g in GRIDS]
)
def test_ssa_linears_floor(benchmark, device: str, dtype: torch.dtype, grid: str) -> None:
    """Only the layer's own linear maps (qkv, offsets from q, projection), forward + backward: the
    floor that any SSA implementation pays."""
    b, h, w = GRIDS[grid]
    torch.manual_seed(0)
    mod = SparseSamplingAttention(DIM, HEADS, POINTS).to(device=device, dtype=dtype)
    x = _input(b, h * w, device, dtype, grad=True)

    def fn() -> None:
        qkv = mod.qkv(x)
        q, _, v = qkv.chunk(3, dim=-1)
        offsets = mod.sampling_offsets(q)
        out = mod.proj(v)
        (out.sum() + offsets.sum()).backward()

    info = {"op": "ssa_linears", "grid": grid, "backend": "-", "mode": "fwd+bwd", "device": device}
    _run(benchmark, fn, device, info | {"dtype": str(dtype).replace("torch.", ""), "tokens": b * h * w})


GLOBAL_CORE = [
    (d, dt, n, be) for d in DEVICES for dt in _dtypes(d) for n in (1024, 2048) for be in ("naive", "sdpa")
]


@pytest.mark.parametrize("mode", ["fwd", "fwd+bwd"])
@pytest.mark.parametrize(
    ("device", "dtype", "n", "backend"), GLOBAL_CORE, ids=lambda v: str(v).replace("torch.", "")
)
def test_global_attention_core(
    benchmark, device: str, dtype: torch.dtype, n: int, backend: str, mode: str
) -> None:
    """softmax(q kᵀ) v alone (no projections), batch 2, 12 heads of 64: naive vs SDPA."""
    gen = torch.Generator().manual_seed(0)
    q, k, v = (
        torch.randn(2, n, HEADS, DIM // HEADS, generator=gen)
        .to(device=device, dtype=dtype)
        .requires_grad_(mode != "fwd")
        for _ in range(3)
    )

    def core() -> torch.Tensor:
        if backend == "naive":
            return global_attention_reference(q, k, v)
        out = torch.nn.functional.scaled_dot_product_attention(
            *(rearrange(t, "b n m d -> b m n d") for t in (q, k, v))
        )
        return rearrange(out, "b m n d -> b n m d")

    def fn() -> None:
        if mode == "fwd":
            with torch.no_grad():
                core()
        else:
            core().sum().backward()

    info = {"op": "global_core", "grid": f"n{n}", "backend": backend, "mode": mode, "device": device}
    _run(benchmark, fn, device, info | {"dtype": str(dtype).replace("torch.", ""), "tokens": 2 * n})


@pytest.mark.parametrize(
    ("device", "dtype", "grid", "backend"),
    [(d, dt, g, be) for d in DEVICES for dt in _dtypes(d) for g in GRIDS for be in ("naive", "auto")],
)
def test_global_attention_module(benchmark, device: str, dtype: torch.dtype, grid: str, backend: str) -> None:
    """The whole GlobalAttention layer (the 4 global blocks of every HyperSIGMA size), forward + backward."""
    b, h, w = GRIDS[grid]
    torch.manual_seed(0)
    mod = GlobalAttention(DIM, HEADS, backend=backend).to(device=device, dtype=dtype)
    x = _input(b, h * w, device, dtype, grad=True)

    def fn() -> None:
        mod(x).sum().backward()

    info = {"op": "global_module", "grid": grid, "backend": backend, "mode": "fwd+bwd", "device": device}
    _run(benchmark, fn, device, info | {"dtype": str(dtype).replace("torch.", ""), "tokens": b * h * w})
