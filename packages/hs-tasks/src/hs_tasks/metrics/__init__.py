"""Metrics of the seven HyperSIGMA tasks, backbone-free: pure functions on numpy arrays or tensors.

One module per task family (each documents its conventions and every deliberate difference from
the upstream scripts):

* :mod:`~hs_tasks.metrics.classification`: confusion matrix (rows = true), OA, AA, kappa.
* :mod:`~hs_tasks.metrics.detection`: ROC, AUC(Pf, Pd) and the 3-D ROC family (target and anomaly).
* :mod:`~hs_tasks.metrics.change_detection`: OA, kappa, F1, precision, recall, IoU on masked pixels.
* :mod:`~hs_tasks.metrics.unmixing`: SAD per endmember, Hungarian matching, abundance RMSE/MSE.
* :mod:`~hs_tasks.metrics.image_quality`: MPSNR, MSSIM, SAM, ERGAS, CC, RMSE (denoising, SR).
"""

from hs_tasks.metrics.change_detection import ChangeDetectionReport, change_detection_report
from hs_tasks.metrics.classification import (
    ClassificationReport,
    average_accuracy,
    classification_report,
    cohen_kappa,
    confusion_matrix,
    overall_accuracy,
    per_class_accuracy,
    per_class_precision,
)
from hs_tasks.metrics.detection import (
    DetectionAUCs,
    RocCurve,
    auc_pf_pd,
    detection_aucs,
    minmax_normalize,
    roc_curve,
)
from hs_tasks.metrics.image_quality import (
    ImageQualityReport,
    cc,
    ergas,
    image_quality,
    mpsnr,
    mssim,
    psnr_per_band,
    rmse,
    sam,
    ssim_per_band,
)
from hs_tasks.metrics.unmixing import (
    UnmixingReport,
    match_endmembers,
    sad_matrix,
    spectral_angle,
    unmixing_report,
)

__all__ = [
    "ChangeDetectionReport",
    "ClassificationReport",
    "DetectionAUCs",
    "ImageQualityReport",
    "RocCurve",
    "UnmixingReport",
    "auc_pf_pd",
    "average_accuracy",
    "cc",
    "change_detection_report",
    "classification_report",
    "cohen_kappa",
    "confusion_matrix",
    "detection_aucs",
    "ergas",
    "image_quality",
    "match_endmembers",
    "minmax_normalize",
    "mpsnr",
    "mssim",
    "overall_accuracy",
    "per_class_accuracy",
    "per_class_precision",
    "psnr_per_band",
    "rmse",
    "roc_curve",
    "sad_matrix",
    "sam",
    "spectral_angle",
    "ssim_per_band",
    "unmixing_report",
]
