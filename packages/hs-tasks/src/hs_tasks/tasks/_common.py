"""Shared plumbing of the task modules: recipe options, building a backbone for a task, reading its
features.

Backbones: a ``HyperSIGMA`` (``hypersigma_*``, ``test_hypersigma``: spatial + spectral branch) or a
spatial ViT alone (``spatial_vit_*``, ``test_spatial_vit``: SpatSIGMA, no spectral enhancement).
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor, nn

from hs_backbone import HyperSIGMA, SpatialViT, create_backbone
from hs_tasks.recipes import RecipeConfig

__all__ = [
    "build_backbone",
    "deepest_features",
    "is_spatial_only",
    "resolve_options",
    "spatial_levels",
]


def resolve_options(options: dict[str, Any], defaults: dict[str, Any], recipe: str) -> dict[str, Any]:
    """``defaults`` updated by ``options``; an unknown key is a ValueError listing the valid ones."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(f"{recipe} recipe: unknown options {unknown}; valid options are {sorted(defaults)}")
    return {**defaults, **options}


def is_spatial_only(name: str) -> bool:
    """Whether a registered backbone name is a spatial ViT alone (SpatSIGMA)."""
    return "spatial_vit" in name


def build_backbone(
    config: RecipeConfig,
    *,
    in_chans: int,
    img_size: int,
    patch_size: int,
    num_tokens: int,
    use_abs_pos_emb: bool,
    level_proj_dim: int | None = None,
    sem_hidden: int | None = None,
    sem_channels: int | None = None,
    drop_path_rate: float | None = None,
) -> nn.Module:
    """``create_backbone(config.backbone, ...)`` for a dense task.

    The spatial branch keeps its token grid (``fpn="identity"``); the spectral branch's deepest level
    feeds the enhancement (``spectral_level`` = its last level, the only one projected), as in
    upstream's unmixing, denoising and SR models. Arguments left ``None`` keep the variant's
    defaults. Spectral arguments are dropped for a spatial-only backbone.
    """
    if num_tokens < 1 or math.isqrt(num_tokens) ** 2 != num_tokens:
        raise ValueError(f"num_tokens: expected a perfect square (the √t × √t SSA grid), got {num_tokens}")
    common: dict[str, Any] = {
        "in_chans": in_chans,
        "img_size": img_size,
        "patch_size": patch_size,
        "fpn": "identity",
        "use_abs_pos_emb": use_abs_pos_emb,
        "drop_path_rate": drop_path_rate,
        "pretrained": config.pretrained,
    }
    if is_spatial_only(config.backbone):
        return create_backbone(config.backbone, **common)
    return create_backbone(
        config.backbone,
        **common,
        num_tokens=num_tokens,
        level_proj_dim=level_proj_dim,
        sem_hidden=sem_hidden,
        sem_channels=sem_channels,
        spectral_level=3,
        proj_levels=(3,),
    )


def _check_backbone(backbone: nn.Module) -> None:
    if not isinstance(backbone, HyperSIGMA | SpatialViT):
        raise ValueError(
            f"backbone: expected a hs_backbone HyperSIGMA or SpatialViT, got {type(backbone).__name__}"
        )


def spatial_levels(backbone: nn.Module, x: Tensor) -> list[Tensor]:
    """The levels a multi-level head reads: SEM-enhanced maps (HyperSIGMA) or the raw spatial levels
    (SpatialViT), shallowest first."""
    _check_backbone(backbone)
    if isinstance(backbone, HyperSIGMA):
        return backbone(x).enhanced
    return backbone(x)


def deepest_features(backbone: nn.Module, x: Tensor) -> tuple[Tensor, Tensor | None]:
    """The deepest spatial map ``(b, d, h/p, w/p)`` (last tap, before any pyramid) and the spectral
    tokens of the enhancement level ``(b, t, k)`` (``None`` for a spatial-only backbone).

    The backbone's own SEM is not used here: the low-level heads gate with their own adapter-level SEM,
    as upstream's denoising and SR models do.
    """
    _check_backbone(backbone)
    spatial = backbone.spatial if isinstance(backbone, HyperSIGMA) else backbone
    assert isinstance(spatial, SpatialViT)
    deepest = spatial.forward_intermediates(x, indices=[spatial.out_indices[-1]])[0]
    if not isinstance(backbone, HyperSIGMA):
        return deepest, None
    return deepest, backbone.spectral(x, levels=[backbone.spectral_level])[0]
