"""Tokenisers of the two branches.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` image rows/columns, ``n`` tokens, ``d`` features,
``t`` spectral tokens (band groups).
"""

from __future__ import annotations

import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

__all__ = ["PatchEmbed", "group_bands"]


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{name}: expected a positive int or a pair of positive ints, got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"{name}: expected positive sizes, got {value!r}")
    return pair


class PatchEmbed(nn.Module):
    """Spatial patch embedding: ``Conv2d(c, d, kernel=p, stride=p)`` then flatten to tokens.

    ``rearrange(conv(x), "b d h w -> b (h w) d")``; the token grid is ``(h // p, w // p)`` (a border
    of fewer than ``p`` pixels is dropped, as upstream's convolution does). The convolution is named
    ``proj`` (upstream's ``patch_embed.proj``).

    Args:
        patch_size: ``p`` (int or ``(p_h, p_w)``).
        in_chans: bands ``c``.
        embed_dim: features ``d``.
        bias: bias of the convolution.
    """

    def __init__(
        self,
        patch_size: int | tuple[int, int] = 8,
        in_chans: int = 100,
        embed_dim: int = 768,
        *,
        bias: bool = True,
        device: object = None,
        dtype: object = None,
    ) -> None:
        super().__init__()
        self.patch_size = _pair(patch_size, "patch_size")
        if not isinstance(in_chans, int) or in_chans < 1:
            raise ValueError(f"in_chans: expected a positive int (the band count), got {in_chans!r}")
        self.in_chans, self.embed_dim = in_chans, embed_dim
        self.proj = nn.Conv2d(
            in_chans,
            embed_dim,
            kernel_size=self.patch_size,
            stride=self.patch_size,
            bias=bias,
            device=device,
            dtype=dtype,
        )

    def grid_size(self, h: int, w: int) -> tuple[int, int]:
        """Token grid ``(h // p_h, w // p_w)`` of an ``h × w`` image."""
        return h // self.patch_size[0], w // self.patch_size[1]

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``(b, c, h, w)`` → ``(b, n, d)`` with ``n = (h // p)·(w // p)``, row-major.

        The tokens are returned contiguous: a transposed view here would make every residual sum of
        the blocks inherit a ``d``-strided layout (as upstream's ``flatten(2).transpose(1, 2)`` does),
        and each LayerNorm and residual gradient pay a transposing copy.
        """
        return rearrange(self.proj(x), "b d h w -> b (h w) d").contiguous()


def group_bands(x: Tensor, num_tokens: int) -> Tensor:
    """Average the bands of each pixel into ``t`` groups (HyperSIGMA's spectral tokenisation).

    Group ``i`` is the mean of bands ``[floor(i·c/t), ceil((i+1)·c/t))``, the bins of
    ``AdaptiveAvgPool1d(t)``; neighbouring groups overlap when ``t`` does not divide ``c``, and bands
    are repeated when ``c < t``. Computed as upstream does (pooling a ``(b, h·w, c)`` view), so the
    result is bit-identical to the official tokeniser.

    Args:
        x: ``(b, c, h, w)`` cube.
        num_tokens: ``t``.

    Returns:
        ``(b, t, h·w)``: each band group's image, flattened row-major.
    """
    pooled = F.adaptive_avg_pool1d(rearrange(x, "b c h w -> b (h w) c"), num_tokens)
    return rearrange(pooled, "b n t -> b t n")
