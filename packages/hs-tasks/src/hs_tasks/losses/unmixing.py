"""Unmixing losses: spectral angle of the reconstruction, abundance sparsity, abundance total
variation (with a gradient), and upstream's endmember "TV" for reference.

HyperSIGMA's loss (``shared/reference/hypersigma.md`` §4.5; ``HyperspectralUnmixing/trainval.py``):
``SAD(x, x̂) + 0.35·mean(√A) + 0.1·Σ|E[:, j+1] − E[:, j]|``. Its last term is computed from the
decoder's ``weight.data`` (no gradient: it never influences training) and differences *endmembers*,
not neighbouring pixels or bands (§7.3 #13). Here the TV term is :func:`abundance_tv`, a real
anisotropic total variation *within each abundance map* (neighbouring pixels), differentiable;
:func:`upstream_endmember_tv` reproduces the upstream value for logging only.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` rows/columns, ``e`` endmembers.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["abundance_tv", "sad_loss", "sparsity_loss", "upstream_endmember_tv"]


def sad_loss(x: Tensor, x_hat: Tensor, *, eps: float = 1e-6) -> Tensor:
    """Mean spectral angle (radians) between ``x`` and ``x_hat`` over pixels.

    Args:
        x: ``(b, c, h, w)`` (or ``(b, c, ...)``) reference spectra.
        x_hat: same shape, reconstruction.
        eps: the cosine is clamped to ``[-1 + eps, 1 - eps]`` (``arccos`` has an infinite slope at
            ±1) and the norms to ``>= eps`` (a zero spectrum has angle π/2 to anything).

    Returns:
        Scalar tensor.
    """
    if x.shape != x_hat.shape or x.ndim < 2:
        raise ValueError(
            f"sad_loss: expected two (b, c, ...) tensors of one shape, got {x.shape}, {x_hat.shape}"
        )
    dot = (x * x_hat).sum(dim=1)
    norms = x.norm(dim=1).clamp_min(eps) * x_hat.norm(dim=1).clamp_min(eps)
    return torch.arccos((dot / norms).clamp(-1 + eps, 1 - eps)).mean()


def sparsity_loss(abundances: Tensor, *, eps: float = 1e-8) -> Tensor:
    """``mean(√A)`` (an L1/2 sparsity prior on abundances; upstream weight 0.35).

    Values below ``eps`` are clamped (``√`` has an infinite slope at 0; a softmax never reaches 0,
    but it may underflow).
    """
    return abundances.clamp_min(eps).sqrt().mean()


def abundance_tv(abundances: Tensor) -> Tensor:
    """Anisotropic total variation within each abundance map, averaged over maps and pixel pairs:
    ``mean |A[..., i+1, j] − A[..., i, j]| + mean |A[..., i, j+1] − A[..., i, j]|``.

    Args:
        abundances: ``(b, e, h, w)``.

    Returns:
        Scalar tensor, differentiable (0 for piecewise-constant maps with no edges).
    """
    if abundances.ndim != 4:
        raise ValueError(f"abundance_tv: expected (b, e, h, w), got shape {tuple(abundances.shape)}")
    zero = abundances.new_zeros(())
    rows = (
        (abundances[..., 1:, :] - abundances[..., :-1, :]).abs().mean() if abundances.shape[-2] > 1 else zero
    )
    cols = (
        (abundances[..., :, 1:] - abundances[..., :, :-1]).abs().mean() if abundances.shape[-1] > 1 else zero
    )
    return rows + cols


def upstream_endmember_tv(endmembers: Tensor) -> Tensor:
    """Upstream's term ``Σ_{b, j} |E[b, j+1] − E[b, j]|`` over the endmember index ``j`` of the
    ``(c, e)`` decoder weight, computed without a gradient (as upstream, which reads ``weight.data``).

    Args:
        endmembers: ``(e, c)`` (our layout; transposed internally to upstream's ``(c, e)``).

    Returns:
        Detached scalar tensor.
    """
    w = endmembers.detach().T
    return (w[:, 1:] - w[:, :-1]).abs().sum()
