"""The spatial ViT of HyperSIGMA: patch tokens, SSA/global blocks, multi-level feature pyramid.

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §2.5): ``Conv2d(c, d, p, stride p)``
patches on an ``(h // p) × (w // p)`` grid, an optional learned absolute position embedding, a stack
of blocks (SSA on the token grid, every ``interval``-th block global), and the token maps after the
blocks of ``out_indices`` resampled by a per-patch-size pyramid (``fpn1..fpn4``).

Shape legend: ``b`` batch, ``c`` bands, ``h w`` image (or grid) rows/columns, ``n`` tokens, ``d``
features.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from einops import rearrange
from torch import Tensor, nn

from hs_attention import OffsetInit
from hs_backbone._encoder import ViTEncoder
from hs_backbone._validation import check_cube, check_out_indices
from hs_backbone.layers import PatchEmbed
from hs_backbone.layers.patch_embed import _pair

__all__ = ["FPN_KINDS", "FpnKind", "SpatialViT", "fpn_kind_for_patch_size"]

FpnKind = Literal["auto", "up2", "down", "up4", "identity"]

# Per level: how the level's map is resampled relative to the token grid (scale factor).
FPN_KINDS: dict[str, tuple[float, ...]] = {
    "up2": (2.0, 1.0, 0.5, 0.25),  # ConvT ×2, identity, max-pool 2, max-pool 4 (patch 1 and 2)
    "down": (1.0, 1.0, 0.5, 0.25),  # identity, identity, max-pool 2, max-pool 4 (patch 4 and 8)
    "up4": (4.0, 2.0, 1.0, 0.5),  # ConvT-LN-GELU-ConvT ×4, ConvT ×2, identity, max-pool 2 (RVSA p=16)
}


def fpn_kind_for_patch_size(patch_size: int) -> str:
    """Upstream's choice by patch size (classification ``SpatViT``): 1, 2 → ``up2``; 4, 8 → ``down``;
    other sizes → ``identity``."""
    if patch_size in (1, 2):
        return "up2"
    if patch_size in (4, 8):
        return "down"
    return "identity"


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of a ``(b, d, h, w)`` map."""

    def __init__(self, dim: int, eps: float = 1e-6, **dd: object) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(dim, eps=eps, **dd)  # type: ignore[arg-type]

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``(b, d, h, w)`` → same shape."""
        return rearrange(self.ln(rearrange(x, "b d h w -> b h w d")), "b h w d -> b d h w")


def _build_fpn(kind: str, dim: int, levels: int, dd: dict) -> list[nn.Module]:
    if kind == "identity":
        return [nn.Identity() for _ in range(levels)]
    if levels != 4:
        raise ValueError(
            f"fpn={kind!r} resamples exactly 4 levels, but out_indices has {levels}; "
            "pass 4 out_indices or fpn='identity'"
        )

    def up2() -> nn.Module:
        return nn.ConvTranspose2d(dim, dim, kernel_size=2, stride=2, **dd)

    if kind == "up2":
        return [nn.Sequential(up2()), nn.Identity(), nn.MaxPool2d(2, 2), nn.MaxPool2d(4, 4)]
    if kind == "down":
        return [nn.Identity(), nn.Identity(), nn.MaxPool2d(2, 2), nn.MaxPool2d(4, 4)]
    if kind == "up4":
        return [
            nn.Sequential(up2(), LayerNorm2d(dim, **dd), nn.GELU(), up2()),
            nn.Sequential(up2()),
            nn.Identity(),
            nn.MaxPool2d(2, 2),
        ]
    raise ValueError(f"fpn: expected one of {['auto', *FPN_KINDS, 'identity']}, got {kind!r}")


class SpatialViT(ViTEncoder):
    """HyperSIGMA's spatial branch (``SpatViT``), with upstream's parameter names.

    Args:
        img_size: input size the position embedding is built for (int or ``(h, w)``). Without a
            position embedding, any size at least ``patch_size`` (and the pyramid's minimum) works.
        patch_size: ``p``; the token grid is ``(h // p, w // p)``.
        in_chans: bands ``c`` of the input cube.
        embed_dim: features ``d``.
        depth: number of blocks.
        num_heads: attention heads.
        interval: every ``interval``-th block is global attention, the others SSA.
        out_indices: blocks whose outputs are the levels (0-based, increasing).
        use_abs_pos_emb: add a learned ``(1, n, d)`` position embedding.
        fpn: level resampling: ``"auto"`` (by patch size, :func:`fpn_kind_for_patch_size`), ``"up2"``,
            ``"down"``, ``"up4"`` (each needs 4 levels) or ``"identity"``.
        mlp_ratio, qkv_bias, qk_scale, drop_rate, attn_drop_rate, drop_path_rate, num_points,
        offset_init, ssa_backend, global_backend, final_norm: see :class:`hs_backbone.ViTEncoder`.

    Shapes:
        ``forward``: ``(b, c, h, w)`` → one ``(b, d, h_l, w_l)`` map per level, **shallowest first**
        (upstream returns them deepest first). ``h_l = (h // p)·scale_l`` with the pyramid's scales.
    """

    def __init__(
        self,
        *,
        img_size: int | tuple[int, int] = 64,
        patch_size: int = 8,
        in_chans: int = 100,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        interval: int = 3,
        out_indices: Sequence[int] = (3, 5, 7, 11),
        use_abs_pos_emb: bool = True,
        fpn: FpnKind | str = "auto",
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
        if not isinstance(patch_size, int) or isinstance(patch_size, bool) or patch_size < 1:
            raise ValueError(f"patch_size: expected a positive int, got {patch_size!r}")
        self.img_size = _pair(img_size, "img_size")
        self.patch_size = patch_size
        self.in_chans = in_chans
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim, **dd)
        self.grid_size = self.patch_embed.grid_size(*self.img_size)
        if min(self.grid_size) < 1:
            raise ValueError(
                f"img_size={self.img_size} is smaller than patch_size={patch_size}: no token would be left"
            )
        if use_abs_pos_emb:
            self.pos_embed = nn.Parameter(
                torch.zeros(1, self.grid_size[0] * self.grid_size[1], embed_dim, **dd)
            )
        self.fpn_kind = fpn_kind_for_patch_size(patch_size) if fpn == "auto" else str(fpn)
        if self.fpn_kind not in (*FPN_KINDS, "identity"):
            raise ValueError(f"fpn: expected one of {['auto', *FPN_KINDS, 'identity']}, got {fpn!r}")
        scales = FPN_KINDS.get(self.fpn_kind, (1.0,) * len(self.out_indices))
        self._min_grid = round(1 / min(scales))
        ops = _build_fpn(self.fpn_kind, embed_dim, len(self.out_indices), dd)
        for i, op in enumerate(ops, start=1):
            self.add_module(f"fpn{i}", op)
        self.fpn_scales = tuple(scales[: len(self.out_indices)])
        if use_abs_pos_emb and min(self.grid_size) < self._min_grid:
            raise ValueError(
                f"fpn={self.fpn_kind!r} max-pools the token grid by {self._min_grid}, but img_size="
                f"{self.img_size} with patch_size={patch_size} gives a {self.grid_size} grid; use a larger "
                "img_size, a smaller patch_size or fpn='identity'"
            )
        self.init_weights()

    # ------------------------------------------------------------------ metadata
    @property
    def fpn(self) -> list[nn.Module]:
        """The per-level resampling modules ``fpn1, fpn2, ...`` in level order."""
        return [getattr(self, f"fpn{i}") for i in range(1, len(self.out_indices) + 1)]

    @property
    def feature_info(self) -> list[dict]:
        """Per level: block ``index``, channels ``num_chs``, ``reduction`` (input pixels per map pixel)
        and the resampling ``module``."""
        return [
            {
                "index": idx,
                "num_chs": self.embed_dim,
                "reduction": self.patch_size / scale,
                "module": f"fpn{level + 1}",
            }
            for level, (idx, scale) in enumerate(zip(self.out_indices, self.fpn_scales))
        ]

    # ------------------------------------------------------------------ forward passes
    def _param_dtype(self) -> torch.dtype:
        return self.patch_embed.proj.weight.dtype

    def embed(self, x: Tensor) -> tuple[Tensor, tuple[int, int]]:
        """Validate the cube, embed patches and add the position embedding.

        Returns:
            ``(b, n, d)`` tokens and their grid ``(h // p, w // p)``.
        """
        check_cube(x, model=type(self).__name__, param_dtype=self._param_dtype())
        c, h, w = x.shape[1:]
        if c != self.in_chans:
            raise ValueError(
                f"{type(self).__name__}: built for in_chans={self.in_chans} bands, got a cube with {c} "
                f"bands (shape {tuple(x.shape)}); build the model with in_chans={c} (create_backbone(..., "
                f"in_chans={c}); a pretrained patch embedding is then re-initialised or adapted, see "
                "band_adapter=) or select/resample the bands to match"
            )
        grid = self.patch_embed.grid_size(h, w)
        if self.pos_embed is not None and grid != self.grid_size:
            raise ValueError(
                f"{type(self).__name__}: built for img_size={self.img_size} ({self.grid_size[0]}x"
                f"{self.grid_size[1]} tokens of {self.patch_size}px, fixed by the position embedding), got "
                f"a {h}x{w} cube ({grid[0]}x{grid[1]} tokens); build the model with img_size=({h}, {w}) "
                "(pretrained position embeddings are interpolated) or use_abs_pos_emb=False"
            )
        if min(grid) < max(1, self._min_grid):
            raise ValueError(
                f"{type(self).__name__}: a {h}x{w} cube gives a {grid[0]}x{grid[1]} token grid, smaller than "
                f"the {self._min_grid}x{self._min_grid} that fpn={self.fpn_kind!r} needs; use larger inputs"
            )
        tokens = self.patch_embed(x)
        if self.pos_embed is not None:
            tokens = tokens + self.pos_embed
        return self.pos_drop(tokens), grid

    def forward_intermediates(
        self,
        x: Tensor,
        indices: Sequence[int] | None = None,
        *,
        output_fmt: Literal["NCHW", "NLC"] = "NCHW",
    ) -> list[Tensor]:
        """Raw block outputs (before the pyramid).

        Args:
            x: ``(b, c, h, w)``.
            indices: blocks to return (default ``out_indices``); blocks after the last are not run.
            output_fmt: ``"NCHW"`` → ``(b, d, h', w')`` maps; ``"NLC"`` → ``(b, n, d)`` tokens.

        Returns:
            One tensor per index, in increasing block order.
        """
        if output_fmt not in ("NCHW", "NLC"):
            raise ValueError(f"output_fmt: expected 'NCHW' or 'NLC', got {output_fmt!r}")
        idx = self.out_indices if indices is None else check_out_indices(indices, self.depth)
        tokens, grid = self.embed(x)
        taps = self.run_blocks(tokens, grid, idx)
        if output_fmt == "NLC":
            return taps
        return [rearrange(t, "b (h w) d -> b d h w", h=grid[0], w=grid[1]) for t in taps]

    def forward_features(self, x: Tensor) -> Tensor:
        """``(b, c, h, w)`` → ``(b, n, d)`` tokens after the last block (and ``norm`` if ``final_norm``)."""
        tokens, grid = self.embed(x)
        out = self.run_blocks(tokens, grid, [self.depth - 1])[0]
        return self.norm(out) if self.norm is not None else out

    def forward(self, x: Tensor) -> list[Tensor]:
        """``(b, c, h, w)`` → per level ``fpn_l(map after block out_indices[l])``, shallowest first."""
        maps = self.forward_intermediates(x, output_fmt="NCHW")
        return [op(m) for op, m in zip(self.fpn, maps)]
