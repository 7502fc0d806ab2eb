"""Generic head layers shared by the task heads: backbone feature access, conv blocks, resampling.

Every head of :mod:`hs_tasks.heads` reads the multi-level maps of an hs-backbone model through
:func:`backbone_levels`, so the same head works on HyperSIGMA (the SEM-gated maps
``HyperSIGMAOutput.enhanced``) and on SpatSIGMA (a :class:`hs_backbone.SpatialViT`, whose pyramid
levels are the features). :func:`level_channels` gives the channels of those maps, which is what a
head needs at construction.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` rows/columns, ``d`` features, ``k`` classes.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = [
    "ConvNormAct",
    "DoubleConv",
    "backbone_levels",
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
        return list(backbone.forward_intermediates(x))
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
        self, in_channels: int, out_channels: int, kernel_size: int = 1, *, padding: str = "same", bias: bool = True
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
        super().__init__(
            ConvNormAct(in_channels, mid, kernel_size), ConvNormAct(mid, out_channels, 1)
        )


def resize_to(x: Tensor, size: tuple[int, int] | torch.Size, **kwargs: Any) -> Tensor:
    """Bilinear resampling of ``(b, d, h, w)`` maps to ``size`` (``align_corners=False``); a no-op
    when the size already matches."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False, **kwargs)
