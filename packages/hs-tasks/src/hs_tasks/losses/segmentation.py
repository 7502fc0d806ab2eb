"""Segmentation losses: Lovász-softmax and its combination with weighted cross-entropy.

Lovász-softmax (M. Berman, A. Rannen Triki, M. B. Blaschko, "The Lovász-Softmax loss: a tractable
surrogate for the optimization of the intersection-over-union measure in neural networks", CVPR
2018): for each class ``k``, the pixel errors ``m_i = |[y_i = k] − p_{i,k}|`` are sorted in
decreasing order and weighted by the increments of the Jaccard loss ``ΔJ`` along that order
(:func:`lovasz_grad`); this is the Lovász extension of ``ΔJ_k``, a convex, piecewise-linear surrogate
that equals ``1 − IoU_k`` exactly when the probabilities are one-hot. The loss averages the classes
present in the labels (the paper's ``classes='present'``) over all pixels of the batch together.

HyperSIGMA's multispectral change detection (``shared/reference/hypersigma.md`` §4.8) trains with
``CE(weights [1, 10], ignore 255) + 0.75 · Lovász-softmax``: :func:`cross_entropy_lovasz`.

Shape legend: ``b`` batch, ``k`` classes, ``h w`` rows/columns, ``p`` pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn import functional as F

__all__ = ["cross_entropy_lovasz", "lovasz_grad", "lovasz_softmax", "masked_cross_entropy"]


def lovasz_grad(fg_sorted: Tensor) -> Tensor:
    """Increments of the Jaccard loss along a sorted order.

    Args:
        fg_sorted: ``(p,)`` 0/1 foreground indicators in the order of decreasing error.

    Returns:
        ``(p,)`` with ``g_i = ΔJ({1..i}) − ΔJ({1..i−1})``, where ``ΔJ(S) = 1 − |fg \\ S| / |fg ∪ S|``
        is the Jaccard loss when the pixels ``S`` are the mistakes.
    """
    total = fg_sorted.sum()
    intersection = total - fg_sorted.cumsum(0)
    union = total + (1.0 - fg_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    if fg_sorted.numel() > 1:
        jaccard = torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])
    return jaccard


def lovasz_softmax(probs: Tensor, labels: Tensor, *, ignore_index: int | None = 255) -> Tensor:
    """Lovász-softmax loss of class probabilities against integer labels.

    Args:
        probs: ``(b, k, h, w)`` (or ``(p, k)``) class probabilities (softmax outputs).
        labels: ``(b, h, w)`` (or ``(p,)``) class ids in ``[0, k)`` or ``ignore_index``.
        ignore_index: label of pixels to leave out (``None``: none).

    Returns:
        Scalar: mean over the classes present in the (non-ignored) labels of the Lovász extension of
        their Jaccard loss; ``0`` (with a gradient path) when no pixel is left.
    """
    if probs.ndim == 4:
        if labels.shape != (probs.shape[0], *probs.shape[2:]):
            raise ValueError(
                f"lovasz_softmax: labels {tuple(labels.shape)} do not match probs {tuple(probs.shape)}"
            )
        flat = probs.permute(0, 2, 3, 1).reshape(-1, probs.shape[1])
    elif probs.ndim == 2:
        if labels.shape != probs.shape[:1]:
            raise ValueError(
                f"lovasz_softmax: labels {tuple(labels.shape)} do not match probs {tuple(probs.shape)}"
            )
        flat = probs
    else:
        raise ValueError(f"lovasz_softmax: expected (b, k, h, w) or (p, k) probs, got {tuple(probs.shape)}")
    y = labels.reshape(-1)
    if ignore_index is not None:
        keep = y != ignore_index
        flat, y = flat[keep], y[keep]
    if y.numel() == 0:
        return probs.sum() * 0.0
    losses = []
    for k in range(flat.shape[1]):
        fg = (y == k).to(flat.dtype)
        if fg.sum() == 0:
            continue
        errors = (fg - flat[:, k]).abs()
        errors_sorted, perm = torch.sort(errors, descending=True)
        losses.append(torch.dot(errors_sorted, lovasz_grad(fg[perm])))
    return torch.stack(losses).mean()


def masked_cross_entropy(
    logits: Tensor, labels: Tensor, *, weight: Tensor | None = None, ignore_index: int = 255
) -> Tensor:
    """``F.cross_entropy`` (weighted mean over the non-ignored pixels) that returns ``0`` instead of
    NaN when every pixel of the batch is ignored (tiles without a training label)."""
    if bool((labels != ignore_index).any()):
        return F.cross_entropy(logits, labels, weight=weight, ignore_index=ignore_index)
    return logits.sum() * 0.0


def cross_entropy_lovasz(
    logits: Tensor,
    labels: Tensor,
    *,
    class_weights: Sequence[float] | None = (1.0, 10.0),
    lovasz_weight: float = 0.75,
    ignore_index: int = 255,
) -> tuple[Tensor, dict[str, float]]:
    """``CE(class_weights) + lovasz_weight · Lovász-softmax`` (HyperSIGMA's multispectral CD loss).

    Args:
        logits: ``(b, k, h, w)``.
        labels: ``(b, h, w)`` class ids or ``ignore_index``.
        class_weights: per-class CE weights (upstream ``[1, 10]``: changed pixels are rare); ``None``
            for an unweighted CE.
        lovasz_weight: weight of the Lovász term (upstream 0.75).
        ignore_index: label of unlabelled pixels.

    Returns:
        The loss and ``{"ce": ..., "lovasz": ...}`` for logging.
    """
    weight = (
        None
        if class_weights is None
        else torch.as_tensor(class_weights, dtype=logits.dtype, device=logits.device)
    )
    ce = masked_cross_entropy(logits, labels, weight=weight, ignore_index=ignore_index)
    lov = lovasz_softmax(logits.softmax(dim=1), labels, ignore_index=ignore_index)
    return ce + lovasz_weight * lov, {"ce": float(ce.detach()), "lovasz": float(lov.detach())}
