"""Backbones by name: ``create_backbone("hypersigma_base", in_chans=30, img_size=33, patch_size=2)``.

Each registered name is a thin function that fills in a size of :data:`hs_backbone._sizes.SIZES` and
the defaults of its family; per-task settings (patch size, tokens, taps, pyramid, position embedding,
attention backends) are keyword overrides.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

__all__ = ["OFFICIAL_CHECKPOINTS", "create_backbone", "is_backbone", "list_backbones", "register_backbone"]

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
F = TypeVar("F", bound=Callable[..., nn.Module])

# The released pretraining checkpoints (Hugging Face ``WHU-Sigma/HyperSIGMA``) for each registered name.
OFFICIAL_CHECKPOINTS: dict[str, tuple[str, ...]] = {
    f"{family}_{size}": files
    for size in ("base", "large", "huge")
    for family, files in (
        ("spatial_vit", (f"spat-vit-{size}-ultra-checkpoint-1599.pth",)),
        ("spectral_vit", (f"spec-vit-{size}-ultra-checkpoint-1599.pth",)),
        (
            "hypersigma",
            (f"spat-vit-{size}-ultra-checkpoint-1599.pth", f"spec-vit-{size}-ultra-checkpoint-1599.pth"),
        ),
    )
}


def register_backbone(fn: F) -> F:
    """Register ``fn`` under its ``__name__`` (a decorator). Raises on a duplicate name."""
    name = fn.__name__
    if name in _REGISTRY:
        raise ValueError(f"backbone {name!r} is already registered")
    _REGISTRY[name] = fn
    return fn


def list_backbones(pattern: str = "*") -> list[str]:
    """Registered names matching a glob ``pattern`` (e.g. ``"*_base"``, ``"test_*"``), sorted."""
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def is_backbone(name: str) -> bool:
    """Whether ``name`` is registered."""
    return name in _REGISTRY


def create_backbone(
    name: str,
    *,
    in_chans: int | None = None,
    pretrained: Any = None,
    band_adapter: str = "reinit",
    size_adapter: str = "reinit",
    pos_embed_adapter: str = "interpolate",
    **overrides: Any,
) -> nn.Module:
    """Build a registered backbone, optionally loading pretrained weights.

    Args:
        name: a name of :func:`list_backbones`.
        in_chans: bands of the input cube (default: the variant's, 100 for the full sizes).
        pretrained: ``None``; a path to an official checkpoint or a converted file; a state dict; or for
            ``hypersigma_*`` ``{'spatial': path, 'spectral': path}``. See :func:`hs_backbone.load_pretrained`;
            the :class:`hs_backbone.LoadReport` is stored as ``model.load_report``.
        band_adapter: ``"reinit"`` or ``"interpolate"`` the patch embedding when bands/patch size differ.
        size_adapter: ``"reinit"`` or ``"interpolate"`` the spectral ``spat_map`` when the input size differs.
        pos_embed_adapter: ``"interpolate"`` or ``"reinit"`` position embeddings of another length.
        **overrides: constructor arguments; ``None`` values are ignored (so callers can pass "unset").

    Raises:
        ValueError: unknown name (close matches are listed).
    """
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown backbone {name!r}{hint} (list_backbones() gives all names)")
    kwargs = {k: v for k, v in overrides.items() if v is not None}
    if in_chans is not None:
        kwargs["in_chans"] = in_chans
    model = _REGISTRY[name](**kwargs)
    if pretrained is not None:
        from hs_backbone.weights import load_pretrained

        load_pretrained(
            model,
            pretrained,
            band_adapter=band_adapter,  # type: ignore[arg-type]
            size_adapter=size_adapter,  # type: ignore[arg-type]
            pos_embed_adapter=pos_embed_adapter,  # type: ignore[arg-type]
        )
    return model
