"""Building blocks shared by the backbones (and by the packages above: nothing else defines them)."""

from hs_backbone.layers.drop import DropPath, drop_path, drop_path_add
from hs_backbone.layers.mlp import Mlp
from hs_backbone.layers.patch_embed import PatchEmbed, group_bands
from hs_backbone.layers.pos_embed import (
    resize_pos_embed_1d,
    resize_pos_embed_2d,
    sincos_pos_embed_1d,
    sincos_pos_embed_2d,
)

__all__ = [
    "DropPath",
    "Mlp",
    "PatchEmbed",
    "drop_path",
    "drop_path_add",
    "group_bands",
    "resize_pos_embed_1d",
    "resize_pos_embed_2d",
    "sincos_pos_embed_1d",
    "sincos_pos_embed_2d",
]
