"""Generic head layers shared by the task heads: backbone feature access, convolution blocks,
resampling, pixel-shuffle upsampling, and the transformer adapters of HyperSIGMA's low-level heads
(denoising and super-resolution).

Every head of :mod:`hs_tasks.heads` reads the multi-level maps of an hs-backbone model through
:func:`backbone_levels`, so the same head works on HyperSIGMA (the SEM-gated maps
``HyperSIGMAOutput.enhanced``) and on SpatSIGMA (a :class:`hs_backbone.SpatialViT`, whose pyramid
levels are the features). :func:`level_channels` gives the channels of those maps, which is what a
head needs at construction.

Naming note: stacks of transformer blocks here are called ``layers`` (not ``blocks``), and position
tables ``pos_table`` (not ``pos_embed``), so that :func:`hs_backbone.training.param_groups`
treats every head parameter as a head parameter (full learning rate under layer-wise decay) and
does not mistake adapter block ``i`` for backbone block ``i``.

Shape legend: ``b`` batch, ``c`` bands/channels, ``h w`` rows/columns, ``n`` tokens, ``d`` features,
``k`` classes (spectral features in the adapters), ``t`` spectral tokens.
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
from einops import rearrange
from torch import Tensor, nn
from torch.nn import functional as F

from hs_backbone import Block, SpectralEnhancement, is_sampling_block

__all__ = [
    "ConvActNorm",
    "ConvNormAct",
    "DoubleConv",
    "GatedAdapter",
    "PixelShuffleUpsampler",
    "SpectralTokenAdapter",
    "TokenAdapter",
    "backbone_levels",
    "largest_divisor_at_most",
    "level_channels",
    "make_activation",
    "resize_to",
]


def backbone_levels(backbone: nn.Module, x: Tensor, *, raw: bool = False) -> list[Tensor]:
    """The feature maps a head consumes, shallowest first.

    Args:
        backbone: a ``HyperSIGMA`` (its SEM-gated maps are returned) or a ``SpatialViT`` (SpatSIGMA:
            its pyramid levels, or with ``raw=True`` the block outputs before the pyramid, as
            upstream's SpatSIGMA classifier uses them).
        x: ``(b, c, h, w)`` input cube.
        raw: SpatSIGMA only: return ``forward_intermediates`` (``(b, d, h/p, w/p)`` each).

    Returns:
        One ``(b, d_l, h_l, w_l)`` map per level.

    Raises:
        ValueError: the backbone returns something else than a HyperSIGMA output or a list of maps.
    """
    if raw and hasattr(backbone, "forward_intermediates") and not hasattr(backbone, "sem"):
        return list(cast(Any, backbone).forward_intermediates(x))
    out = backbone(x)
    enhanced = getattr(out, "enhanced", None)
    if enhanced is not None:
        return list(enhanced)
    if isinstance(out, (list, tuple)) and all(isinstance(t, Tensor) and t.ndim == 4 for t in out):
        return list(out)
    raise ValueError(
        f"backbone {type(backbone).__name__}: expected a HyperSIGMA output or a list of (b, d, h, w) maps, "
        f"got {type(out).__name__}"
    )


def level_channels(backbone: nn.Module, *, raw: bool = False) -> list[int]:
    """Channels of each map :func:`backbone_levels` returns (from the backbone's ``feature_info``).

    Raises:
        ValueError: the backbone has no ``feature_info``.
    """
    if raw and not hasattr(backbone, "sem"):
        return [int(backbone.embed_dim)] * len(backbone.out_indices)  # type: ignore[arg-type]
    info = getattr(backbone, "feature_info", None)
    if not info:
        raise ValueError(
            f"backbone {type(backbone).__name__}: has no feature_info; heads need the channels of its levels"
        )
    return [int(level["num_chs"]) for level in info]


def make_activation(name: str | None) -> nn.Module:
    """``None`` → identity, ``"relu"``, ``"gelu"``.

    Raises:
        ValueError: another name.
    """
    if name is None:
        return nn.Identity()
    if name == "relu":
        return nn.ReLU()
    if name == "gelu":
        return nn.GELU()
    raise ValueError(f"activation: expected None, 'relu' or 'gelu', got {name!r}")


class ConvNormAct(nn.Sequential):
    """``Conv2d(k, padding) → BatchNorm2d → ReLU``.

    Args:
        in_channels, out_channels: channels.
        kernel_size: square kernel.
        padding: ``"same"`` (``k // 2``) or ``"valid"`` (none).
        bias: convolution bias (upstream keeps it even before a BatchNorm).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        *,
        padding: str = "same",
        bias: bool = True,
    ) -> None:
        if padding not in ("same", "valid"):
            raise ValueError(f"padding: expected 'same' or 'valid', got {padding!r}")
        pad = kernel_size // 2 if padding == "same" else 0
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=pad, bias=bias),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )


class DoubleConv(nn.Sequential):
    """Two :class:`ConvNormAct`: ``k × k`` to ``in // 2`` channels, then ``1 × 1`` to ``out``.

    Upstream's ``DoubleConv_pad`` (change detection): the first convolution keeps the size (padding
    1 for ``k = 3``), so the map size is unchanged.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1) -> None:
        mid = max(1, in_channels // 2)
        super().__init__(ConvNormAct(in_channels, mid, kernel_size), ConvNormAct(mid, out_channels, 1))


def resize_to(x: Tensor, size: tuple[int, int] | torch.Size, **kwargs: Any) -> Tensor:
    """Bilinear resampling of ``(b, d, h, w)`` maps to ``size`` (``align_corners=False``); a no-op
    when the size already matches."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False, **kwargs)


def largest_divisor_at_most(n: int, limit: int) -> int:
    """The largest divisor of ``n`` that is ``<= limit`` (at least 1): a head count for width ``n``."""
    if n < 1 or limit < 1:
        raise ValueError(f"need positive n and limit, got n={n}, limit={limit}")
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


class ConvActNorm(nn.Sequential):
    """``Conv2d → LeakyReLU → BatchNorm2d → Dropout`` (the order of HyperSIGMA's unmixing head).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: odd kernel size; padding keeps the spatial size.
        negative_slope: LeakyReLU slope (upstream 0.02).
        dropout: dropout probability after the normalisation (upstream 0.2).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        *,
        negative_slope: float = 0.02,
        dropout: float = 0.0,
    ) -> None:
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size: expected a positive odd int, got {kernel_size}")
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
            nn.LeakyReLU(negative_slope),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout),
        )


class PixelShuffleUpsampler(nn.Sequential):
    """EDSR-style upsampler: per factor-2 stage ``Conv3x3(c → 4c)`` then ``PixelShuffle(2)``
    (factor 3: one ``Conv3x3(c → 9c)`` + ``PixelShuffle(3)``).

    B. Lim et al., "Enhanced deep residual networks for single image super-resolution", CVPR-W 2017;
    HyperSIGMA's SR head uses it (``shared/reference/hypersigma.md`` §4.7).

    Shapes: ``(b, c, h, w)`` → ``(b, c, s·h, s·w)``.

    Args:
        channels: ``c`` (kept).
        scale: ``s``, a power of two or 3.
    """

    def __init__(self, channels: int, scale: int) -> None:
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 2:
            raise ValueError(f"scale: expected an int >= 2 (a power of two, or 3), got {scale!r}")
        layers: list[nn.Module] = []
        if scale & (scale - 1) == 0:
            for _ in range(int(math.log2(scale))):
                layers += [nn.Conv2d(channels, 4 * channels, 3, padding=1), nn.PixelShuffle(2)]
        elif scale == 3:
            layers += [nn.Conv2d(channels, 9 * channels, 3, padding=1), nn.PixelShuffle(3)]
        else:
            raise ValueError(f"scale: expected a power of two or 3, got {scale}")
        super().__init__(*layers)
        self.scale = scale


class _BlockStack(nn.Module):
    """``depth`` HyperSIGMA blocks (SSA, or global attention every ``interval``-th) at width ``dim``."""

    def __init__(
        self,
        dim: int,
        depth: int,
        num_heads: int,
        interval: int,
        num_points: int,
        drop_path_rate: float,
        grid: tuple[int, int] | None,
    ) -> None:
        super().__init__()
        if depth < 0:
            raise ValueError(f"depth: expected >= 0, got {depth}")
        if dim % num_heads:
            raise ValueError(f"num_heads: expected a divisor of dim={dim}, got {num_heads}")
        rates = torch.linspace(0, drop_path_rate, max(depth, 1), dtype=torch.float64).tolist()
        self.layers = nn.ModuleList(
            Block(
                dim,
                num_heads,
                sampling=is_sampling_block(i, interval),
                num_points=num_points,
                drop_path=rates[i],
            )
            for i in range(depth)
        )
        self.grid = grid
        self.pos_table = nn.Parameter(torch.zeros(1, grid[0] * grid[1], dim)) if grid is not None else None
        self._init()

    @torch.no_grad()
    def _init(self) -> None:
        # HyperSIGMA's ViT initialisation (trunc-normal Linear, zero bias, unit LayerNorm, BEiT rescaling
        # of the output projections), then the SSA offsets' own scheme.
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if self.pos_table is not None:
            nn.init.trunc_normal_(self.pos_table, std=0.02)
        for layer_id, blk in enumerate(self.layers, start=1):
            assert isinstance(blk, Block)
            blk.attn.proj.weight.div_(math.sqrt(2.0 * layer_id))
            blk.mlp.fc2.weight.div_(math.sqrt(2.0 * layer_id))
            reset = getattr(blk.attn, "reset_offsets", None)
            if callable(reset):
                reset("detr")

    def no_weight_decay(self) -> set[str]:
        """The position table, when there is one."""
        return {"pos_table"} if self.pos_table is not None else set()

    def run(self, tokens: Tensor, grid: tuple[int, int]) -> Tensor:
        if self.pos_table is not None:
            if self.grid != grid:
                raise ValueError(
                    f"{type(self).__name__}: built for a {self.grid} token grid (position table), got {grid}"
                )
            tokens = tokens + self.pos_table
        for blk in self.layers:
            tokens = blk(tokens, grid)
        return tokens


class TokenAdapter(_BlockStack):
    """HyperSIGMA's spatial adapter (upstream ``Adpater``): a 1x1 convolution ``d → a`` then
    ``depth`` transformer blocks at width ``a`` on the full-resolution token grid.

    Upstream (denoising, SR): ``a`` = the number of bands, 4 blocks, 12 heads, block 3 global and the
    others SSA (interval 3), 8 points (``shared/reference/hypersigma.md`` §2.3, §2.7). Upstream's
    blocks at width 191 with 12 heads use an inner width of 12·15 = 180; here the heads must divide
    ``a`` (see :func:`largest_divisor_at_most`).

    Shapes: ``(b, d, h, w)`` → ``(b, a, h, w)``.

    Args:
        in_channels: ``d``.
        dim: ``a``.
        depth: number of blocks.
        num_heads: attention heads (must divide ``dim``).
        interval: every ``interval``-th block is global attention, the others SSA.
        num_points: SSA points per query and head.
        drop_path_rate: stochastic depth over the blocks (linear from 0).
        grid: ``(h, w)`` to learn a position table for (upstream: denoising yes, SR no); ``None``: none.
    """

    def __init__(
        self,
        in_channels: int,
        dim: int,
        *,
        depth: int = 4,
        num_heads: int = 1,
        interval: int = 3,
        num_points: int = 8,
        drop_path_rate: float = 0.0,
        grid: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(dim, depth, num_heads, interval, num_points, drop_path_rate, grid)
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        """``(b, d, h, w)`` → ``(b, a, h, w)``."""
        h, w = x.shape[-2:]
        tokens = rearrange(self.proj(x), "b a h w -> b (h w) a")
        return rearrange(self.run(tokens, (h, w)), "b (h w) a -> b a h w", h=h, w=w)


class SpectralTokenAdapter(_BlockStack):
    """HyperSIGMA's spectral adapter (upstream ``Adapter_Spectral``): ``depth`` transformer blocks on
    the projected spectral tokens, with SSA on the row-major ``√t × √t`` token grid.

    Shapes: ``(b, t, k)`` → ``(b, t, k)``.

    Args:
        dim: ``k`` (upstream 128).
        num_tokens: ``t``; a perfect square when any block is SSA.
        depth, num_heads, interval, num_points, drop_path_rate: as :class:`TokenAdapter`.
        pos_table: learn a ``(1, t, k)`` position table (upstream: denoising yes, SR no).
    """

    def __init__(
        self,
        dim: int,
        num_tokens: int,
        *,
        depth: int = 4,
        num_heads: int = 1,
        interval: int = 3,
        num_points: int = 8,
        drop_path_rate: float = 0.0,
        pos_table: bool = False,
    ) -> None:
        side = math.isqrt(num_tokens)
        uses_ssa = any(is_sampling_block(i, interval) for i in range(depth))
        if uses_ssa and side * side != num_tokens:
            raise ValueError(
                f"num_tokens={num_tokens}: spectral SSA needs a perfect square token count "
                f"(for example {side * side} or {(side + 1) ** 2})"
            )
        grid = (side, side) if side * side == num_tokens else (1, num_tokens)
        super().__init__(
            dim, depth, num_heads, interval, num_points, drop_path_rate, grid if pos_table else None
        )
        self.token_grid = grid

    def forward(self, tokens: Tensor) -> Tensor:
        """``(b, t, k)`` → ``(b, t, k)``."""
        return self.run(tokens, self.token_grid)


class GatedAdapter(nn.Module):
    """The fusion of HyperSIGMA's low-level heads (denoising, super-resolution; §2.7): the deepest
    spatial map, brought back to pixel resolution, goes through a :class:`TokenAdapter`; the spectral
    tokens go through a :class:`SpectralTokenAdapter`, whose channel mean is the descriptor ``v``
    of a one-level spectral enhancement (SEM) that gates the adapter's channels:
    ``F = (1 + σ(W2 relu(W1 v))) ⊙ adapter(up(S))``.

    Args:
        in_channels: ``d``, channels of the spatial map.
        dim: ``a``, width of the adapter and of the output.
        upsample: ``p``, the spatial patch size: a ``ConvTranspose2d(d, d, p, stride p)`` restores the
            pixel grid when ``p > 1`` (upstream denoising: p = 2; SR: p = 1, none).
        num_tokens: ``t`` spectral tokens (``None``: no spectral branch, ``F = adapter(up(S))``).
        spectral_dim: ``k``, features of the spectral tokens (upstream 128).
        sem_hidden: hidden size of the SEM gate (upstream 128).
        depth: blocks of each adapter (upstream 4).
        num_heads: heads of the spatial adapter (must divide ``a``; default the largest divisor of
            ``a`` up to 12).
        spectral_heads: heads of the spectral adapter (must divide ``k``; default the largest divisor
            of ``k`` up to 12).
        interval, num_points, drop_path_rate: block layout (upstream 3, 8, 0.1 / 0.0).
        grid: pixel grid for a spatial position table (upstream: denoising), ``None``: none.
        spectral_pos_table: position table for the spectral tokens (upstream: denoising).

    Shapes:
        ``forward(spatial, spectral)``: ``(b, d, h/p, w/p)``, ``(b, t, k)`` → ``(b, a, h, w)``.
    """

    def __init__(
        self,
        in_channels: int,
        dim: int,
        *,
        upsample: int = 1,
        num_tokens: int | None = None,
        spectral_dim: int | None = None,
        sem_hidden: int = 128,
        depth: int = 4,
        num_heads: int | None = None,
        spectral_heads: int | None = None,
        interval: int = 3,
        num_points: int = 8,
        drop_path_rate: float = 0.0,
        grid: tuple[int, int] | None = None,
        spectral_pos_table: bool = False,
    ) -> None:
        super().__init__()
        num_heads = num_heads or largest_divisor_at_most(dim, 12)
        spectral_heads = spectral_heads or largest_divisor_at_most(spectral_dim or 1, 12)
        if upsample < 1:
            raise ValueError(f"upsample: expected >= 1, got {upsample}")
        self.up = (
            nn.ConvTranspose2d(in_channels, in_channels, upsample, stride=upsample)
            if upsample > 1
            else nn.Identity()
        )
        common: dict[str, Any] = {
            "depth": depth,
            "interval": interval,
            "num_points": num_points,
            "drop_path_rate": drop_path_rate,
        }
        self.adapter = TokenAdapter(in_channels, dim, num_heads=num_heads, grid=grid, **common)
        self.spectral_adapter: SpectralTokenAdapter | None = None
        self.sem: SpectralEnhancement | None = None
        if num_tokens is not None:
            if spectral_dim is None:
                raise ValueError("spectral_dim: required with num_tokens (the spectral token features k)")
            self.spectral_adapter = SpectralTokenAdapter(
                spectral_dim, num_tokens, num_heads=spectral_heads, pos_table=spectral_pos_table, **common
            )
            self.sem = SpectralEnhancement(num_tokens, sem_hidden, dim, 1)

    def forward(self, spatial: Tensor, spectral: Tensor | None = None) -> Tensor:
        """Gated adapter features ``(b, a, h, w)``."""
        feat = self.adapter(self.up(spatial))
        if self.sem is None or self.spectral_adapter is None:
            if spectral is not None:
                raise ValueError("GatedAdapter: built without a spectral branch (num_tokens=None)")
            return feat
        if spectral is None:
            raise ValueError("GatedAdapter: expected spectral tokens (b, t, k)")
        v = self.sem.descriptor(self.spectral_adapter(spectral))
        return self.sem([feat], v)[0]
