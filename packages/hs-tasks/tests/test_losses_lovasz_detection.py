"""Losses of classification, detection and change detection against hand-computed values and an
independent definition (Lovász-softmax on one-hot probabilities = 1 − IoU)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.nn import functional as F

from hs_tasks.losses import (
    cross_entropy_lovasz,
    lovasz_grad,
    lovasz_softmax,
    masked_cross_entropy,
    score_pair_cross_entropy,
)


def test_lovasz_grad_by_hand() -> None:
    # fg = [1, 0, 1]: ΔJ after 1, 2, 3 mistakes = 1 - [1/2, 1/3, 0/3] -> increments [1/2, 1/6, 1/3]
    g = lovasz_grad(torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(g, torch.tensor([0.5, 1 / 6, 1 / 3], dtype=torch.float64))


def test_lovasz_softmax_by_hand() -> None:
    # Two pixels, labels [1, 0], p(class 1) = [0.8, 0.3].
    # class 0: errors [0.2, 0.3] -> sorted (0.3, fg 1), (0.2, fg 0) -> grad [1, 0] -> 0.3
    # class 1: errors [0.2, 0.3] -> sorted (0.3, fg 0), (0.2, fg 1) -> grad [1/2, 1/2] -> 0.25
    p1 = torch.tensor([0.8, 0.3], dtype=torch.float64)
    probs = torch.stack([1 - p1, p1], dim=1)
    loss = lovasz_softmax(probs, torch.tensor([1, 0]), ignore_index=None)
    assert float(loss) == pytest.approx((0.3 + 0.25) / 2, abs=1e-15)


def _iou_loss(pred: np.ndarray, labels: np.ndarray, k: int) -> float:
    losses = []
    for c in range(k):
        truth, hit = labels == c, pred == c
        if truth.any():
            losses.append(1.0 - (truth & hit).sum() / (truth | hit).sum())
    return float(np.mean(losses))


@given(
    st.integers(1, 4).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.integers(0, k - 1), min_size=1, max_size=40).flatmap(
                lambda lab: st.tuples(
                    st.just(lab),
                    st.lists(st.integers(0, 4 - 1), min_size=len(lab), max_size=len(lab)),
                    st.lists(st.booleans(), min_size=len(lab), max_size=len(lab)),
                )
            ),
        )
    )
)
def test_lovasz_on_one_hot_probabilities_is_one_minus_iou(case: tuple) -> None:
    k, (labels, preds, ignored) = case
    preds = [p % k for p in preds]
    y = np.array(labels)
    y_ignored = np.where(np.array(ignored), 255, y)
    probs = F.one_hot(torch.tensor(preds), k).to(torch.float64)
    keep = y_ignored != 255
    loss = lovasz_softmax(probs, torch.tensor(y_ignored), ignore_index=255)
    if not keep.any():
        assert float(loss) == 0.0
        return
    assert float(loss) == pytest.approx(_iou_loss(np.array(preds)[keep], y[keep], k), abs=1e-12)


def test_lovasz_dense_layout_gradient_and_empty_batch() -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 3, (2, 4, 5))
    labels[0, 0] = 255
    dense = lovasz_softmax(logits.softmax(1), labels)
    flat = lovasz_softmax(logits.softmax(1).permute(0, 2, 3, 1).reshape(-1, 3), labels.reshape(-1))
    torch.testing.assert_close(dense, flat)
    dense.backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    empty = lovasz_softmax(logits.softmax(1), torch.full((2, 4, 5), 255))
    assert float(empty.detach()) == 0.0 and empty.requires_grad
    with pytest.raises(ValueError, match="do not match"):
        lovasz_softmax(logits.softmax(1), labels[:, :3])


def test_weighted_cross_entropy_plus_lovasz_by_hand() -> None:
    logits = torch.tensor([[[[2.0, 0.0, 1.0]], [[0.0, 1.0, 1.0]]]], dtype=torch.float64)  # (1, 2, 1, 3)
    labels = torch.tensor([[[0, 1, 255]]])
    loss, parts = cross_entropy_lovasz(logits, labels, class_weights=(1.0, 10.0), lovasz_weight=0.75)
    nll0 = -math.log(math.exp(2) / (math.exp(2) + 1))  # pixel 0, class 0, weight 1
    nll1 = -math.log(math.exp(1) / (1 + math.exp(1)))  # pixel 1, class 1, weight 10
    ce = (1 * nll0 + 10 * nll1) / 11
    assert parts["ce"] == pytest.approx(ce, rel=1e-12)
    probs = logits.softmax(1)
    lov = float(lovasz_softmax(probs, labels))
    assert parts["lovasz"] == pytest.approx(lov, rel=1e-12)
    assert float(loss) == pytest.approx(ce + 0.75 * lov, rel=1e-12)


def test_masked_cross_entropy_returns_zero_when_everything_is_ignored() -> None:
    logits = torch.randn(2, 3, 4, 4, requires_grad=True)
    loss = masked_cross_entropy(logits, torch.full((2, 4, 4), 255))
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert logits.grad is not None


def test_score_pair_cross_entropy_is_bce_on_two_s_minus_one() -> None:
    torch.manual_seed(1)
    s = torch.randn(3, 5, 6, dtype=torch.float64) * 2
    y = torch.randint(0, 2, (3, 5, 6))
    y[0, :2] = 255
    keep = y != 255
    expected = F.binary_cross_entropy_with_logits(2 * s[keep] - 1, y[keep].to(s.dtype))
    torch.testing.assert_close(score_pair_cross_entropy(s, y), expected)
    with pytest.raises(ValueError, match="differ"):
        score_pair_cross_entropy(s, y[:, :4])
