"""Aggregate per-seed results into leaderboard rows and write the Markdown, HTML and JSON reports.

Rows are (task, dataset, model) with every test metric as mean ± sample standard deviation over the
seeds (``ddof=1``; one seed has no standard deviation), one baseline row per (task, dataset) from the
classical method each recipe runs on the same split, and the paper's number where the dataset is one
of the paper's. Plots are SVG (per-task bars of the main metric, validation curves) and PNG maps.
"""

from __future__ import annotations

import html
import json
import math
import os
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hs_backbone.training import atomic_write
from hs_bench.paper import PaperNumber, paper_number
from hs_bench.plan import NotRun
from hs_bench.svg import bar_chart, line_chart

__all__ = ["Leaderboard", "Row", "Stat", "aggregate", "stat", "write_reports"]


@dataclass
class Stat:
    """Mean and sample standard deviation of the finite values (``std`` is ``None`` for one value)."""

    mean: float | None
    std: float | None
    n: int
    values: list[float] = field(default_factory=list)

    def text(self, digits: int = 4) -> str:
        if self.mean is None:
            return "–"
        out = _num(self.mean, digits)
        if self.std is not None:
            out += f" ± {_num(self.std, 2)}"
        return out


def stat(values: Iterable[Any]) -> Stat:
    vals = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            vals.append(f)
    if not vals:
        return Stat(None, None, 0, [])
    return Stat(statistics.fmean(vals), statistics.stdev(vals) if len(vals) > 1 else None, len(vals), vals)


def _num(v: float, digits: int = 4) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.{max(digits - 1, 1)}e}"
    return f"{v:.{digits}g}" if abs(v) < 10**digits else f"{v:.0f}"


@dataclass
class Row:
    """One leaderboard row: a model (or the baseline) on one (task, dataset)."""

    task: str
    dataset: str
    model: str
    data_task: str | None
    main_metric: str
    higher_is_better: bool
    metrics: dict[str, Stat]
    seeds: list[int]
    seconds: Stat
    is_baseline: bool = False
    baseline_name: str = ""
    maps: list[str] = field(default_factory=list)
    curve: dict[str, list[float]] = field(default_factory=dict)

    @property
    def main(self) -> Stat:
        return self.metrics.get(self.main_metric, Stat(None, None, 0))


def aggregate(summaries: Sequence[Mapping[str, Any]]) -> list[Row]:
    """Per-seed summaries (status ``ok``) -> rows: models, then one baseline row per (task, dataset)."""
    cells: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for s in summaries:
        if s.get("status") == "ok":
            cells[(s["task"], s["dataset"], s["model"])].append(s)
    rows: list[Row] = []
    baselines: dict[tuple[str, str], dict[int, Mapping[str, Any]]] = defaultdict(dict)
    for (task, dataset, model), runs in cells.items():
        runs = sorted(runs, key=lambda r: r["seed"])
        first = runs[0]
        keys = list(dict.fromkeys(k for r in runs for k in r["metrics"]))
        curve = _mean_curve(runs, f"val.{first['main_metric']}")
        rows.append(
            Row(
                task=task,
                dataset=dataset,
                model=model,
                data_task=first.get("data_task"),
                main_metric=first["main_metric"],
                higher_is_better=bool(first["higher_is_better"]),
                metrics={k: stat(r["metrics"].get(k) for r in runs) for k in keys},
                seeds=[int(r["seed"]) for r in runs],
                seconds=stat(r.get("seconds") for r in runs),
                baseline_name=first.get("baseline_name", ""),
                maps=[m for r in runs[:1] for m in r.get("maps", [])],
                curve=curve,
            )
        )
        for r in runs:
            if r.get("baseline"):
                baselines[(task, dataset)].setdefault(int(r["seed"]), r)
    for (task, dataset), by_seed in baselines.items():
        runs = [by_seed[k] for k in sorted(by_seed)]
        first = runs[0]
        keys = list(dict.fromkeys(k for r in runs for k in r["baseline"]))
        rows.append(
            Row(
                task=task,
                dataset=dataset,
                model=f"baseline: {first.get('baseline_name') or 'classical'}",
                data_task=first.get("data_task"),
                main_metric=first["main_metric"],
                higher_is_better=bool(first["higher_is_better"]),
                metrics={k: stat(r["baseline"].get(k) for r in runs) for k in keys},
                seeds=[int(r["seed"]) for r in runs],
                seconds=Stat(None, None, 0),
                is_baseline=True,
                baseline_name=first.get("baseline_name", ""),
            )
        )
    rows.sort(key=lambda r: (r.task, r.dataset, r.is_baseline, r.model))
    return rows


def _mean_curve(runs: Sequence[Mapping[str, Any]], key: str) -> dict[str, list[float]]:
    """Mean over seeds of a per-epoch metric: ``{"x": steps, "y": means}`` (empty when never logged)."""
    by_step: dict[int, list[float]] = defaultdict(list)
    for r in runs:
        for row in r.get("history", []):
            if key in row and row[key] is not None and math.isfinite(float(row[key])):
                by_step[int(row["step"])].append(float(row[key]))
    steps = sorted(by_step)
    return (
        {"x": [float(s) for s in steps], "y": [statistics.fmean(by_step[s]) for s in steps]} if steps else {}
    )


@dataclass
class Leaderboard:
    """Everything the reports show."""

    name: str
    description: str
    created: str
    command: str
    environment: dict[str, dict[str, str]]
    tracking: dict[str, str]
    rows: list[Row]
    not_run: list[NotRun]
    failures: list[dict[str, Any]]
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)
    kernels_md: str | None = None
    kernels_path: str | None = None
    interrupted: bool = False

    def tasks(self) -> list[str]:
        return list(dict.fromkeys(r.task for r in self.rows))

    def models(self) -> list[str]:
        return list(dict.fromkeys(r.model for r in self.rows if not r.is_baseline))

    def cell(self, task: str, dataset: str, model: str) -> Row | None:
        return next((r for r in self.rows if (r.task, r.dataset, r.model) == (task, dataset, model)), None)

    def baseline(self, task: str, dataset: str) -> Row | None:
        return next((r for r in self.rows if (r.task, r.dataset) == (task, dataset) and r.is_baseline), None)

    def datasets(self, task: str) -> list[str]:
        return list(dict.fromkeys(r.dataset for r in self.rows if r.task == task))

    def metric_columns(self, task: str) -> list[str]:
        """The metric columns of a task's detail table: its main metric first, then the others in the
        order the rows report them, at most 10."""
        rows = [r for r in self.rows if r.task == task]
        names = list(dict.fromkeys(k for r in rows for k in r.metrics))
        main = rows[0].main_metric
        return [main, *[m for m in names if m != main]][:10]

    def paper(self, task: str, dataset: str) -> PaperNumber | None:
        row = next((r for r in self.rows if (r.task, r.dataset) == (task, dataset)), None)
        return paper_number(row.data_task if row else None, dataset)

    def best(self, task: str, dataset: str) -> str | None:
        """The model (or baseline) with the best mean main metric on (task, dataset)."""
        rows = [r for r in self.rows if (r.task, r.dataset) == (task, dataset) and r.main.mean is not None]
        if not rows:
            return None
        pick = max if rows[0].higher_is_better else min
        return pick(rows, key=lambda r: r.main.mean or 0.0).model

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "created": self.created,
            "command": self.command,
            "interrupted": self.interrupted,
            "counts": self.counts,
            "environment": self.environment,
            "tracking": self.tracking,
            "rows": [
                {
                    **{k: v for k, v in asdict(r).items() if k not in ("metrics", "seconds", "curve")},
                    "metrics": {k: asdict(s) for k, s in r.metrics.items()},
                    "seconds": asdict(r.seconds),
                    "paper": asdict(p) if (p := paper_number(r.data_task, r.dataset)) else None,
                }
                for r in self.rows
            ],
            "not_run": [asdict(n) for n in self.not_run],
            "failures": self.failures,
            "notes": self.notes,
        }


def _atomic_write(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def _arrow(higher: bool) -> str:
    return "↑" if higher else "↓"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


# --------------------------------------------------------------------------------------------- plots


def make_plots(lb: Leaderboard, out: Path) -> dict[str, str]:
    """Write the SVG plots under ``out/plots``; returns relative path -> SVG text."""
    plots: dict[str, str] = {}
    for task in lb.tasks():
        datasets = lb.datasets(task)
        models = [m for m in lb.models() if any(lb.cell(task, d, m) for d in datasets)]
        series = [*models, "baseline"]
        means: list[list[float | None]] = []
        stds: list[list[float | None]] = []
        metric, higher = "", True
        for d in datasets:
            mrow: list[float | None] = []
            srow: list[float | None] = []
            for m in models:
                r = lb.cell(task, d, m)
                mrow.append(r.main.mean if r else None)
                srow.append(r.main.std if r else None)
                if r:
                    metric, higher = r.main_metric, r.higher_is_better
            b = lb.baseline(task, d)
            mrow.append(b.main.mean if b else None)
            srow.append(b.main.std if b else None)
            means.append(mrow)
            stds.append(srow)
        if datasets:
            rel = f"plots/{_safe(task)}.svg"
            plots[rel] = bar_chart(
                f"{task}: {metric} ({'higher' if higher else 'lower'} is better), mean ± std over seeds",
                datasets,
                series,
                means,
                stds,
                ylabel=metric,
            )
        for d in datasets:
            curves = {
                m: (r.curve["x"], r.curve["y"])
                for m in models
                if (r := lb.cell(task, d, m)) is not None and r.curve
            }
            if curves:
                rel = f"plots/curves_{_safe(task)}__{_safe(d)}.svg"
                plots[rel] = line_chart(
                    f"{task} / {d}: validation {metric} per epoch (mean over seeds)",
                    curves,
                    xlabel="epoch (all fine-tuning loops of the recipe, in order)",
                    ylabel=f"val {metric}",
                )
    for rel, text in plots.items():
        _atomic_write(out / rel, text)
    return plots


# ------------------------------------------------------------------------------------------ markdown


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(lb: Leaderboard, plots: Mapping[str, str]) -> str:
    env = lb.environment
    hw, git, ver = env.get("hardware", {}), env.get("git", {}), env.get("versions", {})
    c = lb.counts
    out = [f"# hsigma leaderboard: `{lb.name}`", ""]
    if lb.description:
        out += [lb.description, ""]
    if lb.interrupted:
        out += [
            "> **Interrupted** before every job finished: the tables hold the completed runs only. "
            "Rerun the same command to continue (completed runs are skipped).",
            "",
        ]
    out += [
        f"- command: `{lb.command}`",
        f"- created: {lb.created}; git {git.get('commit', 'unknown')[:12]}"
        + (" (uncommitted changes)" if git.get("dirty") == "true" else ""),
        f"- hardware: {hw.get('cpu', '?')}, {hw.get('cpu_count', '?')} cores, torch threads "
        f"{hw.get('torch_threads', '?')}, GPU {hw.get('gpu', 'none')}, device {hw.get('device', '?')}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in ver.items()),
        f"- MLflow: {lb.tracking.get('uri', '')}, experiment `{lb.tracking.get('experiment', '')}`, "
        f"leaderboard run `{lb.tracking.get('run_id', '')}`"
        + (f" (fell back from {lb.tracking['requested_uri']})" if lb.tracking.get("fallback") else ""),
        f"- jobs: {c.get('total', 0)} planned: {c.get('ran', 0)} run now, {c.get('cached', 0)} reused from "
        f"earlier runs, {c.get('failed', 0)} failed, {c.get('missing', 0)} without data, "
        f"{c.get('not_started', 0)} not started; {len(lb.not_run)} (task, dataset) pairs not run here "
        "(listed below)",
        "",
        "Values are test metrics, mean ± sample standard deviation over seeds. Model selection used "
        "validation data carved from the training split only. **Bold**: best mean on the row.",
        "",
    ]
    models = lb.models()
    if lb.rows:
        out += ["## Summary (main metric)", ""]
        header = ["task", "dataset", "metric", "baseline", *models, "paper (HyperSIGMA)"]
        out += ["| " + " | ".join(header) + " |", "|" + "---|" * 3 + "---:|" * (len(header) - 3)]
        for task in lb.tasks():
            for d in lb.datasets(task):
                best = lb.best(task, d)
                b = lb.baseline(task, d)
                any_row = b or next(r for r in lb.rows if (r.task, r.dataset) == (task, d))
                cells = [task, d, f"{any_row.main_metric} {_arrow(any_row.higher_is_better)}"]

                def fmt(r: Row | None, best: str | None = best) -> str:
                    if r is None:
                        return "–"
                    t = r.main.text()
                    return f"**{t}**" if r.model == best else t

                cells.append(f"{fmt(b)} ({b.baseline_name})" if b else "–")
                cells += [fmt(lb.cell(task, d, m)) for m in models]
                p = lb.paper(task, d)
                cells.append(f"{p.value:g} ({p.metric})" if p else "–")
                out.append("| " + " | ".join(_md_escape(x) for x in cells) + " |")
        out.append("")
    for task in lb.tasks():
        rows = [r for r in lb.rows if r.task == task]
        main, metric_names = rows[0].main_metric, lb.metric_columns(task)
        out += [f"## {task}", ""]
        out.append(
            f"Main metric `{main}` ({'higher' if rows[0].higher_is_better else 'lower'} is better); "
            "baseline: "
            f"{rows[0].baseline_name or 'none'}."
        )
        out.append("")
        header = ["dataset", "model", "seeds", *metric_names, "s / run"]
        out += ["| " + " | ".join(header) + " |", "|---|---|---:|" + "---:|" * (len(header) - 3)]
        for r in rows:
            cells = [r.dataset, r.model, str(len(r.seeds))]
            cells += [r.metrics[m].text() if m in r.metrics else "–" for m in metric_names]
            cells.append(_num(r.seconds.mean, 3) if r.seconds.mean is not None else "–")
            out.append("| " + " | ".join(_md_escape(x) for x in cells) + " |")
        for d in lb.datasets(task):
            p = lb.paper(task, d)
            if p:
                out.append(
                    f"| {d} | HyperSIGMA (paper) | – | {p.value:g} ({p.metric}; previous best "
                    f"{p.previous_sota:g}; {p.note}) |"
                )
        out.append("")
        rel = f"plots/{_safe(task)}.svg"
        if rel in plots:
            out += [f"![{task}]({rel})", ""]
        curves = [k for k in plots if k.startswith(f"plots/curves_{_safe(task)}__")]
        if curves:
            out.append("Validation curves: " + ", ".join(f"[{Path(k).stem}]({k})" for k in curves))
            out.append("")
        maps = [(r, m) for r in rows for m in r.maps]
        if maps:
            out.append(
                "Maps (first seed): "
                + ", ".join(f"[{r.dataset}/{r.model}/{Path(m).stem}]({m})" for r, m in maps)
            )
            out.append("")
    if lb.not_run:
        out += [
            "## Not run here",
            "",
            "| task | dataset | model | why | how to get it |",
            "|---|---|---|---|---|",
        ]
        for n in lb.not_run:
            out.append(
                "| "
                + " | ".join(
                    _md_escape(x)
                    for x in (n.task, n.dataset, n.model or "all", n.reason, n.how_to_get or "–")
                )
                + " |"
            )
        out.append("")
    if lb.failures:
        out += [
            "## Failures",
            "",
            "| task | dataset | model | seed | error | MLflow run |",
            "|---|---|---|---:|---|---|",
        ]
        for f in lb.failures:
            out.append(
                "| "
                + " | ".join(
                    _md_escape(str(x))
                    for x in (
                        f["task"],
                        f["dataset"],
                        f["model"],
                        f["seed"],
                        f["error"][:300],
                        f.get("run_id", ""),
                    )
                )
                + " |"
            )
        out.append("")
    if lb.notes:
        out += ["## Notes", ""] + [f"- {_md_escape(n)}" for n in lb.notes] + [""]
    out += ["## Speed: hs-attention kernel micro-benchmarks", ""]
    if lb.kernels_md:
        body = lb.kernels_md.strip().splitlines()
        if body and body[0].startswith("# "):
            body = body[1:]
        out += [("#" + line) if line.startswith("## ") else line for line in body]
        out += ["", f"(from `{lb.kernels_path}`)", ""]
    else:
        out += [
            "Not measured in this run: `./noxw -s bench` (or `./noxw -s kernels`) writes them to "
            "`<results>/kernels/hs-attention.md`.",
            "",
        ]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:0.6em 0 1.2em}
th,td{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f2f2f2} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.baseline td{color:#555;background:#fafafa} tr.paper td{font-style:italic;color:#555}
.best{font-weight:bold} .warn{background:#fff3cd;padding:0.5em 1em;border:1px solid #e0c36a}
.maps img{image-rendering:pixelated;max-height:160px;margin:4px;border:1px solid #ddd}
.maps figure{display:inline-block;margin:4px;font-size:11px} code{background:#f4f4f4;padding:1px 3px}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def render_html(lb: Leaderboard, plots: Mapping[str, str]) -> str:
    env = lb.environment
    hw, git, ver = env.get("hardware", {}), env.get("git", {}), env.get("versions", {})
    c = lb.counts
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>hsigma leaderboard: {_e(lb.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>hsigma leaderboard: <code>{_e(lb.name)}</code></h1>",
    ]
    if lb.description:
        out.append(f"<p>{_e(lb.description)}</p>")
    if lb.interrupted:
        out.append(
            '<p class="warn"><b>Interrupted</b> before every job finished: the tables hold the completed '
            "runs only. Rerun the same command to continue.</p>"
        )
    out.append("<ul>")
    out.append(f"<li>command: <code>{_e(lb.command)}</code></li>")
    out.append(f"<li>created {_e(lb.created)}; git <code>{_e(git.get('commit', 'unknown')[:12])}</code></li>")
    out.append(
        f"<li>hardware: {_e(hw.get('cpu', '?'))}, {_e(hw.get('cpu_count', '?'))} cores, GPU "
        f"{_e(hw.get('gpu', 'none'))}, device {_e(hw.get('device', '?'))}</li>"
    )
    out.append("<li>versions: " + _e(", ".join(f"{k} {v}" for k, v in ver.items())) + "</li>")
    out.append(
        f"<li>MLflow: <code>{_e(lb.tracking.get('uri', ''))}</code>, experiment "
        f"<code>{_e(lb.tracking.get('experiment', ''))}</code>, "
        f"run <code>{_e(lb.tracking.get('run_id', ''))}</code></li>"
    )
    out.append(
        f"<li>jobs: {c.get('total', 0)} planned: {c.get('ran', 0)} run now, {c.get('cached', 0)} reused, "
        f"{c.get('failed', 0)} failed, {c.get('missing', 0)} without data, "
        f"{c.get('not_started', 0)} not started</li>"
    )
    out.append("</ul>")
    out.append(
        "<p>Test metrics, mean ± sample standard deviation over seeds; model selection on validation "
        "data carved from the training split only. Bold: best mean of the row.</p>"
    )
    models = lb.models()
    if lb.rows:
        out.append("<h2>Summary (main metric)</h2><table><tr>")
        out += [
            f"<th>{_e(h)}</th>"
            for h in ("task", "dataset", "metric", "baseline", *models, "paper (HyperSIGMA)")
        ]
        out.append("</tr>")
        for task in lb.tasks():
            for d in lb.datasets(task):
                best = lb.best(task, d)
                b = lb.baseline(task, d)
                any_row = b or next(r for r in lb.rows if (r.task, r.dataset) == (task, d))

                def td(r: Row | None, suffix: str = "", best: str | None = best) -> str:
                    if r is None:
                        return '<td class="num">–</td>'
                    cls = "num best" if r.model == best else "num"
                    return f'<td class="{cls}">{_e(r.main.text())}{_e(suffix)}</td>'

                p = lb.paper(task, d)
                out.append(
                    f"<tr><td>{_e(task)}</td><td>{_e(d)}</td>"
                    f"<td>{_e(any_row.main_metric)} {_arrow(any_row.higher_is_better)}</td>"
                    + td(b, f" ({b.baseline_name})" if b else "")
                    + "".join(td(lb.cell(task, d, m)) for m in models)
                    + (
                        f'<td class="num">{p.value:g} ({_e(p.metric)})</td>'
                        if p
                        else '<td class="num">–</td>'
                    )
                    + "</tr>"
                )
        out.append("</table>")
    for task in lb.tasks():
        rows = [r for r in lb.rows if r.task == task]
        main, metric_names = rows[0].main_metric, lb.metric_columns(task)
        out.append(f"<h2>{_e(task)}</h2>")
        out.append(
            f"<p>Main metric <code>{_e(main)}</code> ({'higher' if rows[0].higher_is_better else 'lower'} is "
            f"better); baseline: {_e(rows[0].baseline_name or 'none')}.</p>"
        )
        out.append(
            "<table><tr>"
            + "".join(f"<th>{_e(h)}</th>" for h in ("dataset", "model", "seeds", *metric_names, "s / run"))
            + "</tr>"
        )
        for r in rows:
            best = lb.best(task, r.dataset)
            cls = ' class="baseline"' if r.is_baseline else ""
            cells = [
                f"<td>{_e(r.dataset)}</td>",
                f"<td>{_e(r.model)}</td>",
                f'<td class="num">{len(r.seeds)}</td>',
            ]
            for m in metric_names:
                bold = " best" if m == main and r.model == best else ""
                cells.append(
                    f'<td class="num{bold}">{_e(r.metrics[m].text()) if m in r.metrics else "–"}</td>'
                )
            cells.append(
                f'<td class="num">{_e(_num(r.seconds.mean, 3)) if r.seconds.mean is not None else "–"}</td>'
            )
            out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
        for d in lb.datasets(task):
            p = lb.paper(task, d)
            if p:
                out.append(
                    f'<tr class="paper"><td>{_e(d)}</td><td>HyperSIGMA (paper)</td><td></td>'
                    f'<td colspan="{len(metric_names) + 1}">{p.value:g} ({_e(p.metric)}; previous best '
                    f"{p.previous_sota:g}; {_e(p.note)})</td></tr>"
                )
        out.append("</table>")
        rel = f"plots/{_safe(task)}.svg"
        if rel in plots:
            out.append(f"<div>{plots[rel]}</div>")
        for k in plots:
            if k.startswith(f"plots/curves_{_safe(task)}__"):
                out.append(f"<div>{plots[k]}</div>")
        maps = [(r, m) for r in rows for m in r.maps]
        if maps:
            out.append('<div class="maps">')
            for r, m in maps:
                out.append(
                    f'<figure><a href="{_e(m)}"><img src="{_e(m)}" alt="{_e(Path(m).stem)}"></a>'
                    f"<figcaption>{_e(r.dataset)} / {_e(r.model)} / {_e(Path(m).stem)}</figcaption></figure>"
                )
            out.append("</div>")
    if lb.not_run:
        out.append(
            "<h2>Not run here</h2><table><tr><th>task</th><th>dataset</th><th>model</th><th>why</th>"
            "<th>how to get it</th></tr>"
        )
        for n in lb.not_run:
            out.append(
                f"<tr><td>{_e(n.task)}</td><td>{_e(n.dataset)}</td><td>{_e(n.model or 'all')}</td>"
                f"<td>{_e(n.reason)}</td><td>{_e(n.how_to_get or '–')}</td></tr>"
            )
        out.append("</table>")
    if lb.failures:
        out.append(
            "<h2>Failures</h2><table><tr><th>task</th><th>dataset</th><th>model</th><th>seed</th><th>error</th><th>run</th></tr>"
        )
        for f in lb.failures:
            out.append(
                f"<tr><td>{_e(f['task'])}</td><td>{_e(f['dataset'])}</td><td>{_e(f['model'])}</td>"
                f"<td>{_e(f['seed'])}</td><td><code>{_e(f['error'][:500])}</code></td>"
                f"<td>{_e(f.get('run_id', ''))}</td></tr>"
            )
        out.append("</table>")
    if lb.notes:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in lb.notes) + "</ul>")
    out.append("<h2>Speed: hs-attention kernel micro-benchmarks</h2>")
    if lb.kernels_md:
        out.append(_markdown_to_html(lb.kernels_md))
        out.append(f"<p>(from <code>{_e(lb.kernels_path)}</code>)</p>")
    else:
        out.append(
            "<p>Not measured in this run: <code>./noxw -s bench</code> writes them to "
            "<code>&lt;results&gt;/kernels/hs-attention.md</code>.</p>"
        )
    out.append("</body></html>")
    return "\n".join(out)


def _markdown_to_html(md: str) -> str:
    """The small Markdown subset of the kernel report: headings, lists, pipe tables, paragraphs."""
    out: list[str] = []
    lines = md.strip().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            table: list[list[str]] = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(set(c) <= set("-: ") for c in cells):
                    table.append(cells)
                i += 1
            if table:
                out.append("<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in table[0]) + "</tr>")
                out += ["<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in table[1:]]
                out.append("</table>")
            continue
        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")) + 2, 6)
            out.append(f"<h{level}>{_e(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_e(lines[i][2:])}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif line.strip():
            out.append(f"<p>{_e(line)}</p>")
        i += 1
    return "\n".join(out)


def write_reports(lb: Leaderboard, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``leaderboard.{md,html,json}`` and ``plots/*.svg`` into ``out_dir`` (each file atomically)."""
    out = Path(out_dir)
    plots = make_plots(lb, out)
    paths = {
        "md": out / "leaderboard.md",
        "html": out / "leaderboard.html",
        "json": out / "leaderboard.json",
    }
    _atomic_write(paths["md"], render_markdown(lb, plots))
    _atomic_write(paths["html"], render_html(lb, plots))
    _atomic_write(paths["json"], json.dumps(lb.to_json(), indent=2, default=str))
    for rel in plots:
        paths[rel] = out / rel
    return paths
