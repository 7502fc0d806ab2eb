"""Target- and anomaly-detection heads (dense, full resolution: spatial patch 1, identity pyramid).

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §2.7, §4.2-4.3; upstream
``HyperspectralDetection/*/models/models.py``): the levels are projected to 128 channels, **summed**,
and passed through a bias-free ``Conv1×1(128, 128)`` (``conv_features``) → ``F`` ``(b, 128, h, w)``.

* Target detection: the prior target spectrum ``t`` is embedded by
  ``g = Linear(c, 128) → LayerNorm → GELU → Linear(128, 128)`` (bias-free linears) and the score of
  each pixel is ``s = ⟨g(t), F(x)⟩`` (no sigmoid).
* Anomaly detection: ``Conv1×1(128, 2)`` gives background/anomaly logits.

Difference from upstream: upstream's detection model applies one SEM gate to the *sum* of the levels;
here the backbone's SEM gates every level (hs-backbone's HyperSIGMA) and the head sums the gated
maps. The two coincide when the per-level gates are equal.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` rows/columns, ``d`` features.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["AnomalyDetectionHead", "LevelSum", "TargetDetectionHead"]


class LevelSum(nn.Module):
    """``conv_features(Σ_l proj_l(F_l))``: bias-free 1×1 projections (identity for levels that
    already have ``channels``), a sum over levels at full resolution, a bias-free 1×1 convolution.

    Shapes:
        levels ``(b, d_l, h, w)`` (all at the same size) → ``(b, channels, h, w)``.
    """

    def __init__(self, in_channels: Sequence[int], channels: int = 128) -> None:
        super().__init__()
        self.in_channels = tuple(int(c) for c in in_channels)
        self.proj = nn.ModuleList(
            nn.Identity() if c == channels else nn.Conv2d(c, channels, 1, bias=False)
            for c in self.in_channels
        )
        self.conv_features = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, levels: Sequence[Tensor]) -> Tensor:
        if len(levels) != len(self.in_channels):
            raise ValueError(f"LevelSum: expected {len(self.in_channels)} levels, got {len(levels)}")
        sizes = {tuple(level.shape[-2:]) for level in levels}
        if len(sizes) != 1:
            raise ValueError(
                "LevelSum: the levels must share one size (build the backbone with fpn='identity'), "
                f"got {sizes}"
            )
        total = sum(op(level) for op, level in zip(self.proj, levels))
        return self.conv_features(total)


class TargetDetectionHead(nn.Module):
    """Score map ``⟨g(t), F(x)⟩`` of a prior target spectrum against every pixel's features.

    Args:
        in_channels: channels of each backbone level.
        bands: ``c``, length of the target spectrum.
        channels: feature width (upstream 128).

    Shapes:
        ``forward(levels, target)``: levels ``(b, d_l, h, w)``, ``target`` ``(b, c)`` → scores ``(b, h, w)``.
    """

    def __init__(self, in_channels: Sequence[int], bands: int, channels: int = 128) -> None:
        super().__init__()
        self.features = LevelSum(in_channels, channels)
        self.embed_target = nn.Sequential(
            nn.Linear(bands, channels, bias=False),
            nn.LayerNorm(channels),
            nn.GELU(),
            nn.Linear(channels, channels, bias=False),
        )
        self.bands = bands

    def forward(self, levels: Sequence[Tensor], target: Tensor) -> Tensor:
        if target.ndim != 2 or target.shape[1] != self.bands:
            raise ValueError(
                f"TargetDetectionHead: expected a (b, {self.bands}) target spectrum, "
                f"got {tuple(target.shape)}"
            )
        feats = self.features(levels)
        return torch.einsum("bd,bdhw->bhw", self.embed_target(target), feats)


class AnomalyDetectionHead(nn.Module):
    """Background/anomaly logits ``Conv1×1(channels, 2)(F(x))``.

    Shapes:
        ``forward(levels)``: levels ``(b, d_l, h, w)`` → logits ``(b, 2, h, w)``.
    """

    def __init__(self, in_channels: Sequence[int], channels: int = 128) -> None:
        super().__init__()
        self.features = LevelSum(in_channels, channels)
        self.cls = nn.Conv2d(channels, 2, 1)

    def forward(self, levels: Sequence[Tensor]) -> Tensor:
        return self.cls(self.features(levels))
