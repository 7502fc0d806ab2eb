"""The unmixing head of HyperSIGMA: abundances from the (spectrally enhanced) spatial levels, and a
linear decoder whose weights are the endmembers.

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §2.7 unmixing row, §4.5): per level a
convolution block (1x1 on the two deepest levels, 3x3 on the two shallowest; LeakyReLU 0.02,
BatchNorm, Dropout 0.2), concatenation, bilinear upsampling to the input size, a smoothing block
(3x3 → 1x1), a 1x1 block to ``e`` maps and a softmax over the endmembers (non-negative, sum to one).
The decoder is the linear mixing model ``x̂ = ReLU(E a)`` with non-negative endmembers ``E``,
initialised from VCA.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` rows/columns, ``e`` endmembers, ``c'`` level channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hs_tasks.heads.common import ConvActNorm

__all__ = ["EndmemberDecoder", "SumToOne", "UnmixingHead"]


class SumToOne(nn.Module):
    """Softmax over the endmember axis: ``a = softmax(scale · z, dim=1)`` (abundance constraints:
    non-negative, summing to one per pixel). Upstream's ``SumToOne`` (scale 1)."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        if not scale > 0:
            raise ValueError(f"scale: expected > 0, got {scale}")
        self.scale = float(scale)

    def forward(self, z: Tensor) -> Tensor:
        """``(b, e, h, w)`` logits → ``(b, e, h, w)`` abundances."""
        return torch.softmax(self.scale * z, dim=1)


class EndmemberDecoder(nn.Module):
    """Linear mixing decoder ``x̂ = ReLU(Eᵀ a)`` with non-negative endmembers.

    ``endmembers`` ``(e, c)`` is the parameter (upstream: the weight of a bias-free 1x1
    ``Conv2d(e → c)``, set to VCA's endmembers before training). Non-negativity is kept as upstream's
    ``weightConstraint`` does, by projection: in training mode every forward first clamps the
    parameter in place to ``>= 0`` (so an entry pushed below zero by the last step restarts from 0);
    the mixing always uses the clamped values.

    Args:
        num_endmembers: ``e``.
        bands: ``c``.
        init: ``(e, c)`` initial endmembers (VCA's); default uniform in [0, 1).
    """

    def __init__(self, num_endmembers: int, bands: int, *, init: Any = None) -> None:
        super().__init__()
        if num_endmembers < 1 or bands < 1:
            raise ValueError(f"need num_endmembers, bands >= 1, got {num_endmembers}, {bands}")
        self.endmembers = nn.Parameter(torch.rand(num_endmembers, bands))
        if init is not None:
            self.set_endmembers(init)

    @torch.no_grad()
    def set_endmembers(self, endmembers: Any) -> None:
        """Overwrite the endmembers with ``(e, c)`` values (negative entries are clamped to 0)."""
        value = torch.as_tensor(endmembers, dtype=self.endmembers.dtype, device=self.endmembers.device)
        if value.shape != self.endmembers.shape:
            raise ValueError(
                f"endmembers: expected shape {tuple(self.endmembers.shape)} (e, c), got {tuple(value.shape)}"
            )
        if not torch.isfinite(value).all():
            raise ValueError("endmembers: expected finite values")
        self.endmembers.copy_(value.clamp_min(0))

    def nonnegative(self) -> Tensor:
        """The endmembers used for mixing, ``(e, c)``, clamped to ``>= 0``."""
        return self.endmembers.clamp_min(0)

    def forward(self, abundances: Tensor) -> Tensor:
        """``(b, e, h, w)`` → ``(b, c, h, w)`` reconstruction."""
        if self.training:
            with torch.no_grad():
                self.endmembers.clamp_(min=0)
        return F.relu(torch.einsum("behw,ec->bchw", abundances, self.nonnegative()))


class UnmixingHead(nn.Module):
    """Abundance network plus endmember decoder.

    Args:
        channels: ``c'``, channels of every level (upstream: the spectral token count ``t``, since SEM
            gates ``t``-channel projections).
        num_endmembers: ``e``.
        bands: ``c`` of the reconstructed cube.
        num_levels: number of input levels (upstream 4).
        in_channels: when given, each level is first projected by a bias-free 1x1 convolution
            ``in_channels → c'`` (upstream's SpatSIGMA variant, whose levels are not SEM-projected).
        kernel_sizes: per level, shallowest first (default: 3 on the shallower half, 1 on the deeper
            half; upstream ``(3, 3, 1, 1)``).
        dropout: dropout of every block (upstream 0.2).
        negative_slope: LeakyReLU slope (upstream 0.02).
        scale: softmax scale of :class:`SumToOne` (upstream 1).
        endmembers: ``(e, c)`` decoder initialisation (VCA's endmembers).

    Shapes:
        ``forward(levels, size)``: ``num_levels`` maps ``(b, c' or in_channels, h_l, w_l)`` and the
        output ``(h, w)`` → abundances ``(b, e, h, w)`` and reconstruction ``(b, c, h, w)``.
    """

    def __init__(
        self,
        channels: int,
        num_endmembers: int,
        bands: int,
        *,
        num_levels: int = 4,
        in_channels: int | None = None,
        kernel_sizes: Sequence[int] | None = None,
        dropout: float = 0.2,
        negative_slope: float = 0.02,
        scale: float = 1.0,
        endmembers: Any = None,
    ) -> None:
        super().__init__()
        if num_levels < 1:
            raise ValueError(f"num_levels: expected >= 1, got {num_levels}")
        if kernel_sizes is None:
            kernel_sizes = [3 if i < (num_levels + 1) // 2 else 1 for i in range(num_levels)]
        if len(kernel_sizes) != num_levels:
            raise ValueError(f"kernel_sizes: expected {num_levels} values, got {list(kernel_sizes)}")
        self.num_levels, self.channels = num_levels, channels
        act: dict = {"negative_slope": negative_slope, "dropout": dropout}
        self.proj = (
            nn.ModuleList(nn.Conv2d(in_channels, channels, 1, bias=False) for _ in range(num_levels))
            if in_channels is not None
            else None
        )
        self.level_convs = nn.ModuleList(ConvActNorm(channels, channels, k, **act) for k in kernel_sizes)
        self.smooth = nn.Sequential(
            ConvActNorm(num_levels * channels, 2 * channels, 3, **act),
            nn.Conv2d(2 * channels, channels, 1),
        )
        self.to_abundances = ConvActNorm(channels, num_endmembers, 1, **act)
        self.sum_to_one = SumToOne(scale)
        self.decoder = EndmemberDecoder(num_endmembers, bands, init=endmembers)

    def abundances(self, levels: Sequence[Tensor], size: tuple[int, int]) -> Tensor:
        """``levels`` → ``(b, e, h, w)`` abundances (non-negative, summing to one)."""
        if len(levels) != self.num_levels:
            raise ValueError(f"UnmixingHead: expected {self.num_levels} levels, got {len(levels)}")
        feats = list(levels)
        if self.proj is not None:
            feats = [p(f) for p, f in zip(self.proj, feats)]
        for i, f in enumerate(feats):
            if f.shape[1] != self.channels:
                raise ValueError(
                    f"UnmixingHead: level {i} has {f.shape[1]} channels, expected {self.channels} "
                    "(pass in_channels= to project the levels)"
                )
        feats = [conv(f) for conv, f in zip(self.level_convs, feats)]
        largest = max((f.shape[-2:] for f in feats), key=lambda s: s[0] * s[1])
        feats = [
            f
            if f.shape[-2:] == largest
            else F.interpolate(f, size=largest, mode="bilinear", align_corners=True)
            for f in feats
        ]
        z = F.interpolate(torch.cat(feats, dim=1), size=size, mode="bilinear", align_corners=True)
        return self.sum_to_one(self.to_abundances(self.smooth(z)))

    def forward(self, levels: Sequence[Tensor], size: tuple[int, int]) -> tuple[Tensor, Tensor]:
        """Abundances ``(b, e, h, w)`` and the reconstruction ``(b, c, h, w)``."""
        a = self.abundances(levels, size)
        return a, self.decoder(a)
