"""Spatial and spectral masked autoencoders around hs-backbone encoders.

HyperSIGMA pretrains each branch as a masked autoencoder (``shared/reference/hypersigma.md`` §3):

- :class:`SpatialMAE`: ``p × p`` patch tokens of a ``(b, c, h, w)`` cube (upstream: 64 × 64, 100 bands,
  p = 8, so 64 tokens), 75 % of them removed, the kept ones encoded, a light decoder predicts every
  removed patch's pixels.
- :class:`SpectralMAE`: ``t`` band-group tokens (each group's whole image mapped to ``d`` features,
  hs-backbone's :class:`~hs_backbone.SpectralViT` tokeniser), a fraction of the groups removed, the
  decoder predicts each removed group's images.

The encoder is an hs-backbone encoder built with global attention in every block (``interval=1``; the
pretraining encoders have no SSA) and its final LayerNorm, so its weights are the ones a fine-tuning
backbone loads: the MAE's parameter names under ``encoder.`` are upstream's names
(:func:`to_official_keys` maps the whole MAE to upstream's key layout and back).

Upstream defects, fixed by default, each with a flag that restores upstream (§3.5, fixture quirks
11 and 14):

- ``encoder_pos_embed``: upstream creates the encoder position embedding but never adds it, so the
  encoder sees an unordered set of tokens. Default ``"sincos"``: a fixed sin-cos table (2-D over the
  patch grid; 1-D over the band tokens) is added before masking, as in MAE. ``"learned"``: a trained
  table (trunc-normal 0.02 initialisation). ``"upstream"``: created, never added (and frozen: upstream's
  is never updated either, having no gradient).
- ``decoder_pos_embed`` (spectral): upstream's stays all zeros, so every removed band token enters the
  decoder as the same vector and gets the same prediction. Default ``"sincos"`` (1-D table, fixed);
  ``"zeros"`` is upstream.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` image rows/columns, ``n`` tokens, ``d`` features,
``t`` spectral tokens, ``p`` patch size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from hs_backbone import Block, SpatialViT, SpectralViT
from hs_backbone.layers import group_bands, sincos_pos_embed_1d, sincos_pos_embed_2d
from hs_pretrain.masking import (
    Masking,
    masked_reconstruction_loss,
    random_masking,
    spatial_patchify,
    spectral_patchify,
)

__all__ = [
    "MAE",
    "DecoderPosEmbed",
    "EncoderPosEmbed",
    "MAEOutput",
    "SpatialMAE",
    "SpectralMAE",
    "from_official_keys",
    "to_official_keys",
]

EncoderPosEmbed = Literal["sincos", "learned", "upstream"]
DecoderPosEmbed = Literal["sincos", "zeros"]

_ENCODER = "encoder."


class MAEOutput(NamedTuple):
    """What a forward pass returns (unpacks like upstream's ``loss, pred, mask``).

    Attributes:
        loss: scalar reconstruction loss over the removed tokens.
        pred: ``(b, n, k)`` predicted targets of every token (``k = p·p·c`` spatial, ``g·h·w`` spectral).
        mask: ``(b, n)`` float32, 1 on removed tokens.
    """

    loss: Tensor
    pred: Tensor
    mask: Tensor


def to_official_keys(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """MAE state dict → upstream's key layout (``encoder.blocks.0...`` → ``blocks.0...``)."""
    return {(k[len(_ENCODER) :] if k.startswith(_ENCODER) else k): v for k, v in state_dict.items()}


def from_official_keys(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Upstream's MAE key layout → this package's (decoder keys unchanged, encoder keys prefixed).

    A leading ``module.`` (DDP) is stripped.
    """
    out: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        key = key[7:] if key.startswith("module.") else key
        decoder = key.startswith("decoder_") or key == "mask_token"
        out[key if decoder else _ENCODER + key] = value
    return out


class MAE(nn.Module):
    """The part both MAEs share: masking, the decoder, the loss. Subclasses provide the encoder.

    Subclasses set ``self.encoder`` (an hs-backbone encoder with ``final_norm=True``), implement
    :meth:`tokens` and :meth:`patchify`, then call :meth:`_build_decoder`.
    """

    encoder: SpatialViT | SpectralViT
    decoder_pos_embed: Tensor
    mae_config: dict[str, Any]
    num_patches: int
    pred_dim: int

    def __init__(self, *, mask_ratio: float, norm_pix_loss: bool, encoder_pos_embed: EncoderPosEmbed) -> None:
        super().__init__()
        if not 0.0 <= mask_ratio < 1.0:
            raise ValueError(f"mask_ratio: expected a fraction in [0, 1), got {mask_ratio!r}")
        if encoder_pos_embed not in ("sincos", "learned", "upstream"):
            raise ValueError(
                f"encoder_pos_embed: expected 'sincos', 'learned' or 'upstream', got {encoder_pos_embed!r}"
            )
        self.mask_ratio = float(mask_ratio)
        self.norm_pix_loss = bool(norm_pix_loss)
        self.encoder_pos_embed = encoder_pos_embed
        self.grad_checkpointing = False
        self.mae_config = {}  # set by hs_pretrain.create_mae: registered name and resolved arguments

    # ------------------------------------------------------------------ construction helpers
    def _setup_encoder_pos_embed(self, table: Tensor) -> None:
        pos = self.encoder.pos_embed
        assert pos is not None
        if self.encoder_pos_embed == "sincos":
            with torch.no_grad():
                pos.copy_(table.float().to(pos.dtype)[None])
        if self.encoder_pos_embed != "learned":
            pos.requires_grad_(False)  # fixed table, or upstream's never-used (gradient-free) one

    def _build_decoder(
        self,
        *,
        embed_dim: int,
        decoder_embed_dim: int,
        decoder_depth: int,
        decoder_num_heads: int,
        mlp_ratio: float,
        drop_path_rate: float,
        depth: int,
        pos_table: Tensor,
        global_backend: str,
        dd: dict,
    ) -> None:
        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim, **dd)
        # Upstream leaves the mask token at zero and the decoder at PyTorch's default initialisation.
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim, **dd))
        table = pos_table.float().to(dd.get("dtype") or torch.get_default_dtype())
        self.register_buffer("decoder_pos_embed", table[None].to(dd.get("device")), persistent=True)
        # Decoder block i takes the encoder's drop-path rate i (upstream, fixture quirk 17).
        dpr = torch.linspace(0, drop_path_rate, depth, dtype=torch.float64).tolist()
        self.decoder_blocks = nn.ModuleList(
            Block(
                decoder_embed_dim,
                decoder_num_heads,
                sampling=False,
                mlp_ratio=mlp_ratio,
                qkv_bias=True,
                drop_path=dpr[i] if i < depth else drop_path_rate,
                global_backend=global_backend,
                **dd,
            )
            for i in range(decoder_depth)
        )
        self.decoder_norm = nn.LayerNorm(decoder_embed_dim, eps=1e-6, **dd)
        self.decoder_pred = nn.Linear(decoder_embed_dim, self.pred_dim, **dd)

    # ------------------------------------------------------------------ configuration
    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute every encoder and decoder block in the backward pass instead of storing it."""
        self.grad_checkpointing = bool(enable)
        self.encoder.set_grad_checkpointing(enable)

    def no_weight_decay(self) -> set[str]:
        """Names without weight decay: the encoder's position embedding (as upstream)."""
        return {"encoder.pos_embed"}

    @property
    def dtype(self) -> torch.dtype:
        return self.decoder_embed.weight.dtype

    # ------------------------------------------------------------------ pieces of the forward pass
    def tokens(self, x: Tensor) -> Tensor:
        """``(b, c, h, w)`` → ``(b, n, d)`` embedded tokens (with the position embedding if enabled)."""
        raise NotImplementedError

    def patchify(self, x: Tensor) -> Tensor:
        """``(b, c, h, w)`` → ``(b, n, k)`` reconstruction targets."""
        raise NotImplementedError

    def check_input(self, x: Tensor) -> None:
        """Raise a ``ValueError`` saying what is expected when ``x`` does not fit the model."""
        raise NotImplementedError

    def forward_encoder(self, x: Tensor, masking: Masking) -> Tensor:
        """Embed, keep the unmasked tokens, run the blocks and the final norm: ``(b, n_keep, d)``."""
        tok = self.tokens(x)
        kept = torch.gather(tok, 1, masking.ids_keep[..., None].expand(-1, -1, tok.shape[-1]))
        out = self.encoder.run_blocks(kept, (1, kept.shape[1]), [self.encoder.depth - 1])[0]
        assert self.encoder.norm is not None
        return self.encoder.norm(out)

    def forward_decoder(self, latent: Tensor, masking: Masking) -> Tensor:
        """``(b, n_keep, d)`` → ``(b, n, k)`` predictions of every token."""
        x = self.decoder_embed(latent)
        b, n_keep, dd = x.shape
        n = masking.ids_restore.shape[1]
        x = torch.cat([x, self.mask_token.to(x.dtype).expand(b, n - n_keep, dd)], dim=1)
        x = torch.gather(x, 1, masking.ids_restore[..., None].expand(-1, -1, dd))
        x = x + self.decoder_pos_embed
        for blk in self.decoder_blocks:
            if self.grad_checkpointing and torch.is_grad_enabled():
                x = checkpoint(blk, x, (1, n), use_reentrant=False)
            else:
                x = blk(x, (1, n))
        return self.decoder_pred(self.decoder_norm(x))

    def forward_loss(self, x: Tensor, pred: Tensor, mask: Tensor) -> Tensor:
        """Reconstruction loss of :func:`~hs_pretrain.masking.masked_reconstruction_loss`."""
        return masked_reconstruction_loss(pred, self.patchify(x), mask, norm_pix=self.norm_pix_loss)

    def masking(
        self,
        batch: int,
        mask_ratio: float | None = None,
        *,
        noise: Tensor | None = None,
        device: torch.device | None = None,
    ) -> Masking:
        """Draw (``noise=None``: ``torch.rand``, as upstream) or apply a masking of ``batch`` samples."""
        ratio = self.mask_ratio if mask_ratio is None else float(mask_ratio)
        if noise is None:
            noise = torch.rand(batch, self.num_patches, device=device)
        elif tuple(noise.shape) != (batch, self.num_patches):
            raise ValueError(
                f"noise: expected shape ({batch}, {self.num_patches}) (batch, tokens), "
                f"got {tuple(noise.shape)}"
            )
        return random_masking(noise, ratio)

    def forward(
        self, x: Tensor, mask_ratio: float | None = None, *, noise: Tensor | None = None
    ) -> MAEOutput:
        """Mask, encode, decode, and score the reconstruction of the removed tokens.

        Args:
            x: ``(b, c, h, w)`` cube (scaled; the released models saw values / 4000).
            mask_ratio: fraction of tokens removed (default: the model's ``mask_ratio``).
            noise: ``(b, n)`` masking noise (small values are kept); default ``torch.rand`` (global
                RNG, as upstream). :func:`hs_pretrain.masking.mask_noise` draws it per sample.

        Returns:
            :class:`MAEOutput` ``(loss, pred, mask)``.
        """
        self.check_input(x)
        masking = self.masking(x.shape[0], mask_ratio, noise=noise, device=x.device)
        latent = self.forward_encoder(x, masking)
        pred = self.forward_decoder(latent, masking)
        return MAEOutput(self.forward_loss(x, pred, masking.mask), pred, masking.mask)

    # ------------------------------------------------------------------ weights
    def official_state_dict(self) -> dict[str, Tensor]:
        """The state dict under upstream's key names (``blocks.*``, ``decoder_*``, ``mask_token``...)."""
        return to_official_keys(self.state_dict())

    def load_official_state_dict(self, state_dict: Mapping[str, Tensor], strict: bool = True) -> Any:
        """Load a state dict with upstream's key names (e.g. a released checkpoint's ``model``)."""
        return self.load_state_dict(from_official_keys(state_dict), strict=strict)

    def _check_cube(self, x: Tensor, c: int, size: tuple[int, int]) -> None:
        name = type(self).__name__
        if not isinstance(x, Tensor) or x.ndim != 4:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"{name}: expected a (b, c, h, w) tensor, got {shape}")
        if not x.is_floating_point():
            raise ValueError(
                f"{name}: expected a floating-point cube, got {x.dtype}; scale it first (x.float() / 4000 "
                "as the HyperSIGMA pretraining)"
            )
        if x.shape[1] != c or tuple(x.shape[2:]) != size:
            raise ValueError(
                f"{name}: built for {c} bands of {size[0]}x{size[1]} pixels, got a cube of shape "
                f"{tuple(x.shape)}; build the model with in_chans={x.shape[1]}, "
                f"img_size={tuple(x.shape[2:])} "
                "or crop / select bands to match"
            )


class SpatialMAE(MAE):
    """HyperSIGMA's spatial MAE (upstream ``SpatMAE``) around a :class:`hs_backbone.SpatialViT`.

    Args:
        img_size: input size (int or ``(h, w)``, multiples of ``patch_size``).
        patch_size: ``p``.
        in_chans: bands ``c``.
        embed_dim, depth, num_heads: encoder size.
        decoder_embed_dim, decoder_depth, decoder_num_heads: decoder size (upstream 512, 8, 16).
        mlp_ratio: MLP width over ``d`` in encoder and decoder.
        mask_ratio: default fraction of removed patches (upstream 0.75).
        norm_pix_loss: per-patch normalised targets (upstream README commands: on).
        drop_path_rate: stochastic depth of the encoder (upstream 0.1); decoder block ``i`` uses the
            encoder's rate ``i``.
        encoder_pos_embed: ``"sincos"`` (default, fixed 2-D table added), ``"learned"`` or ``"upstream"``
            (never added).
        global_backend: hs-attention backend of the attention (``"auto"``: SDPA; ``"naive"``:
            upstream's explicit softmax).
        device, dtype: where and in which dtype to build.

    Shapes:
        ``forward(x)``: ``(b, c, h, w)`` → ``MAEOutput(loss, pred (b, n, p·p·c), mask (b, n))``.
    """

    encoder: SpatialViT

    def __init__(
        self,
        *,
        img_size: int | tuple[int, int] = 64,
        patch_size: int = 8,
        in_chans: int = 100,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        decoder_embed_dim: int = 512,
        decoder_depth: int = 8,
        decoder_num_heads: int = 16,
        mlp_ratio: float = 4.0,
        mask_ratio: float = 0.75,
        norm_pix_loss: bool = True,
        drop_path_rate: float = 0.1,
        encoder_pos_embed: EncoderPosEmbed = "sincos",
        global_backend: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            mask_ratio=mask_ratio, norm_pix_loss=norm_pix_loss, encoder_pos_embed=encoder_pos_embed
        )
        dd: dict = {"device": device, "dtype": dtype}
        self.encoder = SpatialViT(
            img_size=img_size,
            patch_size=patch_size,
            in_chans=in_chans,
            embed_dim=embed_dim,
            depth=depth,
            num_heads=num_heads,
            interval=1,  # every block global: the pretraining encoders have no SSA
            out_indices=(depth - 1,),
            use_abs_pos_emb=True,
            fpn="identity",
            mlp_ratio=mlp_ratio,
            drop_path_rate=drop_path_rate,
            global_backend=global_backend,
            final_norm=True,
            **dd,
        )
        self.img_size = self.encoder.img_size
        self.patch_size, self.in_chans = patch_size, in_chans
        self.grid_size = self.encoder.grid_size
        if any(s % patch_size for s in self.img_size):
            raise ValueError(f"img_size={self.img_size}: expected multiples of patch_size={patch_size}")
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.pred_dim = patch_size * patch_size * in_chans
        if embed_dim % 4 or decoder_embed_dim % 4:
            raise ValueError(
                f"embed_dim={embed_dim} / decoder_embed_dim={decoder_embed_dim}: 2-D sin-cos position "
                "tables need multiples of 4"
            )
        self._setup_encoder_pos_embed(sincos_pos_embed_2d(embed_dim, self.grid_size))
        self._build_decoder(
            embed_dim=embed_dim,
            decoder_embed_dim=decoder_embed_dim,
            decoder_depth=decoder_depth,
            decoder_num_heads=decoder_num_heads,
            mlp_ratio=mlp_ratio,
            drop_path_rate=drop_path_rate,
            depth=depth,
            pos_table=sincos_pos_embed_2d(decoder_embed_dim, self.grid_size),
            global_backend=global_backend,
            dd=dd,
        )

    def check_input(self, x: Tensor) -> None:
        self._check_cube(x, self.in_chans, self.img_size)

    def tokens(self, x: Tensor) -> Tensor:
        # The patch embedding's convolution (kernel = stride = p) as one matrix product over the
        # patchified cube: the same function, 2-3x faster than the CPU convolution for 100 bands.
        proj = self.encoder.patch_embed.proj
        patches = rearrange(x, "b c (h p) (w q) -> b (h w) (c p q)", p=self.patch_size, q=self.patch_size)
        tok = F.linear(patches, proj.weight.reshape(proj.out_channels, -1), proj.bias)
        pos = self.encoder.pos_embed
        if pos is not None and self.encoder_pos_embed != "upstream":
            tok = tok + pos
        return tok

    def patchify(self, x: Tensor) -> Tensor:
        return spatial_patchify(x, self.patch_size)


class SpectralMAE(MAE):
    """HyperSIGMA's spectral MAE (upstream ``SpecMAE``) around a :class:`hs_backbone.SpectralViT`.

    The ``c`` bands are averaged into ``t`` groups (``c`` must be a multiple of ``t``, so the groups
    are the contiguous blocks the targets use), each group's ``h·w`` image is mapped to ``d``
    features, a fraction of the ``t`` tokens is removed, and the decoder predicts each removed
    group's ``g·h·w`` values (``g = c / t``).

    Args:
        num_tokens: ``t`` (upstream 100: one band per token).
        img_size: input size (``spat_map`` maps its ``h·w`` pixels).
        in_chans: bands ``c``.
        embed_dim, depth, num_heads: encoder size.
        decoder_embed_dim, decoder_depth, decoder_num_heads: decoder size.
        mlp_ratio: MLP width over ``d``.
        mask_ratio: default fraction of removed tokens (0.75, the README command and the paper's
            ablation optimum on Pavia; upstream's argparse default is 0.25).
        norm_pix_loss: per-token normalised targets.
        drop_path_rate: encoder stochastic depth (decoder block ``i`` uses the encoder's rate ``i``).
        encoder_pos_embed: ``"sincos"`` (default, fixed 1-D table), ``"learned"`` or ``"upstream"``.
        decoder_pos_embed: ``"sincos"`` (default, fixed 1-D table) or ``"zeros"`` (upstream).
        global_backend: attention backend.
        device, dtype: where and in which dtype to build.

    Shapes:
        ``forward(x)``: ``(b, c, h, w)`` → ``MAEOutput(loss, pred (b, t, g·h·w), mask (b, t))``.
    """

    encoder: SpectralViT

    def __init__(
        self,
        *,
        num_tokens: int = 100,
        img_size: int | tuple[int, int] = 64,
        in_chans: int = 100,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        decoder_embed_dim: int = 512,
        decoder_depth: int = 8,
        decoder_num_heads: int = 16,
        mlp_ratio: float = 4.0,
        mask_ratio: float = 0.75,
        norm_pix_loss: bool = True,
        drop_path_rate: float = 0.1,
        encoder_pos_embed: EncoderPosEmbed = "sincos",
        decoder_pos_embed: DecoderPosEmbed = "sincos",
        global_backend: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            mask_ratio=mask_ratio, norm_pix_loss=norm_pix_loss, encoder_pos_embed=encoder_pos_embed
        )
        if decoder_pos_embed not in ("sincos", "zeros"):
            raise ValueError(f"decoder_pos_embed: expected 'sincos' or 'zeros', got {decoder_pos_embed!r}")
        if not isinstance(in_chans, int) or not isinstance(num_tokens, int) or in_chans % num_tokens:
            raise ValueError(
                f"in_chans={in_chans}, num_tokens={num_tokens}: the spectral MAE needs the band count to be "
                "a multiple of the token count (each token reconstructs its own contiguous bands)"
            )
        dd: dict = {"device": device, "dtype": dtype}
        self.encoder = SpectralViT(
            num_tokens=num_tokens,
            img_size=img_size,
            in_chans=in_chans,
            embed_dim=embed_dim,
            depth=depth,
            num_heads=num_heads,
            interval=1,
            out_indices=(depth - 1,),
            use_abs_pos_emb=True,
            proj_levels=(),
            mlp_ratio=mlp_ratio,
            drop_path_rate=drop_path_rate,
            global_backend=global_backend,
            final_norm=True,
            **dd,
        )
        self.decoder_pos_embed_kind: DecoderPosEmbed = decoder_pos_embed
        self.num_tokens, self.in_chans = num_tokens, in_chans
        self.img_size = self.encoder.img_size
        self.num_patches = num_tokens
        self.pred_dim = (in_chans // num_tokens) * self.img_size[0] * self.img_size[1]
        for name, dim in (("embed_dim", embed_dim), ("decoder_embed_dim", decoder_embed_dim)):
            if dim % 2:
                raise ValueError(f"{name}={dim}: sin-cos position tables need an even size")
        self._setup_encoder_pos_embed(sincos_pos_embed_1d(embed_dim, num_tokens))
        table = sincos_pos_embed_1d(decoder_embed_dim, num_tokens)
        if decoder_pos_embed == "zeros":
            table = torch.zeros_like(table)
        self._build_decoder(
            embed_dim=embed_dim,
            decoder_embed_dim=decoder_embed_dim,
            decoder_depth=decoder_depth,
            decoder_num_heads=decoder_num_heads,
            mlp_ratio=mlp_ratio,
            drop_path_rate=drop_path_rate,
            depth=depth,
            pos_table=table,
            global_backend=global_backend,
            dd=dd,
        )

    def check_input(self, x: Tensor) -> None:
        self._check_cube(x, self.in_chans, self.img_size)

    def tokens(self, x: Tensor) -> Tensor:
        tok = self.encoder.spat_map(group_bands(x, self.num_tokens))
        pos = self.encoder.pos_embed
        if pos is not None and self.encoder_pos_embed != "upstream":
            tok = tok + pos
        return tok

    def patchify(self, x: Tensor) -> Tensor:
        return spectral_patchify(x, self.num_tokens)
