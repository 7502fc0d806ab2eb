"""Stochastic depth.

Shape legend: ``b`` batch; any trailing dimensions.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["DropPath", "drop_path", "drop_path_add"]


def drop_path(x: Tensor, drop_prob: float = 0.0, training: bool = False) -> Tensor:
    """Zero whole samples of a residual branch with probability ``drop_prob``, rescaling the rest.

    Stochastic depth (Huang et al., 2016, arXiv 1603.09382): in training, each sample's branch output
    is kept with probability ``1 - drop_prob`` and divided by it, so the expectation is unchanged; in
    evaluation (or with ``drop_prob == 0``) it is the identity.

    Args:
        x: ``(b, ...)`` branch output.
        drop_prob: probability of dropping a sample's branch, in ``[0, 1)``.
        training: apply the drop only when ``True``.

    Returns:
        A tensor shaped like ``x``.
    """
    if drop_prob == 0.0 or not training:
        return x
    keep = 1.0 - drop_prob
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask.div_(keep)


def drop_path_add(x: Tensor, branch: Tensor, drop_prob: float = 0.0, training: bool = False) -> Tensor:
    """``x + drop_path(branch)`` in one pass (``addcmul`` with the per-sample mask when active).

    Args:
        x: ``(b, ...)`` residual stream.
        branch: ``(b, ...)`` branch output, broadcastable to ``x``.
        drop_prob: probability of dropping a sample's branch, in ``[0, 1)``.
        training: apply the drop only when ``True``.
    """
    if drop_prob == 0.0 or not training:
        return x + branch
    keep = 1.0 - drop_prob
    mask = branch.new_empty((branch.shape[0],) + (1,) * (branch.ndim - 1)).bernoulli_(keep).div_(keep)
    return torch.addcmul(x, branch, mask)


class DropPath(nn.Module):
    """Module form of :func:`drop_path` (applied per sample to a residual branch).

    Args:
        drop_prob: probability of dropping a sample's branch, in ``[0, 1)``.
    """

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= drop_prob < 1.0:
            raise ValueError(f"drop_prob: expected a probability in [0, 1), got {drop_prob!r}")
        self.drop_prob = float(drop_prob)

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``(b, ...)`` → same shape."""
        return drop_path(x, self.drop_prob, self.training)

    def add(self, x: Tensor, branch: Tensor) -> Tensor:
        """``x + self(branch)``, fused (:func:`drop_path_add`)."""
        return drop_path_add(x, branch, self.drop_prob, self.training)

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"
