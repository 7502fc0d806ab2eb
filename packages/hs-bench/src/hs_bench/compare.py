"""Compare MLflow runs or experiments side by side (``hs-bench compare A B ...``).

Each argument is a run id or an experiment (name or id). An experiment contributes its cell runs
(mean over seeds per (task, dataset, model); the latest FINISHED one per key), a ``leaderboard`` run
its ``leaderboard.json`` rows, a ``seed`` / ``cell`` / ``trial`` run itself. Rows are matched on
(task, dataset, model); when every source has a single row they are compared whatever their keys.
The first source is the reference: every other value is shown with its difference to it. Differences
in configuration (run parameters), package versions, git commit and hardware are flagged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hs_bench.tracking import Tracker

__all__ = ["Source", "compare", "format_comparison", "load_source"]

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_ENV_PREFIXES = ("hs_version.", "hs_hw.")


@dataclass
class Entry:
    """One comparable row: metrics (means), their std where known, and what produced them."""

    key: tuple[str, str, str]
    main_metric: str
    higher_is_better: bool
    metrics: dict[str, float]
    std: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Source:
    """A run or experiment resolved into entries."""

    label: str
    description: str
    entries: dict[tuple[str, str, str], Entry]


def _env_of(tags: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in tags.items() if k.startswith(_ENV_PREFIXES)}
    if "mlflow.source.git.commit" in tags:
        env["git.commit"] = tags["mlflow.source.git.commit"]
    return env


def _entry_from_run(run: Any) -> Entry:
    tags, m = run.data.tags, run.data.metrics
    kind = tags.get("hs_kind", "")
    key = (tags.get("hs_task", "?"), tags.get("hs_dataset", "?"), tags.get("hs_model", "?"))
    metrics: dict[str, float] = {}
    std: dict[str, float] = {}
    if kind == "cell":
        for k, v in m.items():
            if k.startswith("test.") and k.endswith(".mean"):
                metrics[k[5:-5]] = v
            elif k.startswith("test.") and k.endswith(".std"):
                std[k[5:-4]] = v
    elif kind == "trial":
        metrics = {k[9:]: v for k, v in m.items() if k.startswith("val_best.")}
    else:
        metrics = {k[5:]: v for k, v in m.items() if k.startswith("test.")} or dict(m)
    main = tags.get("hs_main_metric") or (next(iter(metrics)) if metrics else "")
    return Entry(
        key=key,
        main_metric=main,
        higher_is_better=tags.get("hs_higher_is_better", "true") == "true",
        metrics=metrics,
        std=std,
        params=dict(run.data.params),
        env=_env_of(tags),
    )


def load_source(tracker: Tracker, ref: str) -> Source:
    """Resolve a run id or an experiment name/id into a :class:`Source`.

    Raises:
        ValueError: nothing of that name or id in the store.
    """
    from mlflow.exceptions import MlflowException

    if _RUN_ID.match(ref):
        try:
            run = tracker.get_run(ref)
        except MlflowException:
            run = None
        if run is not None:
            return _source_from_run(tracker, run)
    exp = None
    try:
        exp = tracker.client.get_experiment_by_name(ref)
        if exp is None and ref.isdigit():
            exp = tracker.client.get_experiment(ref)
    except MlflowException:
        exp = None
    if exp is None:
        names = [e.name for e in tracker.client.search_experiments()]
        raise ValueError(
            f"{ref!r}: no run with this id and no experiment with this name or id in {tracker.uri}; "
            f"experiments there: {names}"
        )
    cells = tracker.search([exp.experiment_id], "tags.hs_kind = 'cell' and attributes.status = 'FINISHED'")
    entries: dict[tuple[str, str, str], Entry] = {}
    for run in cells:  # newest first: keep the first per key
        e = _entry_from_run(run)
        entries.setdefault(e.key, e)
    if not entries:  # an experiment of trials or plain runs
        for run in tracker.search([exp.experiment_id], "attributes.status = 'FINISHED'"):
            e = _entry_from_run(run)
            entries.setdefault(e.key, e)
    return Source(ref, f"experiment {exp.name!r} (id {exp.experiment_id}): {len(entries)} row(s)", entries)


def _source_from_run(tracker: Tracker, run: Any) -> Source:
    tags = run.data.tags
    kind = tags.get("hs_kind", "run")
    name = tags.get("mlflow.runName", run.info.run_id)
    if kind == "leaderboard":
        data = tracker.load_json_artifact(run.info.run_id, "leaderboard.json")
        config = tracker.load_json_artifact(run.info.run_id, "config.json") or {}
        flat_cfg = {k: json.dumps(v, sort_keys=True) for k, v in _flatten(config).items()}
        env = _env_of(tags)
        entries = {}
        for row in (data or {}).get("rows", []):
            key = (row["task"], row["dataset"], row["model"])
            entries[key] = Entry(
                key=key,
                main_metric=row["main_metric"],
                higher_is_better=row["higher_is_better"],
                metrics={k: s["mean"] for k, s in row["metrics"].items() if s["mean"] is not None},
                std={k: s["std"] for k, s in row["metrics"].items() if s.get("std") is not None},
                params=flat_cfg,
                env=env,
            )
        return Source(run.info.run_id, f"leaderboard run {name!r}: {len(entries)} row(s)", entries)
    e = _entry_from_run(run)
    return Source(run.info.run_id, f"{kind} run {name!r} ({run.info.status})", {e.key: e})


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


def _diff(dicts: Sequence[dict[str, str]], labels: Sequence[str], skip: tuple[str, ...] = ()) -> list[str]:
    keys = sorted({k for d in dicts for k in d if not k.startswith(skip)})
    out = []
    for k in keys:
        vals = [d.get(k, "<unset>") for d in dicts]
        if len(set(vals)) > 1:
            out.append(f"{k}: " + ", ".join(f"{lab}={v}" for lab, v in zip(labels, vals)))
    return out


@dataclass
class Comparison:
    sources: list[Source]
    rows: list[dict[str, Any]]
    config_diffs: dict[str, list[str]]
    env_diffs: list[str]


def compare(sources: Sequence[Source], *, all_metrics: bool = False) -> Comparison:
    """Align the sources' entries, compute deltas to the first, and flag differences."""
    labels = [chr(ord("A") + i) for i in range(len(sources))]
    if all(len(s.entries) == 1 for s in sources):
        aligned = [[next(iter(s.entries.values())) for s in sources]]
    else:
        keys = list(dict.fromkeys(k for s in sources for k in s.entries))
        aligned = [[s.entries.get(k) for s in sources] for k in keys]  # type: ignore[misc]
    rows: list[dict[str, Any]] = []
    config_diffs: dict[str, list[str]] = {}
    envs: list[dict[str, str]] = [{} for _ in sources]
    for group in aligned:
        present = [e for e in group if e is not None]
        ref = present[0]
        label = "/".join(ref.key)
        names = [ref.main_metric]
        if all_metrics:
            names = list(dict.fromkeys(k for e in present for k in e.metrics))
        for metric in names:
            vals: list[float | None] = [e.metrics.get(metric) if e is not None else None for e in group]
            base = vals[0]
            rows.append(
                {
                    "row": label,
                    "metric": metric,
                    "higher_is_better": ref.higher_is_better,
                    "values": vals,
                    "std": [e.std.get(metric) if e is not None else None for e in group],
                    "deltas": [
                        (v - base)
                        if v is not None and base is not None and math.isfinite(v) and math.isfinite(base)
                        else None
                        for v in vals
                    ],
                }
            )
        with_entries = [(lab, e) for lab, e in zip(labels, group) if e is not None]
        if len(with_entries) > 1:
            diffs = _diff(
                [e.params for _, e in with_entries], [lab for lab, _ in with_entries], skip=("split.",)
            )
            if diffs:
                config_diffs[label] = diffs
        for i, e in enumerate(group):
            if e is not None:
                envs[i].update(e.env)
    env_diffs = _diff([e for e in envs if e], [lab for lab, e in zip(labels, envs) if e])
    return Comparison(list(sources), rows, config_diffs, env_diffs)


def format_comparison(comp: Comparison) -> str:
    """Plain-text (Markdown) rendering of a :class:`Comparison`."""
    labels = [chr(ord("A") + i) for i in range(len(comp.sources))]
    out = ["Sources:"]
    out += [f"  {lab}: {s.label}  {s.description}" for lab, s in zip(labels, comp.sources)]
    out.append("")
    header = ["row", "metric", *labels, *[f"{lab}-A" for lab in labels[1:]]]
    out.append("| " + " | ".join(header) + " |")
    out.append("|---|---|" + "---:|" * (len(header) - 2))

    def num(v: float | None, sd: float | None = None) -> str:
        if v is None:
            return "–"
        return f"{v:.4g}" + (f" ± {sd:.2g}" if sd is not None else "")

    for r in comp.rows:
        arrow = "↑" if r["higher_is_better"] else "↓"
        deltas = []
        for d in r["deltas"][1:]:
            if d is None:
                deltas.append("–")
            else:
                better = (d > 0) == r["higher_is_better"] and d != 0
                deltas.append(f"{d:+.4g}" + (" (better)" if better else " (worse)" if d != 0 else ""))
        cells = [
            r["row"],
            f"{r['metric']} {arrow}",
            *[num(v, s) for v, s in zip(r["values"], r["std"])],
            *deltas,
        ]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    if comp.config_diffs:
        out.append("CONFIG DIFFERS:")
        for row, diffs in comp.config_diffs.items():
            out.append(f"  {row}:")
            out += [f"    {d}" for d in diffs]
    else:
        out.append("config: no differences in the compared rows' parameters")
    if comp.env_diffs:
        out.append("VERSIONS / ENVIRONMENT DIFFER:")
        out += [f"  {d}" for d in comp.env_diffs]
    else:
        out.append("versions, git commit and hardware: identical")
    return "\n".join(out)
