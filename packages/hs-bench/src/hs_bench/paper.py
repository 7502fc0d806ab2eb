"""The HyperSIGMA paper's headline numbers, shown beside the leaderboard where a dataset matches.

Source: the per-dataset spokes of the radar chart of the official repository (``Fig/radarimg.png`` at
commit 07e9ea2, identical to the v1 chart on the shared datasets), as transcribed in the project's
reference notes (``shared/reference/hypersigma.md`` section 5.1). The chart does not print metric
names: the metric of each spoke is the notes' reading and is marked *inferred*; compare with care
(the paper's protocols and splits also differ from the leaderboard's, see the hs-tasks README).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PAPER_RESULTS", "PaperNumber", "paper_number"]


@dataclass(frozen=True)
class PaperNumber:
    """One published number: ``value`` of ``metric`` (as printed), HyperSIGMA vs the previous best."""

    metric: str
    value: float
    previous_sota: float
    note: str = "metric inferred from the repository's radar chart (arXiv 2406.11519)"


# (hs-data task, hs-data dataset name) -> number. Values are as printed (percent, dB or absolute).
PAPER_RESULTS: dict[tuple[str, str], PaperNumber] = {
    ("classification", "indian_pines"): PaperNumber("OA %", 85.54, 72.75),
    ("classification", "pavia_university"): PaperNumber("OA %", 93.52, 93.11),
    ("classification", "whu_hi_hanchuan"): PaperNumber("OA %", 94.44, 90.43),
    ("classification", "whu_hi_honghu"): PaperNumber("OA %", 94.87, 91.86),
    ("classification", "houston2013"): PaperNumber("OA %", 86.80, 85.95),
    ("classification", "zy1_02d"): PaperNumber("OA %", 94.92, 92.49),
    ("target_detection", "mosaic_htd"): PaperNumber("AUC(Pf,Pd) %", 99.56, 99.44),
    ("target_detection", "aviris_htd"): PaperNumber("AUC(Pf,Pd) %", 99.83, 99.83),
    ("target_detection", "renourban_htd"): PaperNumber("AUC(Pf,Pd) %", 99.86, 94.98),
    ("anomaly_detection", "pavia_had"): PaperNumber("AUC %", 99.96, 99.94),
    ("anomaly_detection", "cri_had"): PaperNumber("AUC %", 99.32, 99.28),
    ("anomaly_detection", "viareggio_had"): PaperNumber("AUC %", 98.32, 97.28),
    ("change_detection", "hermiston"): PaperNumber("F1 or kappa x100", 91.74, 90.71),
    ("change_detection", "farmland"): PaperNumber("F1 or kappa x100", 95.49, 94.98),
    ("change_detection", "bay_area"): PaperNumber("F1 or kappa x100", 98.93, 98.26),
    ("change_detection", "santa_barbara"): PaperNumber("F1 or kappa x100", 99.04, 98.28),
    ("unmixing", "urban"): PaperNumber("abundance MSE or RMSE (lower is better)", 0.0157, 0.0216),
    ("denoising", "washington_dc_mall"): PaperNumber("MPSNR dB (noise case unknown)", 28.503, 28.097),
    ("super_resolution", "houston2018"): PaperNumber("MPSNR dB (scale likely x4)", 39.940, 39.745),
    ("multispectral_change_detection", "oscd"): PaperNumber("F1 % (likely)", 59.28, 57.20),
}


def paper_number(data_task: str | None, dataset: str) -> PaperNumber | None:
    """The paper's number for a dataset (any task when ``data_task`` is ``None``), if published."""
    if data_task is not None:
        return PAPER_RESULTS.get((data_task, dataset))
    return next((v for (t, d), v in PAPER_RESULTS.items() if d == dataset), None)
