"""The ``hs-bench`` command line (the only argument parsing in the monorepo).

Subcommands are registered on one ``argparse`` subparser group; each has a ``_add_<name>`` function
that declares its arguments and a handler ``_cmd_<name>(args) -> int`` (the exit code). To add a
subcommand, write both and list the adder in :data:`_SUBCOMMANDS`.

- ``hs-bench datasets [NAME ...] [--task T] [--state S] [--verify] [--root DIR] [--cache-dir DIR] [--json]``:
  what is known, what is present locally, and how to get the rest. Exit code 0; 1 when ``--verify``
  finds a checksum mismatch; 2 for usage errors (unknown dataset or task).
- ``hs-bench run [--profile quick|paper] [--config FILE] [--set KEY=VALUE ...] [--dry-run] [--force]``:
  the leaderboard (:mod:`hs_bench.leaderboard`). Exit code 0 when every job succeeded, 1 when one
  failed, 2 for an invalid configuration (nothing runs), 130 when interrupted (rerun to continue).
- ``hs-bench tune [--task T --dataset D [--model M]] [--trials N] [--storage URL] [--study NAME]``:
  Optuna search of the fine-tuning values on the validation split (:mod:`hs_bench.tune`).
- ``hs-bench compare RUN_OR_EXPERIMENT ...``: side by side with deltas (:mod:`hs_bench.compare`).
- ``hs-bench config [--profile P] [--config FILE] [--set ...]``: print the resolved configuration
  (TOML), a starting point for a custom file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hs_bench.config import BenchConfig

__all__ = ["build_parser", "main"]


def _add_datasets(sub: argparse._SubParsersAction) -> None:
    from hs_data import TASKS

    p = sub.add_parser(
        "datasets",
        help="list known datasets, what is present locally, and how to get the rest",
        description="List the registered datasets and their local state; with NAMEs, describe them in full.",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="datasets to describe in full")
    p.add_argument("--task", choices=TASKS, help="only this task")
    p.add_argument(
        "--state", choices=("present", "partial", "missing", "no-source"), help="only this local state"
    )
    p.add_argument("--real", action="store_true", help="leave out synthetic and semi-synthetic datasets")
    p.add_argument(
        "--verify", action="store_true", help="check the sha256 of every local file (exit 1 on mismatch)"
    )
    p.add_argument("--root", help="data root (default: $HS_DATA_ROOT)")
    p.add_argument("--cache-dir", help="download cache (default: $HS_CACHE_DIR or ~/.cache/hsigma/data)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_cmd_datasets)


def _cmd_datasets(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from hs_data import get_dataset_info, list_datasets
    from hs_data.report import dataset_status, describe_dataset, format_status_table

    names = list(args.names) or list_datasets(args.task, synthetic=False if args.real else None)
    for name in names:
        try:
            get_dataset_info(name)
        except ValueError as exc:
            print(f"hs-bench datasets: {exc}", file=sys.stderr)
            return 2
    statuses = [dataset_status(n, root=args.root, cache=args.cache_dir, verify=args.verify) for n in names]
    if args.state:
        statuses = [s for s in statuses if s.state == args.state]
    if args.json:
        out = []
        for st in statuses:
            info = get_dataset_info(st.name)
            out.append(
                asdict(st)
                | {
                    "task": info.task,
                    "title": info.title,
                    "synthetic": info.synthetic,
                    "hypersigma": info.hypersigma,
                    "how_to_get": info.how_to_get,
                    "urls": [u for f in info.files for u in f.urls],
                }
            )
        print(json.dumps(out, indent=2))
    elif args.names:
        print(
            "\n\n".join(
                describe_dataset(s.name, root=args.root, cache=args.cache_dir, verify=args.verify)
                for s in statuses
            )
        )
    else:
        print(format_status_table(statuses, root=args.root, cache=args.cache_dir))
    return 1 if any(st.bad_checksum for st in statuses) else 0


def _add_config_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration (see `hs-bench config --help`; later options win)")
    g.add_argument("--profile", help="built-in profile: quick (default) or paper")
    g.add_argument("--config", metavar="FILE", help="a TOML or JSON configuration (may `extends` a profile)")
    g.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one key, e.g. --set finetune.epochs=3 --set seeds=[0,1,2] (values are JSON)",
    )
    g.add_argument("--models", nargs="+", metavar="NAME", help="hs-backbone names (sets `models`)")
    g.add_argument("--tasks", nargs="+", metavar="RECIPE", help="recipe names (sets `tasks`)")
    g.add_argument(
        "--datasets", nargs="+", metavar="NAME", help="dataset names or present/paper (sets `datasets`)"
    )
    g.add_argument("--seeds", nargs="+", type=int, metavar="N", help="seeds (sets `seeds`)")
    g.add_argument("--device", help="cpu, cuda, cuda:N (sets `device`)")
    g.add_argument("--results", metavar="DIR", help="results folder (default $HS_RESULTS_DIR or ./results)")
    g.add_argument(
        "--tracking-uri", metavar="URI", help="MLflow store (default sqlite:///<results>/mlflow.db)"
    )
    g.add_argument("--data-root", metavar="DIR", help="the scenes (default $HS_DATA_ROOT)")
    g.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (registers recipes)",
    )


def _load(args: argparse.Namespace) -> BenchConfig:
    """The configuration of ``--profile`` / ``--config``, then ``--set``, then the explicit flags."""
    from hs_bench.config import _merge, _set_path, load_config, parse_override

    overrides: dict[str, object] = {}
    for text in args.overrides:
        key, value = parse_override(text)
        _set_path(overrides, key, value)
    flags: dict[str, object] = {}
    for name, attr in (
        ("models", "models"),
        ("tasks", "tasks"),
        ("seeds", "seeds"),
        ("device", "device"),
        ("results_dir", "results"),
        ("tracking_uri", "tracking_uri"),
        ("data_root", "data_root"),
    ):
        value = getattr(args, attr, None)
        if value is not None:
            flags[name] = value
    if args.datasets is not None:
        flags["datasets"] = args.datasets[0] if args.datasets in (["present"], ["paper"]) else args.datasets
    if args.plugin:
        flags["plugins"] = list(args.plugin)
    return load_config(args.profile, args.config, _merge(overrides, flags))


def _config_error(exc: Exception) -> int:
    print(f"hs-bench: {exc}", file=sys.stderr)
    print("hs-bench: nothing was run. See `hs-bench config --help` for every key.", file=sys.stderr)
    return 2


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the leaderboard (fine-tune and evaluate every model on every task and dataset)",
        description=(
            "Fine-tune and evaluate every configured model on every task and dataset present locally, log "
            "everything to MLflow, and write leaderboard.{md,html,json} and plots to the results folder. "
            "Completed jobs (same configuration hash) are skipped, so an interrupted run continues."
        ),
    )
    _add_config_args(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan (jobs, what is missing) and stop")
    p.add_argument("--force", action="store_true", help="rerun jobs that already have a FINISHED run")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from hs_bench.config import ConfigError

    try:
        cfg = _load(args)
    except (ConfigError, FileNotFoundError) as exc:
        return _config_error(exc)
    from hs_bench.leaderboard import format_summary, run_leaderboard
    from hs_bench.plan import build_plan

    lookup = None
    if cfg.tune.get("use_tuned"):
        from hs_bench.tune import tuned_lookup

        lookup = tuned_lookup(cfg)
    plan = build_plan(cfg, tuned=lookup, progress=not args.no_progress)
    print(plan.describe(), file=sys.stderr)
    if args.dry_run:
        return 0
    res = run_leaderboard(cfg, plan=plan, force=args.force, progress=not args.no_progress)
    print(format_summary(res, plan), file=sys.stderr)
    return res.exit_code


def _add_tune(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tune",
        help="Optuna search of the fine-tuning values on the validation split",
        description=(
            "Search lr, layer decay, weight decay, epochs and batch size (the configuration's tune.space) of "
            "one (task, dataset, model), or of every one in the plan, maximising the validation main metric "
            "(never test metrics), with pruning. Studies persist in a database (default "
            "sqlite:///<results>/optuna.db): rerunning resumes; several workers may share a study. Use "
            "`--set tune.use_tuned=true` with `hs-bench run` to take the best values."
        ),
    )
    _add_config_args(p)
    p.add_argument("--task", help="recipe (default: every task of the plan)")
    p.add_argument("--dataset", help="dataset (default: every dataset of the plan)")
    p.add_argument("--model", help="backbone (default: the task's models)")
    p.add_argument("--trials", type=int, help="finished trials each study should hold (default tune.trials)")
    p.add_argument("--timeout", type=float, help="seconds this worker may run per study")
    p.add_argument("--storage", help="study database URL (default sqlite:///<results>/optuna.db)")
    p.add_argument("--study", help="study name (only with one task, dataset and model)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_tune)


def _cmd_tune(args: argparse.Namespace) -> int:
    from hs_bench.config import ConfigError

    try:
        cfg = _load(args)
    except (ConfigError, FileNotFoundError) as exc:
        return _config_error(exc)
    from hs_bench.plan import build_plan
    from hs_bench.tune import tune

    if args.task and args.dataset:
        cells = [
            (args.task, args.dataset, m)
            for m in ([args.model] if args.model else cfg.task_settings(args.task).models)
        ]
        import hs_tasks

        if args.task not in hs_tasks.list_recipes():
            return _config_error(
                ValueError(
                    f"--task: expected one of the registered recipes {hs_tasks.list_recipes()}, "
                    f"got {args.task!r}"
                )
            )
    else:
        plan = build_plan(cfg)
        cells = [
            c
            for c in plan.cells
            if (args.task in (None, c[0])) and (args.dataset in (None, c[1])) and (args.model in (None, c[2]))
        ]
        if not cells:
            print(
                "hs-bench tune: nothing to tune (no runnable task/dataset/model in the plan)", file=sys.stderr
            )
            return 2
    if args.study and len(cells) != 1:
        return _config_error(
            ValueError(f"--study names one study but {len(cells)} (task, dataset, model) were selected")
        )
    code = 0
    for task, dataset, model in cells:
        try:
            res = tune(
                cfg,
                task,
                dataset,
                model,
                trials=args.trials,
                timeout_s=args.timeout,
                storage=args.storage,
                name=args.study,
                progress=not args.no_progress,
            )
        except (ValueError, FileNotFoundError) as exc:
            print(f"hs-bench tune: {task}/{dataset}/{model}: {exc}", file=sys.stderr)
            code = max(code, 1)
            continue
        print(res.describe(), file=sys.stderr)
        for f in res.failures:
            print(f"  FAILED {f}", file=sys.stderr)
        code = max(code, res.exit_code) if res.exit_code != 130 else 130
        if res.exit_code == 130:
            break
    return code


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare MLflow runs or experiments side by side",
        description=(
            "Compare runs (ids) or experiments (names or ids) side by side: the main metric (or all with "
            "--all-metrics) per (task, dataset, model), deltas to the first, and flagged differences in "
            "configuration, package versions, git commit and hardware."
        ),
    )
    p.add_argument("refs", nargs="+", metavar="RUN_OR_EXPERIMENT")
    p.add_argument("--tracking-uri", help="MLflow store (default sqlite:///<results>/mlflow.db)")
    p.add_argument("--results", metavar="DIR", help="results folder (default $HS_RESULTS_DIR or ./results)")
    p.add_argument("--all-metrics", action="store_true", help="every metric, not only the main one")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from hs_bench.compare import compare, format_comparison, load_source
    from hs_bench.tracking import Tracker

    results = Path(args.results or os.environ.get("HS_RESULTS_DIR") or "results").resolve()
    uri = (
        args.tracking_uri
        or os.environ.get("MLFLOW_TRACKING_URI")
        or "sqlite:///" + str(results / "mlflow.db")
    )
    tracker = Tracker(uri, results)
    try:
        sources = [load_source(tracker, r) for r in args.refs]
    except ValueError as exc:
        print(f"hs-bench compare: {exc}", file=sys.stderr)
        return 2
    comp = compare(sources, all_metrics=args.all_metrics)
    if args.json:
        print(
            json.dumps(
                {
                    "sources": [{"label": s.label, "description": s.description} for s in comp.sources],
                    "rows": comp.rows,
                    "config_diffs": comp.config_diffs,
                    "env_diffs": comp.env_diffs,
                },
                indent=2,
                default=str,
            )
        )
    else:
        print(format_comparison(comp))
    return 0


def _add_config(sub: argparse._SubParsersAction) -> None:
    from hs_bench.config import __doc__ as config_doc

    p = sub.add_parser(
        "config",
        help="print the resolved configuration (TOML) of a profile or file",
        description=config_doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_config_args(p)
    p.add_argument("--json", action="store_true", help="JSON instead of TOML")
    p.set_defaults(handler=_cmd_config)


def _cmd_config(args: argparse.Namespace) -> int:
    from hs_bench.config import ConfigError, dump_toml

    try:
        cfg = _load(args)
    except (ConfigError, FileNotFoundError) as exc:
        return _config_error(exc)
    data = cfg.to_dict()
    print(json.dumps(data, indent=2) if args.json else dump_toml(data), end="" if not args.json else "\n")
    for note in cfg.notes:
        print(f"# note: {note}", file=sys.stderr)
    return 0


_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_datasets,
    _add_run,
    _add_tune,
    _add_compare,
    _add_config,
]


def build_parser() -> argparse.ArgumentParser:
    """The ``hs-bench`` parser with every registered subcommand."""
    from hs_bench import __version__

    parser = argparse.ArgumentParser(
        prog="hs-bench", description="hsigma benchmarks: datasets, the leaderboard, tuning and comparisons."
    )
    parser.add_argument("--version", action="version", version=f"hs-bench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hs-bench`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
