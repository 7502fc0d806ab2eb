"""Micro-benchmarks of the SSA op alone (no projections): the fused kernels against the reference.

``test_bench_attention.py`` times whole layers; this isolates the sampling-attention kernels, which is
what to look at when tuning them (on CUDA: the Triton backend). Inputs are laid out as the layer
produces them: q, k, v views of one packed ``(b, n, 3, m, d)`` projection, offsets of 2 tokens'
spread (some points leave the grid). Run with ``./noxw -s kernels`` or
``cd packages/hs-attention && pytest -o addopts= benchmarks/test_bench_ssa_core.py --benchmark-only``.
"""

from __future__ import annotations

import pytest
import torch

from hs_attention import available_backends, sparse_sampling_attention
from hs_attention.testing import peak_memory_bytes

HEADS, HEAD_DIM, POINTS = 12, 64, 8
GRIDS = {"cls16": (8, 16, 16), "det32": (2, 32, 32), "spec10": (8, 10, 10)}  # name -> (b, h, w)
# CPU: the detection grid only (the layer benchmarks cover the rest); CUDA: every grid.
CASES = [("cpu", torch.float32, "det32")]
if torch.cuda.is_available():
    CASES += [("cuda", dt, g) for dt in (torch.float32, torch.bfloat16) for g in GRIDS]


@pytest.mark.parametrize("mode", ["fwd", "fwd+bwd"])
@pytest.mark.parametrize("which", ["reference", "fast"])
@pytest.mark.parametrize(("device", "dtype", "grid"), CASES, ids=lambda v: str(v).replace("torch.", ""))
def test_ssa_core(benchmark, device: str, dtype: torch.dtype, grid: str, which: str, mode: str) -> None:
    backend = which if which == "reference" else ("triton" if device == "cuda" else "cpu")
    reasons = available_backends("ssa", device=device, dtype=dtype)[backend]
    if reasons:
        pytest.skip(f"{backend}: " + "; ".join(reasons))
    b, h, w = GRIDS[grid]
    gen = torch.Generator().manual_seed(0)
    qkv = torch.randn(b, h * w, 3, HEADS, HEAD_DIM, generator=gen).to(device=device, dtype=dtype)
    offsets = (2 * torch.randn(b, h * w, HEADS, POINTS, 2, generator=gen)).to(device=device, dtype=dtype)
    qkv.requires_grad_(mode != "fwd")
    offsets.requires_grad_(mode != "fwd")

    def call() -> None:
        q, k, v = qkv.unbind(2)
        if mode == "fwd":
            with torch.no_grad():
                sparse_sampling_attention(q, k, v, offsets, (h, w), backend=backend)
        else:
            out = sparse_sampling_attention(q, k, v, offsets, (h, w), backend=backend)
            torch.autograd.grad(out.sum(), (qkv, offsets))
        if device == "cuda":
            torch.cuda.synchronize()

    call()  # warm-up (kernel build / JIT compile, allocator)
    benchmark.extra_info.update(
        {
            "op": "ssa_core",
            "grid": grid,
            "backend": backend,
            "mode": mode,
            "device": device,
            "dtype": str(dtype).replace("torch.", ""),
            "tokens": b * h * w,
            "peak_mib": round(peak_memory_bytes(call, device) / 2**20, 2),
            "threads": torch.get_num_threads(),
        }
    )
    benchmark.pedantic(call, rounds=10 if device == "cuda" else 3, warmup_rounds=1, iterations=1)
