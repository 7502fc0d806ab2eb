"""Binary change-detection metrics (hyperspectral and multispectral): OA, kappa, F1, P, R, IoU.

Shapes: ``prediction``, ``reference`` and ``mask`` are binary maps of any identical shape
(``(h, w)`` usually). 1/True = changed, 0/False = unchanged. ``mask`` selects the evaluated pixels:
pass the **test** pixels only (HyperSIGMA's HCD scripts score on every labelled pixel, training
pixels included — reference notes §7.3 #14; datasets whose reference maps have an "unknown" label,
e.g. BayArea/Barbara or the partial Nanjing maps, must be masked to their labelled pixels).

Definitions, with TP/FP/FN/TN counted on the evaluated pixels:
``OA = (TP + TN) / N``, ``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)``,
``F1 = 2 TP / (2 TP + FP + FN)``, ``IoU = TP / (TP + FP + FN)`` (of the changed class), and Cohen's
kappa of the 2x2 table.

Zero-division rule (documented, not warned): when a ratio is 0/0, it is 1.0 if the positive class is
absent from both the reference and the prediction (TP + FP + FN = 0: nothing to find and nothing
falsely found), and 0.0 otherwise (e.g. precision when nothing is predicted changed but some pixels
did change). Kappa follows :func:`hs_tasks.metrics.classification.cohen_kappa` (1.0 when both maps
are constant and equal).

Upstream note: HyperSIGMA's HCD evaluation inverts its prediction (``bmap = 1 - binary_map``) to
match datasets where 1 = unchanged (§4.4); here the caller maps labels to 1 = changed explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hs_tasks._utils import as_bool_array, check_same_shape
from hs_tasks.metrics.classification import cohen_kappa

__all__ = ["ChangeDetectionReport", "change_detection_report"]


@dataclass(frozen=True)
class ChangeDetectionReport:
    """Binary change-detection scores; all ratios in [0, 1] except kappa in [-1, 1]."""

    oa: float
    kappa: float
    f1: float
    precision: float
    recall: float
    iou: float
    tp: int
    fp: int
    fn: int
    tn: int

    def as_dict(self) -> dict[str, float]:
        """The scalar metrics (without the counts), for logging."""
        return {
            "oa": self.oa,
            "kappa": self.kappa,
            "f1": self.f1,
            "precision": self.precision,
            "recall": self.recall,
            "iou": self.iou,
        }


def change_detection_report(
    prediction: Any, reference: Any, *, mask: Any | None = None
) -> ChangeDetectionReport:
    """Score a binary change map against a binary reference on the masked pixels.

    Args:
        prediction: predicted change map, binary (bool or 0/1), any shape.
        reference: reference change map, binary, same shape.
        mask: optional binary map of evaluated pixels (test pixels only), same shape.

    Raises:
        ValueError: shapes differ, a map is not binary, or the mask selects no pixel.
    """
    pred = as_bool_array(prediction, "prediction")
    ref = as_bool_array(reference, "reference")
    check_same_shape(pred, ref, "prediction", "reference")
    if mask is not None:
        m = as_bool_array(mask, "mask")
        check_same_shape(m, ref, "mask", "reference")
        pred, ref = pred[m], ref[m]
    if ref.size == 0:
        raise ValueError("change_detection_report: no pixel to evaluate (empty input or empty mask)")
    tp = int(np.count_nonzero(pred & ref))
    fp = int(np.count_nonzero(pred & ~ref))
    fn = int(np.count_nonzero(~pred & ref))
    tn = int(ref.size - tp - fp - fn)
    positive_absent = tp + fp + fn == 0

    def ratio(num: int, den: int) -> float:
        if den > 0:
            return num / den
        return 1.0 if positive_absent else 0.0

    cm = np.array([[tn, fp], [fn, tp]])
    return ChangeDetectionReport(
        oa=(tp + tn) / ref.size,
        kappa=cohen_kappa(cm),
        f1=ratio(2 * tp, 2 * tp + fp + fn),
        precision=ratio(tp, tp + fp),
        recall=ratio(tp, tp + fn),
        iou=ratio(tp, tp + fp + fn),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
    )
