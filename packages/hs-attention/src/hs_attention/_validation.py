"""Input checks shared by every entry point. Each failure is a ``ValueError`` that names the argument,
what was expected and what was given.

Shape legend: ``b`` batch, ``n`` query tokens, ``s`` key tokens, ``m`` heads, ``d`` head features,
``p`` sampling points, ``h w`` token grid.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _shape(t: Tensor) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def check_tensor(name: str, t: object, ndim: int, layout: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor of shape {layout}, got {type(t).__name__}")
    if t.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D tensor of shape {layout}, got shape {_shape(t)}")
    if t.dtype not in FLOAT_DTYPES:
        raise ValueError(
            f"{name}: expected a floating dtype (float16, bfloat16, float32 or float64), got {t.dtype}"
        )
    return t


def check_same(name: str, t: Tensor, ref_name: str, ref: Tensor) -> None:
    if t.dtype != ref.dtype:
        raise ValueError(f"{name}: expected dtype {ref.dtype} (the dtype of {ref_name}), got {t.dtype}")
    if t.device != ref.device:
        raise ValueError(f"{name}: expected device {ref.device} (the device of {ref_name}), got {t.device}")


def check_grid_shape(shape: object, n: int) -> tuple[int, int]:
    """``shape`` must be a pair of positive ints ``(h, w)`` with ``h * w == n``."""
    if (
        not isinstance(shape, Sequence)
        or len(shape) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in shape)
    ):
        raise ValueError(f"shape: expected a pair of ints (h, w) giving the token grid, got {shape!r}")
    h, w = int(shape[0]), int(shape[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"shape: expected positive grid sizes (h, w), got ({h}, {w})")
    if h * w != n:
        raise ValueError(
            f"shape: expected h*w == n == {n} (the token count of q), got ({h}, {w}) with h*w = {h * w}"
        )
    return h, w


def check_ssa_inputs(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    offsets: Tensor,
    shape: object,
    *,
    check_finite: bool = False,
) -> tuple[int, int]:
    """Validate the operands of :func:`hs_attention.sparse_sampling_attention`; returns ``(h, w)``."""
    check_tensor("q", q, 4, "(b, n, m, d)")
    check_tensor("k", k, 4, "(b, n, m, d)")
    check_tensor("v", v, 4, "(b, n, m, d)")
    check_tensor("offsets", offsets, 5, "(b, n, m, p, 2)")
    for name, t in (("k", k), ("v", v)):
        if t.shape != q.shape:
            raise ValueError(f"{name}: expected shape {_shape(q)} (the shape of q), got {_shape(t)}")
        check_same(name, t, "q", q)
    check_same("offsets", offsets, "q", q)
    b, n, m, _ = q.shape
    if offsets.shape[:3] != q.shape[:3] or offsets.shape[4] != 2 or offsets.shape[3] < 1:
        raise ValueError(
            f"offsets: expected shape ({b}, {n}, {m}, p, 2) with p >= 1 (b, n, m from q), "
            f"got {_shape(offsets)}"
        )
    if q.shape[-1] < 1 or n < 1:
        raise ValueError(f"q: expected at least one token and one feature per head, got shape {_shape(q)}")
    hw = check_grid_shape(shape, n)
    if check_finite and not bool(torch.isfinite(offsets).all()):
        bad = int((~torch.isfinite(offsets)).sum())
        raise ValueError(f"offsets: expected finite values, found {bad} NaN or Inf entries")
    return hw


def check_attention_inputs(q: Tensor, k: Tensor, v: Tensor) -> None:
    """Validate the operands of :func:`hs_attention.global_attention`."""
    check_tensor("q", q, 4, "(b, n, m, d)")
    check_tensor("k", k, 4, "(b, s, m, d)")
    check_tensor("v", v, 4, "(b, s, m, d)")
    check_same("k", k, "q", q)
    check_same("v", v, "q", q)
    b, _, m, d = q.shape
    if k.shape[0] != b or k.shape[2:] != q.shape[2:]:
        raise ValueError(f"k: expected shape ({b}, s, {m}, {d}) (b, m, d from q), got {_shape(k)}")
    if v.shape[:3] != k.shape[:3]:
        b, s, m = k.shape[:3]
        raise ValueError(f"v: expected shape ({b}, {s}, {m}, d_v) (b, s, m from k), got {_shape(v)}")
