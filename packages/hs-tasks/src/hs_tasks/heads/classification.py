"""Classification heads: patch-based (one label per neighbourhood) and image-based (per pixel).

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §4.1, Appendix B):

* Patch-based, HyperSIGMA (upstream ``ss_fusion_cls.SSFusionFramework``): the four SEM-gated maps
  ``F_l`` ``(b, 128, h_l, w_l)`` are average-pooled, concatenated **deepest first** into ``(b, 512)``
  and classified by ``Linear(512, 256) → Dropout(0.4) → Linear(256, 128) → Dropout(0.4) →
  Linear(128, k)`` with **no nonlinearity** between the layers (upstream's choice; ``activation=``
  adds one). SpatSIGMA (``SpatViT_cls``): the raw block outputs ``(b, d, h', w')`` pooled and
  concatenated deepest first, ``Linear(4d, 128) → Linear(128, 64) → Linear(64, k)``.
* Image-based, HyperSIGMA (``ss_fusion_seg``): the gated maps reduced to 128 channels, brought to the
  input size, concatenated (512) → ``Conv1×1(512, 128)`` → ``Conv1×1(128, k)``, again linear.

Shape legend: ``b`` batch, ``d`` features, ``h w`` rows/columns, ``k`` classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from hs_tasks.heads.common import make_activation, resize_to

__all__ = ["PooledMLPHead", "SegmentationHead"]


class PooledMLPHead(nn.Module):
    """Global average pooling of every level, concatenation, MLP classifier.

    Parameter names follow upstream (``classifier.0``, ``classifier.2``, ``classifier.4`` for two
    hidden layers without activation), so upstream's classifier weights load as they are.

    Args:
        in_channels: channels of each level (shallowest first, as the backbones return them).
        num_classes: ``k``.
        hidden: hidden widths (HyperSIGMA: ``(256, 128)``; SpatSIGMA: ``(128, 64)``).
        dropout: dropout after each hidden layer (HyperSIGMA 0.4, SpatSIGMA 0).
        activation: ``None`` (upstream: the MLP is linear), ``"relu"`` or ``"gelu"``.
        deepest_first: concatenate the pooled levels deepest first (upstream's order).

    Shapes:
        ``forward(levels)``: ``(b, d_l, h_l, w_l)`` per level → logits ``(b, k)``.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        num_classes: int,
        *,
        hidden: Sequence[int] = (256, 128),
        dropout: float = 0.4,
        activation: str | None = None,
        deepest_first: bool = True,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes: expected >= 1, got {num_classes}")
        if not in_channels:
            raise ValueError("in_channels: expected at least one level")
        self.in_channels, self.num_classes = tuple(int(c) for c in in_channels), num_classes
        self.deepest_first = deepest_first
        layers: list[nn.Module] = []
        width = sum(self.in_channels)
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if activation is not None:
                layers.append(make_activation(activation))
            layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.classifier = nn.Sequential(*layers)

    def pool(self, levels: Sequence[Tensor]) -> Tensor:
        """The classifier input: pooled levels concatenated, ``(b, Σ d_l)``."""
        if len(levels) != len(self.in_channels):
            raise ValueError(f"PooledMLPHead: expected {len(self.in_channels)} levels, got {len(levels)}")
        order = list(reversed(levels)) if self.deepest_first else list(levels)
        return torch.cat([level.mean(dim=(2, 3)) for level in order], dim=1)

    def forward(self, levels: Sequence[Tensor]) -> Tensor:
        return self.classifier(self.pool(levels))


class SegmentationHead(nn.Module):
    """Per-pixel classifier over multi-level maps (upstream's image-based head).

    Each level is reduced to ``channels`` by a bias-free 1×1 convolution (skipped when it already has
    ``channels``), resampled bilinearly to the output size, concatenated, and classified by
    ``Conv1×1(L·channels, channels) → [activation] → Conv1×1(channels, k)``.

    Args:
        in_channels: channels of each level.
        num_classes: ``k``.
        channels: the reduced width (upstream 128).
        activation: ``None`` (upstream, linear) or ``"relu"``/``"gelu"`` between the two convolutions.

    Shapes:
        ``forward(levels, size)``: levels ``(b, d_l, h_l, w_l)`` → logits ``(b, k, h, w)`` at ``size``.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        num_classes: int,
        *,
        channels: int = 128,
        activation: str | None = None,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes: expected >= 1, got {num_classes}")
        self.in_channels = tuple(int(c) for c in in_channels)
        self.reduce = nn.ModuleList(
            nn.Identity() if c == channels else nn.Conv2d(c, channels, 1, bias=False)
            for c in self.in_channels
        )
        self.fuse = nn.Conv2d(channels * len(self.in_channels), channels, 1)
        self.act = make_activation(activation)
        self.cls = nn.Conv2d(channels, num_classes, 1)

    def forward(self, levels: Sequence[Tensor], size: tuple[int, int]) -> Tensor:
        if len(levels) != len(self.in_channels):
            raise ValueError(f"SegmentationHead: expected {len(self.in_channels)} levels, got {len(levels)}")
        maps = [resize_to(op(level), size) for op, level in zip(self.reduce, levels)]
        return self.cls(self.act(self.fuse(torch.cat(maps, dim=1))))
