"""Random masking, patchification and the normalised-pixel reconstruction loss of the MAEs.

Masked autoencoders (He et al., 2021, arXiv 2111.06377) as HyperSIGMA's pretraining uses them
(``shared/reference/hypersigma.md`` §3.2-3.3; fixture quirks 12, 15, 16):

- masking: per sample, argsort uniform noise; the first ``int(n · (1 − r))`` tokens of that order are
  kept, the mask is 1 on removed tokens;
- spatial targets: each ``p × p`` patch flattened as (row in patch, column in patch, band);
- spectral targets: token ``i`` holds bands ``[i·g, (i+1)·g)`` (``g = c / t``), each band's image
  flattened row-major;
- loss: mean squared error per token against the target, normalised per token with its mean and
  unbiased variance when ``norm_pix``, averaged over every removed token of the batch.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` image rows/columns, ``n`` tokens, ``d`` features,
``t`` spectral tokens, ``p`` patch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from einops import rearrange
from torch import Tensor

__all__ = [
    "Masking",
    "mask_noise",
    "masked_reconstruction_loss",
    "random_masking",
    "spatial_patchify",
    "spatial_unpatchify",
    "spectral_patchify",
    "spectral_unpatchify",
]


class Masking(NamedTuple):
    """One random masking of a batch.

    Attributes:
        ids_keep: ``(b, n_keep)`` indices of the kept tokens, in shuffled order.
        ids_restore: ``(b, n)`` inverse permutation (puts the shuffled sequence back in order).
        mask: ``(b, n)`` float32, 1 on removed tokens, 0 on kept ones.
    """

    ids_keep: Tensor
    ids_restore: Tensor
    mask: Tensor


def random_masking(noise: Tensor, mask_ratio: float) -> Masking:
    """Per-sample random masking from ``noise`` (small values are kept).

    Args:
        noise: ``(b, n)`` values whose ascending order shuffles each sample's tokens (upstream draws
            ``torch.rand(b, n)`` in float32).
        mask_ratio: fraction of tokens to remove, in ``[0, 1)``; ``int(n · (1 − r))`` are kept.

    Returns:
        :class:`Masking`.
    """
    if noise.ndim != 2:
        raise ValueError(f"noise: expected (b, n), got shape {tuple(noise.shape)}")
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"mask_ratio: expected a fraction in [0, 1), got {mask_ratio!r}")
    b, n = noise.shape
    len_keep = int(n * (1 - mask_ratio))
    if len_keep < 1:
        raise ValueError(f"mask_ratio={mask_ratio} keeps no token of {n}; lower it")
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    mask = torch.ones(b, n, dtype=torch.float32, device=noise.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return Masking(ids_shuffle[:, :len_keep], ids_restore, mask)


def mask_noise(seeds: Sequence[int] | Tensor, num_tokens: int, device: torch.device | str = "cpu") -> Tensor:
    """Masking noise drawn per sample from its own seed: ``(b, n)`` float32 in ``[0, 1)``.

    A sample's mask then depends on the sample alone, not on the batch it lands in, the process
    that draws it or the global random state, which makes data-parallel runs reproduce single-process
    runs exactly and resumed runs reproduce uninterrupted ones.
    """
    values = seeds.tolist() if isinstance(seeds, Tensor) else list(seeds)
    rows = [torch.rand(num_tokens, generator=torch.Generator().manual_seed(int(s))) for s in values]
    return torch.stack(rows).to(device)


def spatial_patchify(x: Tensor, patch_size: int) -> Tensor:
    """``(b, c, h, w)`` → ``(b, n, p·p·c)`` with ``n = (h/p)·(w/p)`` row-major, each patch ordered
    (row in patch, column in patch, band) as upstream's ``einsum('nchpwq->nhwpqc')``."""
    h, w = x.shape[-2:]
    if h % patch_size or w % patch_size:
        raise ValueError(f"a {h}x{w} image does not split into {patch_size}x{patch_size} patches")
    return rearrange(x, "b c (h p) (w q) -> b (h w) (p q c)", p=patch_size, q=patch_size)


def spatial_unpatchify(tokens: Tensor, patch_size: int, grid: tuple[int, int]) -> Tensor:
    """Inverse of :func:`spatial_patchify`: ``(b, n, p·p·c)`` → ``(b, c, h, w)``."""
    return rearrange(
        tokens, "b (h w) (p q c) -> b c (h p) (w q)", h=grid[0], w=grid[1], p=patch_size, q=patch_size
    )


def spectral_patchify(x: Tensor, num_tokens: int) -> Tensor:
    """``(b, c, h, w)`` → ``(b, t, g·h·w)``: token ``i`` holds bands ``[i·g, (i+1)·g)``, ``g = c / t``."""
    c = x.shape[1]
    if c % num_tokens:
        raise ValueError(
            f"{c} bands do not split into {num_tokens} spectral tokens of equal size; use a band "
            f"count that is a multiple of num_tokens"
        )
    return rearrange(x, "b (t g) h w -> b t (g h w)", t=num_tokens)


def spectral_unpatchify(tokens: Tensor, image_size: tuple[int, int]) -> Tensor:
    """Inverse of :func:`spectral_patchify`: ``(b, t, g·h·w)`` → ``(b, t·g, h, w)``."""
    h, w = image_size
    return rearrange(tokens, "b t (g h w) -> b (t g) h w", h=h, w=w)


def masked_reconstruction_loss(
    pred: Tensor, target: Tensor, mask: Tensor, *, norm_pix: bool = True, eps: float = 1e-6
) -> Tensor:
    """MAE loss: squared error per token, averaged over the removed tokens of the whole batch.

    Args:
        pred: ``(b, n, k)`` predictions.
        target: ``(b, n, k)`` patchified input.
        mask: ``(b, n)``, 1 on removed tokens.
        norm_pix: normalise each target token by its mean and unbiased variance (``(t − μ) /
            sqrt(σ² + eps)``), the ``--norm_pix_loss`` of upstream's README commands.
        eps: added to the variance.

    Returns:
        A scalar.
    """
    if norm_pix:
        var, mean = torch.var_mean(target, dim=-1, keepdim=True)  # unbiased variance, as upstream
        target = (target - mean) / (var + eps) ** 0.5
    per_token = ((pred - target) ** 2).mean(dim=-1)
    return (per_token * mask).sum() / mask.sum()
