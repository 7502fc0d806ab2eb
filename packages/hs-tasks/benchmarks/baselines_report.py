"""Print the table of classical-baseline figures on the real scenes (the README table).

Usage, from the repository root::

    HS_DATA_ROOT=/path/to/shared/data python packages/hs-tasks/benchmarks/baselines_report.py

(with hs-tasks importable, e.g. inside the ``tests(hs-tasks)`` nox venv). It reuses the test suite's
loaders (``tests/realdata.py``) and the same seeds and settings as the quality-floor tests, and
prints one Markdown row per figure. Runs in well under a minute on 2 cores.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from hs_data.synthetic import make_sr_pair

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from realdata import load_mat, load_nanjing, load_scene, load_unmixing

from hs_tasks.baselines import (
    ace,
    bicubic_upsample,
    cem,
    change_vector_analysis,
    fcls,
    fit_svm,
    local_rx,
    rx,
    subspace_denoise,
    vca,
)
from hs_tasks.metrics import (
    auc_pf_pd,
    change_detection_report,
    classification_report,
    detection_aucs,
    image_quality,
    unmixing_report,
)

Row = tuple[str, str, str, str, str]


def classification() -> list[Row]:
    cube = load_mat("classification/salinas_a/SalinasA_corrected.mat")["salinasA_corrected"].astype(float)
    gt = load_mat("classification/salinas_a/SalinasA_gt.mat")["salinasA_gt"].astype(np.int64).ravel()
    pixels = cube.reshape(-1, cube.shape[-1])
    g = np.random.default_rng(0)
    train = np.concatenate([g.permutation(np.flatnonzero(gt == c))[:20] for c in np.unique(gt[gt > 0])])
    test = np.setdiff1d(np.flatnonzero(gt > 0), train)
    model, cv = fit_svm(pixels[train], gt[train])
    rep = classification_report(gt[test], model.predict(pixels[test]), num_classes=15)
    what = f"OA / AA / κ (20 px/class, CV C={cv.C:g}, γ·c={cv.gamma * pixels.shape[1]:g})"
    return [
        ("classification", "Salinas-A", "RBF SVM", what, f"{rep.oa:.4f} / {rep.aa:.4f} / {rep.kappa:.4f}")
    ]


ANOMALY = [
    ("ABU airport-2", "anomaly_detection/abu/abu-airport-2.mat", "data", "map"),
    ("ABU airport-4", "anomaly_detection/abu/abu-airport-4.mat", "data", "map"),
    ("ABU urban-2", "anomaly_detection/abu/abu-urban-2.mat", "data", "map"),
    ("HYDICE urban", "anomaly_detection/hydice_urban/HYDICE_urban.mat", "hsi", "hsi_gt"),
    ("San Diego plane", "anomaly_detection/san_diego/sandiego_plane.mat", "data", "map"),
    ("Pavia (car)", "anomaly_detection/pavia/pavia_car.mat", "data", "map"),
]


def anomaly() -> list[Row]:
    rows: list[Row] = []
    for name, rel, ck, mk in ANOMALY:
        cube, truth = load_scene(rel, ck, mk)
        a = detection_aucs(rx(cube), truth)
        rows.append(
            (
                "anomaly detection",
                name,
                "global RX",
                "AUC(Pf,Pd) / AUC(τ,Pd) / AUC(τ,Pf)",
                f"{a.auc_pf_pd:.4f} / {a.auc_tau_pd:.4f} / {a.auc_tau_pf:.4f}",
            )
        )
        lrx = auc_pf_pd(local_rx(cube, outer=15, inner=5, n_components=10), truth)
        rows.append(("anomaly detection", name, "local RX (15/5, 10 PCs)", "AUC(Pf,Pd)", f"{lrx:.4f}"))
    return rows


def target() -> list[Row]:
    rows: list[Row] = []
    cube, truth = load_scene("target_detection/san_diego/cut_1.mat", "data", "map")
    prior = load_mat("target_detection/san_diego/cut_1_target.mat")["target"].ravel()
    d = load_mat("target_detection/muufl_gulfport/an_hsi_img_for_tgt_det_demo.mat")
    muufl = (
        np.moveaxis(d["hsi_sub"].astype(float), -1, 0),
        d["gtImg_sub"].astype(bool),
        d["tgt_spectra"].ravel(),
    )
    belcher, btruth = load_scene("target_detection/belcher_bay/Belcher.mat", "data", "map")
    bprior = load_mat("target_detection/belcher_bay/target.mat")["target"].ravel()
    scenes = [
        ("San Diego cut_1 (prior spectrum)", cube, truth, prior),
        ("MUUFL demo (3 targets)", *muufl),
        ("Belcher Bay (prior spectrum)", belcher, btruth, bprior),
    ]
    for name, c, t, p in scenes:
        for fn in (cem, ace):
            a = detection_aucs(fn(c, p), t)
            rows.append(
                (
                    "target detection",
                    name,
                    fn.__name__.upper(),
                    "AUC(Pf,Pd) / AUC_OD / AUC_SNPR",
                    f"{a.auc_pf_pd:.4f} / {a.auc_od:.4f} / {a.auc_snpr:.3f}",
                )
            )
    return rows


def change() -> list[Row]:
    pre, post, changed, labelled = load_nanjing()
    result = change_vector_analysis(pre, post)
    rep = change_detection_report(result.change_map, changed, mask=labelled)
    auc = auc_pf_pd(result.magnitude, changed, mask=labelled)
    return [
        (
            "change detection (MS)",
            "Nanjing Landsat-5 (labelled px)",
            "CVA + Otsu",
            "OA / κ / F1 / P / R / IoU (AUC)",
            f"{rep.oa:.4f} / {rep.kappa:.4f} / {rep.f1:.4f} / {rep.precision:.4f} / {rep.recall:.4f} / "
            f"{rep.iou:.4f} ({auc:.4f})",
        )
    ]


def unmixing() -> list[Row]:
    rows: list[Row] = []
    for name, key, e in (("Samson", "samson", 3), ("Jasper Ridge", "jasper_ridge", 4)):
        cube, m, a = load_unmixing(key)
        found = vca(cube, e, seed=0)
        rep = unmixing_report(m, found.endmembers, a, fcls(cube, found.endmembers))
        sads = ", ".join(f"{v:.3f}" for v in rep.sad)
        rows.append(
            (
                "unmixing",
                name,
                "VCA + FCLS (seed 0)",
                "SAD rad per em. (mean) / abundance RMSE",
                f"[{sads}] ({rep.mean_sad:.4f}) / {rep.mean_abundance_rmse:.4f}",
            )
        )
    return rows


def denoising() -> list[Row]:
    clean = np.moveaxis(
        load_mat("denoising/cave/chart_and_stuffed_toy_ms_256.mat")["NRD"].astype(float), -1, 0
    )
    clean /= clean.max()
    rows: list[Row] = []
    for sigma in (0.05, 0.1):
        noisy = clean + sigma * np.random.default_rng(0).normal(size=clean.shape)
        before = image_quality(clean, noisy, data_range=1.0)
        after = image_quality(clean, subspace_denoise(noisy).denoised, data_range=1.0)
        rows.append(
            (
                "denoising",
                f"CAVE chart+toy, σ={sigma}",
                "subspace + Lee filter",
                "MPSNR noisy → denoised / MSSIM / SAM°",
                f"{before.mpsnr:.2f} → {after.mpsnr:.2f} / {after.mssim:.4f} / {after.sam:.2f}",
            )
        )
    return rows


def super_resolution() -> list[Row]:
    rows: list[Row] = []
    pavia = np.moveaxis(load_mat("anomaly_detection/pavia/pavia_car.mat")["data"].astype(float), -1, 0)
    paris = np.moveaxis(load_mat("super_resolution/paris_eo1/paris_data_hs_ms.mat")["HSim"], -1, 0)
    for name, hr in (("Pavia crop", pavia), ("Paris EO-1", paris)):
        for s in (4, 8):
            pair = make_sr_pair(hr / hr.max(), s)  # hs-data's degradation (MATLAB bicubic)
            up = bicubic_upsample(pair["image_lr"], s, clamp=(0.0, 1.0))
            q = image_quality(pair["image_hr"], up, data_range=1.0, scale=s)
            size = "x".join(map(str, pair["image_hr"].shape[1:]))
            rows.append(
                (
                    "super-resolution",
                    f"{name} (HR {size}), x{s}",
                    "bicubic",
                    "MPSNR / MSSIM / SAM° / ERGAS / CC",
                    f"{q.mpsnr:.2f} / {q.mssim:.4f} / {q.sam:.2f} / {q.ergas:.2f} / {q.cc:.4f}",
                )
            )
    return rows


SECTIONS: list[Callable[[], list[Row]]] = [
    classification,
    target,
    anomaly,
    change,
    unmixing,
    denoising,
    super_resolution,
]


def main() -> int:
    if not os.environ.get("HS_DATA_ROOT"):
        print("set HS_DATA_ROOT to the benchmark data folder (see MANIFEST.md there)", file=sys.stderr)
        return 2
    start = time.perf_counter()
    print("| task | dataset | baseline | metric | value |")
    print("|---|---|---|---|---|")
    for section in SECTIONS:
        for row in section():
            print("| " + " | ".join(row) + " |")
    print(f"\n({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
