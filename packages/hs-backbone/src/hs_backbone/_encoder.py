"""The transformer block and the encoder base class shared by the spatial and the spectral ViT.

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §2.1-2.3): pre-norm blocks
``x + DropPath(Attn(LN(x)))`` then ``x + DropPath(MLP(LN(x)))``, LayerNorm eps 1e-6, MLP ratio 4.
Block ``i`` uses global attention when ``(i + 1) % interval == 0`` and sparse sampling attention (SSA)
otherwise.

Shape legend: ``b`` batch, ``n`` tokens, ``d`` features, ``h w`` token grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from hs_attention import GlobalAttention, OffsetInit, SparseSamplingAttention
from hs_attention.backends import GLOBAL_BACKENDS, SSA_BACKENDS
from hs_backbone._validation import check_out_indices
from hs_backbone.layers import DropPath, Mlp

__all__ = ["Block", "ViTEncoder", "is_sampling_block"]


def is_sampling_block(index: int, interval: int) -> bool:
    """Whether block ``index`` (0-based) uses SSA: every ``interval``-th block is global."""
    return (index + 1) % interval != 0


class Block(nn.Module):
    """Pre-norm transformer block with either sparse sampling or global attention.

    Submodule names are upstream's (``norm1``, ``attn.qkv``, ``attn.sampling_offsets``, ``attn.proj``,
    ``norm2``, ``mlp.fc1``, ``mlp.fc2``), so official block weights load without renaming.

    Args:
        dim: features ``d``.
        num_heads: attention heads.
        sampling: SSA (``True``) or global attention (``False``).
        mlp_ratio: MLP hidden size over ``d``.
        qkv_bias: bias of the qkv projection.
        qk_scale: score scale (default ``(d / heads) ** -0.5``).
        drop: dropout after the attention and MLP output projections.
        attn_drop: dropout on global attention weights (upstream's SSA has none).
        drop_path: stochastic depth probability of both residual branches.
        num_points: SSA sampling points per query and head.
        offset_init: SSA offset initialisation (``"detr"`` or ``"upstream"``; see
            :class:`hs_attention.SparseSamplingAttention`).
        ssa_backend: :mod:`hs_attention` backend of SSA (``"auto"``, ``"reference"``, ``"cpu"``, ...).
        global_backend: backend of global attention (``"auto"``, ``"naive"``, ``"sdpa"``, ...).
        norm_eps: LayerNorm epsilon.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        *,
        sampling: bool,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
        num_points: int = 8,
        offset_init: OffsetInit = "detr",
        ssa_backend: str = "auto",
        global_backend: str = "auto",
        norm_eps: float = 1e-6,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        dd: dict = {"device": device, "dtype": dtype}
        self.sampling = bool(sampling)
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps, **dd)
        self.attn: SparseSamplingAttention | GlobalAttention
        if self.sampling:
            self.attn = SparseSamplingAttention(
                dim,
                num_heads,
                num_points,
                qkv_bias=qkv_bias,
                qk_scale=qk_scale,
                proj_drop=drop,
                offset_init=offset_init,
                backend=ssa_backend,
                **dd,
            )
        else:
            self.attn = GlobalAttention(
                dim,
                num_heads,
                qkv_bias=qkv_bias,
                qk_scale=qk_scale,
                attn_drop=attn_drop,
                proj_drop=drop,
                backend=global_backend,
                **dd,
            )
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps, **dd)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop, **dd)

    def forward(self, x: Tensor, shape: tuple[int, int]) -> Tensor:
        """``x``: ``(b, n, d)`` tokens of the ``shape = (h, w)`` grid (``n = h·w``) → ``(b, n, d)``."""
        x = self.drop_path.add(x, self.attn(self.norm1(x), shape))
        return self.drop_path.add(x, self.mlp(self.norm2(x)))


class ViTEncoder(nn.Module):
    """A stack of :class:`Block` with taps after the blocks of ``out_indices``; base of both ViTs.

    Subclasses add a tokeniser (and ``pos_embed``), then call :meth:`init_weights`.

    Args:
        embed_dim: features ``d``.
        depth: number of blocks.
        num_heads: attention heads (must divide ``embed_dim``).
        interval: every ``interval``-th block (1-based) uses global attention, the others SSA.
        out_indices: blocks (0-based, increasing) whose outputs are the levels.
        mlp_ratio: MLP hidden size over ``d``.
        qkv_bias: bias of the qkv projections.
        qk_scale: score scale (default ``(d / heads) ** -0.5``).
        drop_rate: dropout after the position embedding and the output projections.
        attn_drop_rate: dropout on global attention weights.
        drop_path_rate: stochastic depth, linear from 0 to this value over the blocks.
        num_points: SSA sampling points per query and head.
        offset_init: SSA offset initialisation, re-applied after the model-wide initialisation.
        ssa_backend: backend of the SSA blocks.
        global_backend: backend of the global blocks.
        final_norm: keep a final LayerNorm (``norm``) applied by :meth:`forward_features`. Upstream's
            fine-tuning encoders create it but never apply it; its MAE encoders apply it.
    """

    pos_embed: nn.Parameter | None

    def __init__(
        self,
        *,
        embed_dim: int,
        depth: int,
        num_heads: int,
        interval: int,
        out_indices: Sequence[int],
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
        super().__init__()
        for name, value in (("embed_dim", embed_dim), ("depth", depth), ("interval", interval)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        if not isinstance(num_heads, int) or num_heads < 1 or embed_dim % num_heads:
            raise ValueError(
                f"num_heads: expected a positive divisor of embed_dim={embed_dim}, got {num_heads!r}"
            )
        if offset_init not in ("detr", "upstream"):
            raise ValueError(f"offset_init: expected 'detr' or 'upstream', got {offset_init!r}")
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f"drop_path_rate: expected a probability in [0, 1), got {drop_path_rate!r}")
        dd: dict = {"device": device, "dtype": dtype}
        self.embed_dim = self.num_features = embed_dim
        self.depth, self.num_heads, self.interval = depth, num_heads, interval
        self.out_indices = check_out_indices(out_indices, depth)
        self.offset_init: OffsetInit = offset_init
        self.grad_checkpointing = False
        self.pos_embed = None
        self.pos_drop = nn.Dropout(drop_rate)
        dpr = torch.linspace(0, drop_path_rate, depth, dtype=torch.float64).tolist()
        self.blocks = nn.ModuleList(
            Block(
                embed_dim,
                num_heads,
                sampling=is_sampling_block(i, interval),
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                qk_scale=qk_scale,
                drop=drop_rate,
                attn_drop=attn_drop_rate,
                drop_path=dpr[i],
                num_points=num_points,
                offset_init=offset_init,
                ssa_backend=ssa_backend,
                global_backend=global_backend,
                **dd,
            )
            for i in range(depth)
        )
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6, **dd) if final_norm else None

    # ------------------------------------------------------------------ configuration
    @property
    def sampling_blocks(self) -> list[int]:
        """0-based indices of the SSA blocks."""
        return [i for i in range(self.depth) if is_sampling_block(i, self.interval)]

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute each block's activations in the backward pass instead of storing them."""
        self.grad_checkpointing = bool(enable)

    def no_weight_decay(self) -> set[str]:
        """Parameter names that should not get weight decay (the position embedding)."""
        return {"pos_embed"} if self.pos_embed is not None else set()

    def set_attention_backends(self, *, ssa: str | None = None, global_: str | None = None) -> None:
        """Switch the attention backends of every block in place (the weights are unchanged).

        Args:
            ssa: an SSA backend name (``"auto"``, ``"reference"``, ``"cpu"``, ...) or ``None`` to keep.
            global_: a global-attention backend name (``"auto"``, ``"naive"``, ``"sdpa"``, ...) or ``None``.
        """
        for name, value, registry in (("ssa", ssa, SSA_BACKENDS), ("global_", global_, GLOBAL_BACKENDS)):
            if value is not None and value != "auto" and value not in registry:
                raise ValueError(f"{name}: expected 'auto' or one of {sorted(registry)}, got {value!r}")
        for blk in self.blocks:
            if isinstance(blk.attn, SparseSamplingAttention) and ssa is not None:
                blk.attn.backend = ssa
            if isinstance(blk.attn, GlobalAttention) and global_ is not None:
                blk.attn.backend = global_

    @torch.no_grad()
    def init_weights(self) -> None:
        """HyperSIGMA's initialisation, then the chosen SSA offset initialisation.

        Linear weights ``trunc_normal(std=0.02)`` and zero biases, LayerNorms ``(1, 0)``, the position
        embedding ``trunc_normal(0.02)``; ``attn.proj`` and ``mlp.fc2`` of block ``l`` (1-based) divided by
        ``sqrt(2·l)`` (BEiT's rescaling). Convolutions keep PyTorch's default. Because that global rule
        also overwrites ``attn.sampling_offsets``, the offset scheme ``offset_init`` is applied last
        (with ``"upstream"`` it is the same trunc-normal draw upstream ends up with).
        """
        self.apply(_init_linear_and_norm)
        if self.pos_embed is not None:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for layer_id, blk in enumerate(self.blocks, start=1):
            assert isinstance(blk, Block)
            blk.attn.proj.weight.div_(math.sqrt(2.0 * layer_id))
            blk.mlp.fc2.weight.div_(math.sqrt(2.0 * layer_id))
        self.reset_offsets(self.offset_init)

    @torch.no_grad()
    def reset_offsets(self, init: OffsetInit | None = None) -> None:
        """(Re-)initialise every SSA block's ``sampling_offsets`` (default: the model's scheme)."""
        for blk in self.blocks:
            if isinstance(blk.attn, SparseSamplingAttention):
                blk.attn.reset_offsets(init or self.offset_init)

    # ------------------------------------------------------------------ running the blocks
    def run_blocks(self, x: Tensor, shape: tuple[int, int], indices: Sequence[int]) -> list[Tensor]:
        """Run the blocks up to ``max(indices)`` and return the outputs of the blocks in ``indices``.

        Args:
            x: ``(b, n, d)`` embedded tokens.
            shape: the token grid ``(h, w)`` seen by SSA.
            indices: increasing block indices.

        Returns:
            One ``(b, n, d)`` tensor per index. Blocks after the last index are not run.
        """
        wanted = set(indices)
        last = max(indices)
        taps: list[Tensor] = []
        for i, blk in enumerate(self.blocks):
            if self.grad_checkpointing and torch.is_grad_enabled():
                x = checkpoint(blk, x, shape, use_reentrant=False)
            else:
                x = blk(x, shape)
            if i in wanted:
                taps.append(x)
            if i == last:
                break
        return taps


def _init_linear_and_norm(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        if module.weight is not None:
            nn.init.ones_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
