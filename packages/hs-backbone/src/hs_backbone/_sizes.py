"""The size table of HyperSIGMA's encoders (``shared/reference/hypersigma.md`` §2.2).

Both branches of one size share these numbers (upstream: ``ss_fusion_cls.py``, ``models_mae_*.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SIZES", "ViTSize"]


@dataclass(frozen=True)
class ViTSize:
    """Width, depth, heads, global-attention interval and default taps of one encoder size."""

    embed_dim: int
    depth: int
    num_heads: int
    interval: int
    out_indices: tuple[int, ...]

    def kwargs(self) -> dict:
        """Constructor arguments of :class:`hs_backbone.SpatialViT` / :class:`hs_backbone.SpectralViT`."""
        return {
            "embed_dim": self.embed_dim,
            "depth": self.depth,
            "num_heads": self.num_heads,
            "interval": self.interval,
            "out_indices": self.out_indices,
        }


SIZES: dict[str, ViTSize] = {
    "base": ViTSize(768, 12, 12, 3, (3, 5, 7, 11)),
    "large": ViTSize(1024, 24, 16, 6, (7, 11, 15, 23)),
    "huge": ViTSize(1280, 32, 16, 8, (10, 15, 20, 31)),
    # Tiny, for tests: blocks 0 and 2 are SSA, 1 and 3 global; every block is a level.
    "test": ViTSize(32, 4, 2, 2, (0, 1, 2, 3)),
}
