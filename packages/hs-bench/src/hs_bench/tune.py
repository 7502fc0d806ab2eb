"""Optuna-tuned fine-tuning: search the fine-tuning values of one (task, dataset, model) on validation.

Each trial runs the recipe (:func:`hs_tasks.run_recipe`) with suggested values of ``lr``,
``layer_decay``, ``weight_decay``, ``epochs``, ``batch_size`` (and optionally ``warmup_epochs``) and
returns the **validation** main metric of the selected epoch (``RecipeResult.finetune.best_val``):
test metrics are never read, logged or optimised here. A trainer callback reports the validation
metric after every validated epoch, so the pruner (median by default) stops hopeless trials early;
a pruned trial is PRUNED in the study and KILLED (tag ``optuna_state=PRUNED``) in MLflow.

The study lives in a database (``sqlite:///<results>/optuna.db`` by default, any SQLAlchemy URL
otherwise): an interrupted study resumes where it stopped (the trial budget counts completed and
pruned trials already in the study), and several processes given the same storage and study name
share it. Every trial is an MLflow run under the study's parent run. The study's best values feed the
leaderboard when the configuration says ``tune.use_tuned = true`` (:func:`tuned_lookup`).

Studies are maximised; for metrics where lower is better the objective is the negated metric
(recorded in the study's user attributes).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hs_backbone.training import atomic_write
from hs_bench.config import BenchConfig
from hs_bench.leaderboard import EpochRecorder, _selector
from hs_bench.tracking import Tracker, TrackingUnavailable, environment, environment_tags

__all__ = ["PruneOnValidation", "TuneResult", "default_storage", "study_name", "tune", "tuned_lookup"]

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def study_name(task: str, dataset: str, model: str) -> str:
    """The study of one (task, dataset, model): ``hsigma-tune:<task>:<dataset>:<model>``."""
    return f"hsigma-tune:{task}:{dataset}:{model}"


def default_storage(cfg: BenchConfig) -> str:
    """``tune.storage``, else ``sqlite:///<results_dir>/optuna.db``."""
    return cfg.tune.get("storage") or "sqlite:///" + str(Path(cfg.results_dir) / "optuna.db")


class PruneOnValidation:
    """Trainer callback: report the validation main metric to an Optuna trial; prune when told.

    The value reported is the metric itself when higher is better, its negation otherwise (the
    study maximises). Steps count validations over every fine-tuning loop of the recipe.
    """

    def __init__(self, trial: Any) -> None:
        self.trial = trial
        self.step = 0
        self.pruned = False

    def on_epoch_end(self, trainer: Any, epoch: int) -> None:
        import optuna

        sel = _selector(trainer)
        if sel is None or not sel.history or int(sel.history[-1].get("epoch", -1)) != epoch:
            return
        key = sel.model.main_metric
        value = float(sel.history[-1].get(key, math.nan))
        if not math.isfinite(value):
            return
        self.trial.report(value if sel.model.higher_is_better else -value, self.step)
        self.step += 1
        if self.trial.should_prune():
            self.pruned = True
            raise optuna.TrialPruned(f"pruned after validation {self.step}: {key} = {value:.6g}")


def _suggest(trial: Any, space: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in space.items():
        if "choices" in spec:
            out[name] = trial.suggest_categorical(name, list(spec["choices"]))
        elif name in ("epochs", "batch_size"):
            out[name] = trial.suggest_int(
                name, int(spec["low"]), int(spec["high"]), log=bool(spec.get("log"))
            )
        else:
            out[name] = trial.suggest_float(
                name, float(spec["low"]), float(spec["high"]), log=bool(spec.get("log"))
            )
    return out


def _finetune_values(base: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    values = {**base, **params}
    if "warmup_epochs" in values and "epochs" in values:
        values["warmup_epochs"] = min(float(values["warmup_epochs"]), float(values["epochs"]))
    return values


@dataclass
class TuneResult:
    """The outcome of one study after this invocation."""

    study_name: str
    storage: str
    task: str
    dataset: str
    model: str
    best_params: dict[str, Any] | None
    best_value: float | None
    best_trial: int | None
    main_metric: str | None
    higher_is_better: bool | None
    counts: dict[str, int] = field(default_factory=dict)
    parent_run_id: str | None = None
    exit_code: int = EXIT_OK
    failures: list[str] = field(default_factory=list)

    def describe(self) -> str:
        c = self.counts
        head = (
            f"study {self.study_name!r} ({self.storage}): {c.get('complete', 0)} complete, "
            f"{c.get('pruned', 0)} pruned, "
            f"{c.get('fail', 0)} failed trial(s) in total"
        )
        if self.best_params is None or self.best_value is None:
            return head + "; no completed trial yet"
        value = self.best_value if self.higher_is_better else -self.best_value
        params = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.best_params.items()
        )
        return (
            head
            + f"\n  best: trial {self.best_trial}, validation {self.main_metric} = {value:.6g} with {params}"
        )


def _study_parent(tracker: Tracker, exp_id: str, name: str, tags: Mapping[str, str]) -> str:
    """Get or create the MLflow parent run of a study; concurrent workers converge on the oldest."""
    flt = f"tags.hs_kind = 'study' and tags.hs_study = '{name}'"
    found = tracker.search([exp_id], flt, order_by=["attributes.start_time ASC"])
    if found:
        run_id = found[0].info.run_id
        if found[0].info.status != "RUNNING":
            tracker.reopen(run_id)
        return str(run_id)
    mine = tracker.start_run(exp_id, name, {"hs_kind": "study", "hs_study": name, **tags})
    found = tracker.search([exp_id], flt, order_by=["attributes.start_time ASC"])
    oldest = str(found[0].info.run_id) if found else mine
    if oldest != mine:  # another worker created one first: use it and drop ours
        tracker.client.delete_run(mine)
    return oldest


def tune(
    cfg: BenchConfig,
    task: str,
    dataset: str,
    model: str | None = None,
    *,
    trials: int | None = None,
    timeout_s: float | None = None,
    storage: str | None = None,
    name: str | None = None,
    echo: Callable[[str], None] | None = None,
    progress: bool = True,
    extra_callbacks: list[object] | None = None,
) -> TuneResult:
    """Run (or resume) the study of one (task, dataset, model) until it holds ``trials`` finished trials.

    Args:
        cfg: a validated configuration: the base fine-tuning values (``per_task``), the search space
            and sampler (``tune``), the recipe options, the device, the tracking URI.
        task, dataset: the recipe and dataset (the dataset must be present locally).
        model: a backbone name (default: the first model of the task's settings).
        trials: completed + pruned trials the study should hold (default ``tune.trials``); a resumed
            study runs only the missing ones; several workers stop together at this total.
        timeout_s: stop this worker after this many seconds (default ``tune.timeout_s``).
        storage: study database URL (default :func:`default_storage`).
        name: study name (default :func:`study_name`).
        echo: where progress lines go (default stderr).
        progress: Optuna's progress bar on a terminal.
        extra_callbacks: more trainer callbacks (tests).

    Returns:
        :class:`TuneResult` (best values, counts, exit code: 0, 1 when a trial failed, 130 on Ctrl-C).
    """
    import optuna
    from optuna.trial import TrialState

    from hs_bench.plan import dataset_availability
    from hs_tasks import FinetuneConfig, RecipeConfig, run_recipe

    say = echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
    settings = cfg.task_settings(task)
    model = model or settings.models[0]
    ok, why, how = dataset_availability(dataset, cfg.data_root)
    if not ok:
        raise FileNotFoundError(f"dataset {dataset!r} cannot be used here: {why}. {how}".strip())
    storage = storage or default_storage(cfg)
    if storage.startswith("sqlite:///"):
        Path(storage[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    name = name or study_name(task, dataset, model)
    target = cfg.tune.get("trials", 20) if trials is None else trials
    timeout_s = cfg.tune.get("timeout_s") if timeout_s is None else timeout_s
    space = cfg.tune.get("space", {})
    seed = cfg.seeds[0]
    sampler_seed = cfg.tune.get("seed")
    sampler = (
        optuna.samplers.RandomSampler(seed=sampler_seed)
        if cfg.tune.get("sampler") == "random"
        else optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=min(5, max(1, target // 3)))
    )
    pruner: optuna.pruners.BasePruner = (
        optuna.pruners.NopPruner()
        if cfg.tune.get("pruner") == "none"
        else optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )
    for key, value in (("task", task), ("dataset", dataset), ("model", model)):
        if study.user_attrs.get(key, value) != value:
            raise ValueError(
                f"study {name!r} in {storage} was created for {key}={study.user_attrs[key]!r}, not {value!r}"
            )
        study.set_user_attr(key, value)
    study.set_user_attr("space", json.loads(json.dumps(space)))

    tracker = Tracker(cfg.tracking_uri, cfg.results_dir, echo=say)
    env = environment(cfg.device)
    env_tags = environment_tags(env)
    experiment = f"{cfg.experiment}-tune"
    parent_tags = {
        "hs_task": task,
        "hs_dataset": dataset,
        "hs_model": model,
        "optuna_storage": storage,
        **env_tags,
    }

    def parent() -> str:
        return _study_parent(tracker, tracker.experiment(experiment), name, parent_tags)

    parent_id = tracker.with_fallback(parent)
    base = settings.finetune_for(dataset)
    options = settings.options_for(dataset)
    failures: list[str] = []

    worker = f"{socket.gethostname()}:{os.getpid()}"

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", worker)
        params = _suggest(trial, space)
        values = _finetune_values(base, params)
        ft = FinetuneConfig(**values, seed=seed, device=cfg.device, progress=False)
        rc = RecipeConfig(
            backbone=model,
            pretrained=None,
            finetune=ft,
            seed=seed,
            data_root=cfg.data_root,
            options=dict(options),
        )
        from hs_bench.plan import resolve_pretrained

        pre, problem, _ = resolve_pretrained(cfg.pretrained, model, cfg.weights_dir)
        if problem:
            raise FileNotFoundError(problem)
        rc.pretrained = pre

        def start() -> str:
            pid = parent()
            rid = tracker.start_run(
                tracker.experiment(experiment),
                f"trial {trial.number}",
                {
                    "hs_kind": "trial",
                    "hs_study": name,
                    "optuna_trial": str(trial.number),
                    "hs_task": task,
                    "hs_dataset": dataset,
                    "hs_model": model,
                    **env_tags,
                },
                parent=pid,
            )
            tracker.log_params(
                rid, {**{f"finetune.{k}": v for k, v in values.items()}, "seed": seed, "options": options}
            )
            return rid

        run_id = tracker.with_fallback(start)
        uri = tracker.uri
        recorder = EpochRecorder(lambda m, s: tracker.log_metrics(run_id, m, step=s))
        pruning = PruneOnValidation(trial)

        def finish(
            rid: str, status: str, tags: dict[str, str], metrics: dict[str, float], start_row: int
        ) -> None:
            for row in recorder.rows[start_row:]:
                tracker.log_metrics(rid, {k: v for k, v in row.items() if k != "step"}, step=int(row["step"]))
            if metrics:
                tracker.log_metrics(rid, metrics)
            tracker.set_tags(rid, tags)
            tracker.end_run(rid, status)

        def close(status: str, tags: dict[str, str], metrics: dict[str, float]) -> None:
            nonlocal run_id
            try:
                if tracker.uri != uri:
                    run_id = start()
                    finish(run_id, status, tags, metrics, 0)
                else:
                    finish(run_id, status, tags, metrics, recorder.logged)
            except TrackingUnavailable:
                run_id = start()
                finish(run_id, status, tags, metrics, 0)

        try:
            result = run_recipe(task, dataset, rc, callbacks=[recorder, pruning, *(extra_callbacks or [])])
        except KeyboardInterrupt:
            close("KILLED", {"optuna_state": "FAIL", "hs_status": "killed"}, {})
            raise
        except optuna.TrialPruned:
            close("KILLED", {"optuna_state": "PRUNED", "hs_status": "pruned"}, {})
            raise
        except Exception as exc:
            if pruning.pruned:  # the recipe wrapped our TrialPruned in another exception
                close("KILLED", {"optuna_state": "PRUNED", "hs_status": "pruned"}, {})
                raise optuna.TrialPruned(str(exc)) from exc
            failures.append(f"trial {trial.number}: {type(exc).__name__}: {exc}")
            close(
                "FAILED",
                {
                    "optuna_state": "FAIL",
                    "hs_status": "failed",
                    "hs_error": f"{type(exc).__name__}: {exc}"[:5000],
                },
                {},
            )
            with contextlib.suppress(Exception):
                tracker.log_text(run_id, traceback.format_exc(), "error.txt")
            raise
        ft_result = result.finetune
        main = result.main_metric
        if ft_result is None or main not in (ft_result.best_val or {}):
            msg = (
                f"recipe {task!r} returned no validation value of its main metric {main!r} "
                f"(best_val: {sorted((ft_result.best_val if ft_result else {}) or {})}); it cannot be tuned"
            )
            failures.append(f"trial {trial.number}: {msg}")
            close("FAILED", {"optuna_state": "FAIL", "hs_status": "failed", "hs_error": msg}, {})
            raise ValueError(msg)
        value = float(ft_result.best_val[main])
        objective_value = value if result.higher_is_better else -value
        trial.set_user_attr("val_" + main, value)
        study.set_user_attr("main_metric", main)
        study.set_user_attr("higher_is_better", bool(result.higher_is_better))
        close(
            "FINISHED",
            {"optuna_state": "COMPLETE", "hs_status": "ok", "hs_main_metric": main},
            {
                **{f"val_best.{k}": float(v) for k, v in ft_result.best_val.items()},
                "objective": objective_value,
            },
        )
        return objective_value

    counted = (TrialState.COMPLETE, TrialState.PRUNED)
    have = len(study.get_trials(deepcopy=False, states=counted))
    remaining = max(0, target - have)
    interrupted = False
    if remaining == 0:
        say(
            f"hs-bench tune: study {name!r} already holds {have} finished trial(s) (target {target}); "
            "nothing to run"
        )
    else:
        say(
            f"hs-bench tune: study {name!r}: {have} finished trial(s) in {storage}; "
            f"running up to {remaining} more"
        )
        try:
            study.optimize(
                objective,
                n_trials=remaining,
                timeout=timeout_s,
                catch=(Exception,),
                callbacks=[optuna.study.MaxTrialsCallback(target, states=counted)],
                show_progress_bar=progress and sys.stderr.isatty(),
            )
        except KeyboardInterrupt:
            interrupted = True
            say(
                f"hs-bench tune: interrupted; the study is saved in {storage}: "
                "rerun the same command to resume"
            )
    all_trials = study.get_trials(deepcopy=False)
    counts = {
        "complete": sum(t.state == TrialState.COMPLETE for t in all_trials),
        "pruned": sum(t.state == TrialState.PRUNED for t in all_trials),
        "fail": sum(t.state == TrialState.FAIL for t in all_trials),
        "running": sum(t.state == TrialState.RUNNING for t in all_trials),
    }
    best = None
    if counts["complete"]:
        best = study.best_trial
    res = TuneResult(
        study_name=name,
        storage=storage,
        task=task,
        dataset=dataset,
        model=model,
        best_params=dict(best.params) if best else None,
        best_value=float(best.value) if best and best.value is not None else None,
        best_trial=best.number if best else None,
        main_metric=study.user_attrs.get("main_metric"),
        higher_is_better=study.user_attrs.get("higher_is_better"),
        counts=counts,
        parent_run_id=parent_id,
        exit_code=EXIT_INTERRUPTED if interrupted else (EXIT_FAILED if failures else EXIT_OK),
        failures=failures,
    )

    def log_parent() -> None:
        pid = parent()
        tracker.log_metrics(pid, {f"trials_{k}": float(v) for k, v in counts.items()})
        if res.best_params is not None and res.best_value is not None:
            tracker.log_metrics(pid, {"best_objective": res.best_value})
            tracker.set_tags(
                pid,
                {
                    "hs_best_trial": str(res.best_trial),
                    "hs_best_params": json.dumps(res.best_params, sort_keys=True),
                    "hs_main_metric": res.main_metric or "",
                },
            )
        tracker.end_run(pid, "KILLED" if interrupted else "FINISHED")

    try:
        tracker.with_fallback(log_parent)
    except Exception as exc:
        say(f"hs-bench tune: could not update the study's MLflow run: {exc}")
    out = Path(cfg.results_dir) / "tuned" / (name.replace(":", "__") + ".json")
    text = json.dumps(
        {
            "study": name,
            "storage": storage,
            "best_params": res.best_params,
            "best_trial": res.best_trial,
            "validation_" + (res.main_metric or "metric"): (
                None
                if res.best_value is None
                else (res.best_value if res.higher_is_better else -res.best_value)
            ),
            "counts": counts,
        },
        indent=2,
    )
    atomic_write(out, lambda tmp: Path(tmp).write_text(text))
    return res


def tuned_lookup(
    cfg: BenchConfig, storage: str | None = None
) -> Callable[[str, str, str], tuple[dict[str, Any], str] | None]:
    """``(task, dataset, model) -> (best fine-tuning values, study name)`` from the study storage."""
    import optuna

    url = storage or default_storage(cfg)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        return lambda task, dataset, model: None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = set(optuna.study.get_all_study_names(storage=url))

    def lookup(task: str, dataset: str, model: str) -> tuple[dict[str, Any], str] | None:
        name = study_name(task, dataset, model)
        if name not in names:
            return None
        study = optuna.load_study(study_name=name, storage=url)
        try:
            best = study.best_trial
        except ValueError:  # no completed trial
            return None
        return dict(best.params), f"{name} (trial {best.number})"

    return lookup
