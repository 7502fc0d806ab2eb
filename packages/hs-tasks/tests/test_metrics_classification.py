from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from realdata import load_mat

from hs_tasks.metrics import (
    average_accuracy,
    classification_report,
    cohen_kappa,
    confusion_matrix,
    overall_accuracy,
    per_class_accuracy,
    per_class_precision,
)


def _reference_confusion(t: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    cm = np.zeros((k, k), dtype=np.int64)
    for a, b in zip(t.tolist(), p.tolist()):
        cm[a, b] += 1
    return cm


def _reference_kappa(t: np.ndarray, p: np.ndarray, k: int) -> float:
    """Kappa as 1 - weighted observed disagreement / weighted chance disagreement (another form)."""
    observed = _reference_confusion(t, p, k).astype(float)
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    w = 1.0 - np.eye(k)
    chance = (w * expected).sum()
    if chance == 0:  # a single class in truth and prediction: the documented convention is 1
        return 1.0
    return float(1.0 - (w * observed).sum() / chance)


def test_hand_computed_case() -> None:
    t = np.array([0, 0, 1, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0, 2])
    cm = confusion_matrix(t, p)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 2]])  # rows = true
    assert overall_accuracy(cm) == pytest.approx(5 / 7)
    np.testing.assert_allclose(per_class_accuracy(cm), [1 / 2, 1.0, 2 / 3])
    assert average_accuracy(cm) == pytest.approx((1 / 2 + 1 + 2 / 3) / 3)
    # p_o = 5/7, p_e = (2*2 + 2*3 + 3*2) / 49 = 16/49
    assert cohen_kappa(cm) == pytest.approx(19 / 33)


@given(
    st.integers(min_value=2, max_value=6),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=2**31 - 1),
)
def test_against_independent_implementation(k: int, n: int, seed: int) -> None:
    g = np.random.default_rng(seed)
    t = g.integers(0, k, n)
    p = np.where(g.random(n) < 0.6, t, g.integers(0, k, n))
    rep = classification_report(t, p, num_classes=k)
    np.testing.assert_array_equal(rep.confusion, _reference_confusion(t, p, k))
    assert rep.oa == pytest.approx(np.mean(t == p))
    recalls = [np.mean(p[t == c] == c) for c in range(k) if np.any(t == c)]
    assert rep.aa == pytest.approx(np.mean(recalls))
    assert rep.kappa == pytest.approx(_reference_kappa(t, p, k), abs=1e-12)


def test_aa_is_mean_recall_not_precision() -> None:
    # upstream notebooks call confusion_matrix(y_pred, y_gt): rows become predictions, so the
    # "per-class accuracy" they average is the per-class precision. Ours is the recall.
    t = np.array([0] * 8 + [1] * 2)
    p = np.array([0] * 4 + [1] * 4 + [1] * 2)
    cm = confusion_matrix(t, p)
    assert average_accuracy(cm) == pytest.approx((4 / 8 + 2 / 2) / 2)
    precision_mean = float(np.mean(per_class_precision(cm)))
    assert precision_mean == pytest.approx((4 / 4 + 2 / 6) / 2)
    assert average_accuracy(cm) != pytest.approx(precision_mean)
    # the swapped call gives the transposed matrix, whose "recall" is our precision
    swapped = confusion_matrix(p, t)
    np.testing.assert_array_equal(swapped, cm.T)
    np.testing.assert_allclose(per_class_accuracy(swapped), per_class_precision(cm))


def test_ignore_index_drops_unlabelled_pixels() -> None:
    t = np.array([[0, 1, 2], [2, 0, 1]])
    p = np.array([[2, 1, 2], [1, 1, 1]])
    rep = classification_report(t, p, num_classes=3, ignore_index=0)
    keep = t != 0
    np.testing.assert_array_equal(rep.confusion, _reference_confusion(t[keep], p[keep], 3))
    assert rep.support.tolist() == [0, 2, 2]
    assert np.isnan(rep.per_class_accuracy[0])  # no true pixel of class 0: left out of AA
    assert rep.aa == pytest.approx((1.0 + 0.5) / 2)
    assert rep.oa == pytest.approx(3 / 4)


def test_predicted_class_without_support() -> None:
    t = np.array([0, 0, 1, 1])
    p = np.array([0, 2, 1, 1])
    rep = classification_report(t, p, num_classes=3)
    assert np.isnan(rep.per_class_accuracy[2])
    assert rep.aa == pytest.approx((0.5 + 1.0) / 2)
    assert rep.oa == pytest.approx(3 / 4)


def test_perfect_and_single_class() -> None:
    t = np.array([1, 2, 3, 1])
    rep = classification_report(t, t)
    assert (rep.oa, rep.aa, rep.kappa) == (1.0, 1.0, 1.0)
    one = classification_report(np.zeros(5, int), np.zeros(5, int))
    assert (one.oa, one.aa, one.kappa) == (1.0, 1.0, 1.0)  # documented p_e = 1 convention


def test_kappa_of_systematic_disagreement_is_negative() -> None:
    t = np.array([0, 1] * 10)
    assert cohen_kappa(confusion_matrix(t, 1 - t)) == pytest.approx(-1.0)


def test_accepts_tensors_and_integer_floats() -> None:
    t = torch.tensor([0, 1, 1, 2])
    p = torch.tensor([0.0, 1.0, 2.0, 2.0])
    assert classification_report(t, p).oa == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("t", "p", "kwargs", "match"),
    [
        ([0, 1], [0, 1, 1], {}, "same shape"),
        ([0, 0], [0, 1], {"ignore_index": 0}, "no pixel to evaluate"),
        ([0, 3], [0, 1], {"num_classes": 3}, r"y_true: labels must lie in \[0, 3\)"),
        ([0, 1], [0, -1], {}, "y_pred: labels must lie"),
        ([0, 1], [0.5, 1], {}, "non-integer"),
        ([], [], {}, "no pixel to evaluate"),
    ],
)
def test_bad_input(t: list, p: list, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        confusion_matrix(np.array(t, dtype=np.int64) if t else np.array([], np.int64), np.array(p), **kwargs)


def test_bad_confusion_matrix() -> None:
    with pytest.raises(ValueError, match="square"):
        overall_accuracy(np.ones((2, 3)))
    with pytest.raises(ValueError, match="empty"):
        cohen_kappa(np.zeros((2, 2)))


def test_real_label_layout_pavia_fixed_split() -> None:
    """Real GT layout: the fixed ROSIS training map scored against the full GT (unlabelled = 0)."""
    gt = load_mat("classification/pavia_university/PaviaU_gt.mat")["paviaU_gt"].astype(np.int64)
    train = load_mat("classification/pavia_university/TRpavia_fixed.mat")["TRpavia_fixed"].astype(np.int64)
    rep = classification_report(gt, gt, num_classes=10, ignore_index=0)
    assert rep.support[1:].sum() == int((gt > 0).sum()) == 42776  # the published PaviaU labelled count
    assert (rep.oa, rep.aa, rep.kappa) == (1.0, 1.0, 1.0)
    # a "prediction" that is right on the training pixels and class 1 elsewhere
    pred = np.where(train > 0, gt, 1)
    rep = classification_report(gt, pred, num_classes=10, ignore_index=0)
    assert rep.per_class_accuracy[1] == 1.0
    expected_recall = [(np.sum((gt == c) & (train > 0))) / np.sum(gt == c) for c in range(2, 10)]
    np.testing.assert_allclose(rep.per_class_accuracy[2:], expected_recall)
