"""The spectral ViT of HyperSIGMA: band-group tokens, SSA on a √t × √t token grid, level projections.

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §2.6): the bands are averaged into
``t`` groups (``AdaptiveAvgPool1d(t)`` over the band axis), each group's whole ``h × w`` image is mapped
to ``d`` features by ``spat_map = Linear(h·w, d)``, a learned position embedding is added, and the same
block stack runs with SSA treating the ``t`` tokens as a row-major ``√t × √t`` grid (token ``i`` at
row ``i // √t``, column ``i % √t``). Selected levels are projected by bias-free linear maps.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` image rows/columns, ``t`` spectral tokens, ``d``
features, ``k`` projected features.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from einops import rearrange
from torch import Tensor, nn

from hs_attention import OffsetInit
from hs_backbone._encoder import ViTEncoder, is_sampling_block
from hs_backbone._validation import check_cube, check_out_indices
from hs_backbone.layers import group_bands
from hs_backbone.layers.patch_embed import _pair

__all__ = ["SpectralViT"]


class SpectralViT(ViTEncoder):
    """HyperSIGMA's spectral branch (``SpectralVisionTransformer``), with upstream's parameter names
    (``spat_map``, ``pos_embed``, ``blocks.*``); the level projections ``l1, l2, ...`` are
    ``level_proj.0, level_proj.1, ...``.

    Args:
        num_tokens: ``t`` band groups. With any SSA block it must be a perfect square (the SSA grid
            is ``√t × √t``): 36, 64, 100, 144 are upstream's choices.
        img_size: ``h × w`` of the input (int or pair); ``spat_map`` maps ``h·w`` pixels to ``d``.
        in_chans: bands ``c`` the model accepts; ``None`` accepts any band count (band grouping works
            for every ``c``, averaging when ``c > t`` and repeating bands when ``c < t``).
        embed_dim: features ``d``.
        depth: number of blocks.
        num_heads: attention heads.
        interval: every ``interval``-th block is global attention, the others SSA.
        out_indices: blocks whose outputs are the levels (0-based, increasing).
        use_abs_pos_emb: add a learned ``(1, t, d)`` position embedding.
        level_proj_dim: ``k``, output size of the bias-free level projections (upstream: 128).
        proj_levels: levels (positions in ``out_indices``) that are projected; the others are
            returned with ``d`` features. Upstream's classification and detection models project only
            the first level, ``(0,)``; change detection and unmixing project all four.
        mlp_ratio, qkv_bias, qk_scale, drop_rate, attn_drop_rate, drop_path_rate, num_points,
        offset_init, ssa_backend, global_backend, final_norm: see :class:`hs_backbone.ViTEncoder`.

    Shapes:
        ``forward``: ``(b, c, h, w)`` → one ``(b, t, k or d)`` tensor per level, in ``out_indices`` order.
    """

    def __init__(
        self,
        *,
        num_tokens: int = 100,
        img_size: int | tuple[int, int] = 64,
        in_chans: int | None = None,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        interval: int = 3,
        out_indices: Sequence[int] = (3, 5, 7, 11),
        use_abs_pos_emb: bool = True,
        level_proj_dim: int = 128,
        proj_levels: Sequence[int] = (0,),
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        num_points: int = 8,
        offset_init: OffsetInit = "detr",
        ssa_backend: str = "auto",
        global_backend: str = "auto",
        final_norm: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if not isinstance(num_tokens, int) or isinstance(num_tokens, bool) or num_tokens < 1:
            raise ValueError(f"num_tokens: expected a positive int (the band groups t), got {num_tokens!r}")
        side = math.isqrt(num_tokens)
        uses_ssa = (isinstance(interval, int) and isinstance(depth, int) and interval > 0) and any(
            is_sampling_block(i, interval) for i in range(depth)
        )
        if uses_ssa and side * side != num_tokens:
            lo, hi = side * side, (side + 1) ** 2
            raise ValueError(
                f"num_tokens={num_tokens}: spectral SSA arranges the t band-group tokens on a √t × √t grid, "
                f"so t must be a perfect square (for example {lo} or {hi}); or use interval=1 (global "
                "attention in every block), which accepts any t"
            )
        super().__init__(
            embed_dim=embed_dim,
            depth=depth,
            num_heads=num_heads,
            interval=interval,
            out_indices=out_indices,
            mlp_ratio=mlp_ratio,
            qkv_bias=qkv_bias,
            qk_scale=qk_scale,
            drop_rate=drop_rate,
            attn_drop_rate=attn_drop_rate,
            drop_path_rate=drop_path_rate,
            num_points=num_points,
            offset_init=offset_init,
            ssa_backend=ssa_backend,
            global_backend=global_backend,
            final_norm=final_norm,
            device=device,
            dtype=dtype,
        )
        dd: dict = {"device": device, "dtype": dtype}
        if in_chans is not None and (not isinstance(in_chans, int) or in_chans < 1):
            raise ValueError(f"in_chans: expected a positive int or None (any band count), got {in_chans!r}")
        self.num_tokens, self.in_chans = num_tokens, in_chans
        self.token_grid = (side, side) if side * side == num_tokens else (1, num_tokens)
        self.img_size = _pair(img_size, "img_size")
        self.spat_map = nn.Linear(self.img_size[0] * self.img_size[1], embed_dim, **dd)
        if use_abs_pos_emb:
            self.pos_embed = nn.Parameter(torch.zeros(1, num_tokens, embed_dim, **dd))
        levels = len(self.out_indices)
        proj = tuple(int(i) for i in proj_levels)
        if any(i < 0 or i >= levels for i in proj) or len(set(proj)) != len(proj):
            raise ValueError(
                f"proj_levels: expected distinct level positions in [0, {levels - 1}] (out_indices has "
                f"{levels} entries), got {tuple(proj_levels)}"
            )
        self.proj_levels, self.level_proj_dim = proj, level_proj_dim
        self.level_proj = nn.ModuleList(
            nn.Linear(embed_dim, level_proj_dim, bias=False, **dd) if i in proj else nn.Identity()
            for i in range(levels)
        )
        self.init_weights()

    @property
    def feature_info(self) -> list[dict]:
        """Per level: block ``index``, channels ``num_chs`` (``k`` if projected, else ``d``), ``tokens``."""
        return [
            {
                "index": idx,
                "num_chs": self.level_proj_dim if level in self.proj_levels else self.embed_dim,
                "tokens": self.num_tokens,
                "module": f"level_proj.{level}",
            }
            for level, idx in enumerate(self.out_indices)
        ]

    def embed(self, x: Tensor) -> Tensor:
        """Validate the cube, group the bands, map each group's image and add the position embedding.

        Returns:
            ``(b, t, d)`` tokens.
        """
        check_cube(x, model=type(self).__name__, param_dtype=self.spat_map.weight.dtype)
        c, h, w = x.shape[1:]
        if self.in_chans is not None and c != self.in_chans:
            raise ValueError(
                f"{type(self).__name__}: built for in_chans={self.in_chans} bands, got a cube with {c} bands "
                f"(shape {tuple(x.shape)}); build the model with in_chans={c} or in_chans=None (the band "
                "grouping accepts any band count)"
            )
        if (h, w) != self.img_size:
            raise ValueError(
                f"{type(self).__name__}: built for img_size={self.img_size} (spat_map maps the "
                f"{self.img_size[0]}x{self.img_size[1]} pixels of each band group), got a {h}x{w} cube; "
                f"build the model with img_size=({h}, {w}) (a pretrained spat_map is then re-initialised or "
                "resampled, see size_adapter=) or crop/resize the input"
            )
        tokens = self.spat_map(group_bands(x, self.num_tokens))
        if self.pos_embed is not None:
            tokens = tokens + self.pos_embed
        return self.pos_drop(tokens)

    def forward_intermediates(
        self,
        x: Tensor,
        indices: Sequence[int] | None = None,
        *,
        output_fmt: Literal["NLC", "NCHW"] = "NLC",
    ) -> list[Tensor]:
        """Raw block outputs (before the level projections).

        Args:
            x: ``(b, c, h, w)``.
            indices: blocks to return (default ``out_indices``); later blocks are not run.
            output_fmt: ``"NLC"`` → ``(b, t, d)``; ``"NCHW"`` → ``(b, d, √t, √t)`` on the SSA grid.
        """
        if output_fmt not in ("NCHW", "NLC"):
            raise ValueError(f"output_fmt: expected 'NCHW' or 'NLC', got {output_fmt!r}")
        idx = self.out_indices if indices is None else check_out_indices(indices, self.depth)
        taps = self.run_blocks(self.embed(x), self.token_grid, idx)
        if output_fmt == "NLC":
            return taps
        gh, gw = self.token_grid
        return [rearrange(t, "b (h w) d -> b d h w", h=gh, w=gw) for t in taps]

    def forward_features(self, x: Tensor) -> Tensor:
        """``(b, c, h, w)`` → ``(b, t, d)`` after the last block (and ``norm`` if ``final_norm``)."""
        out = self.run_blocks(self.embed(x), self.token_grid, [self.depth - 1])[0]
        return self.norm(out) if self.norm is not None else out

    def forward(self, x: Tensor, levels: Sequence[int] | None = None) -> list[Tensor]:
        """``(b, c, h, w)`` → the projected levels.

        Args:
            x: the cube.
            levels: positions in ``out_indices`` to compute (default all); the blocks after the deepest
                requested level are not run, so asking for level 0 only is much cheaper.

        Returns:
            One ``(b, t, k)`` (projected) or ``(b, t, d)`` tensor per requested level.
        """
        wanted = range(len(self.out_indices)) if levels is None else [int(i) for i in levels]
        if any(i < 0 or i >= len(self.out_indices) for i in wanted):
            raise ValueError(
                f"levels: expected positions in [0, {len(self.out_indices) - 1}], got {tuple(wanted)}"
            )
        order = sorted(set(wanted))
        taps = self.run_blocks(self.embed(x), self.token_grid, [self.out_indices[i] for i in order])
        by_level = {lvl: self.level_proj[lvl](t) for lvl, t in zip(order, taps)}
        return [by_level[i] for i in wanted]
