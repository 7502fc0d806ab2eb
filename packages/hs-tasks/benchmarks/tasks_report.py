"""Ours vs the classical baseline, one row per (task, dataset): the honest comparison of the README.

Every row runs ``hs_tasks.run_recipe(task, dataset, config)`` with a tiny ``test_*`` backbone trained
from scratch on CPU (minutes per row), and reports the recipe's main metric for the fine-tuned model
and for the classical baseline run on the same split. The rows are data (:data:`ENTRIES`); add a task
by adding entries.

Usage (from the repository root, in an environment with hs-tasks installed, e.g. the nox venv
``.nox/tests-hs-tasks/bin/python``; ``HS_DATA_ROOT`` must point at the shared data)::

    python packages/hs-tasks/benchmarks/tasks_report.py                      # every row
    python packages/hs-tasks/benchmarks/tasks_report.py --only classification:salinas_a
    python packages/hs-tasks/benchmarks/tasks_report.py --only anomaly_detection --seeds 0 1 2
    python packages/hs-tasks/benchmarks/tasks_report.py --json report.json

Prints a Markdown table: task, dataset, metric, baseline, ours (mean ± std over the seeds), the
difference, the wall time, and the command that reproduces the row.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from hs_tasks import FinetuneConfig, RecipeConfig, run_recipe


@dataclass(frozen=True)
class Entry:
    """One row: a recipe on a dataset with its options and fine-tuning budget."""

    task: str
    dataset: str
    backbone: str = "test_hypersigma"
    options: dict[str, Any] = field(default_factory=dict)
    finetune: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.task}:{self.dataset}:{self.backbone}"


_CLS = {"epochs": 60, "batch_size": 32, "lr": 1e-3, "layer_decay": 1.0, "warmup_epochs": 3.0}
_SEG = {"epochs": 60, "batch_size": 8, "lr": 1e-3, "layer_decay": 1.0, "warmup_epochs": 3.0}
_DET = {"epochs": 10, "batch_size": 4, "lr": 5e-4, "weight_decay": 5e-4, "layer_decay": 1.0, "warmup_epochs": 1.0}
_HCD = {"epochs": 30, "batch_size": 32, "lr": 1e-3, "layer_decay": 1.0, "warmup_epochs": 1.0}
_MCD = {"epochs": 20, "batch_size": 8, "lr": 5e-4, "weight_decay": 5e-4, "layer_decay": 1.0, "warmup_epochs": 1.0}

ENTRIES: list[Entry] = [
    # ---- Session A: classification, detection, change detection
    Entry("classification", "salinas_a", options={"patch": 15}, finetune=_CLS, note="20 labelled px/class"),
    Entry(
        "classification",
        "salinas_a",
        "test_spatial_vit",
        options={"patch": 15},
        finetune=_CLS,
        note="SpatSIGMA, 20 labelled px/class",
    ),
    Entry("classification_image", "salinas_a", options={"tile": 32, "stride": 16}, finetune=_SEG, note="20 px/class"),
    *(
        Entry("target_detection", ds, options={"coarse": "cem"}, finetune=_DET, note="prior spectrum, 0.15 %")
        for ds in ("san_diego_htd", "belcher_bay_htd", "muufl_gulfport_htd")
    ),
    *(
        Entry("anomaly_detection", ds, finetune=_DET, note="RX pseudo-labels, 0.15 %")
        for ds in (
            "abu_airport_2",
            "abu_airport_4",
            "abu_urban_2",
            "hydice_urban_had",
            "san_diego_had",
            "pavia_car_had",
        )
    ),
    *(
        Entry("change_detection", ds, finetune=_HCD, note="SEMI-SYNTHETIC pair, 500 + 500 px (capped)")
        for ds in ("semisyn_cd_salinas_a", "semisyn_cd_pavia_car")
    ),
    Entry("multispectral_change_detection", "nanjing", finetune=_MCD, note="Landsat-5, disjoint blocks"),
]


def _command(entry: Entry, seeds: list[int]) -> str:
    seed_arg = "" if seeds == [0] else " --seeds " + " ".join(map(str, seeds))
    return f"python packages/hs-tasks/benchmarks/tasks_report.py --only {entry.key}{seed_arg}"


def run_entry(entry: Entry, seed: int) -> dict[str, Any]:
    """Run one row for one seed; returns the metrics of both sides and the time."""
    finetune = FinetuneConfig(progress=False, **entry.finetune)
    config = RecipeConfig(backbone=entry.backbone, options=dict(entry.options), finetune=finetune, seed=seed)
    start = time.perf_counter()
    result = run_recipe(entry.task, entry.dataset, config)
    return {
        "metric": result.main_metric,
        "ours": result.metrics,
        "baseline": result.baseline,
        "baseline_name": result.baseline_name,
        "best_epoch": result.finetune.best_epoch if result.finetune else None,
        "seconds": time.perf_counter() - start,
    }


def _fmt(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="TASK, TASK:DATASET or TASK:DATASET:BACKBONE")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (tiny models: 1)")
    parser.add_argument("--json", default=None, help="also write the raw results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    entries = [
        e
        for e in ENTRIES
        if not args.only or any(e.key == o or e.key.startswith(o + ":") for o in args.only)
    ]
    if not entries:
        print(f"no entry matches {args.only}; known: {[e.key for e in ENTRIES]}", file=sys.stderr)
        return 2
    rows, raw = [], []
    for entry in entries:
        runs = [run_entry(entry, seed) for seed in args.seeds]
        metric = runs[0]["metric"]
        ours = [r["ours"][metric] for r in runs]
        base = [r["baseline"].get(metric, math.nan) for r in runs]
        delta = statistics.mean(ours) - statistics.mean(base)
        rows.append(
            f"| {entry.task} | {entry.dataset} ({entry.note}) | {entry.backbone} | {metric} | "
            f"{runs[0]['baseline_name']}: {_fmt(base)} | {_fmt(ours)} | {delta:+.4f} | "
            f"{statistics.mean(r['seconds'] for r in runs):.0f} s | `{_command(entry, args.seeds)}` |"
        )
        raw.append({"entry": entry.key, "options": entry.options, "finetune": entry.finetune, "runs": runs})
        print(rows[-1], flush=True)
    print()
    print("| task | dataset | backbone | metric | baseline | ours | ours − baseline | time | command |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(raw, fh, indent=1, default=float)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
