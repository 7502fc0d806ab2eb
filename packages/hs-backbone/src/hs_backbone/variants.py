"""Registered variants: ``spatial_vit_*``, ``spectral_vit_*``, ``hypersigma_*`` and tiny ``test_*`` ones.

Defaults are the released pretraining shapes (64 × 64 inputs, 100 bands, spatial patch 8, 100 spectral
tokens) with upstream's fine-tuning options (absolute position embeddings, drop path 0.1, 8 SSA
points). Per-task settings are overrides, e.g. upstream's classification model is
``create_backbone("hypersigma_base", in_chans=30, img_size=33, patch_size=2)``.
"""

from __future__ import annotations

from typing import Any

from hs_backbone._registry import register_backbone
from hs_backbone._sizes import SIZES
from hs_backbone.hypersigma import HyperSIGMA
from hs_backbone.sem import SpectralEnhancement
from hs_backbone.spatial_vit import SpatialViT
from hs_backbone.spectral_vit import SpectralViT

__all__ = [
    "hypersigma_base",
    "hypersigma_huge",
    "hypersigma_large",
    "spatial_vit_base",
    "spatial_vit_huge",
    "spatial_vit_large",
    "spectral_vit_base",
    "spectral_vit_huge",
    "spectral_vit_large",
    "test_hypersigma",
    "test_spatial_vit",
    "test_spectral_vit",
]

_FULL = {"img_size": 64, "drop_path_rate": 0.1}
_SPATIAL_ONLY = ("fpn",)
_SPECTRAL_ONLY = ("proj_levels",)
_TEST = {"img_size": 8, "drop_path_rate": 0.0, "num_points": 4}


def _spatial(size: str, defaults: dict, kwargs: dict) -> SpatialViT:
    return SpatialViT(**{**SIZES[size].kwargs(), **defaults, **kwargs})


def _spectral(size: str, defaults: dict, kwargs: dict) -> SpectralViT:
    return SpectralViT(**{**SIZES[size].kwargs(), **defaults, **kwargs})


def _hypersigma(
    size: str,
    defaults: dict,
    *,
    in_chans: int,
    patch_size: int,
    num_tokens: int,
    level_proj_dim: int,
    sem_hidden: int,
    sem_channels: int,
    spectral_level: int = 0,
    spatial_kwargs: dict | None = None,
    spectral_kwargs: dict | None = None,
    **common: Any,
) -> HyperSIGMA:
    """Both branches share ``common`` (sizes, ``img_size``, backends, ...) except the arguments only one
    branch has (``fpn``; ``proj_levels``); ``spatial_kwargs``/``spectral_kwargs`` go to one branch."""
    only_spatial = {k: common.pop(k) for k in _SPATIAL_ONLY if k in common}
    only_spectral = {k: common.pop(k) for k in _SPECTRAL_ONLY if k in common}
    spatial = _spatial(
        size,
        defaults,
        {"in_chans": in_chans, "patch_size": patch_size, **common, **only_spatial, **(spatial_kwargs or {})},
    )
    spectral = _spectral(
        size,
        defaults,
        {
            "in_chans": in_chans,
            "num_tokens": num_tokens,
            "level_proj_dim": level_proj_dim,
            **common,
            **only_spectral,
            **(spectral_kwargs or {}),
        },
    )
    sem = SpectralEnhancement(
        spectral.num_tokens,
        sem_hidden,
        sem_channels,
        len(spatial.out_indices),
        in_channels=spatial.embed_dim,
        device=common.get("device"),
        dtype=common.get("dtype"),
    )
    return HyperSIGMA(spatial, spectral, sem, spectral_level=spectral_level)


def _full_hypersigma(size: str, kwargs: dict) -> HyperSIGMA:
    base = {
        "in_chans": 100,
        "patch_size": 8,
        "num_tokens": 100,
        "level_proj_dim": 128,
        "sem_hidden": 128,
        "sem_channels": 128,
    }
    return _hypersigma(size, _FULL, **{**base, **kwargs})


@register_backbone
def spatial_vit_base(**kwargs: Any) -> SpatialViT:
    """Spatial ViT-B: d 768, 12 blocks, 12 heads, global every 3rd block, taps (3, 5, 7, 11)."""
    return _spatial("base", {**_FULL, "in_chans": 100, "patch_size": 8}, kwargs)


@register_backbone
def spatial_vit_large(**kwargs: Any) -> SpatialViT:
    """Spatial ViT-L: d 1024, 24 blocks, 16 heads, global every 6th block, taps (7, 11, 15, 23)."""
    return _spatial("large", {**_FULL, "in_chans": 100, "patch_size": 8}, kwargs)


@register_backbone
def spatial_vit_huge(**kwargs: Any) -> SpatialViT:
    """Spatial ViT-H: d 1280, 32 blocks, 16 heads, global every 8th block, taps (10, 15, 20, 31)."""
    return _spatial("huge", {**_FULL, "in_chans": 100, "patch_size": 8}, kwargs)


@register_backbone
def spectral_vit_base(**kwargs: Any) -> SpectralViT:
    """Spectral ViT-B (sizes as :func:`spatial_vit_base`), 100 band tokens on a 10 × 10 SSA grid."""
    return _spectral("base", {**_FULL, "num_tokens": 100}, kwargs)


@register_backbone
def spectral_vit_large(**kwargs: Any) -> SpectralViT:
    """Spectral ViT-L (sizes as :func:`spatial_vit_large`), 100 band tokens."""
    return _spectral("large", {**_FULL, "num_tokens": 100}, kwargs)


@register_backbone
def spectral_vit_huge(**kwargs: Any) -> SpectralViT:
    """Spectral ViT-H (sizes as :func:`spatial_vit_huge`), 100 band tokens."""
    return _spectral("huge", {**_FULL, "num_tokens": 100}, kwargs)


@register_backbone
def hypersigma_base(**kwargs: Any) -> HyperSIGMA:
    """HyperSIGMA-B: spatial ViT-B + spectral ViT-B + SEM (t → 128 → 128 gates over 4 levels)."""
    return _full_hypersigma("base", kwargs)


@register_backbone
def hypersigma_large(**kwargs: Any) -> HyperSIGMA:
    """HyperSIGMA-L: spatial ViT-L + spectral ViT-L + SEM."""
    return _full_hypersigma("large", kwargs)


@register_backbone
def hypersigma_huge(**kwargs: Any) -> HyperSIGMA:
    """HyperSIGMA-H: spatial ViT-H + spectral ViT-H + SEM (about 1.3 B parameters)."""
    return _full_hypersigma("huge", kwargs)


@register_backbone
def test_spatial_vit(**kwargs: Any) -> SpatialViT:
    """Tiny spatial ViT for tests: d 32, 4 blocks (SSA, global, SSA, global), 2 heads, 8 bands, 8 × 8."""
    return _spatial("test", {**_TEST, "in_chans": 8, "patch_size": 2}, kwargs)


@register_backbone
def test_spectral_vit(**kwargs: Any) -> SpectralViT:
    """Tiny spectral ViT for tests: d 32, 4 blocks, 16 band tokens (4 × 4 grid), 8 × 8 inputs."""
    return _spectral("test", {**_TEST, "num_tokens": 16, "level_proj_dim": 16}, kwargs)


@register_backbone
def test_hypersigma(**kwargs: Any) -> HyperSIGMA:
    """Tiny HyperSIGMA for tests: the two ``test_*`` branches and SEM (16 → 16 → 16)."""
    base = {
        "in_chans": 8,
        "patch_size": 1,
        "num_tokens": 16,
        "level_proj_dim": 16,
        "sem_hidden": 16,
        "sem_channels": 16,
    }
    return _hypersigma("test", _TEST, **{**base, **kwargs})
