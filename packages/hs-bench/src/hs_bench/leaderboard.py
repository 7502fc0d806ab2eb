"""Run a leaderboard: every job of a plan through :func:`hs_tasks.run_recipe`, logged to MLflow.

For each job (task, dataset, model, seed) the runner

1. skips it when a FINISHED run with the same configuration hash is in the experiment (so an
   interrupted or partly failed leaderboard continues where it stopped);
2. otherwise opens a seed run under its cell run (the (task, dataset, model) parent that holds the
   mean and std over seeds), logs parameters, environment tags, and per-epoch training and
   validation metrics through a trainer callback, runs the recipe, and logs the test and baseline
   metrics, the split, the configuration, maps (PNG), curves and confusion matrices (SVG);
3. records an exception as a FAILED run with its traceback and goes on with the next job;
   a ``KeyboardInterrupt`` marks the open runs KILLED, writes consistent reports of what finished,
   and stops (exit code 130).

The reports (:mod:`hs_bench.report`) are written to the results folder and logged to a
``leaderboard`` run. The kernel micro-benchmarks of hs-attention, when present in
``<results>/kernels/``, are included so one report shows quality and speed.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import os
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hs_backbone.training import atomic_write
from hs_bench.config import BenchConfig
from hs_bench.plan import Job, Plan, build_plan
from hs_bench.png import array_to_rgb, write_png
from hs_bench.report import Leaderboard, aggregate, stat, write_reports
from hs_bench.svg import heatmap, line_chart
from hs_bench.tracking import (
    Tracker,
    TrackingUnavailable,
    environment,
    environment_tags,
    metric_key,
)

__all__ = ["EpochRecorder", "LeaderboardResult", "format_summary", "run_leaderboard", "summaries_as_dicts"]

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def _selector(trainer: Any) -> Any:
    from hs_tasks import SelectBest

    return next((cb for cb in getattr(trainer, "callbacks", []) if isinstance(cb, SelectBest)), None)


class EpochRecorder:
    """Trainer callback: per-epoch training means and validation metrics, recorded and logged live.

    Every fine-tuning loop a recipe runs reports here (``hs_tasks.run_recipe(callbacks=...)``); the
    steps count epochs over all loops in order. Rows are kept in memory so that a run can be replayed
    into the local store if the tracking server goes away; live logging stops at the first failure.
    """

    def __init__(self, log: Callable[[dict[str, float], int], None] | None = None) -> None:
        self.rows: list[dict[str, float]] = []
        self.step = 0
        self.loops = 0
        self._last_trainer: int | None = None
        self._log = log
        self.logged = 0  # rows logged live (a prefix of ``rows``)
        self.live_error: str | None = None

    def on_epoch_end(self, trainer: Any, epoch: int) -> None:
        if id(trainer) != self._last_trainer:
            self._last_trainer = id(trainer)
            self.loops += 1
        metrics: dict[str, float] = {}
        hist = getattr(trainer, "history", [])
        if hist and int(hist[-1].get("epoch", -1)) == epoch:
            metrics.update({f"train.{k}": float(v) for k, v in hist[-1].items() if k != "epoch"})
        sel = _selector(trainer)
        if sel is not None and sel.history and int(sel.history[-1].get("epoch", -1)) == epoch:
            metrics.update({f"val.{k}": float(v) for k, v in sel.history[-1].items() if k != "epoch"})
        metrics["epoch"] = float(epoch)
        metrics["loop"] = float(self.loops)
        row = {"step": float(self.step), **metrics}
        self.rows.append(row)
        if self._log is not None and self.live_error is None:
            try:
                self._log(metrics, self.step)
                self.logged += 1
            except Exception as exc:  # logging must never stop training; the rows are replayed later
                self.live_error = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        self.step += 1


@dataclass
class LeaderboardResult:
    """What :func:`run_leaderboard` did."""

    exit_code: int
    counts: dict[str, int]
    summaries: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    paths: dict[str, Path] = field(default_factory=dict)
    tracking_uri: str = ""
    fallback_reason: str | None = None
    leaderboard_run_id: str | None = None
    interrupted: bool = False


def _flat(prefix: str, data: Any, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data, dict):
        for k, v in data.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = data
    return out


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return o.tolist() if o.size <= 10000 else f"<array {o.shape} {o.dtype}>"
    if isinstance(o, (np.integer, np.floating, np.bool_)):
        return o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, (str, int, float, bool)) or o is None:
        return o
    return str(o)


def _atomic_json(path: Path, data: Any) -> None:
    text = json.dumps(_jsonable(data), indent=2, sort_keys=True)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


class _Runner:
    def __init__(
        self,
        plan: Plan,
        *,
        tracker: Tracker,
        force: bool,
        echo: Callable[[str], None],
        command: str,
        progress: bool,
        extra_callbacks: Sequence[object],
    ) -> None:
        self.plan, self.cfg = plan, plan.config
        self.tracker, self.force, self.echo, self.command = tracker, force, echo, command
        self.progress, self.extra_callbacks = progress, list(extra_callbacks)
        self.results = Path(self.cfg.results_dir)
        self.env = environment(self.cfg.device)
        self.env_tags = environment_tags(self.env)
        self.summaries: dict[str, dict[str, Any]] = {}  # config hash -> summary
        self.failures: list[dict[str, Any]] = []
        self.counts = {
            "total": len(plan.jobs),
            "ran": 0,
            "cached": 0,
            "failed": 0,
            "missing": 0,
            "not_started": 0,
        }
        self._cells: dict[tuple[str, str], str] = {}  # (tracking uri, cell hash) -> run id
        self._lb_uri = tracker.uri  # the store the leaderboard run was opened in
        self.interrupted = False

    # -------------------------------------------------------------------------------- tracking
    @property
    def exp_id(self) -> str:
        return self.tracker.experiment(self.cfg.experiment)

    def _common_tags(self, job: Job) -> dict[str, Any]:
        return {
            "hs_task": job.task,
            "hs_dataset": job.dataset,
            "hs_model": job.model,
            "hs_cell_hash": job.cell_hash,
            "hs_profile": self.cfg.name,
            **({"hs_data_task": job.data_task} if job.data_task else {}),
            **self.env_tags,
        }

    def _cell_run(self, job: Job) -> str:
        key = (self.tracker.uri, job.cell_hash)
        if key in self._cells:
            return self._cells[key]
        found = self.tracker.search(
            [self.exp_id], f"tags.hs_kind = 'cell' and tags.hs_cell_hash = '{job.cell_hash}'"
        )
        if found:
            run_id = found[0].info.run_id
            self.tracker.reopen(run_id)
        else:
            run_id = self.tracker.start_run(
                self.exp_id,
                f"{job.task}/{job.dataset}/{job.model}",
                {"hs_kind": "cell", **self._common_tags(job)},
            )
            cell_key = {k: v for k, v in job.key.items() if k != "seed"}
            self.tracker.log_params(run_id, _flat("", cell_key, {}))
        self._cells[key] = run_id
        return run_id

    def _start_seed_run(self, job: Job) -> str:
        parent = self._cell_run(job)
        run_id = self.tracker.start_run(
            self.exp_id,
            f"{job.task}/{job.dataset}/{job.model}/seed{job.seed}",
            {
                "hs_kind": "seed",
                "hs_seed": str(job.seed),
                "hs_config_hash": job.config_hash,
                "hs_status": "running",
                **({"hs_tuned_from": job.tuned_from} if job.tuned_from else {}),
                **self._common_tags(job),
            },
            parent=parent,
        )
        self.tracker.log_params(run_id, {"config_hash": job.config_hash, **_flat("", job.key, {})})
        return run_id

    def _find_done(self, job: Job) -> Any | None:
        if self.force:
            return None
        runs = self.tracker.search(
            [self.exp_id],
            f"tags.hs_kind = 'seed' and tags.hs_config_hash = '{job.config_hash}' "
            "and attributes.status = 'FINISHED'",
        )
        return runs[0] if runs else None

    # -------------------------------------------------------------------------------- one job
    def _summary_from_run(self, job: Job, run: Any) -> dict[str, Any]:
        cache = self.results / "runs" / f"{job.config_hash}.json"
        if cache.is_file():
            data = json.loads(cache.read_text())
            if data.get("run_id") == run.info.run_id:
                return data
        data = self.tracker.load_json_artifact(run.info.run_id, "summary.json")
        if data is None:  # rebuild from the run's metrics and tags
            m, t = run.data.metrics, run.data.tags
            data = {
                "task": job.task,
                "dataset": job.dataset,
                "model": job.model,
                "seed": job.seed,
                "status": "ok",
                "main_metric": t.get("hs_main_metric", ""),
                "higher_is_better": t.get("hs_higher_is_better", "true") == "true",
                "baseline_name": t.get("hs_baseline_name", ""),
                "metrics": {k[5:]: v for k, v in m.items() if k.startswith("test.")},
                "baseline": {k[9:]: v for k, v in m.items() if k.startswith("baseline.")},
                "seconds": m.get("seconds"),
                "history": [],
                "maps": [],
            }
        data.update(run_id=run.info.run_id, data_task=job.data_task, config_hash=job.config_hash)
        missing_maps = [p for p in data.get("maps", []) if not (self.results / p).is_file()]
        if missing_maps:
            try:
                dst = self.results / Path(missing_maps[0]).parent
                tmp = self.tracker.download(run.info.run_id, "maps", dst.parent / f".dl-{job.config_hash}")
                for f in Path(tmp).glob("*.png"):
                    dst.mkdir(parents=True, exist_ok=True)
                    os.replace(f, dst / f.name)
            except Exception as exc:  # maps are a convenience; the numbers are in the summary
                self.plan.notes.append(f"{job.label}: could not fetch its maps from MLflow ({exc})")
        _atomic_json(cache, data)
        return data

    def _write_artifacts(self, job: Job, result: Any, summary: dict[str, Any], staging: Path) -> None:
        """Maps (PNG, also copied into the results folder), curves and confusion matrices (SVG)."""
        maps_rel = Path("maps") / job.task / job.dataset / job.model / f"seed{job.seed}"
        for name, arr in (result.artifacts or {}).items():
            a = np.asarray(arr)
            safe = metric_key(name).replace("/", "_").replace(" ", "_")
            if "confusion" in name.lower() and a.ndim == 2 and a.shape[0] == a.shape[1]:
                (staging / "plots").mkdir(parents=True, exist_ok=True)
                (staging / "plots" / f"{safe}.svg").write_text(
                    heatmap(f"{job.task} / {job.dataset} / {job.model} / seed {job.seed}: {name}", a)
                )
                continue
            rgb = array_to_rgb(a)
            if rgb is not None:
                write_png(staging / "maps" / f"{safe}.png", rgb)
                write_png(self.results / maps_rel / f"{safe}.png", rgb)
                summary["maps"].append(str(maps_rel / f"{safe}.png"))
            if a.nbytes <= 4 * 2**20:
                (staging / "arrays").mkdir(parents=True, exist_ok=True)
                np.save(staging / "arrays" / f"{safe}.npy", a, allow_pickle=False)
        curves: dict[str, tuple[list[float], list[float]]] = {}
        for key in (f"val.{summary['main_metric']}", "train.loss"):
            pts = [(r["step"], r[key]) for r in summary["history"] if key in r]
            if pts:
                curves[key] = ([p[0] for p in pts], [p[1] for p in pts])
        if curves:
            (staging / "plots").mkdir(parents=True, exist_ok=True)
            (staging / "plots" / "curves.svg").write_text(
                line_chart(f"{job.label}: per-epoch metrics", curves, ylabel="value")
            )

    def _log_history(self, run_id: str, rows: list[dict[str, float]]) -> None:
        for row in rows:
            self.tracker.log_metrics(
                run_id, {k: v for k, v in row.items() if k != "step"}, step=int(row["step"])
            )

    def _record_ok(
        self, run_id: str, job: Job, summary: dict[str, Any], staging: Path, start_row: int
    ) -> None:
        t = self.tracker
        self._log_history(run_id, summary["history"][start_row:])
        final: dict[str, float] = {}
        final.update({f"test.{k}": v for k, v in summary["metrics"].items()})
        final.update({f"baseline.{k}": v for k, v in summary["baseline"].items()})
        final.update({f"val_best.{k}": v for k, v in (summary.get("best_val") or {}).items()})
        final["seconds"] = summary["seconds"]
        if summary.get("best_epoch") is not None:
            final["best_epoch"] = summary["best_epoch"]
        t.log_metrics(run_id, final, step=0)
        split = summary.get("split") or {}
        t.log_params(run_id, {f"split.{k}": v for k, v in _flat("", split, {}).items()})
        t.set_tags(
            run_id,
            {
                "hs_status": "ok",
                "hs_main_metric": summary["main_metric"],
                "hs_higher_is_better": "true" if summary["higher_is_better"] else "false",
                "hs_baseline_name": summary.get("baseline_name", ""),
            },
        )
        _atomic_json(staging / "summary.json", {**summary, "run_id": run_id})
        t.log_artifact(run_id, staging)
        t.end_run(run_id, "FINISHED")

    def _record_failure(self, run_id: str, summary: dict[str, Any], start_row: int, tb: str) -> None:
        t = self.tracker
        self._log_history(run_id, summary["history"][start_row:])
        t.set_tags(run_id, {"hs_status": summary["status"], "hs_error": summary["error"][:5000]})
        t.log_text(run_id, tb, "error.txt")
        t.end_run(run_id, "FAILED")

    def _summary(self, job: Job, run_id: str) -> dict[str, Any]:
        return {
            "task": job.task,
            "dataset": job.dataset,
            "model": job.model,
            "seed": job.seed,
            "data_task": job.data_task,
            "config_hash": job.config_hash,
            "cell_hash": job.cell_hash,
            "run_id": run_id,
            "tuned_from": job.tuned_from,
            "history": [],
            "maps": [],
        }

    def run_job(self, job: Job) -> dict[str, Any]:
        from hs_data import DatasetNotFoundError
        from hs_tasks import run_recipe

        try:
            run_id = self._start_seed_run(job)
        except TrackingUnavailable:
            run_id = self._start_seed_run(job)
        uri_at_start = self.tracker.uri
        recorder = EpochRecorder(lambda m, s: self.tracker.log_metrics(run_id, m, step=s))
        summary = self._summary(job, run_id)
        t0 = time.perf_counter()
        result = None
        tb = ""
        try:
            result = run_recipe(
                job.task, job.dataset, job.recipe_config, callbacks=[recorder, *self.extra_callbacks]
            )
        except KeyboardInterrupt:
            summary["history"] = recorder.rows
            self._kill(run_id, job)
            raise
        except DatasetNotFoundError as exc:
            tb = traceback.format_exc()
            summary.update(status="missing", error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            tb = traceback.format_exc()
            summary.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        seconds = time.perf_counter() - t0
        summary["history"] = recorder.rows
        if result is not None:
            ft = result.finetune
            summary.update(
                status="ok",
                main_metric=result.main_metric,
                higher_is_better=bool(result.higher_is_better),
                metrics={k: float(v) for k, v in result.metrics.items()},
                baseline={k: float(v) for k, v in (result.baseline or {}).items()},
                baseline_name=result.baseline_name,
                best_val={k: float(v) for k, v in (ft.best_val if ft else {}).items()},
                best_epoch=ft.best_epoch if ft else None,
                split=result.split,
                seconds=float(result.seconds or seconds),
                recipe_config=result.config,
            )
            if result.main_metric not in summary["metrics"]:
                summary.update(
                    status="failed",
                    error=f"the recipe's main_metric {result.main_metric!r} is not among its test metrics "
                    f"{sorted(summary['metrics'])}",
                )
        else:
            summary["seconds"] = seconds

        with tempfile.TemporaryDirectory() as tmp:
            staging = Path(tmp)
            if summary["status"] == "ok":
                self._write_artifacts(job, result, summary, staging)
                _atomic_json(
                    staging / "config.json", {"job": job.key, "recipe": summary.get("recipe_config", {})}
                )
                _atomic_json(staging / "split.json", summary.get("split") or {})
                _atomic_json(staging / "environment.json", self.env)

            def record(rid: str, start_row: int) -> None:
                if summary["status"] == "ok":
                    self._record_ok(rid, job, summary, staging, start_row)
                else:
                    self._record_failure(rid, summary, start_row, tb)

            start_row = recorder.logged
            if self.tracker.uri != uri_at_start:  # the server went away during the recipe: replay locally
                run_id, start_row = self._start_seed_run(job), 0
            try:
                record(run_id, start_row)
            except TrackingUnavailable:
                run_id = self._start_seed_run(job)
                record(run_id, 0)
        summary["run_id"] = run_id
        if summary["status"] == "ok":
            _atomic_json(self.results / "runs" / f"{job.config_hash}.json", summary)
        return summary

    def _kill(self, run_id: str, job: Job) -> None:
        """Mark the open seed run and its cell run KILLED (best effort: we are being interrupted)."""
        try:
            self.tracker.set_tags(run_id, {"hs_status": "killed"})
            self.tracker.end_run(run_id, "KILLED")
            cell = self._cells.get((self.tracker.uri, job.cell_hash))
            if cell:
                self.tracker.end_run(cell, "KILLED")
        except Exception as exc:
            self.echo(f"hs-bench: could not mark run {run_id} KILLED: {exc}")

    def _close_cell(self, cell: tuple[str, str, str], jobs: list[Job]) -> None:
        key = (self.tracker.uri, jobs[0].cell_hash)
        if key not in self._cells:
            return
        run_id = self._cells[key]
        done = [self.summaries[j.config_hash] for j in jobs if j.config_hash in self.summaries]
        ok = [s for s in done if s.get("status") == "ok"]
        metrics: dict[str, float] = {"n_seeds": float(len(ok))}
        for prefix, field_name in (("test", "metrics"), ("baseline", "baseline")):
            keys = list(dict.fromkeys(k for s in ok for k in s[field_name]))
            for k in keys:
                st = stat(s[field_name].get(k) for s in ok)
                if st.mean is not None:
                    metrics[f"{prefix}.{k}.mean"] = st.mean
                if st.std is not None:
                    metrics[f"{prefix}.{k}.std"] = st.std
        try:
            self.tracker.log_metrics(run_id, metrics)
            tags = {"hs_seeds_ok": ",".join(str(s["seed"]) for s in ok)}
            if ok:
                tags.update(
                    hs_main_metric=ok[0]["main_metric"],
                    hs_higher_is_better="true" if ok[0]["higher_is_better"] else "false",
                    hs_baseline_name=ok[0].get("baseline_name", ""),
                )
            self.tracker.set_tags(run_id, tags)
            self.tracker.end_run(run_id, "FINISHED" if len(ok) == len(jobs) else "FAILED")
        except TrackingUnavailable:
            pass  # the seed runs are replayed locally; the next rerun aggregates there

    # -------------------------------------------------------------------------------- all jobs
    def run(self) -> LeaderboardResult:
        jobs = self.plan.jobs
        by_cell: dict[tuple[str, str, str], list[Job]] = {}
        for j in jobs:
            by_cell.setdefault(j.cell, []).append(j)
        lb_run: str | None = None
        try:
            lb_run = self.tracker.with_fallback(self._start_leaderboard_run)
        except Exception as exc:
            self.echo(f"hs-bench: cannot open the MLflow store {self.tracker.uri}: {exc}")
            raise
        bar = None
        if self.progress and sys.stderr.isatty() and jobs:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(jobs), unit="job", desc="leaderboard", dynamic_ncols=True)
        say = bar.write if bar is not None else self.echo
        index = 0
        try:
            for cell, cell_jobs in by_cell.items():
                for job in cell_jobs:
                    index += 1
                    if bar is not None:
                        bar.set_postfix_str(f"{job.task}/{job.dataset}/{job.model}/s{job.seed}")
                    done = self.tracker.with_fallback(functools.partial(self._find_done, job))
                    if done is not None:
                        self.summaries[job.config_hash] = self.tracker.with_fallback(
                            functools.partial(self._summary_from_run, job, done)
                        )
                        self.counts["cached"] += 1
                        say(
                            f"[{index}/{len(jobs)}] {job.label}: done earlier "
                            f"(run {done.info.run_id[:8]}), skipped"
                        )
                    else:
                        summary = self.run_job(job)
                        self.summaries[job.config_hash] = summary
                        if summary["status"] == "ok":
                            self.counts["ran"] += 1
                            main = summary["main_metric"]
                            say(
                                f"[{index}/{len(jobs)}] {job.label}: {main} = {summary['metrics'][main]:.4g} "
                                f"(baseline {summary['baseline'].get(main, float('nan')):.4g}) in "
                                f"{summary['seconds']:.1f} s"
                            )
                        else:
                            self.counts["missing" if summary["status"] == "missing" else "failed"] += 1
                            self.failures.append(
                                {
                                    k: summary.get(k)
                                    for k in ("task", "dataset", "model", "seed", "error", "run_id", "status")
                                }
                            )
                            say(
                                f"[{index}/{len(jobs)}] {job.label}: "
                                f"{summary['status'].upper()}: {summary['error']}"
                            )
                    if bar is not None:
                        bar.update(1)
                self._close_cell(cell, cell_jobs)
        except KeyboardInterrupt:
            self.interrupted = True
            self.counts["not_started"] = len(jobs) - index
            say(f"hs-bench: interrupted during job {index}/{len(jobs)}; runs in progress are marked KILLED")
        finally:
            if bar is not None:
                bar.close()
        return self._finish(lb_run)

    def _start_leaderboard_run(self) -> str:
        self._lb_uri = self.tracker.uri
        run_id = self.tracker.start_run(
            self.exp_id,
            f"leaderboard {self.cfg.name} {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}",
            {
                "hs_kind": "leaderboard",
                "hs_profile": self.cfg.name,
                "hs_command": self.command,
                **self.env_tags,
            },
        )
        self.tracker.log_params(
            run_id,
            {
                "profile": self.cfg.name,
                "models": self.cfg.models,
                "seeds": self.cfg.seeds,
                "tasks": self.cfg.tasks,
                "datasets": self.cfg.datasets,
                "device": self.cfg.device,
                "jobs": len(self.plan.jobs),
            },
        )
        self.tracker.log_dict(run_id, self.cfg.to_dict(), "config.json")
        self.tracker.log_dict(run_id, self.env, "environment.json")
        return run_id

    def _finish(self, lb_run: str | None) -> LeaderboardResult:
        summaries = [self.summaries[j.config_hash] for j in self.plan.jobs if j.config_hash in self.summaries]
        failures = list(self.failures)
        missing_notes = [f for f in failures if f.get("status") == "missing"]
        failures = [f for f in failures if f.get("status") != "missing"]
        not_run = list(self.plan.not_run)
        from hs_bench.plan import NotRun

        for f in missing_notes:
            not_run.append(
                NotRun(
                    f["task"], f["dataset"], f"the recipe could not load it: {f['error']}", model=f["model"]
                )
            )
        kernels = self.results / "kernels" / "hs-attention.md"
        lb = Leaderboard(
            name=self.cfg.name,
            description=self.cfg.description,
            created=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            command=self.command,
            environment=self.env,
            tracking={
                "uri": self.tracker.uri,
                "experiment": self.cfg.experiment,
                "run_id": lb_run or "",
                **(
                    {"fallback": self.tracker.fallback_reason, "requested_uri": self.tracker.requested_uri}
                    if self.tracker.fallback_reason
                    else {}
                ),
            },
            rows=aggregate(summaries),
            not_run=not_run,
            failures=failures,
            counts=dict(self.counts),
            notes=list(self.plan.notes),
            kernels_md=kernels.read_text() if kernels.is_file() else None,
            kernels_path=str(kernels) if kernels.is_file() else None,
            interrupted=self.interrupted,
        )
        paths = write_reports(lb, self.results)
        if lb_run is not None:
            try:
                if self.tracker.uri != self._lb_uri:  # the server went away meanwhile: log it locally
                    lb_run = self._start_leaderboard_run()
                    lb.tracking["run_id"] = lb_run
                    paths = write_reports(lb, self.results)
                self._log_leaderboard(lb_run, lb, paths)
            except TrackingUnavailable:
                try:
                    lb_run = self._start_leaderboard_run()
                    self._log_leaderboard(lb_run, lb, paths)
                except Exception as exc:
                    self.echo(f"hs-bench: could not log the leaderboard to MLflow: {exc}")
        if self.interrupted:
            code = EXIT_INTERRUPTED
        elif failures:
            code = EXIT_FAILED
        else:
            code = EXIT_OK
        return LeaderboardResult(
            exit_code=code,
            counts=dict(self.counts),
            summaries=summaries,
            failures=failures,
            paths=paths,
            tracking_uri=self.tracker.uri,
            fallback_reason=self.tracker.fallback_reason,
            leaderboard_run_id=lb_run,
            interrupted=self.interrupted,
        )

    def _log_leaderboard(self, run_id: str, lb: Leaderboard, paths: dict[str, Path]) -> None:
        t = self.tracker
        rows = [r for r in lb.rows if not r.is_baseline and r.main.mean is not None]
        metrics = {f"{r.task}/{r.dataset}/{r.model}/{r.main_metric}": r.main.mean for r in rows}
        t.log_metrics(run_id, {k: v for k, v in metrics.items() if v is not None})
        t.log_metrics(run_id, {f"jobs_{k}": v for k, v in lb.counts.items()})
        for key in ("md", "html", "json"):
            t.log_artifact(run_id, paths[key])
        plots = self.results / "plots"
        if plots.is_dir():
            t.log_artifact(run_id, plots, "plots")
        maps = sorted({m for r in lb.rows for m in r.maps})
        for rel in maps:
            src = self.results / rel
            if src.is_file():
                t.log_artifact(run_id, src, str(Path(rel).parent))
        if lb.kernels_path:
            t.log_artifact(run_id, lb.kernels_path, "kernels")
        t.set_tags(
            run_id,
            {"hs_failed": str(len(lb.failures)), "hs_status": "interrupted" if lb.interrupted else "ok"},
        )
        t.end_run(run_id, "KILLED" if lb.interrupted else "FINISHED")


def run_leaderboard(
    cfg: BenchConfig,
    *,
    plan: Plan | None = None,
    force: bool = False,
    echo: Callable[[str], None] | None = None,
    command: str | None = None,
    progress: bool = True,
    extra_callbacks: Sequence[object] = (),
) -> LeaderboardResult:
    """Run every job of ``cfg`` (see the module docstring); returns counts, summaries and the exit code.

    Args:
        cfg: a validated configuration (:func:`hs_bench.config.load_config`).
        plan: the jobs (default :func:`hs_bench.plan.build_plan` of ``cfg``, tuned values included
            when ``cfg.tune['use_tuned']``).
        force: rerun jobs even when a FINISHED run with the same configuration exists.
        echo: where progress lines go (default: stderr).
        command: the command line recorded in the reports.
        progress: progress bars on a terminal.
        extra_callbacks: more trainer callbacks for every recipe (tests, custom logging).
    """
    say = echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if plan is None:
        from hs_bench.tune import tuned_lookup

        plan = build_plan(
            cfg, tuned=tuned_lookup(cfg) if cfg.tune.get("use_tuned") else None, progress=progress
        )
    tracker = Tracker(cfg.tracking_uri, cfg.results_dir, echo=say)
    runner = _Runner(
        plan,
        tracker=tracker,
        force=force,
        echo=say,
        command=command or "hs-bench " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        progress=progress,
        extra_callbacks=extra_callbacks,
    )
    return runner.run()


def format_summary(res: LeaderboardResult, plan: Plan) -> str:
    """The end-of-run summary printed by ``hs-bench run``."""
    c = res.counts
    lines = [
        "",
        "=" * 80,
        f"hs-bench: {'INTERRUPTED' if res.interrupted else 'done'}: {c['total']} job(s): {c['ran']} run now, "
        f"{c['cached']} reused, {c['failed']} failed, {c['missing']} without data, "
        f"{c['not_started']} not started",
    ]
    if plan.not_run:
        lines.append(
            f"  {len(plan.not_run)} (task, dataset) pair(s) not run here "
            "(data or weights missing; see the report)"
        )
    for f in res.failures:
        lines.append(
            f"  FAILED {f['task']} / {f['dataset']} / {f['model']} / seed {f['seed']}: {f['error'][:200]}"
        )
    if res.fallback_reason:
        lines.append(f"  MLflow server unreachable: results are in the local store {res.tracking_uri}")
    for key in ("md", "html", "json"):
        if key in res.paths:
            lines.append(f"  {key:>4}: {res.paths[key]}")
    lines.append(f"  MLflow: {res.tracking_uri} (leaderboard run {res.leaderboard_run_id})")
    if res.interrupted:
        lines.append("  rerun the same command to continue: completed runs are skipped")
    lines.append(f"  exit code {res.exit_code}")
    return "\n".join(lines)


def summaries_as_dicts(res: LeaderboardResult) -> list[dict[str, Any]]:
    """JSON-friendly summaries (for ``--json``)."""
    return [_jsonable({k: v for k, v in s.items() if k != "history"}) for s in res.summaries]
