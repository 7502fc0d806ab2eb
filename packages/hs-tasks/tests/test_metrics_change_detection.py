from __future__ import annotations

import numpy as np
import pytest

from hs_tasks.metrics import change_detection_report, classification_report


def test_hand_computed_counts() -> None:
    ref = np.array([[1, 1, 1, 0], [0, 0, 0, 0]])
    pred = np.array([[1, 1, 0, 1], [0, 0, 0, 1]])
    r = change_detection_report(pred, ref)
    assert (r.tp, r.fp, r.fn, r.tn) == (2, 2, 1, 3)
    assert r.oa == pytest.approx(5 / 8)
    assert r.precision == pytest.approx(2 / 4)
    assert r.recall == pytest.approx(2 / 3)
    assert r.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert r.iou == pytest.approx(2 / 5)
    # kappa of the 2x2 table, checked against the multi-class implementation
    assert r.kappa == pytest.approx(classification_report(ref, pred).kappa)
    # p_o = 5/8; p_e = (3*4 + 5*4)/64 = 1/2  ->  kappa = (5/8 - 1/2) / (1/2) = 1/4
    assert r.kappa == pytest.approx(0.25)


def test_mask_restricts_to_test_pixels(rng: np.random.Generator) -> None:
    ref = rng.random((20, 30)) < 0.3
    pred = rng.random((20, 30)) < 0.3
    test = rng.random((20, 30)) < 0.5
    masked = change_detection_report(pred, ref, mask=test)
    assert masked == change_detection_report(pred[test], ref[test])
    # errors outside the mask do not count
    spoiled = np.where(test, pred, ~ref)
    assert change_detection_report(spoiled, ref, mask=test) == masked


def test_perfect_prediction() -> None:
    ref = np.array([0, 1, 1, 0, 1])
    r = change_detection_report(ref, ref)
    assert (r.oa, r.kappa, r.f1, r.precision, r.recall, r.iou) == (1.0,) * 6


def test_no_positive_anywhere_is_perfect() -> None:
    r = change_detection_report(np.zeros(6), np.zeros(6))
    assert (r.oa, r.kappa, r.f1, r.precision, r.recall, r.iou) == (1.0,) * 6


def test_nothing_predicted_but_changes_exist() -> None:
    r = change_detection_report(np.zeros(4), np.array([0, 1, 1, 0]))
    assert (r.precision, r.recall, r.f1, r.iou) == (0.0, 0.0, 0.0, 0.0)
    assert r.oa == 0.5 and r.kappa == 0.0


def test_false_alarms_without_reference_changes() -> None:
    r = change_detection_report(np.array([0, 1, 0, 0]), np.zeros(4))
    assert (r.precision, r.recall, r.f1, r.iou) == (0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("pred", "ref", "mask", "match"),
    [
        ([0, 1], [0, 1, 1], None, "same shape"),
        ([0, 2], [0, 1], None, "binary"),
        ([0, 1], [0, 1], [0, 0], "no pixel to evaluate"),
        ([0, 1], [0, 1], [1, 0, 1], "same shape"),
    ],
)
def test_bad_input(pred: list, ref: list, mask: list | None, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        change_detection_report(np.array(pred), np.array(ref), mask=None if mask is None else np.array(mask))
