"""Registered MAEs: ``spatial_mae_*`` and ``spectral_mae_*`` in sizes test, tiny, base, large, huge.

Encoder sizes are hs-backbone's (:data:`hs_backbone.SIZES`); ``tiny`` is a small encoder for laptops
and quick experiments (not a released size). The decoder is upstream's (512 wide, 8 blocks, 16 heads)
for the released sizes. Defaults are upstream's pretraining shapes: 64 × 64 crops of 100 bands,
spatial patch 8, 100 spectral tokens, drop path 0.1, normalised-pixel loss.

``create_mae(name, upstream=True)`` switches every fixed upstream defect back on (the encoder position
embedding is not added; the spectral decoder position embedding is zero).
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass
from typing import Any

import torch

from hs_backbone import SIZES
from hs_pretrain.mae import MAE, SpatialMAE, SpectralMAE

__all__ = ["MAE_SIZES", "MAESize", "create_mae", "is_mae", "list_maes", "mae_family"]


@dataclass(frozen=True)
class MAESize:
    """Encoder and decoder sizes of one MAE size, and the matching hs-backbone size (if any)."""

    embed_dim: int
    depth: int
    num_heads: int
    decoder_embed_dim: int
    decoder_depth: int
    decoder_num_heads: int
    backbone_size: str | None

    def kwargs(self) -> dict[str, int]:
        return {
            "embed_dim": self.embed_dim,
            "depth": self.depth,
            "num_heads": self.num_heads,
            "decoder_embed_dim": self.decoder_embed_dim,
            "decoder_depth": self.decoder_depth,
            "decoder_num_heads": self.decoder_num_heads,
        }


def _released(size: str) -> MAESize:
    s = SIZES[size]
    return MAESize(s.embed_dim, s.depth, s.num_heads, 512, 8, 16, size)


MAE_SIZES: dict[str, MAESize] = {
    "test": MAESize(SIZES["test"].embed_dim, SIZES["test"].depth, SIZES["test"].num_heads, 16, 1, 2, "test"),
    "tiny": MAESize(192, 6, 3, 128, 2, 4, None),
    "base": _released("base"),
    "large": _released("large"),
    "huge": _released("huge"),
}

_FULL: dict[str, Any] = {"img_size": 64, "in_chans": 100, "drop_path_rate": 0.1}
_TEST: dict[str, Any] = {"img_size": 8, "drop_path_rate": 0.0}
_FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    "spatial_mae": {"patch_size": 8},
    "spectral_mae": {"num_tokens": 100},
}
_TEST_FAMILY: dict[str, dict[str, Any]] = {
    "spatial_mae": {"patch_size": 2, "in_chans": 8},
    "spectral_mae": {"num_tokens": 16, "in_chans": 16},
}


def _names() -> list[str]:
    out = []
    for family in ("spatial_mae", "spectral_mae"):
        out += [f"{family}_{s}" for s in ("tiny", "base", "large", "huge")]
        out.append(f"test_{family}")
    return out


def list_maes(pattern: str = "*") -> list[str]:
    """Registered MAE names matching a glob ``pattern`` (e.g. ``"spatial_*"``, ``"test_*"``), sorted."""
    return sorted(n for n in _names() if fnmatch.fnmatchcase(n, pattern))


def is_mae(name: str) -> bool:
    """Whether ``name`` is a registered MAE."""
    return name in _names()


def mae_family(name: str) -> tuple[str, str]:
    """``(family, size)`` of a registered name: ``("spatial_mae", "base")``, ``("spectral_mae", "test")``."""
    if not is_mae(name):
        close = difflib.get_close_matches(name, _names(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown MAE {name!r}{hint} (list_maes() gives all names)")
    if name.startswith("test_"):
        return name[len("test_") :], "test"
    family, size = name.rsplit("_", 1)
    return family, size


def create_mae(name: str, *, upstream: bool = False, **overrides: Any) -> MAE:
    """Build a registered MAE.

    Args:
        name: a name of :func:`list_maes`.
        upstream: restore upstream's pretraining behaviour: ``encoder_pos_embed="upstream"`` (created,
            never added) and, for the spectral MAE, ``decoder_pos_embed="zeros"``. Explicit overrides win.
        **overrides: constructor arguments (``None`` values are ignored), e.g. ``in_chans=``,
            ``img_size=``, ``mask_ratio=``, ``global_backend=``, ``dtype=``.

    Raises:
        ValueError: unknown name (close matches are listed).
    """
    family, size = mae_family(name)
    kwargs: dict[str, Any] = {**MAE_SIZES[size].kwargs()}
    if size == "test":
        kwargs.update(_TEST)
        kwargs.update(_TEST_FAMILY[family])
    else:
        kwargs.update(_FULL)
        kwargs.update(_FAMILY_DEFAULTS[family])
    if upstream:
        kwargs["encoder_pos_embed"] = "upstream"
        if family == "spectral_mae":
            kwargs["decoder_pos_embed"] = "zeros"
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    cls = SpatialMAE if family == "spatial_mae" else SpectralMAE
    model = cls(**kwargs)
    recorded = {k: _plain(v) for k, v in kwargs.items() if k != "device"}
    model.mae_config = {"model": name, "upstream": bool(upstream), "kwargs": recorded}
    return model


def _plain(value: Any) -> Any:
    """A value as plain data for checkpoints (tuples as lists, dtypes as names)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    return value
