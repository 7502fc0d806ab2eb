"""The detection pseudo-label loss of HyperSIGMA's target detection.

Upstream (``HyperspectralDetection/Target_Detection/trainval.py``; ``shared/reference/hypersigma.md``
§4.2) trains the unbounded score map ``s`` with ``CrossEntropy(stack(1 − s, s), y, ignore_index=255)``:
the pair ``(1 − s, s)`` is used directly as logits. Since ``softmax(1 − s, s)_1 = σ(2s − 1)``, this is
binary cross-entropy with the logit ``2s − 1`` (the test checks the identity).

Shape legend: ``b`` batch, ``h w`` rows/columns.
"""

from __future__ import annotations

import torch
from torch import Tensor

from hs_tasks.losses.segmentation import masked_cross_entropy

__all__ = ["score_pair_cross_entropy"]


def score_pair_cross_entropy(
    scores: Tensor, labels: Tensor, *, weight: Tensor | None = None, ignore_index: int = 255
) -> Tensor:
    """Upstream's loss: cross-entropy of the logit pair ``(1 − s, s)``.

    Args:
        scores: ``(b, h, w)`` score map.
        labels: ``(b, h, w)`` pseudo-labels: 0 background, 1 target, ``ignore_index`` unused.
        weight: optional ``(2,)`` class weights (weighted mean, as ``F.cross_entropy``).

    Returns:
        Scalar mean over the non-ignored pixels (0 when there is none).
    """
    if scores.shape != labels.shape:
        raise ValueError(
            f"score_pair_cross_entropy: scores {tuple(scores.shape)} and labels {tuple(labels.shape)} differ"
        )
    pair = torch.stack((1.0 - scores, scores), dim=1)
    return masked_cross_entropy(pair, labels, weight=weight, ignore_index=ignore_index)
