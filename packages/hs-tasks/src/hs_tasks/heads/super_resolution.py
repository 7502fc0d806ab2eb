"""The super-resolution head of HyperSIGMA (``shared/reference/hypersigma.md`` §2.7 SR row, §4.7).

On the low-resolution (LR) grid, the deepest spatial map (patch 1 upstream) is adapted to ``a``
channels by four transformer blocks and gated by a spectral enhancement computed from four blocks on
the spectral tokens (:class:`~hs_tasks.heads.common.GatedAdapter`); concatenated with the LR input and
mapped back to ``c`` channels by a 3x3 convolution; upsampled by an EDSR pixel-shuffle upsampler; and
concatenated with a 3x3 convolution of the bicubic upsampling of the LR input (the bicubic branch)
before a last 3x3 convolution.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` LR rows/columns, ``s`` scale factor, ``d`` spatial
features, ``t`` spectral tokens, ``k`` spectral features, ``a`` adapter width.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from hs_tasks.heads.common import GatedAdapter, PixelShuffleUpsampler

__all__ = ["SuperResolutionHead"]


class SuperResolutionHead(nn.Module):
    """Gated adapter + fusion conv + pixel-shuffle upsampler + bicubic branch.

    Upstream's output is ``Conv3x3(cat(up(·), Conv3x3(bicubic)))`` (no global residual);
    ``residual=True`` adds the bicubic image to it and zero-initialises the last convolution,
    so the model starts as the bicubic floor (residual learning; a deliberate option, off by
    default).

    Args:
        bands: ``c``.
        in_channels: ``d``.
        scale: ``s`` (4 or 8 upstream; any power of two or 3).
        patch_size: the backbone's spatial patch ``p`` on the LR grid (upstream 1).
        num_tokens: ``t`` (``None``: spatial-only backbone, no gating).
        spectral_dim: ``k`` (upstream 128).
        adapter_dim: ``a`` (default ``c``, upstream's choice).
        num_heads, spectral_heads: adapter heads (default: the largest divisor up to 12).
        sem_hidden: SEM hidden size (upstream 128).
        depth, interval, num_points, drop_path_rate: adapter block layout (upstream 4, 3, 8, 0.0).
        residual: add the bicubic image to the output.

    Shapes:
        ``forward(lr, bicubic, spatial, spectral)``: ``(b, c, h, w)``, ``(b, c, s·h, s·w)``,
        ``(b, d, h/p, w/p)``, ``(b, t, k)`` → ``(b, c, s·h, s·w)``.
    """

    def __init__(
        self,
        bands: int,
        in_channels: int,
        scale: int,
        *,
        patch_size: int = 1,
        num_tokens: int | None = None,
        spectral_dim: int | None = None,
        adapter_dim: int | None = None,
        num_heads: int | None = None,
        spectral_heads: int | None = None,
        sem_hidden: int = 128,
        depth: int = 4,
        interval: int = 3,
        num_points: int = 8,
        drop_path_rate: float = 0.0,
        residual: bool = False,
    ) -> None:
        super().__init__()
        dim = adapter_dim or bands
        self.fusion = GatedAdapter(
            in_channels,
            dim,
            upsample=patch_size,
            num_tokens=num_tokens,
            spectral_dim=spectral_dim,
            sem_hidden=sem_hidden,
            depth=depth,
            num_heads=num_heads,
            spectral_heads=spectral_heads,
            interval=interval,
            num_points=num_points,
            drop_path_rate=drop_path_rate,
        )
        self.fuse = nn.Conv2d(bands + dim, bands, 3, padding=1)
        self.upsample = PixelShuffleUpsampler(bands, scale)
        self.skip = nn.Conv2d(bands, bands, 3, padding=1)
        self.tail = nn.Conv2d(2 * bands, bands, 3, padding=1)
        self.bands, self.scale, self.residual = bands, scale, bool(residual)
        if self.residual:  # start from the bicubic image: the correction is zero until trained
            nn.init.zeros_(self.tail.weight)
            assert self.tail.bias is not None
            nn.init.zeros_(self.tail.bias)

    def forward(self, lr: Tensor, bicubic: Tensor, spatial: Tensor, spectral: Tensor | None = None) -> Tensor:
        """The super-resolved cube ``(b, c, s·h, s·w)``."""
        if lr.shape[1] != self.bands or bicubic.shape[1] != self.bands:
            raise ValueError(
                f"SuperResolutionHead: built for {self.bands} bands, got lr {tuple(lr.shape)} and "
                f"bicubic {tuple(bicubic.shape)}"
            )
        h, w = lr.shape[-2:]
        if tuple(bicubic.shape[-2:]) != (self.scale * h, self.scale * w):
            raise ValueError(
                f"SuperResolutionHead: bicubic image must be {self.scale}x the LR size {(h, w)}, got "
                f"{tuple(bicubic.shape[-2:])}"
            )
        feat = self.fusion(spatial, spectral)
        if feat.shape[-2:] != lr.shape[-2:]:
            raise ValueError(
                f"SuperResolutionHead: adapter output {tuple(feat.shape[-2:])} does not match the LR input "
                f"{(h, w)}; the LR tile size must be a multiple of the patch size"
            )
        up = self.upsample(self.fuse(torch.cat([lr, feat], dim=1)))
        out = self.tail(torch.cat([up, self.skip(bicubic)], dim=1))
        return out + bicubic if self.residual else out
