"""Functional entry points: validate the operands, pick a backend, run it.

Shape legend: ``b`` batch, ``n`` tokens (``n = h·w``), ``s`` key tokens, ``m`` heads, ``d`` features
per head, ``p`` sampling points.
"""

from __future__ import annotations

from torch import Tensor

from hs_attention._validation import check_attention_inputs, check_ssa_inputs
from hs_attention.backends import GlobalBackend, SSABackend, select_backend

__all__ = ["global_attention", "sparse_sampling_attention"]


def sparse_sampling_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    offsets: Tensor,
    shape: tuple[int, int],
    *,
    scale: float | None = None,
    backend: str = "auto",
    check_finite: bool = False,
) -> Tensor:
    """Sparse sampling attention (HyperSIGMA's SSA core, after the projections).

    For each query token, head and point, the key and value maps of that head are read bilinearly
    (zeros outside the grid) at the token's centre moved by ``offsets``; the attention weights are a
    softmax over the ``p`` dot products ``<q, K(loc)> · scale``; the output is their weighted sum of
    the sampled values. See :mod:`hs_attention.reference` for the exact definition.

    Args:
        q: ``(b, n, m, d)`` queries, tokens row-major over the ``h × w`` grid.
        k: ``(b, n, m, d)`` keys on the same grid.
        v: ``(b, n, m, d)`` values on the same grid.
        offsets: ``(b, n, m, p, 2)`` offsets in token units, ``(x, y)`` (column, row) order.
        shape: ``(h, w)`` with ``h·w == n``; grids may be non-square.
        scale: score scale; default ``d ** -0.5``.
        backend: ``"auto"``, ``"reference"``, ``"cpu"`` or ``"triton"`` (see :func:`available_backends`).
        check_finite: also reject NaN/Inf offsets (costs one reduction).

    Returns:
        ``(b, n, m, d)`` in the dtype of ``q``.

    Raises:
        ValueError: on inconsistent shapes, dtypes or devices, naming the argument.
        BackendUnavailableError: if an explicitly requested backend cannot run these inputs.
    """
    hw = check_ssa_inputs(q, k, v, offsets, shape, check_finite=check_finite)
    impl = select_backend("ssa", q.device, q.dtype, backend)
    assert issubclass(impl, SSABackend)
    return impl.apply(q, k, v, offsets, hw, q.shape[-1] ** -0.5 if scale is None else float(scale))


def global_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    scale: float | None = None,
    dropout_p: float = 0.0,
    backend: str = "auto",
) -> Tensor:
    """Full attention ``softmax(q kᵀ · scale) v`` per head.

    Args:
        q: ``(b, n, m, d)``.
        k: ``(b, s, m, d)``.
        v: ``(b, s, m, d_v)``.
        scale: default ``d ** -0.5``.
        dropout_p: dropout probability on the attention weights (pass 0 in eval mode).
        backend: ``"auto"``, ``"naive"``, ``"sdpa"`` or ``"xformers"``.

    Returns:
        ``(b, n, m, d_v)`` in the dtype of ``q``.
    """
    check_attention_inputs(q, k, v)
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout_p: expected a probability in [0, 1), got {dropout_p}")
    impl = select_backend("global", q.device, q.dtype, backend)
    assert issubclass(impl, GlobalBackend)
    return impl.apply(q, k, v, q.shape[-1] ** -0.5 if scale is None else float(scale), dropout_p)
