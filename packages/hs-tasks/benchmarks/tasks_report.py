"""Ours against the classical baseline, per (task, dataset): the README's leaderboard table.

Every row is one :class:`Entry`: a registered recipe (:func:`hs_tasks.run_recipe`) on one real scene
(or a clearly named semi-synthetic pair) with a fixed configuration (backbone, seed, options,
fine-tuning budget). The script runs the entries and prints one Markdown row each: the baseline's and
our test scores on the entry's metrics (both on the same split), and the command that reproduces the
row. Budgets are "CPU minutes" on the tiny ``test_*`` backbones trained from scratch; they are longer
than the CI tests but far from the paper's.

Usage, from the repository root, with hs-tasks importable (e.g. the ``tests(hs-tasks)`` nox venv)::

    HS_DATA_ROOT=/path/to/shared/data python packages/hs-tasks/benchmarks/tasks_report.py
    ... tasks_report.py --list                      # the entry names
    ... tasks_report.py --entry unmixing/samson     # one row
    ... tasks_report.py --task denoising --json out.json
    ... tasks_report.py --core                      # one entry per task (the README table)

To add a task or a dataset, append entries to :data:`ENTRIES` (one per (task, dataset, variant)).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch

from hs_tasks import FinetuneConfig, RecipeConfig, RecipeResult, run_recipe


@dataclass(frozen=True)
class Entry:
    """One leaderboard row.

    Attributes:
        task: recipe name.
        dataset: hs-data registry name.
        label: dataset as printed (with the protocol variant, e.g. ``"CAVE, σ=50"``).
        metrics: ``(key, printed name, decimals)`` of the metrics to print; the first is the main one.
        options: recipe options.
        finetune: FinetuneConfig overrides (the budget).
        backbone: backbone registry name.
        seed: run seed.
        core: part of the one-entry-per-task selection (``--core``).
    """

    task: str
    dataset: str
    label: str
    metrics: tuple[tuple[str, str, int], ...]
    options: dict[str, Any] = field(default_factory=dict)
    finetune: dict[str, Any] = field(default_factory=dict)
    backbone: str = "test_hypersigma"
    seed: int = 0
    core: bool = False

    @property
    def name(self) -> str:
        """``task/dataset`` plus the variant and a non-default backbone (what ``--entry`` takes)."""
        variant = "".join(f",{k}={v}" for k, v in sorted(self.options.items()) if k in _VARIANT_KEYS)
        backbone = "" if self.backbone == "test_hypersigma" else f"@{self.backbone}"
        return f"{self.task}/{self.dataset}{variant}{backbone}"


_VARIANT_KEYS = ("noise", "scale", "coarse")
_CLS_M = (("oa", "OA", 4), ("aa", "AA", 4), ("kappa", "kappa", 4))
_DET_M = (("auc_pf_pd", "AUC(Pf,Pd)", 4), ("auc_tau_pf", "AUC(τ,Pf)", 4), ("auc_odp", "AUC ODP", 4))
_HCD_M = (("kappa", "kappa", 4), ("oa", "OA", 4), ("f1", "F1", 4))
_MCD_M = (("f1", "F1", 4), ("iou", "IoU", 4), ("kappa", "kappa", 4), ("oa", "OA", 4))
_UNMIX = (("abundance_rmse", "abundance RMSE", 4), ("mean_sad", "mean SAD (rad)", 4))
_IMAGE = (("mpsnr", "MPSNR", 2), ("mssim", "MSSIM", 4), ("sam", "SAM°", 2), ("ergas", "ERGAS", 2))
_SR = (*_IMAGE, ("cc", "CC", 4), ("rmse", "RMSE", 4))

_CLS_FT = {"epochs": 60, "batch_size": 32, "lr": 1e-3, "layer_decay": 1.0, "warmup_epochs": 3.0}
_SEG_FT = {"epochs": 60, "batch_size": 8, "lr": 1e-3, "layer_decay": 1.0, "warmup_epochs": 3.0}
_DET_FT = {
    "epochs": 10,
    "batch_size": 4,
    "lr": 5e-4,
    "weight_decay": 5e-4,
    "layer_decay": 1.0,
    "warmup_epochs": 1.0,
}
_HCD_FT = {"epochs": 30, "batch_size": 32, "lr": 1e-3, "layer_decay": 1.0, "warmup_epochs": 1.0}
_MCD_FT = {
    "epochs": 20,
    "batch_size": 8,
    "lr": 5e-4,
    "weight_decay": 5e-4,
    "layer_decay": 1.0,
    "warmup_epochs": 1.0,
}
# Budgets cut to CPU minutes: the --core selection (one row per task) runs in about 5 minutes on 2 cores.
_UNMIX_FT = {"epochs": 20, "batch_size": 8}
_DENOISE_FT = {"epochs": 15, "batch_size": 8}
_SR_FT = {"epochs": 20, "batch_size": 8}

_ANOMALY_SCENES = {
    "abu_airport_2": "ABU airport-2",
    "abu_airport_4": "ABU airport-4",
    "abu_urban_2": "ABU urban-2",
    "hydice_urban_had": "HYDICE urban",
    "san_diego_had": "San Diego plane",
    "pavia_car_had": "Pavia car",
}
_TARGET_SCENES = {
    "san_diego_htd": "San Diego cut_1 (prior spectrum)",
    "belcher_bay_htd": "Belcher Bay (prior spectrum)",
    "muufl_gulfport_htd": "MUUFL demo (prior spectrum)",
}

ENTRIES: list[Entry] = [
    # ---- classification (20 labelled pixels per class, 5 of them for validation)
    Entry(
        "classification",
        "salinas_a",
        "Salinas-A (83x86x204), 20 px/class, 15x15 patches",
        _CLS_M,
        {"patch": 15},
        _CLS_FT,
        core=True,
    ),
    Entry(
        "classification",
        "salinas_a",
        "Salinas-A, 20 px/class, SpatSIGMA",
        _CLS_M,
        {"patch": 15},
        _CLS_FT,
        backbone="test_spatial_vit",
    ),
    Entry(
        "classification_image",
        "salinas_a",
        "Salinas-A, 20 px/class, 32x32 tiles",
        _CLS_M,
        {"tile": 32, "stride": 16},
        _SEG_FT,
        core=True,
    ),
    # ---- detection (pseudo-labels from the coarse detector, 0.15 % targets as the released code)
    *(
        Entry(
            "target_detection",
            ds,
            label + ", CEM pseudo-labels 0.15 %",
            _DET_M,
            {"coarse": "cem"},
            _DET_FT,
            core=ds == "san_diego_htd",
        )
        for ds, label in _TARGET_SCENES.items()
    ),
    *(
        Entry(
            "anomaly_detection",
            ds,
            label + ", RX pseudo-labels 0.15 %",
            _DET_M,
            {},
            _DET_FT,
            core=ds == "abu_airport_2",
        )
        for ds, label in _ANOMALY_SCENES.items()
    ),
    # ---- change detection (hyperspectral pairs here are SEMI-SYNTHETIC: implanted changes)
    Entry(
        "change_detection",
        "semisyn_cd_salinas_a",
        "SEMI-SYNTHETIC pair from Salinas-A, 500 + 500 px (capped)",
        _HCD_M,
        {},
        _HCD_FT,
        core=True,
    ),
    Entry(
        "change_detection",
        "semisyn_cd_pavia_car",
        "SEMI-SYNTHETIC pair from Pavia car, 500 + 500 px (capped)",
        _HCD_M,
        {},
        _HCD_FT,
    ),
    Entry(
        "multispectral_change_detection",
        "nanjing",
        "Nanjing Landsat-5 pair (6 bands), disjoint blocks",
        _MCD_M,
        {},
        _MCD_FT,
        core=True,
    ),
    # ---- unmixing, denoising, super-resolution
    Entry(
        "unmixing",
        "samson",
        "Samson (95x95x156, 3 em.)",
        _UNMIX,
        {"patches_per_epoch": 64},
        _UNMIX_FT,
        core=True,
    ),
    Entry(
        "unmixing",
        "jasper_ridge",
        "Jasper Ridge (100x100x198, 4 em.)",
        _UNMIX,
        {"patches_per_epoch": 64},
        _UNMIX_FT,
    ),
    Entry(
        "denoising",
        "cave_chart_and_stuffed_toy",
        "CAVE chart+toy (256x256x31), Gaussian σ=50/255 (blind training)",
        _IMAGE,
        {"noise": "gaussian", "patches_per_epoch": 32},
        _DENOISE_FT,
        core=True,
    ),
    Entry(
        "denoising",
        "cave_chart_and_stuffed_toy",
        "CAVE chart+toy, complex noise case 5",
        _IMAGE,
        {"noise": "complex"},
        _DENOISE_FT,
    ),
    Entry(
        "denoising",
        "aviris_gatorsense",
        "GatorSense AVIRIS (90x90x224), Gaussian σ=50/255",
        _IMAGE,
        {"noise": "gaussian", "tile": 16},
        _DENOISE_FT,
    ),
    Entry(
        "super_resolution",
        "pavia_car_had",
        "Pavia crop (80x100x102), x4",
        _SR,
        {"scale": 4, "patches_per_epoch": 32},
        _SR_FT,
        core=True,
    ),
    Entry("super_resolution", "pavia_car_had", "Pavia crop, x8", _SR, {"scale": 8}, _SR_FT),
    Entry(
        "super_resolution",
        "paris_eo1_hs_ms",
        "Paris EO-1 (72x72x128), x4",
        _SR,
        {"scale": 4},
        _SR_FT,
    ),
    Entry("super_resolution", "paris_eo1_hs_ms", "Paris EO-1, x8", _SR, {"scale": 8}, _SR_FT),
]


def run_entry(entry: Entry, epochs: int | None = None) -> RecipeResult:
    """Run one entry's recipe (``epochs``: override the entry's budget)."""
    budget = dict(entry.finetune) | ({"epochs": epochs} if epochs else {})
    config = RecipeConfig(
        backbone=entry.backbone,
        seed=entry.seed,
        options=dict(entry.options),
        finetune=FinetuneConfig(progress=False, **budget),
    )
    return run_recipe(entry.task, entry.dataset, config)


def _scores(values: dict[str, float], metrics: tuple[tuple[str, str, int], ...]) -> str:
    return " / ".join(f"{values[k]:.{d}f}" if k in values else "—" for k, _, d in metrics)


def row(entry: Entry, result: RecipeResult, extra: str = "") -> str:
    """The Markdown row of one finished entry."""
    names = " / ".join(n for _, n, _ in entry.metrics)
    main, _, _ = entry.metrics[0]
    ours, base = result.metrics[main], result.baseline.get(main, float("nan"))
    better = ours > base if result.higher_is_better else ours < base
    verdict = "**ours**" if better else ("no baseline" if base != base else "baseline")
    command = f"`python packages/hs-tasks/benchmarks/tasks_report.py --entry '{entry.name}'{extra}`"
    base = f"{result.baseline_name}: {_scores(result.baseline, entry.metrics)}"
    ours_text = f"{entry.backbone}: {_scores(result.metrics, entry.metrics)}"
    cells = [entry.task, entry.label, names, base, ours_text, verdict, f"{result.seconds:.0f}", command]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| task | dataset | metrics (first = main) | baseline | ours | better on main | seconds | command |\n"
    "|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entry", action="append", help="run only this entry (repeatable; see --list)")
    parser.add_argument("--task", action="append", help="run only this task's entries (repeatable)")
    parser.add_argument("--core", action="store_true", help="run only the one-entry-per-task selection")
    parser.add_argument(
        "--epochs", type=int, help="override every chosen entry's epoch budget (smaller runs)"
    )
    parser.add_argument("--list", action="store_true", help="print the entry names and exit")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: tiny models)")
    parser.add_argument("--json", help="also write every result's metrics and timing to this file")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(e.name for e in ENTRIES))
        return 0
    chosen = [
        e
        for e in ENTRIES
        if (not args.entry or e.name in args.entry)
        and (not args.task or e.task in args.task)
        and (not args.core or e.core)
    ]
    if not chosen:
        print(f"no entry matches; known: {[e.name for e in ENTRIES]}", file=sys.stderr)
        return 2
    if not os.environ.get("HS_DATA_ROOT"):
        print("set HS_DATA_ROOT to the benchmark data folder (see MANIFEST.md there)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    print(HEADER, flush=True)
    records = []
    start = time.perf_counter()
    for entry in chosen:
        result = run_entry(entry, args.epochs)
        print(row(entry, result, f" --epochs {args.epochs}" if args.epochs else ""), flush=True)
        records.append(
            {
                "entry": entry.name,
                "config": dataclasses.asdict(entry),
                "metrics": result.metrics,
                "baseline": result.baseline,
                "baseline_name": result.baseline_name,
                "seconds": result.seconds,
                "split": result.split,
            }
        )
    print(f"\n({time.perf_counter() - start:.0f} s, {args.threads} thread(s))", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
