"""Attention layers with HyperSIGMA's parameter layout, so official checkpoints load without renaming.

Shape legend: ``b`` batch, ``n`` tokens, ``c`` embedding (``c = m·d``), ``m`` heads, ``d`` features
per head, ``p`` sampling points, ``h w`` token grid.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from einops import rearrange
from torch import Tensor, nn

from hs_attention._validation import check_grid_shape
from hs_attention.backends import GLOBAL_BACKENDS, SSA_BACKENDS
from hs_attention.functional import global_attention, sparse_sampling_attention

__all__ = ["GlobalAttention", "OffsetInit", "SparseSamplingAttention"]

OffsetInit = Literal["detr", "upstream"]


def _check_dims(dim: int, num_heads: int) -> int:
    if not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim: expected a positive int, got {dim!r}")
    if not isinstance(num_heads, int) or num_heads < 1 or dim % num_heads:
        raise ValueError(f"num_heads: expected a positive divisor of dim={dim}, got {num_heads!r}")
    return dim // num_heads


def _check_backend(backend: str, registry: dict) -> str:
    if backend != "auto" and backend not in registry:
        raise ValueError(f"backend: expected 'auto' or one of {sorted(registry)}, got {backend!r}")
    return backend


def _check_input(x: Tensor, dim: int) -> None:
    if not isinstance(x, Tensor) or x.ndim != 3 or x.shape[-1] != dim:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x: expected a (b, n, {dim}) tensor, got {got}")


class SparseSamplingAttention(nn.Module):
    """HyperSIGMA's sparse sampling attention (SSA) layer.

    ``q, k, v = qkv(x)``; offsets ``= sampling_offsets(q)`` (from the projected queries of all heads
    together); ``out = proj(SSA(q, k, v, offsets))``. See :func:`hs_attention.sparse_sampling_attention`.

    Parameters, with upstream's names and shapes (``SampleAttention``), so state dicts load as they are:

    ========================== ================ =====================================================
    name                       shape            layout
    ========================== ================ =====================================================
    ``qkv.weight``             ``(3c, c)``      output rows ``[q | k | v]``, each ``[head][d]``
    ``qkv.bias``               ``(3c,)``        present when ``qkv_bias``
    ``sampling_offsets.weight`` ``(m·p·2, c)``  output rows ``[head][point][x, y]``, token units
    ``sampling_offsets.bias``  ``(m·p·2,)``
    ``proj.weight``            ``(c, c)``
    ``proj.bias``              ``(c,)``
    ========================== ================ =====================================================

    Args:
        dim: embedding size ``c``.
        num_heads: heads ``m`` (must divide ``dim``).
        num_points: sampling points ``p`` per query and head (HyperSIGMA uses 8).
        qkv_bias: bias on the qkv projection (every HyperSIGMA block uses ``True``).
        qk_scale: score scale; default ``(c / m) ** -0.5``.
        proj_drop: dropout after the output projection.
        offset_init: ``"detr"`` (default): zero weight and a bias that puts head ``i``'s point ``j`` at
            distance ``j + 1`` tokens along direction ``2πi/m`` (the Deformable-DETR initialisation that
            upstream's ``_reset_parameters`` intends but never calls). ``"upstream"``: what the official
            code actually does, ``trunc_normal(std=0.02)`` weight and zero bias, so every point starts
            on (almost) the query's own token.
        backend: ``"auto"`` or a backend name of :func:`hs_attention.available_backends`.

    Shapes:
        ``x``: ``(b, n, c)`` with ``n = h·w``, row-major over the grid; returns ``(b, n, c)``.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        num_points: int = 8,
        *,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        proj_drop: float = 0.0,
        offset_init: OffsetInit = "detr",
        backend: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        head_dim = _check_dims(dim, num_heads)
        if not isinstance(num_points, int) or num_points < 1:
            raise ValueError(f"num_points: expected a positive int, got {num_points!r}")
        self.dim, self.num_heads, self.num_points = dim, num_heads, num_points
        self.scale = qk_scale if qk_scale is not None else head_dim**-0.5
        self.backend = _check_backend(backend, SSA_BACKENDS)
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias, device=device, dtype=dtype)
        self.sampling_offsets = nn.Linear(dim, num_heads * num_points * 2, device=device, dtype=dtype)
        self.proj = nn.Linear(dim, dim, device=device, dtype=dtype)
        self.proj_drop = nn.Dropout(proj_drop)
        self.reset_offsets(offset_init)

    @torch.no_grad()
    def reset_offsets(self, init: OffsetInit = "detr") -> None:
        """(Re-)initialise ``sampling_offsets``; see the class docstring for the two schemes."""
        weight, bias = self.sampling_offsets.weight, self.sampling_offsets.bias
        if init == "detr":
            weight.zero_()
            theta = torch.arange(self.num_heads, dtype=torch.float64) * (2 * math.pi / self.num_heads)
            direction = torch.stack((theta.cos(), theta.sin()), dim=-1)  # (m, 2), (x, y)
            direction = direction / direction.abs().amax(dim=-1, keepdim=True)
            radius = torch.arange(1, self.num_points + 1, dtype=torch.float64)  # (p,)
            grid = direction[:, None, :] * radius[None, :, None]  # (m, p, 2)
            bias.copy_(grid.reshape(-1).to(bias))
        elif init == "upstream":
            nn.init.trunc_normal_(weight, std=0.02)
            bias.zero_()
        else:
            raise ValueError(f"offset_init: expected 'detr' or 'upstream', got {init!r}")

    def forward(self, x: Tensor, shape: tuple[int, int]) -> Tensor:
        """``x``: ``(b, n, c)`` tokens of an ``shape = (h, w)`` grid → ``(b, n, c)``."""
        _check_input(x, self.dim)
        check_grid_shape(shape, x.shape[1])
        q, k, v = rearrange(self.qkv(x), "b n (three m d) -> three b n m d", three=3, m=self.num_heads)
        offsets = rearrange(
            self.sampling_offsets(rearrange(q, "b n m d -> b n (m d)")),
            "b n (m p xy) -> b n m p xy",
            m=self.num_heads,
            xy=2,
        )
        out = sparse_sampling_attention(q, k, v, offsets, shape, scale=self.scale, backend=self.backend)
        return self.proj_drop(self.proj(rearrange(out, "b n m d -> b n (m d)")))

    def extra_repr(self) -> str:
        heads = f"dim={self.dim}, num_heads={self.num_heads}, num_points={self.num_points}"
        return f"{heads}, backend={self.backend!r}"


class GlobalAttention(nn.Module):
    """Full multi-head self-attention with HyperSIGMA's layout (``qkv``, ``proj``; upstream ``Attention``).

    Runs on SDPA (and xformers on CUDA when installed) by default, so memory stays linear in ``n``;
    ``backend="naive"`` is upstream's explicit ``softmax(q kᵀ) v``.

    Args:
        dim: embedding size ``c``.
        num_heads: heads ``m`` (must divide ``dim``).
        qkv_bias: bias on the qkv projection.
        qk_scale: score scale; default ``(c / m) ** -0.5``.
        attn_drop: dropout on the attention weights (training only).
        proj_drop: dropout after the output projection.
        backend: ``"auto"``, ``"naive"``, ``"sdpa"`` or ``"xformers"``.

    Shapes:
        ``x``: ``(b, n, c)``; returns ``(b, n, c)``. ``shape`` is accepted and ignored, so blocks can
        call both attention kinds the same way.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        *,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        backend: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        head_dim = _check_dims(dim, num_heads)
        self.dim, self.num_heads = dim, num_heads
        self.scale = qk_scale if qk_scale is not None else head_dim**-0.5
        self.attn_drop = float(attn_drop)
        self.backend = _check_backend(backend, GLOBAL_BACKENDS)
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias, device=device, dtype=dtype)
        self.proj = nn.Linear(dim, dim, device=device, dtype=dtype)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: Tensor, shape: tuple[int, int] | None = None) -> Tensor:
        """``x``: ``(b, n, c)`` → ``(b, n, c)``."""
        _check_input(x, self.dim)
        q, k, v = rearrange(self.qkv(x), "b n (three m d) -> three b n m d", three=3, m=self.num_heads)
        out = global_attention(
            q,
            k,
            v,
            scale=self.scale,
            dropout_p=self.attn_drop if self.training else 0.0,
            backend=self.backend,
        )
        return self.proj_drop(self.proj(rearrange(out, "b n m d -> b n (m d)")))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_heads={self.num_heads}, backend={self.backend!r}"
