"""From a configuration to the list of jobs (task, dataset, model, seed) and of what cannot run here.

Everything a run needs is resolved before the first job starts: tasks come from
:func:`hs_tasks.list_recipes`, datasets from hs-data's registry (``hs_data.list_datasets(task)``) and
their local state (:func:`hs_data.report.dataset_status`), models from hs-backbone's registry, and
pretrained weights from ``weights_dir``. What cannot run (a dataset not present, weights not found)
becomes a :class:`NotRun` entry with the reason and how to get it: nothing is dropped silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hs_bench.config import BenchConfig
from hs_bench.tracking import config_hash
from hs_tasks import FinetuneConfig, RecipeConfig

__all__ = ["Job", "NotRun", "Plan", "build_plan", "dataset_availability", "resolve_pretrained"]

# Sample keys that hold an image: a dataset whose local files give none of them cannot be run.
IMAGE_KEYS = ("image", "image_pre", "image_post", "image_ms", "image_hr", "image_lr")
HYPERSIGMA_WEIGHTS = "https://huggingface.co/WHU-Sigma/HyperSIGMA"


@dataclass
class Job:
    """One recipe run: the unit that is logged, skipped when done, and retried when it failed."""

    task: str
    dataset: str
    model: str
    seed: int
    recipe_config: RecipeConfig
    data_task: str | None
    config_hash: str
    cell_hash: str
    key: dict[str, Any]
    tuned_from: str | None = None

    @property
    def label(self) -> str:
        return f"{self.task} / {self.dataset} / {self.model} / seed {self.seed}"

    @property
    def cell(self) -> tuple[str, str, str]:
        return (self.task, self.dataset, self.model)


@dataclass
class NotRun:
    """A (task, dataset[, model]) the configuration asks for that cannot run here, and why."""

    task: str
    dataset: str
    reason: str
    how_to_get: str = ""
    model: str | None = None
    kind: str = "data"  # "data" | "weights" | "recipe"


@dataclass
class Plan:
    config: BenchConfig
    jobs: list[Job] = field(default_factory=list)
    not_run: list[NotRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def cells(self) -> list[tuple[str, str, str]]:
        return list(dict.fromkeys(j.cell for j in self.jobs))

    def describe(self) -> str:
        """A plain-text listing of the plan (``hs-bench run --dry-run``)."""
        cfg = self.config
        lines = [
            f"configuration {cfg.name!r}: {len(self.jobs)} job(s) = {len(self.cells)} (task, dataset, model) "
            f"x seeds {cfg.seeds}",
            f"results: {cfg.results_dir}   MLflow: {cfg.tracking_uri} (experiment {cfg.experiment!r})",
        ]
        for task, dataset, model in self.cells:
            job = next(j for j in self.jobs if j.cell == (task, dataset, model))
            ft = job.recipe_config.finetune
            tuned = f", tuned from {job.tuned_from}" if job.tuned_from else ""
            lines.append(
                f"  run  {task:<32} {dataset:<30} {model:<18} epochs={ft.epochs} lr={ft.lr:g} "
                f"batch={ft.batch_size}{tuned}"
            )
        for nr in self.not_run:
            who = f" {nr.model}" if nr.model else ""
            lines.append(f"  skip {nr.task:<32} {nr.dataset:<30}{who}: {nr.reason}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def dataset_availability(name: str, root: str | None) -> tuple[bool, str, str]:
    """Whether dataset ``name`` can run from the files present: ``(ok, why not, how to get it)``."""
    from hs_data import get_dataset_info
    from hs_data.report import dataset_status

    info = get_dataset_info(name)
    st = dataset_status(name, root=root)
    how = info.how_to_get or ""
    if st.state == "no-source":
        return False, "no public source known", how or info.notes
    if info.base is not None:
        if st.state == "present":
            return True, "", ""
        base_how = get_dataset_info(info.base).how_to_get
        return False, f"built from {info.base}, which is not present", base_how or how
    if any(k in st.loadable_keys for k in IMAGE_KEYS):
        return True, "", ""
    if st.state == "missing":
        return False, "not present locally", how
    have = ", ".join(st.loadable_keys) or "nothing loadable"
    return False, f"only part of it is present ({have}; no image)", how


def _select_datasets(cfg: BenchConfig, selector: str | list[str], data_task: str | None) -> list[str]:
    from hs_data import list_datasets

    if isinstance(selector, list):
        return list(selector)
    if data_task is None:
        return []
    synthetic = None if cfg.synthetic else False
    if selector == "paper":
        return list_datasets(data_task, synthetic=synthetic, hypersigma=True)
    return list_datasets(data_task, synthetic=synthetic)


def resolve_pretrained(
    spec: Any, model: str, weights_dir: str | None
) -> tuple[str | dict[str, str] | None, str | None, str | None]:
    """``(value for RecipeConfig.pretrained, problem or None, note or None)`` of one model."""
    from hs_backbone import OFFICIAL_CHECKPOINTS

    if isinstance(spec, Mapping):
        spec = spec.get(model, "none")
    if spec in (None, "none"):
        return None, None, None
    if spec == "official":
        names = OFFICIAL_CHECKPOINTS.get(model)
        if names is None:
            return None, None, f"{model}: no official checkpoint exists; trained from scratch"
        if not weights_dir:
            return (
                None,
                f"official checkpoint(s) {', '.join(names)} needed "
                "but weights_dir / HS_WEIGHTS_DIR is not set",
                None,
            )
        paths = [Path(weights_dir) / n for n in names]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            return None, f"official checkpoint(s) not found: {', '.join(missing)}", None
        if len(paths) == 2:
            return {"spatial": str(paths[0]), "spectral": str(paths[1])}, None, None
        return str(paths[0]), None, None
    if isinstance(spec, str):
        path = Path(os.path.expanduser(spec))
        return (str(path), None, None) if path.is_file() else (None, f"checkpoint not found: {path}", None)
    paths_map = {k: str(Path(os.path.expanduser(v))) for k, v in dict(spec).items()}
    missing = [p for p in paths_map.values() if not Path(p).is_file()]
    if missing:
        return None, f"checkpoint(s) not found: {', '.join(missing)}", None
    return paths_map, None, None


TunedLookup = Callable[[str, str, str], "tuple[dict[str, Any], str] | None"]


def build_plan(
    cfg: BenchConfig,
    *,
    tuned: TunedLookup | None = None,
    progress: bool = False,
    availability: Callable[[str, str | None], tuple[bool, str, str]] = dataset_availability,
) -> Plan:
    """Resolve every (task, dataset, model, seed) of ``cfg`` into jobs and not-run entries.

    Args:
        cfg: a validated configuration.
        tuned: ``(task, dataset, model) -> (finetune values, study name) or None``; used when
            ``cfg.tune['use_tuned']`` is true (see :func:`hs_bench.tune.tuned_lookup`).
        progress: the value of ``FinetuneConfig.progress`` (per-epoch bars inside each job).
        availability: ``(dataset, data_root) -> (ok, why not, how to get it)``.
    """
    plan = Plan(cfg, notes=list(cfg.notes))
    if not cfg.tasks:
        plan.notes.append("no recipes are registered (hs_tasks.list_recipes() is empty): nothing to run")
    pretrained: dict[str, Any] = {}
    for model in dict.fromkeys(m for t in cfg.tasks for m in cfg.task_settings(t).models):
        value, problem, note = resolve_pretrained(cfg.pretrained, model, cfg.weights_dir)
        pretrained[model] = (value, problem)
        if note:
            plan.notes.append(note)
    avail_cache: dict[str, tuple[bool, str, str]] = {}
    for task in cfg.tasks:
        settings = cfg.task_settings(task)
        names = _select_datasets(cfg, settings.datasets, settings.data_task)
        if not names:
            plan.notes.append(f"{task}: no dataset is registered for hs-data task {settings.data_task!r}")
        for dataset in names:
            if dataset not in avail_cache:
                avail_cache[dataset] = availability(dataset, cfg.data_root)
            ok, why, how = avail_cache[dataset]
            if not ok:
                plan.not_run.append(NotRun(task, dataset, why, how))
                continue
            for model in settings.models:
                value, problem = pretrained[model]
                if problem:
                    plan.not_run.append(
                        NotRun(
                            task, dataset, problem, f"download from {HYPERSIGMA_WEIGHTS}", model, "weights"
                        )
                    )
                    continue
                ft_values = settings.finetune_for(dataset)
                tuned_from = None
                if cfg.tune.get("use_tuned") and tuned is not None:
                    found = tuned(task, dataset, model)
                    if found is not None:
                        ft_values = {**ft_values, **found[0]}
                        tuned_from = found[1]
                    else:
                        plan.notes.append(
                            f"{task}/{dataset}/{model}: no tuned study found; using the configuration"
                        )
                options = settings.options_for(dataset)
                for seed in cfg.seeds:
                    out_dir = None
                    key = {
                        "task": task,
                        "dataset": dataset,
                        "backbone": model,
                        "pretrained": value,
                        "finetune": {**asdict(FinetuneConfig(**ft_values)), "device": cfg.device},
                        "options": options,
                    }
                    for k in ("seed", "out_dir", "progress"):
                        key["finetune"].pop(k, None)
                    cell_hash = config_hash(key)
                    key["seed"] = seed
                    h = config_hash(key)
                    if cfg.checkpoints:
                        out_dir = str(Path(cfg.results_dir) / "checkpoints" / h)
                    ft = FinetuneConfig(
                        **ft_values, seed=seed, device=cfg.device, out_dir=out_dir, progress=progress
                    )
                    rc = RecipeConfig(
                        backbone=model,
                        pretrained=value,
                        finetune=ft,
                        seed=seed,
                        data_root=cfg.data_root,
                        options=dict(options),
                    )
                    plan.jobs.append(
                        Job(task, dataset, model, seed, rc, settings.data_task, h, cell_hash, key, tuned_from)
                    )
    return plan
