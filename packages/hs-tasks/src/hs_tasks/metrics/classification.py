"""Classification metrics: confusion matrix, OA, AA (mean per-class recall), Cohen's kappa.

Shapes: ``y_true`` and ``y_pred`` are integer label arrays of any identical shape (``(p,)`` pixels,
``(h, w)`` maps, ``(b, h, w)`` batches). ``k`` is the number of classes.

Conventions (read these before comparing numbers with other code):

* The confusion matrix ``cm`` has **rows = true class, columns = predicted class**:
  ``cm[i, j]`` counts pixels of true class ``i`` predicted as ``j``.
* AA is the mean over classes of the per-class **recall** ``cm[i, i] / cm[i, :].sum()`` (the
  "producer's accuracy"). HyperSIGMA's classification notebooks call ``confusion_matrix(y_pred,
  y_gt)`` with the arguments swapped, so their "each_acc"/AA is the per-class *precision*
  (reference notes §4.1, §7.3 #7). To get that upstream number on purpose, use
  :func:`per_class_precision` and average it.
* Pixels whose true label equals ``ignore_index`` (typically the unlabelled 0 of a ground-truth map,
  or -1 after shifting labels) are left out of every metric.
* Classes with no true pixel have an undefined recall (NaN in :func:`per_class_accuracy`) and are
  left out of AA; their column still counts in OA and kappa when something was predicted as them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hs_tasks._utils import as_int_array, check_same_shape

__all__ = [
    "ClassificationReport",
    "average_accuracy",
    "classification_report",
    "cohen_kappa",
    "confusion_matrix",
    "overall_accuracy",
    "per_class_accuracy",
    "per_class_precision",
]


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> np.ndarray:
    """Count matrix ``(k, k)`` with rows = true class and columns = predicted class.

    Args:
        y_true: true labels, integer array of any shape, values in ``[0, k)`` or ``ignore_index``.
        y_pred: predicted labels, same shape, values in ``[0, k)`` wherever ``y_true`` is valid.
        num_classes: ``k``. Default: 1 + the largest label seen among the evaluated pixels.
        ignore_index: a true label to leave out (e.g. 0 for "unlabelled" in a GT map whose classes
            are 1..K, in which case pass ``num_classes=K + 1`` or shift the labels by -1).

    Returns:
        int64 array ``(k, k)``; ``cm[i, j]`` = number of pixels of true class i predicted as j.

    Raises:
        ValueError: shapes differ, no pixel is left to evaluate, or a label is out of ``[0, k)``.
    """
    t = as_int_array(y_true, "y_true")
    p = as_int_array(y_pred, "y_pred")
    check_same_shape(t, p, "y_true", "y_pred")
    t, p = t.ravel(), p.ravel()
    if ignore_index is not None:
        keep = t != ignore_index
        t, p = t[keep], p[keep]
    if t.size == 0:
        raise ValueError(
            "confusion_matrix: no pixel to evaluate (y_true is empty or every pixel equals "
            f"ignore_index={ignore_index})"
        )
    if num_classes is None:
        num_classes = int(max(t.max(), p.max())) + 1
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    for arr, name in ((t, "y_true"), (p, "y_pred")):
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"{name}: labels must lie in [0, {num_classes}) on evaluated pixels, found range [{lo}, {hi}]"
                + (" (set ignore_index to skip unlabelled pixels)" if name == "y_true" else "")
            )
    flat = t * num_classes + p
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _check_cm(cm: Any) -> np.ndarray:
    arr = np.asarray(cm)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"cm: expected a square (k, k) confusion matrix, got shape {arr.shape}")
    if np.any(arr < 0):
        raise ValueError("cm: counts must be non-negative")
    if arr.sum() == 0:
        raise ValueError("cm: the confusion matrix is empty (no pixel counted)")
    return arr.astype(np.float64)


def overall_accuracy(cm: Any) -> float:
    """OA = trace(cm) / cm.sum(): the fraction of evaluated pixels labelled correctly."""
    m = _check_cm(cm)
    return float(np.trace(m) / m.sum())


def per_class_accuracy(cm: Any) -> np.ndarray:
    """Per-class recall ``(k,)``: ``cm[i, i] / cm[i, :].sum()``; NaN for classes with no true pixel."""
    m = _check_cm(cm)
    support = m.sum(axis=1)
    out = np.full(m.shape[0], np.nan)
    has = support > 0
    out[has] = np.diag(m)[has] / support[has]
    return out


def per_class_precision(cm: Any) -> np.ndarray:
    """Per-class precision ``(k,)``: ``cm[j, j] / cm[:, j].sum()``; NaN for never-predicted classes.

    Provided to reproduce (on purpose) the upstream notebooks' mislabelled "AA"; see the module doc.
    """
    m = _check_cm(cm)
    predicted = m.sum(axis=0)
    out = np.full(m.shape[0], np.nan)
    has = predicted > 0
    out[has] = np.diag(m)[has] / predicted[has]
    return out


def average_accuracy(cm: Any) -> float:
    """AA = mean per-class recall over the classes that have at least one true pixel."""
    acc = per_class_accuracy(cm)
    return float(np.mean(acc[~np.isnan(acc)]))


def cohen_kappa(cm: Any) -> float:
    """Cohen's kappa ``(p_o - p_e) / (1 - p_e)`` (Cohen 1960).

    ``p_o`` = OA, ``p_e`` = sum over classes of (true marginal x predicted marginal) / n².
    Degenerate case: when ``p_e == 1`` (every true and every predicted label is the same single
    class), the ratio is 0/0; we return 1.0 there (perfect agreement; scikit-learn returns NaN).
    """
    m = _check_cm(cm)
    n = m.sum()
    p_o = np.trace(m) / n
    p_e = float(np.dot(m.sum(axis=1), m.sum(axis=0)) / (n * n))
    if np.isclose(p_e, 1.0, rtol=0.0, atol=1e-15):
        return 1.0
    return float((p_o - p_e) / (1.0 - p_e))


@dataclass(frozen=True)
class ClassificationReport:
    """Everything :func:`classification_report` computes.

    Attributes:
        confusion: ``(k, k)`` int64 counts, rows = true, columns = predicted.
        oa: overall accuracy in [0, 1].
        aa: mean per-class recall in [0, 1] (classes without true pixels left out).
        kappa: Cohen's kappa in [-1, 1].
        per_class_accuracy: ``(k,)`` per-class recall, NaN where a class has no true pixel.
        support: ``(k,)`` number of true pixels per class.
    """

    confusion: np.ndarray
    oa: float
    aa: float
    kappa: float
    per_class_accuracy: np.ndarray
    support: np.ndarray

    def as_dict(self) -> dict[str, float]:
        """The scalar metrics, for logging."""
        return {"oa": self.oa, "aa": self.aa, "kappa": self.kappa}


def classification_report(
    y_true: Any,
    y_pred: Any,
    *,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> ClassificationReport:
    """OA, AA, kappa and per-class accuracy in one pass (see :func:`confusion_matrix` for the args)."""
    cm = confusion_matrix(y_true, y_pred, num_classes=num_classes, ignore_index=ignore_index)
    return ClassificationReport(
        confusion=cm,
        oa=overall_accuracy(cm),
        aa=average_accuracy(cm),
        kappa=cohen_kappa(cm),
        per_class_accuracy=per_class_accuracy(cm),
        support=cm.sum(axis=1),
    )
