"""Classical, backbone-free baselines: one floor per HyperSIGMA leaderboard row.

* Classification: :class:`~hs_tasks.baselines.svm.RBFSVM` and :func:`~hs_tasks.baselines.svm.fit_svm`
  (RBF SVM on spectra, C/γ by cross-validation on training pixels).
* Target detection: :func:`~hs_tasks.baselines.detection.cem`, :func:`~hs_tasks.baselines.detection.ace`.
* Anomaly detection: :func:`~hs_tasks.baselines.detection.rx` (global),
  :func:`~hs_tasks.baselines.detection.local_rx` (dual window).
* Change detection: :func:`~hs_tasks.baselines.change_detection.change_vector_analysis` (+ Otsu).
* Unmixing: :func:`~hs_tasks.baselines.unmixing.vca` + :func:`~hs_tasks.baselines.unmixing.fcls`.
* Denoising: :func:`~hs_tasks.baselines.denoising.subspace_denoise`.
* Super-resolution: :func:`~hs_tasks.baselines.super_resolution.bicubic_upsample` (MATLAB-style
  bicubic, matching the degradation of :func:`hs_data.synthetic.bicubic_downsample`).
"""

from hs_tasks.baselines.change_detection import CVAResult, change_vector_analysis, otsu_threshold
from hs_tasks.baselines.denoising import SubspaceDenoiseResult, estimate_noise_std, subspace_denoise
from hs_tasks.baselines.detection import ace, cem, local_rx, rx
from hs_tasks.baselines.super_resolution import bicubic_upsample
from hs_tasks.baselines.svm import RBFSVM, CVResult, cross_validate_svm, fit_svm
from hs_tasks.baselines.unmixing import VCAResult, estimate_snr, fcls, vca

__all__ = [
    "RBFSVM",
    "CVAResult",
    "CVResult",
    "SubspaceDenoiseResult",
    "VCAResult",
    "ace",
    "bicubic_upsample",
    "cem",
    "change_vector_analysis",
    "cross_validate_svm",
    "estimate_noise_std",
    "estimate_snr",
    "fcls",
    "fit_svm",
    "local_rx",
    "otsu_threshold",
    "rx",
    "subspace_denoise",
    "vca",
]
