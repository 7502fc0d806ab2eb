"""The ``hs-bench`` command line (the only argument parsing in the monorepo).

Subcommands are registered on one ``argparse`` subparser group; each has a ``_add_<name>`` function
that declares its arguments and a handler ``_cmd_<name>(args) -> int`` (the exit code). To add a
subcommand, write both and list the adder in :data:`_SUBCOMMANDS`.

- ``hs-bench datasets [NAME ...] [--task T] [--state S] [--verify] [--root DIR] [--cache-dir DIR] [--json]``:
  what is known, what is present locally, and how to get the rest. Exit code 0; 1 when ``--verify``
  finds a checksum mismatch; 2 for usage errors (unknown dataset or task).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

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


_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_datasets]


def build_parser() -> argparse.ArgumentParser:
    """The ``hs-bench`` parser with every registered subcommand."""
    from hs_bench import __version__

    parser = argparse.ArgumentParser(
        prog="hs-bench", description="hsigma benchmarks: datasets and leaderboard."
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
