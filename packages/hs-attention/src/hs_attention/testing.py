"""Helpers for tests and benchmarks, here and in the packages above.

- :func:`naive_sparse_sampling_attention`: SSA written as explicit loops over queries, heads and points,
  with hand-written bilinear interpolation. It shares no code with the reference, so it checks the
  reference itself (a kernel and its reference must not be checked only against each other).
- :func:`make_ssa_inputs`: seeded operands for a given shape.
- :func:`peak_memory_bytes`: peak of the tensor memory allocated while a callable runs (CPU and CUDA).

Shape legend: ``b`` batch, ``n`` tokens (``n = h·w``), ``m`` heads, ``d`` features, ``p`` points.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "SSAInputs",
    "fixtures_root",
    "load_official_fixture",
    "make_ssa_inputs",
    "naive_sparse_sampling_attention",
    "peak_memory_bytes",
]


def naive_sparse_sampling_attention(
    q: Tensor, k: Tensor, v: Tensor, offsets: Tensor, shape: tuple[int, int], *, scale: float | None = None
) -> Tensor:
    """Loop version of SSA in float64, for tiny shapes only. Same contract as the reference.

    Query ``i = r·w + j`` samples at pixel ``x = (c_x + off_x / w)·w − 1/2``, ``y`` likewise, where
    ``c = ((j + 1/2) / w, (r + 1/2) / h)`` rounded to float32 (upstream's reference points; without
    the rounding ``x = j + off_x``). A bilinear read weights the four surrounding tokens by
    ``(1 − |x − x_c|)(1 − |y − y_c|)`` and treats tokens outside the grid as zeros.
    """
    b, n, m, d = q.shape
    h, w = shape
    p = offsets.shape[3]
    scale = d**-0.5 if scale is None else scale
    q64, k64, v64, off64 = (t.detach().double() for t in (q, k, v, offsets))
    out = torch.zeros(b, n, m, d, dtype=torch.float64)

    def f32(value: float) -> float:
        return float(torch.tensor(value, dtype=torch.float32))

    def read(feat: Tensor, bi: int, mi: int, x: float, y: float) -> Tensor:
        value = torch.zeros(d, dtype=torch.float64)
        if not (math.isfinite(x) and math.isfinite(y)):
            return value
        x0, y0 = math.floor(x), math.floor(y)
        for cx, cy in ((x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)):
            if 0 <= cx < w and 0 <= cy < h:
                weight = (1 - abs(x - cx)) * (1 - abs(y - cy))
                value += weight * feat[bi, cy * w + cx, mi]
        return value

    for bi in range(b):
        for i in range(n):
            r, j = divmod(i, w)
            cx, cy = f32((j + 0.5) / w), f32((r + 0.5) / h)
            for mi in range(m):
                ks, vs = [], []
                for pi in range(p):
                    x = (cx + float(off64[bi, i, mi, pi, 0]) / w) * w - 0.5
                    y = (cy + float(off64[bi, i, mi, pi, 1]) / h) * h - 0.5
                    ks.append(read(k64, bi, mi, x, y))
                    vs.append(read(v64, bi, mi, x, y))
                scores = torch.stack([(q64[bi, i, mi] * kk).sum() * scale for kk in ks])
                attn = torch.softmax(scores, dim=0)
                out[bi, i, mi] = sum(a * vv for a, vv in zip(attn, vs))
    return out


@dataclass
class SSAInputs:
    """Operands of :func:`hs_attention.sparse_sampling_attention`."""

    q: Tensor
    k: Tensor
    v: Tensor
    offsets: Tensor
    shape: tuple[int, int]

    def tensors(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return self.q, self.k, self.v, self.offsets


def make_ssa_inputs(
    b: int,
    h: int,
    w: int,
    m: int,
    d: int,
    p: int,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    offset_scale: float = 1.5,
    seed: int = 0,
    requires_grad: bool = False,
) -> SSAInputs:
    """Seeded standard-normal q, k, v and offsets ``offset_scale · N(0, 1)`` (token units)."""
    gen = torch.Generator().manual_seed(seed)
    n = h * w

    def rand(*shape: int, s: float = 1.0) -> Tensor:
        t = (torch.randn(*shape, generator=gen, dtype=torch.float64) * s).to(dtype=dtype, device=device)
        return t.requires_grad_(requires_grad)

    return SSAInputs(
        rand(b, n, m, d), rand(b, n, m, d), rand(b, n, m, d), rand(b, n, m, p, 2, s=offset_scale), (h, w)
    )


def peak_memory_bytes(fn: Callable[[], object], device: torch.device | str = "cpu") -> int:
    """Peak tensor memory allocated while ``fn()`` runs, above what was allocated before it.

    CUDA: the caching allocator's peak statistics. CPU: the allocation and free events recorded by
    the PyTorch profiler (``profile_memory=True``), summed in time order. Run ``fn`` once before to
    exclude one-time allocations (kernel builds, caches).
    """
    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        before = torch.cuda.memory_allocated(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        fn()
        torch.cuda.synchronize(dev)
        return int(torch.cuda.max_memory_allocated(dev) - before)
    from torch.profiler import ProfilerActivity, profile

    os.environ.setdefault("KINETO_LOG_LEVEL", "5")
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    events.sort(key=lambda e: e.start_ns())
    live = peak = 0
    for e in events:
        if e.device_type() == torch.autograd.DeviceType.CPU:
            live += e.nbytes()
            peak = max(peak, live)
    return int(peak)


def fixtures_root() -> str | None:
    """The official-code fixtures folder (``HS_FIXTURES_ROOT``), or ``None`` when it is not set."""
    root = os.environ.get("HS_FIXTURES_ROOT")
    return os.path.join(root, "hypersigma_reference") if root else None


def load_official_fixture(name: str) -> dict:
    """Load ``<HS_FIXTURES_ROOT>/hypersigma_reference/<name>.pt`` (tensors and plain values only).

    Raises:
        FileNotFoundError: naming the variable or the file, when the fixture is not available.
    """
    root = fixtures_root()
    if root is None:
        raise FileNotFoundError(
            "HS_FIXTURES_ROOT is not set: point it at the folder holding hypersigma_reference/ "
            "(in this project: shared/fixtures beside the checkout)"
        )
    path = os.path.join(root, f"{name}.pt")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: official fixture {name!r} not found")
    data: dict = torch.load(path, map_location="cpu", weights_only=True)
    return data
