"""Change-detection heads: the Siamese difference head (hyperspectral, per pixel) and the FPN head
(multispectral, dense), plus the channel-reduction stem of the multispectral model.

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §2.7, §4.4, §4.8):

* Hyperspectral (upstream ``ChangeDetection/models/model.py``): the two dates go through the same
  (Siamese) backbone; per level the absolute difference ``|f(T1) − f(T2)|`` goes through a
  ``DoubleConv`` (``1×1`` for the two deepest levels, ``3×3`` for the two shallowest), the four
  results (64 channels each) are concatenated and reduced by *valid* ``3×3`` convolutions down to one
  pixel, then ``Conv1×1 → 2`` logits. Upstream hard-codes the valid stack for 5×5 and 7×7 token
  grids; here it is derived from the grid: ``(g − 1) / 2`` valid convolutions for an odd grid ``g``
  (halving the width, at least 64), and a final average over what is left for an even grid.
* Multispectral (``MultispectralCD/deep_networks/FM_detector.py``): ``Conv1×1(c, 100)`` stem before
  the backbone; per level the two dates' maps are concatenated and fused by
  ``Conv1×1(2d, 128) → BN → ReLU``; a top-down pathway adds each level to the bilinear upsampling of
  the deeper one; ``Conv1×1(128, 2)`` on the shallowest, upsampled to the input size. (Upstream also
  builds ``smooth_layer_*`` that it never uses; they are not built here.)

Shape legend: ``b`` batch, ``c`` bands, ``h w`` rows/columns, ``d`` features.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from hs_tasks.heads.common import ConvNormAct, DoubleConv, resize_to

__all__ = ["ChannelReductionStem", "FPNChangeHead", "SiameseDifferenceHead"]


class SiameseDifferenceHead(nn.Module):
    """Difference head for centre-pixel change classification from two dates' multi-level maps.

    Args:
        in_channels: channels of each level (shallowest first).
        grid: side of the levels' maps (all levels share it: identity pyramid).
        channels: width after each level's ``DoubleConv`` (upstream 64).
        num_classes: logits per sample (2: unchanged, changed).

    Shapes:
        ``forward(levels_a, levels_b)``: ``(b, d_l, g, g)`` per level and date → logits ``(b, k)``.
    """

    def __init__(
        self, in_channels: Sequence[int], grid: int, *, channels: int = 64, num_classes: int = 2
    ) -> None:
        super().__init__()
        self.in_channels = tuple(int(c) for c in in_channels)
        levels = len(self.in_channels)
        # Upstream: 3x3 for the shallowest two levels, 1x1 for the deepest two.
        self.diff = nn.ModuleList(
            DoubleConv(c, channels, 3 if i < levels // 2 else 1) for i, c in enumerate(self.in_channels)
        )
        width = channels * levels
        layers: list[nn.Module] = []
        for _ in range(max(0, (grid - 1) // 2)):
            out = max(channels, width // 2)
            layers += [nn.Conv2d(width, out, 3), nn.ReLU()]
            width = out
        layers.append(nn.Conv2d(width, num_classes, 1))
        self.classifier = nn.Sequential(*layers)
        self.grid = grid

    def forward(self, levels_a: Sequence[Tensor], levels_b: Sequence[Tensor]) -> Tensor:
        if len(levels_a) != len(self.in_channels) or len(levels_b) != len(self.in_channels):
            raise ValueError(
                f"SiameseDifferenceHead: expected {len(self.in_channels)} levels per date, got "
                f"{len(levels_a)} and {len(levels_b)}"
            )
        diffs = [op((a - b).abs()) for op, a, b in zip(self.diff, levels_a, levels_b)]
        logits = self.classifier(torch.cat(diffs[::-1], dim=1))  # deepest first, as upstream
        return logits.mean(dim=(2, 3))


class ChannelReductionStem(nn.Module):
    """``Conv1×1(c, out)`` before the backbone (upstream ``dim_red``: 13 Sentinel-2 bands → 100).

    Shapes:
        ``(b, c, h, w)`` → ``(b, out, h, w)``.
    """

    def __init__(self, in_bands: int, out_channels: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_bands, out_channels, 1)
        self.in_bands, self.out_channels = in_bands, out_channels

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_bands:
            raise ValueError(
                f"ChannelReductionStem: expected (b, {self.in_bands}, h, w) images, got {tuple(x.shape)}"
            )
        return self.proj(x)


class FPNChangeHead(nn.Module):
    """Dense change logits from the two dates' multi-level maps (top-down feature pyramid).

    Args:
        in_channels: channels of each level (shallowest first).
        channels: pyramid width (upstream 128).
        num_classes: 2 (unchanged, changed).

    Shapes:
        ``forward(levels_a, levels_b, size)``: ``(b, d_l, h_l, w_l)`` per level and date → logits
        ``(b, k, h, w)`` at ``size``.
    """

    def __init__(self, in_channels: Sequence[int], *, channels: int = 128, num_classes: int = 2) -> None:
        super().__init__()
        self.in_channels = tuple(int(c) for c in in_channels)
        self.fuse = nn.ModuleList(ConvNormAct(2 * c, channels, 1) for c in self.in_channels)
        self.cls = nn.Conv2d(channels, num_classes, 1)

    def forward(
        self, levels_a: Sequence[Tensor], levels_b: Sequence[Tensor], size: tuple[int, int]
    ) -> Tensor:
        if len(levels_a) != len(self.in_channels) or len(levels_b) != len(self.in_channels):
            raise ValueError(
                f"FPNChangeHead: expected {len(self.in_channels)} levels per date, got {len(levels_a)} and "
                f"{len(levels_b)}"
            )
        fused = [op(torch.cat([a, b], dim=1)) for op, a, b in zip(self.fuse, levels_a, levels_b)]
        top = fused[-1]
        for level in reversed(fused[:-1]):
            top = resize_to(top, level.shape[-2:]) + level
        return resize_to(self.cls(top), size)
