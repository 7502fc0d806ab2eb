"""The fused GPU backend: Triton kernels for the forward and the backward (``_triton_kernels.py``).

Triton is an optional extra (``pip install hs-attention[triton]``) and is imported on first use
only, never when ``hs_attention`` is imported. On a CUDA device the kernels are compiled for it.
With ``TRITON_INTERPRET=1`` set before the first use, Triton's interpreter runs the same kernels on
CPU tensors (slowly, in numpy): that is how the test suite checks them on machines without a GPU.
``backend="auto"`` picks this backend on CUDA only, never the interpreter on CPU.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import struct
from types import ModuleType
from typing import Any, ClassVar

import torch
from torch import Tensor

from hs_attention.backends._base import DEFAULT_BWD_TOL, DEFAULT_FWD_TOL, SSABackend, Tolerance
from hs_attention.reference import compute_dtype, reference_points

_NUM_WARPS = 4


@functools.cache
def _load() -> tuple[ModuleType | None, str | None]:
    """Import Triton and decorate the kernels once; returns (kernel module or None, why not)."""
    if importlib.util.find_spec("triton") is None:
        return None, "triton is not installed (install hs-attention[triton])"
    try:
        kernels = importlib.import_module("hs_attention.backends._triton_kernels")
    except Exception as exc:  # a broken Triton install can raise anything at import
        return None, f"triton failed to import ({type(exc).__name__}: {exc})"
    if not kernels.AVAILABLE:
        hint = ""
        if "numpy" in kernels.IMPORT_ERROR:
            hint = "; Triton's CPU interpreter needs numpy: install hs-attention[triton-interpreter]"
        return None, f"triton failed to import ({kernels.IMPORT_ERROR}){hint}"
    return kernels, None


def interpreted() -> bool:
    """Whether the kernels run in Triton's CPU interpreter (``TRITON_INTERPRET=1`` at first use)."""
    kernels, _ = _load()
    return kernels is not None and type(kernels.ssa_fwd_kernel).__name__ == "InterpretedFunction"


def _pow2(x: int) -> int:
    return 1 << max(0, x - 1).bit_length()


def block_sizes(rows: int, d: int, p: int, dtype: torch.dtype, *, backward: bool) -> tuple[int, int, int]:
    """``(BLOCK_Q, BLOCK_D, BLOCK_P)`` for ``rows = b·n·m`` query rows of ``d`` features, ``p`` points.

    All features of a row sit in one tile. On a GPU, a program takes as many query rows as keep a
    ``BLOCK_Q × BLOCK_D`` tile at 1024 elements in the forward and 512 in the backward (half that
    for float64), at least 4 rows: with 4 warps that is 8 (4) elements per thread and tile, which
    compiles for sm_90 without register spills (d = 64: 96 registers; more rows per program
    spill). The interpreter's cost is per operation rather than per element, so there a program
    takes up to 64k elements' worth of rows.
    """
    block_d = _pow2(d)
    block_p = max(2, _pow2(p))
    if interpreted():
        return min(_pow2(rows), max(2, 65536 // block_d)), block_d, block_p
    budget = (512 if backward else 1024) // (2 if compute_dtype(dtype) == torch.float64 else 1)
    block_q = min(64, max(4, budget // block_d))
    return min(block_q, max(4, _pow2(rows))), block_d, block_p


def _launch_options() -> dict[str, Any]:
    # enable_fp_fusion=False: no a*b+c -> fma contraction, so the sampling coordinate rounds like
    # the reference's separate operations and floor() picks the same bilinear cell.
    return {"num_warps": _NUM_WARPS, "enable_fp_fusion": False}


@functools.lru_cache(maxsize=64)
def _reference_points(h: int, w: int, device: torch.device) -> Tensor:
    """:func:`hs_attention.reference.reference_points`, built once per grid and device (read only)."""
    return reference_points(h, w, device=device)


def _float_bits(x: float) -> int:
    """The bits of ``x`` as a float64, as a signed int64 (how the kernels receive the scale)."""
    bits: int = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits


def _store_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the kernels write results in. Half types are written in float32 and rounded by
    torch under the interpreter, whose float32 -> bfloat16 cast truncates (a GPU rounds to nearest
    even, as torch does)."""
    return torch.float32 if interpreted() and dtype in (torch.float16, torch.bfloat16) else dtype


def _on_device(t: Tensor) -> contextlib.AbstractContextManager[object]:
    """Triton launches on the current CUDA device: make it the inputs' one."""
    return torch.cuda.device(t.device) if t.is_cuda else contextlib.nullcontext()


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _row_major(t: Tensor) -> Tensor:
    return t if t.stride(-1) == 1 else t.contiguous()


def ssa_forward(
    q: Tensor, k: Tensor, v: Tensor, offsets: Tensor, shape: tuple[int, int], scale: float
) -> Tensor:
    """Forward kernel launch (no autograd). Shapes as :func:`hs_attention.sparse_sampling_attention`."""
    kernels, err = _load()
    if kernels is None:
        raise RuntimeError(err)
    h, w = shape
    b, n, m, d = q.shape
    p = offsets.shape[3]
    q, k, v = _row_major(q), _row_major(k), _row_major(v)
    ref = _reference_points(h, w, q.device)
    f64 = compute_dtype(q.dtype) == torch.float64
    out = torch.empty(b, n, m, d, dtype=_store_dtype(q.dtype), device=q.device)
    rows = b * n * m
    if rows == 0:  # nothing to launch (a CUDA grid cannot be empty)
        return out.to(q.dtype)
    block_q, block_d, block_p = block_sizes(rows, d, p, q.dtype, backward=False)
    with _on_device(q):
        kernels.ssa_fwd_kernel[(_cdiv(rows, block_q),)](
            q, k, v, offsets, ref, out, _float_bits(scale),
            rows, n, m, p, d, h, w,
            *q.stride()[:3], *k.stride()[:3], *v.stride()[:3],
            *offsets.stride()[:5],
            *out.stride()[:3],
            BLOCK_Q=block_q, BLOCK_D=block_d, BLOCK_P=block_p, F64=f64,
            **_launch_options(),
        )  # fmt: skip
    return out.to(q.dtype)


def ssa_backward(
    grad_out: Tensor,
    q: Tensor,
    k: Tensor,
    v: Tensor,
    offsets: Tensor,
    shape: tuple[int, int],
    scale: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Backward kernel launch: gradients for ``q, k, v, offsets`` (in their dtypes)."""
    kernels, err = _load()
    if kernels is None:
        raise RuntimeError(err)
    h, w = shape
    b, n, m, d = q.shape
    p = offsets.shape[3]
    grad_out, q, k, v = _row_major(grad_out), _row_major(q), _row_major(k), _row_major(v)
    ref = _reference_points(h, w, q.device)
    acc = compute_dtype(q.dtype)
    gq = torch.empty(b, n, m, d, dtype=_store_dtype(q.dtype), device=q.device)
    # dK and dV are scatters: accumulated with atomics in the compute dtype, one buffer for both
    gkv = torch.zeros(2, b, n, m, d, dtype=acc, device=q.device)
    gk, gv = gkv[0], gkv[1]
    goff = torch.empty(offsets.shape, dtype=_store_dtype(offsets.dtype), device=offsets.device)
    rows = b * n * m
    if rows == 0:
        return gq.to(q.dtype), gk.to(q.dtype), gv.to(q.dtype), goff.to(offsets.dtype)
    block_q, block_d, block_p = block_sizes(rows, d, p, q.dtype, backward=True)
    with _on_device(q):
        kernels.ssa_bwd_kernel[(_cdiv(rows, block_q),)](
            grad_out, q, k, v, offsets, ref, _float_bits(scale),
            gq, gk, gv, goff,
            rows, n, m, p, d, h, w,
            *grad_out.stride()[:3], *q.stride()[:3], *k.stride()[:3], *v.stride()[:3],
            *offsets.stride()[:5],
            *gq.stride()[:3], *gk.stride()[:3],
            *goff.stride()[:5],
            BLOCK_Q=block_q, BLOCK_D=block_d, BLOCK_P=block_p, F64=acc == torch.float64,
            **_launch_options(),
        )  # fmt: skip
    return gq.to(q.dtype), gk.to(q.dtype), gv.to(q.dtype), goff.to(offsets.dtype)


class _TritonSSAFunction(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, q: Tensor, k: Tensor, v: Tensor, offsets: Tensor, shape: tuple[int, int], scale: float
    ) -> Tensor:
        ctx.save_for_backward(q, k, v, offsets)
        ctx.shape, ctx.scale = shape, scale
        return ssa_forward(q, k, v, offsets, shape, scale)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        q, k, v, offsets = ctx.saved_tensors
        gq, gk, gv, goff = ssa_backward(grad_out, q, k, v, offsets, ctx.shape, ctx.scale)
        return gq, gk, gv, goff, None, None


class TritonSSA(SSABackend):
    NAME: ClassVar[str] = "triton"
    PRIORITY: ClassVar[int] = 20
    SUPPORTED_DEVICES: ClassVar[frozenset[str]] = frozenset({"cuda"})
    AUTO_DEVICES: ClassVar[frozenset[str] | None] = frozenset({"cuda"})
    # dK and dV are summed with float atomics: on a GPU their last bits vary from run to run.
    IS_DETERMINISTIC: ClassVar[bool] = False
    # The package defaults: the interpreter uses at most 3% (float32) to 12% (float16) of them
    # (benchmarks/tolerance_margins.py; README). Differences from the reference: summation order,
    # the dK/dV scatters (atomics on a GPU), and on a GPU the approximate float32 exp.
    FWD_TOL: ClassVar[dict[torch.dtype, Tolerance]] = DEFAULT_FWD_TOL
    BWD_TOL: ClassVar[dict[torch.dtype, Tolerance]] = DEFAULT_BWD_TOL
    DESCRIPTION: ClassVar[str] = (
        "fused Triton kernels, one program per block of query rows (all heads of a few tokens): "
        "gather the K corners, scores, exact softmax over p, gather V; the backward recomputes the "
        "scores and scatters dK/dV with atomics. auto order: triton (CUDA) > cpu (CPU) > reference"
    )

    @classmethod
    def supported_devices(cls) -> frozenset[str]:
        """CUDA; also CPU while the kernels run in Triton's interpreter (tests without a GPU)."""
        if interpreted():
            return cls.SUPPORTED_DEVICES | {"cpu"}
        return cls.SUPPORTED_DEVICES

    @classmethod
    def environment_reasons(cls) -> list[str]:
        _, err = _load()
        if err:
            return [err]
        if not interpreted() and not torch.cuda.is_available():
            return [
                "no CUDA device (to run the kernels on CPU in Triton's interpreter, for testing, "
                "set TRITON_INTERPRET=1 before their first use)"
            ]
        return []

    @classmethod
    def apply(
        cls, q: Tensor, k: Tensor, v: Tensor, offsets: Tensor, shape: tuple[int, int], scale: float
    ) -> Tensor:
        out: Tensor = _TritonSSAFunction.apply(q, k, v, offsets, shape, scale)
        return out
