"""Position embeddings: fixed sin-cos tables and resizing of learned tables.

Shape legend: ``n`` tokens, ``d`` features, ``h w`` token grid, ``t`` spectral tokens.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor

__all__ = ["resize_pos_embed_1d", "resize_pos_embed_2d", "sincos_pos_embed_1d", "sincos_pos_embed_2d"]


def sincos_pos_embed_1d(embed_dim: int, length: int) -> Tensor:
    """Fixed 1-D sin-cos table ``[sin(i·ω_k), cos(i·ω_k)]`` with ``ω_k = 10000^(−k / (d/2))``.

    The Transformer encoding (Vaswani et al., 2017, arXiv 1706.03762) as MAE lays it out (all sines,
    then all cosines).

    Args:
        embed_dim: ``d``, even.
        length: number of positions ``n``.

    Returns:
        ``(n, d)`` float64.
    """
    if embed_dim % 2:
        raise ValueError(f"embed_dim: expected an even size for a sin-cos table, got {embed_dim}")
    omega = torch.arange(embed_dim // 2, dtype=torch.float64) / (embed_dim / 2.0)
    omega = 1.0 / 10000**omega
    angles = torch.arange(length, dtype=torch.float64)[:, None] * omega[None, :]
    return torch.cat((angles.sin(), angles.cos()), dim=1)


def sincos_pos_embed_2d(embed_dim: int, grid_size: int | tuple[int, int]) -> Tensor:
    """Fixed 2-D sin-cos table of an ``h × w`` grid, tokens row-major.

    The first ``d/2`` channels encode the token's column and the last ``d/2`` its row, each as
    :func:`sincos_pos_embed_1d` with ``d/2`` channels (the MAE layout, which the HyperSIGMA
    pretraining decoder uses; upstream stores it rounded to float32).

    Args:
        embed_dim: ``d``, a multiple of 4.
        grid_size: ``h`` (square) or ``(h, w)``.

    Returns:
        ``(h·w, d)`` float64.
    """
    if embed_dim % 4:
        raise ValueError(f"embed_dim: expected a multiple of 4 for a 2-D sin-cos table, got {embed_dim}")
    h, w = (grid_size, grid_size) if isinstance(grid_size, int) else grid_size
    cols = sincos_pos_embed_1d(embed_dim // 2, w)  # (w, d/2)
    rows = sincos_pos_embed_1d(embed_dim // 2, h)  # (h, d/2)
    col_part = rearrange(cols, "w d -> 1 w d").expand(h, w, embed_dim // 2)
    row_part = rearrange(rows, "h d -> h 1 d").expand(h, w, embed_dim // 2)
    return rearrange(torch.cat((col_part, row_part), dim=-1), "h w d -> (h w) d")


def resize_pos_embed_2d(
    pos_embed: Tensor,
    new_grid: tuple[int, int],
    *,
    old_grid: tuple[int, int] | None = None,
    mode: str = "bicubic",
) -> Tensor:
    """Resample a learned ``(1, n, d)`` grid table to another grid (no extra tokens).

    Args:
        pos_embed: ``(1, h·w, d)``, tokens row-major over ``old_grid``.
        new_grid: target ``(h', w')``.
        old_grid: source ``(h, w)``; default square, ``h = w = √n`` (an error if ``n`` is not square).
        mode: ``F.interpolate`` mode (``"bicubic"``, as upstream; or ``"bilinear"``).

    Returns:
        ``(1, h'·w', d)`` in the dtype of ``pos_embed`` (the interpolation runs in float64).
    """
    n = pos_embed.shape[1]
    if old_grid is None:
        side = math.isqrt(n)
        if side * side != n:
            raise ValueError(
                f"pos_embed: {n} tokens do not form a square grid; pass old_grid=(h, w) explicitly"
            )
        old_grid = (side, side)
    if old_grid[0] * old_grid[1] != n:
        raise ValueError(f"old_grid: expected h*w == {n} (the tokens of pos_embed), got {old_grid}")
    if tuple(old_grid) == tuple(new_grid):
        return pos_embed.clone()
    grid = rearrange(pos_embed.double(), "1 (h w) d -> 1 d h w", h=old_grid[0], w=old_grid[1])
    grid = F.interpolate(grid, size=tuple(new_grid), mode=mode, align_corners=False)
    return rearrange(grid, "1 d h w -> 1 (h w) d").to(pos_embed.dtype)


def resize_pos_embed_1d(pos_embed: Tensor, length: int, *, mode: str = "bicubic") -> Tensor:
    """Resample a learned ``(1, t, d)`` sequence table to ``t'`` positions (every token is kept).

    Upstream's spectral loader (``init_weights``) drops token 0 as if it were a class token and
    resamples the remaining ``t − 1`` (so even ``t → t`` is resampled); this function does not.
    Reproduce upstream with ``resize_pos_embed_1d(pos_embed[:, 1:], t')``.

    Args:
        pos_embed: ``(1, t, d)``.
        length: ``t'``.
        mode: ``"bicubic"`` (upstream's kernel, applied along the token axis) or ``"linear"``.

    Returns:
        ``(1, t', d)`` in the dtype of ``pos_embed``.
    """
    if pos_embed.shape[1] == length:
        return pos_embed.clone()
    seq = rearrange(pos_embed.double(), "1 t d -> 1 d t 1")
    if mode == "linear":
        out = F.interpolate(seq[..., 0], size=length, mode="linear", align_corners=False)[..., None]
    else:
        out = F.interpolate(seq, size=(length, 1), mode=mode, align_corners=False)
    return rearrange(out, "1 d t 1 -> 1 t d").to(pos_embed.dtype)
