"""Target / anomaly detection metrics: ROC curve, AUC(Pf, Pd) and the 3-D ROC AUC family.

Shapes: ``scores`` and ``target`` have any identical shape (``(h, w)`` maps, ``(p,)`` pixels);
``mask`` (optional) has the same shape and selects the evaluated pixels.

Definitions (C.-I Chang, "An effective evaluation tool for hyperspectral target detection: 3D
receiver operating characteristic curve analysis", IEEE TGRS 59(6):5131-5153, 2021,
doi:10.1109/TGRS.2020.3021671):

* A pixel is declared a detection at threshold ``τ`` when its score is ``>= τ``.
  ``Pd(τ)`` = fraction of target pixels detected, ``Pf(τ)`` = fraction of background pixels detected.
* ``AUC(Pf, Pd)``: area under the 2-D ROC curve (the usual AUC). It is computed by the trapezoid rule
  on the curve whose vertices are the **distinct** score values (plus (0, 0)), so tied scores form
  one diagonal segment and count one half; this equals the Mann-Whitney U statistic divided by
  ``n_target * n_background``.
* ``AUC(τ, Pd)`` and ``AUC(τ, Pf)``: areas under ``Pd(τ)`` and ``Pf(τ)`` for ``τ`` in [0, 1], so the
  scores must be normalised to [0, 1] (min-max over the evaluated pixels, ``normalize=True``).
* Derived (Chang 2021): ``AUC_TD = AUC(Pf,Pd) + AUC(τ,Pd)`` (target detectability),
  ``AUC_BS = AUC(Pf,Pd) - AUC(τ,Pf)`` (background suppressibility),
  ``AUC_TDBS = AUC(τ,Pd) - AUC(τ,Pf)``, ``AUC_ODP = AUC(τ,Pd) + 1 - AUC(τ,Pf)``,
  ``AUC_OD = AUC(Pf,Pd) + AUC(τ,Pd) - AUC(τ,Pf)`` (overall detection) and
  ``AUC_SNPR = AUC(τ,Pd) / AUC(τ,Pf)`` (signal-to-noise probability ratio).

HyperSIGMA reports five of them (reference notes §4.2, ``comput_AUC_scores``): auc1 = AUC(Pf,Pd),
auc2 = AUC(τ,Pf), auc3 = AUC(τ,Pd), auc4 = AUC_OD, auc5 = AUC_SNPR, on min-max normalised scores.

Deliberate differences from upstream (``Target_Detection/func.py:163-181``):

* ``tau_integration="step"`` (default) integrates the exact step functions ``Pd(τ)``/``Pf(τ)``; with
  normalised scores ``u`` in [0, 1] this equals ``mean(u[target])`` / ``mean(u[background])``.
  Upstream integrates the straight lines between consecutive thresholds (trapezoid rule over
  scikit-learn's thresholds), which adds half a step at each threshold. ``tau_integration=
  "trapezoid"`` reproduces that rule.
* Upstream drops the (0, 0) vertex of the (Pf, Pd) curve, which loses a triangle when the top
  score is shared by target and background pixels; we keep it (the Mann-Whitney identity holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hs_tasks._utils import as_bool_array, as_float_array, check_same_shape

__all__ = [
    "DetectionAUCs",
    "RocCurve",
    "auc_pf_pd",
    "detection_aucs",
    "minmax_normalize",
    "roc_curve",
]


@dataclass(frozen=True)
class RocCurve:
    """Vertices of the ROC curve, one per distinct score value, from the highest threshold down.

    Attributes:
        thresholds: ``(m + 1,)`` decreasing; ``thresholds[0] = +inf`` (nothing detected), then each
            distinct score value.
        pf: ``(m + 1,)`` false-alarm probability at each threshold, from 0 up to 1.
        pd: ``(m + 1,)`` detection probability at each threshold, from 0 up to 1.
    """

    thresholds: np.ndarray
    pf: np.ndarray
    pd: np.ndarray


@dataclass(frozen=True)
class DetectionAUCs:
    """The 3-D ROC AUC family of Chang (2021); see the module docstring for the definitions."""

    auc_pf_pd: float
    auc_tau_pd: float
    auc_tau_pf: float
    auc_od: float
    auc_snpr: float
    auc_td: float
    auc_bs: float
    auc_tdbs: float
    auc_odp: float

    def as_dict(self) -> dict[str, float]:
        """All values keyed by name (for logging)."""
        return dict(self.__dict__)

    def upstream_five(self) -> tuple[float, float, float, float, float]:
        """The five numbers of HyperSIGMA's ``comput_AUC_scores``, in its order (auc1..auc5)."""
        return (self.auc_pf_pd, self.auc_tau_pf, self.auc_tau_pd, self.auc_od, self.auc_snpr)


def _prepare(scores: Any, target: Any, mask: Any | None) -> tuple[np.ndarray, np.ndarray]:
    s = as_float_array(scores, "scores")
    t = as_bool_array(target, "target")
    check_same_shape(s, t, "scores", "target")
    if mask is not None:
        m = as_bool_array(mask, "mask")
        check_same_shape(m, s, "mask", "scores")
        s, t = s[m], t[m]
    s, t = s.ravel(), t.ravel()
    n_pos = int(t.sum())
    n_neg = int(t.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            "detection metrics need at least one target and one background pixel among the evaluated "
            f"pixels, got {n_pos} target and {n_neg} background"
        )
    return s, t


def minmax_normalize(scores: Any) -> np.ndarray:
    """Scale ``scores`` linearly to [0, 1]; a constant map becomes all zeros (no information)."""
    s = as_float_array(scores, "scores")
    lo, hi = s.min(), s.max()
    if hi == lo:
        return np.zeros_like(s)
    return (s - lo) / (hi - lo)


def _curve(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct thresholds (decreasing) with the detected target / background fractions."""
    values, inverse = np.unique(s, return_inverse=True)  # increasing
    pos = np.bincount(inverse, weights=t.astype(np.float64), minlength=values.size)
    neg = np.bincount(inverse, weights=(~t).astype(np.float64), minlength=values.size)
    # reverse to decreasing thresholds; cumulative counts of pixels with score >= threshold
    values, pos, neg = values[::-1], pos[::-1], neg[::-1]
    pd = np.cumsum(pos) / t.sum()
    pf = np.cumsum(neg) / (t.size - t.sum())
    return values, pf, pd


def roc_curve(scores: Any, target: Any, *, mask: Any | None = None) -> RocCurve:
    """ROC vertices of a detector (higher score = more target-like).

    Args:
        scores: detector output, any shape.
        target: binary ground truth (1/True = target or anomaly), same shape.
        mask: optional binary map of the pixels to evaluate (e.g. test pixels only), same shape.

    Returns:
        :class:`RocCurve` with ``pf`` and ``pd`` from (0, 0) to (1, 1).

    Raises:
        ValueError: shapes differ, non-binary target/mask, non-finite scores, or no target or no
            background pixel among the evaluated ones.
    """
    s, t = _prepare(scores, target, mask)
    values, pf, pd = _curve(s, t)
    return RocCurve(
        thresholds=np.concatenate([[np.inf], values]),
        pf=np.concatenate([[0.0], pf]),
        pd=np.concatenate([[0.0], pd]),
    )


def _trapezoid(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def auc_pf_pd(scores: Any, target: Any, *, mask: Any | None = None) -> float:
    """Area under the (Pf, Pd) ROC curve; ties count one half (Mann-Whitney U / (n_t n_b))."""
    curve = roc_curve(scores, target, mask=mask)
    return _trapezoid(curve.pf, curve.pd)


def _ratio(num: float, den: float) -> float:
    if den > 0:
        return num / den
    return float("inf") if num > 0 else float("nan")


def detection_aucs(
    scores: Any,
    target: Any,
    *,
    mask: Any | None = None,
    normalize: bool = True,
    tau_integration: Literal["step", "trapezoid"] = "step",
) -> DetectionAUCs:
    """AUC(Pf, Pd), AUC(τ, Pd), AUC(τ, Pf) and the derived 3-D ROC measures of Chang (2021).

    Args:
        scores: detector output, any shape.
        target: binary ground truth, same shape.
        mask: optional binary map of evaluated pixels.
        normalize: min-max normalise the evaluated scores to [0, 1] first (as HyperSIGMA does). If
            False, the scores must already lie in [0, 1].
        tau_integration: ``"step"`` = exact integral of the step functions (default);
            ``"trapezoid"`` = straight lines between consecutive thresholds (upstream's rule).

    Returns:
        :class:`DetectionAUCs`. ``auc_snpr`` is ``inf`` when ``AUC(τ, Pf) == 0 < AUC(τ, Pd)`` and
        NaN when both are 0 (e.g. a constant score map, which normalises to all zeros).

    Raises:
        ValueError: as :func:`roc_curve`; also scores outside [0, 1] with ``normalize=False`` or an
            unknown ``tau_integration``.
    """
    if tau_integration not in ("step", "trapezoid"):
        raise ValueError(f"tau_integration must be 'step' or 'trapezoid', got {tau_integration!r}")
    s, t = _prepare(scores, target, mask)
    if normalize:
        s = minmax_normalize(s)
    elif s.min() < 0.0 or s.max() > 1.0:
        raise ValueError(
            f"scores must lie in [0, 1] when normalize=False, found range [{s.min()}, {s.max()}]"
        )
    values, pf, pd = _curve(s, t)
    auc_fd = _trapezoid(np.concatenate([[0.0], pf]), np.concatenate([[0.0], pd]))
    if tau_integration == "step":
        # Pd(τ) is constant (= pd[j]) for τ in (values[j + 1], values[j]] and 0 above values[0].
        widths = values - np.concatenate([values[1:], [0.0]])
        auc_td_tau = float(np.sum(widths * pd))
        auc_tf_tau = float(np.sum(widths * pf))
    else:
        # values decrease, so integrate over the reversed (increasing) grid.
        auc_td_tau = _trapezoid(values[::-1], pd[::-1])
        auc_tf_tau = _trapezoid(values[::-1], pf[::-1])
    return DetectionAUCs(
        auc_pf_pd=auc_fd,
        auc_tau_pd=auc_td_tau,
        auc_tau_pf=auc_tf_tau,
        auc_od=auc_fd + auc_td_tau - auc_tf_tau,
        auc_snpr=_ratio(auc_td_tau, auc_tf_tau),
        auc_td=auc_fd + auc_td_tau,
        auc_bs=auc_fd - auc_tf_tau,
        auc_tdbs=auc_td_tau - auc_tf_tau,
        auc_odp=auc_td_tau + 1.0 - auc_tf_tau,
    )
