"""The built-in leaderboard profiles (plain mappings in the configuration format of :mod:`hs_bench.config`).

- ``quick`` (the default): the tiny HyperSIGMA (``test_hypersigma``) trained from scratch, with each
  recipe's classical baseline, on every dataset present locally; two seeds; budgets sized so the
  whole run takes minutes on 2 CPU cores.
- ``paper``: HyperSIGMA-B and SpatSIGMA-B from the official checkpoints on the datasets of the
  paper, with the paper's fine-tuning values (``shared/reference/hypersigma.md`` Appendix A: the
  values of the released code, layer decay that now really applies) for a GPU machine. Datasets
  that are not present are listed with how to get them.

Print either with ``hs-bench config --profile NAME`` (TOML); a custom file starts from one with
``extends = "quick"`` and overrides keys.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PAPER", "PROFILES", "QUICK"]

# The search space of `hs-bench tune` (validation split only), shared by both profiles.
_TUNE: dict[str, Any] = {
    "trials": 20,
    "sampler": "tpe",
    "pruner": "median",
    "use_tuned": False,
    "space": {
        "lr": {"low": 1e-5, "high": 1e-2, "log": True},
        "layer_decay": {"low": 0.5, "high": 1.0},
        "weight_decay": {"low": 1e-4, "high": 0.3, "log": True},
    },
}

# Per-task budgets of the quick profile. Keys that name no registered recipe are ignored (with a note),
# so the profile stays valid whichever recipes a checkout has; option names are the recipes' own
# (hs_tasks.tasks.*: CI-sized defaults there, paper values in their comments).
_QUICK_PER_TASK: dict[str, Any] = {
    # Each recipe's own fine-tuning defaults (learning rate, batch size... sized for a tiny model
    # trained from scratch) with about half its epochs.
    "classification": {"finetune": {"epochs": 30}},
    "classification_image": {"finetune": {"epochs": 30}},
    "target_detection": {"finetune": {"epochs": 6}},
    "anomaly_detection": {"finetune": {"epochs": 6}},
    "change_detection": {"finetune": {"epochs": 10}},
    # 800 x 800 Nanjing pair: non-overlapping 64-pixel crops for training and evaluation
    "multispectral_change_detection": {
        "finetune": {"epochs": 6},
        "options": {"stride": 64, "eval_stride": 64},
    },
    "unmixing": {"finetune": {"epochs": 12}},
    "denoising": {
        "finetune": {"epochs": 10},
        # 90 x 90 pixels: 32-pixel tiles leave too few training rows beside the test and validation bands
        "per_dataset": {"aviris_gatorsense": {"options": {"tile": 16}}},
    },
    "super_resolution": {"finetune": {"epochs": 10}},
}

QUICK: dict[str, Any] = {
    "name": "quick",
    "description": (
        "tiny HyperSIGMA (test_hypersigma) trained from scratch on CPU, with each task's classical "
        "baseline, on every dataset present locally"
    ),
    "models": ["test_hypersigma"],
    "seeds": [0, 1],
    "tasks": "all",
    "datasets": "present",
    "synthetic": True,
    "pretrained": "none",
    "device": "cpu",
    # No global values: a FinetuneConfig field left at its generic default takes the recipe's own
    # default (hs_tasks.resolve_finetune), which each recipe sizes for a tiny model from scratch.
    "finetune": {},
    # The per-row budgets: epochs and training samples per task, sized so that every (task, dataset)
    # present here, two seeds each, fits the profile's time target (README: "Quick profile: time").
    # Evaluation always covers the recipe's whole test split; only training is shortened.
    "per_task": _QUICK_PER_TASK,
    "tune": {**_TUNE, "trials": 12, "space": {**_TUNE["space"], "epochs": {"low": 2, "high": 10}}},
}

PAPER: dict[str, Any] = {
    "name": "paper",
    "description": (
        "HyperSIGMA-B and SpatSIGMA-B from the official checkpoints with the paper's fine-tuning "
        "values, on the paper's datasets (GPU)"
    ),
    "models": ["hypersigma_base", "spatial_vit_base"],
    "seeds": [0, 1, 2],
    "tasks": "all",
    "datasets": "paper",
    "synthetic": False,
    "pretrained": "official",
    "device": "cuda",
    "checkpoints": True,
    "finetune": {"epochs": 100, "batch_size": 64, "lr": 6e-5, "weight_decay": 0.05, "layer_decay": 0.9},
    # Appendix A of the reference notes (values of the released code, per task).
    "per_task": {
        "classification": {"finetune": {"epochs": 100, "batch_size": 64, "lr": 6e-5, "weight_decay": 0.05}},
        "target_detection": {"finetune": {"epochs": 10, "batch_size": 2, "lr": 6e-5, "weight_decay": 5e-4}},
        "anomaly_detection": {"finetune": {"epochs": 10, "batch_size": 1, "lr": 6e-5, "weight_decay": 5e-4}},
        "change_detection": {"finetune": {"epochs": 50, "batch_size": 32, "lr": 6e-5, "weight_decay": 0.05}},
        "unmixing": {"finetune": {"epochs": 200, "batch_size": 32, "lr": 1e-3, "weight_decay": 0.05}},
        "denoising": {
            "finetune": {"epochs": 100, "batch_size": 4, "lr": 1e-4, "weight_decay": 1e-4, "warmup_epochs": 2}
        },
        "super_resolution": {"finetune": {"epochs": 350, "batch_size": 1, "lr": 6e-5, "weight_decay": 0.0}},
        "multispectral_change_detection": {
            "finetune": {"epochs": 100, "batch_size": 64, "lr": 1e-4, "weight_decay": 5e-4}
        },
    },
    "tune": {**_TUNE, "space": {**_TUNE["space"], "lr": {"low": 1e-5, "high": 1e-3, "log": True}}},
}

PROFILES: dict[str, dict[str, Any]] = {"quick": QUICK, "paper": PAPER}
