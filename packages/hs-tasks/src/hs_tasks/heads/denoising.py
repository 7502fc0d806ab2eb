"""The denoising head of HyperSIGMA (``shared/reference/hypersigma.md`` §2.7 denoising row, §4.6).

The deepest spatial map is brought back to pixel resolution (``ConvTranspose2d``, patch 2 upstream),
adapted to ``a`` channels by four transformer blocks, gated by a spectral enhancement computed from
four more blocks on the spectral tokens (:class:`~hs_tasks.heads.common.GatedAdapter`); the gated map
is concatenated with the noisy input and mapped to the clean estimate by two 3x3 convolutions.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` rows/columns, ``d`` spatial features, ``t`` spectral
tokens, ``k`` spectral features, ``a`` adapter width.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from hs_tasks.heads.common import GatedAdapter

__all__ = ["DenoisingHead"]


class DenoisingHead(nn.Module):
    """Gated adapter + ``Conv3x3(c + a → c)`` + ``Conv3x3(c → c)``.

    Upstream's output is the reconstruction itself (no global residual, and no non-linearity between
    the two convolutions); ``residual=True`` adds the noisy input to the output and zero-initialises the last
    convolution, so the model starts as the identity (residual learning; a deliberate option, off
    by default).

    Args:
        bands: ``c``.
        in_channels: ``d``.
        patch_size: the backbone's spatial patch ``p`` (the adapter input is upsampled by ``p``).
        num_tokens: ``t`` (``None``: spatial-only backbone, no gating).
        spectral_dim: ``k`` (upstream 128).
        adapter_dim: ``a`` (default ``c``, upstream's choice).
        num_heads: heads of the spatial adapter (default: the largest divisor of ``a`` up to 12).
        spectral_heads: heads of the spectral adapter (default: the largest divisor of ``k`` up to 12).
        sem_hidden: SEM hidden size (upstream 128).
        depth, interval, num_points, drop_path_rate: adapter block layout (upstream 4, 3, 8, 0.1).
        grid: ``(h, w)`` of the training tiles, for the adapters' position tables (upstream: both
            adapters have one); ``None``: no position tables (then any tile size works in the head).
        residual: add the input to the output.

    Shapes:
        ``forward(noisy, spatial, spectral)``: ``(b, c, h, w)``, ``(b, d, h/p, w/p)``, ``(b, t, k)`` →
        ``(b, c, h, w)``.
    """

    def __init__(
        self,
        bands: int,
        in_channels: int,
        *,
        patch_size: int = 2,
        num_tokens: int | None = None,
        spectral_dim: int | None = None,
        adapter_dim: int | None = None,
        num_heads: int | None = None,
        spectral_heads: int | None = None,
        sem_hidden: int = 128,
        depth: int = 4,
        interval: int = 3,
        num_points: int = 8,
        drop_path_rate: float = 0.1,
        grid: tuple[int, int] | None = None,
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
            grid=grid,
            spectral_pos_table=grid is not None,
        )
        self.fuse = nn.Conv2d(bands + dim, bands, 3, padding=1)
        self.tail = nn.Conv2d(bands, bands, 3, padding=1)
        self.bands, self.residual = bands, bool(residual)
        if self.residual:  # start from the identity: the correction is zero until trained
            nn.init.zeros_(self.tail.weight)
            assert self.tail.bias is not None
            nn.init.zeros_(self.tail.bias)

    def forward(self, noisy: Tensor, spatial: Tensor, spectral: Tensor | None = None) -> Tensor:
        """The denoised cube ``(b, c, h, w)``."""
        if noisy.shape[1] != self.bands:
            raise ValueError(f"DenoisingHead: built for {self.bands} bands, got {noisy.shape[1]}")
        feat = self.fusion(spatial, spectral)
        if feat.shape[-2:] != noisy.shape[-2:]:
            raise ValueError(
                f"DenoisingHead: adapter output {tuple(feat.shape[-2:])} does not match the input "
                f"{tuple(noisy.shape[-2:])}; the tile size must be a multiple of the patch size"
            )
        out = self.tail(self.fuse(torch.cat([noisy, feat], dim=1)))
        return out + noisy if self.residual else out
