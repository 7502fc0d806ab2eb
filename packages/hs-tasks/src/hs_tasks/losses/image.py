"""Image-restoration losses: the super-resolution loss of HyperSIGMA (L1 + SAM + gradient) and its
parts. Denoising uses the mean squared error (``torch.nn.functional.mse_loss``), as upstream.

HyperSIGMA's SR loss (``shared/reference/hypersigma.md`` §4.7; ``ImageSuperResolution/loss.py``,
``HLoss(0.3, 0.1)``): ``L1(y, g) + 0.3·SAM(y, g)/π + 0.1·L1(∇y, ∇g)``, where ``∇`` is the magnitude
of the 3-D forward differences (bands, rows, columns), ``sqrt(d_c² + d_h² + d_w² + 1e-6)``, taken on
the entries where all three differences exist.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` rows/columns.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["gradient_magnitude", "sam_loss", "sr_loss"]


def _check(y: Tensor, g: Tensor, name: str) -> None:
    if y.shape != g.shape or y.ndim != 4:
        raise ValueError(
            f"{name}: expected two (b, c, h, w) tensors of one shape, got {tuple(y.shape)}, {tuple(g.shape)}"
        )


def sam_loss(y: Tensor, g: Tensor, *, eps: float = 1e-6) -> Tensor:
    """Mean spectral angle between ``y`` and ``g`` over pixels, divided by π (so in [0, 1]).

    Args:
        y: ``(b, c, h, w)`` estimate.
        g: ``(b, c, h, w)`` reference.
        eps: the cosine is clamped to ``[-1 + eps, 1 - eps]``; a zero norm product is replaced by
            ``eps`` (as upstream's ``cal_sam``).
    """
    _check(y, g, "sam_loss")
    dot = (y * g).sum(dim=1)
    den = y.norm(dim=1) * g.norm(dim=1)
    den = torch.where(den == 0, torch.full_like(den, eps), den)
    return torch.arccos((dot / den).clamp(-1 + eps, 1 - eps)).mean() / math.pi


def gradient_magnitude(x: Tensor, *, eps: float = 1e-6) -> Tensor:
    """``sqrt(d_c² + d_h² + d_w² + eps)`` of the forward differences along bands, rows and columns,
    on entries ``[:, 1:, 1:, 1:]``: ``(b, c, h, w)`` → ``(b, c-1, h-1, w-1)``."""
    if x.ndim != 4 or min(x.shape[1:]) < 2:
        raise ValueError(f"gradient_magnitude: expected (b, c, h, w) with c, h, w >= 2, got {tuple(x.shape)}")
    core = x[:, 1:, 1:, 1:]
    dc = core - x[:, :-1, 1:, 1:]
    dh = core - x[:, 1:, :-1, 1:]
    dw = core - x[:, 1:, 1:, :-1]
    return torch.sqrt(dc * dc + dh * dh + dw * dw + eps)


def sr_loss(y: Tensor, g: Tensor, *, sam_weight: float = 0.3, grad_weight: float = 0.1) -> Tensor:
    """HyperSIGMA's SR loss: ``L1 + sam_weight·SAM/π + grad_weight·L1(|∇y|, |∇g|)``."""
    _check(y, g, "sr_loss")
    loss = F.l1_loss(y, g)
    if sam_weight:
        loss = loss + sam_weight * sam_loss(y, g)
    if grad_weight:
        loss = loss + grad_weight * F.l1_loss(gradient_magnitude(y), gradient_magnitude(g))
    return loss
