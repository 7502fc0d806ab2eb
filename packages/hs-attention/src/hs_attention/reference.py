"""The definition of sparse sampling attention (SSA) and of global attention, in plain PyTorch.

Every fast backend is tested against these functions; they are kept simple on purpose. The math is
HyperSIGMA's ``SampleAttention`` (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §2.4): for query
token ``i`` on an ``h × w`` grid, head ``m`` and point ``k``,

    loc[m,i,k] = ref[i] + off[m,i,k] / (w, h)            # (x, y) in [0, 1], off in token units
    K_m(loc), V_m(loc)                                    # bilinear reads, zeros outside the grid
    a[m,i,k]   = softmax_k(<q[m,i], K_m(loc[m,i,k])> · scale)
    out[m,i]   = Σ_k a[m,i,k] · V_m(loc[m,i,k])

with ``ref[i] = ((j + 0.5) / w, (r + 0.5) / h)`` for ``i = r·w + j`` and ``align_corners=False``
semantics (pixel coordinate ``loc·w − 0.5``), so a zero offset reads the query's own token.

Shape legend: ``b`` batch, ``n`` tokens (``n = h·w``), ``m`` heads, ``d`` features per head,
``p`` sampling points, ``s`` key tokens.

Numerics: half-precision inputs are computed in float32 and the result cast back; float32 and
float64 are computed in their own precision. The reference points are rounded to float32 exactly
as upstream builds them (``linspace`` in float32), which matters at the 1e-6 level in float64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor

__all__ = [
    "compute_dtype",
    "global_attention_reference",
    "reference_points",
    "sampling_grid",
    "sparse_sampling_attention_reference",
]


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the math runs in for inputs of ``dtype`` (float32 for half types)."""
    return dtype if dtype in (torch.float32, torch.float64) else torch.float32


def reference_points(h: int, w: int, *, device: torch.device | str | None = None) -> Tensor:
    """Token centres of an ``h × w`` grid in normalised ``(x, y)`` coordinates, row-major.

    Returns:
        ``(n, 2)`` float32, ``ref[r·w + j] = ((j + 0.5) / w, (r + 0.5) / h)`` rounded to float32
        (the values upstream's ``get_reference_points`` produces).
    """
    ys = (torch.arange(h, dtype=torch.float32, device=device) + 0.5) / h
    xs = (torch.arange(w, dtype=torch.float32, device=device) + 0.5) / w
    ref_y, ref_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((ref_x.reshape(-1), ref_y.reshape(-1)), dim=-1)


def sampling_grid(offsets: Tensor, shape: tuple[int, int]) -> Tensor:
    """Sampling locations in ``grid_sample`` convention ([-1, 1], ``(x, y)``).

    Args:
        offsets: ``(b, n, m, p, 2)`` offsets in token units, ``(x, y)``.
        shape: the token grid ``(h, w)``.

    Returns:
        ``(b, n, m, p, 2)`` in the compute dtype of ``offsets``: ``2·(ref + off / (w, h)) − 1``.
    """
    h, w = shape
    dt = compute_dtype(offsets.dtype)
    ref = reference_points(h, w, device=offsets.device).to(dt)
    norm = torch.tensor([w, h], dtype=dt, device=offsets.device)
    loc = ref[None, :, None, None, :] + offsets.to(dt) / norm
    return 2 * loc - 1


def _bilinear(feature: Tensor, grid: Tensor) -> Tensor:
    """Bilinear reads, zero padding, align_corners=False: (B, d, h, w), (B, n, p, 2) -> (B, d, n, p)."""
    return F.grid_sample(feature, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def sparse_sampling_attention_reference(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    offsets: Tensor,
    shape: tuple[int, int],
    *,
    scale: float | None = None,
) -> Tensor:
    """Sparse sampling attention with two ``F.grid_sample`` calls: the definition of the op.

    Args:
        q: ``(b, n, m, d)`` queries of the ``n = h·w`` tokens, row-major over the grid.
        k: ``(b, n, m, d)`` keys, laid out on the same grid.
        v: ``(b, n, m, d)`` values.
        offsets: ``(b, n, m, p, 2)`` sampling offsets in token units, ``(x, y)`` order.
        shape: ``(h, w)``, the token grid (non-square allowed).
        scale: score scale, default ``d ** -0.5``.

    Returns:
        ``(b, n, m, d)``, in the dtype of ``q``.
    """
    b, d = q.shape[0], q.shape[-1]
    h, w = shape
    if q.numel() == 0:  # empty batch: nothing to sample (einops cannot split a zero-size axis)
        return (q * 0 + k.sum() * 0 + v.sum() * 0 + offsets.sum() * 0).to(q.dtype)
    dt = compute_dtype(q.dtype)
    scale = d**-0.5 if scale is None else scale
    grid = rearrange(sampling_grid(offsets, shape), "b n m p xy -> (b m) n p xy")
    kmap = rearrange(k.to(dt), "b (h w) m d -> (b m) d h w", h=h, w=w)
    vmap = rearrange(v.to(dt), "b (h w) m d -> (b m) d h w", h=h, w=w)
    ks = rearrange(_bilinear(kmap, grid), "(b m) d n p -> b n m p d", b=b)
    vs = rearrange(_bilinear(vmap, grid), "(b m) d n p -> b n m p d", b=b)
    scores = torch.einsum("bnmd,bnmpd->bnmp", q.to(dt), ks) * scale
    attn = scores.softmax(dim=-1)
    out = torch.einsum("bnmp,bnmpd->bnmd", attn, vs)
    return out.to(q.dtype)


def global_attention_reference(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    scale: float | None = None,
    dropout_p: float = 0.0,
    training: bool = False,
) -> Tensor:
    """Naive full attention ``softmax(q kᵀ · scale) v``, materialising the ``n × s`` scores.

    The query is scaled before the product, as upstream's ``Attention`` does.

    Args:
        q: ``(b, n, m, d)``.
        k: ``(b, s, m, d)``.
        v: ``(b, s, m, d_v)``.
        scale: default ``d ** -0.5``.
        dropout_p: dropout on the attention probabilities (only when ``training``).

    Returns:
        ``(b, n, m, d_v)``.
    """
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    dt = compute_dtype(q.dtype)
    scores = torch.einsum("bnmd,bsmd->bmns", q.to(dt) * scale, k.to(dt))
    attn = scores.softmax(dim=-1)
    if dropout_p > 0.0 and training:
        attn = F.dropout(attn, p=dropout_p)
    return torch.einsum("bmns,bsmd->bnmd", attn, v.to(dt)).to(q.dtype)
