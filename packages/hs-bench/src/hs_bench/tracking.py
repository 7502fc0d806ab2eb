"""MLflow logging for the leaderboard and tuning, through ``MlflowClient`` only (mlflow-skinny suffices).

The default store is embedded: a SQLite database in the results folder (``sqlite:///.../mlflow.db``,
artifacts beside it in ``mlartifacts/``). A server URI (``http://host:port``) works the same. When a
server does not answer (checked up front with ``/health``, and on every call), :class:`Tracker` says
so once, clearly, and switches to the local store; the caller replays the run in progress there
(:class:`TrackingUnavailable`), so no result is lost.

Run layout (tags ``hs_kind``): ``seed`` (one recipe run: one task, dataset, model and seed), ``cell``
(the mean and standard deviation over seeds, parent of its seed runs), ``leaderboard`` (one
invocation: the tables and plots), ``study`` (an Optuna study, parent of its ``trial`` runs).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import math
import os
import platform
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "Tracker",
    "TrackingUnavailable",
    "config_hash",
    "environment",
    "metric_key",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

_MAX_PARAM = 6000  # MLflow's limit on a parameter value
_MAX_TAG = 8000
_BAD_KEY = re.compile(r"[^\w\-. /]")


class TrackingUnavailable(RuntimeError):
    """The tracking server failed; the tracker has switched to the local store (replay there)."""


def metric_key(name: str) -> str:
    """A valid MLflow metric/param key: characters other than ``[A-Za-z0-9_-. /]`` become ``_``."""
    key = _BAD_KEY.sub("_", str(name)).strip(" /") or "_"
    return key[:250]


def config_hash(data: Mapping[str, Any]) -> str:
    """A short stable hash of a JSON-serialisable mapping (key order does not matter)."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def probe_server(uri: str, timeout: float = 5.0) -> str | None:
    """``None`` when the MLflow server at ``uri`` answers ``/health``, else why not."""
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            if resp.status != 200:
                return f"GET {url} answered HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"GET {url} answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"GET {url} failed: {reason}"
    return None


def _looks_unavailable(exc: BaseException) -> bool:
    """Whether an exception from a remote store means the server is gone (not a bad request)."""
    from mlflow.exceptions import MlflowException

    if isinstance(exc, MlflowException):
        code = getattr(exc, "error_code", "")
        msg = str(exc)
        return code in ("INTERNAL_ERROR", "TEMPORARILY_UNAVAILABLE") and (
            "API request" in msg or "failed with" in msg or "Connection" in msg
        )
    return isinstance(exc, (OSError, ConnectionError))


class Tracker:
    """An ``MlflowClient`` with a local fallback store.

    Args:
        uri: the tracking URI (``sqlite:///...``, ``http://...``, ...).
        results_dir: where the local store lives (``mlflow.db``, ``mlartifacts/``).
        echo: where user-facing messages go (default: stderr).
    """

    def __init__(
        self, uri: str, results_dir: str | os.PathLike[str], *, echo: Callable[[str], None] | None = None
    ):
        from mlflow.tracking import MlflowClient

        for name in ("alembic", "mlflow.store.db.utils", "mlflow.store.db"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # Fail fast against a dead server (the defaults retry for minutes).
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
        self.results_dir = Path(results_dir)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.local_uri = "sqlite:///" + str(self.results_dir / "mlflow.db")
        self.requested_uri = uri
        self.uri = uri
        self.fallback_reason: str | None = None
        self._echo = echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._experiments: dict[str, str] = {}
        if _is_remote(uri):
            why = probe_server(uri)
            if why is not None:
                self._switch(why)
        self.client = MlflowClient(tracking_uri=self.uri)

    # ------------------------------------------------------------------------------ plumbing
    @property
    def remote(self) -> bool:
        return _is_remote(self.uri)

    def _switch(self, why: str) -> None:
        from mlflow.tracking import MlflowClient

        self.fallback_reason = why
        self._echo(
            f"hs-bench: the MLflow server {self.requested_uri} is unreachable ({why}); "
            f"logging to the local store {self.local_uri} instead. Nothing is lost: import these "
            "runs into the server later, or rerun with the server up."
        )
        self.uri = self.local_uri
        self.client = MlflowClient(tracking_uri=self.uri)
        self._experiments.clear()

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if self.remote and _looks_unavailable(exc):
                self._switch(str(exc).splitlines()[0][:300])
                raise TrackingUnavailable(str(exc)) from exc
            raise

    def with_fallback(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (which logs through this tracker); if the server fails, run it again locally."""
        try:
            return fn()
        except TrackingUnavailable:
            return fn()

    # ------------------------------------------------------------------------------ entities
    def experiment(self, name: str) -> str:
        """The id of experiment ``name``, created (artifacts beside a local store) if needed."""
        if name in self._experiments:
            return self._experiments[name]
        exp = self._call(self.client.get_experiment_by_name, name)
        if exp is None:
            location = None
            if self.uri.startswith("sqlite:"):
                safe = re.sub(r"[^\w.-]", "_", name)
                location = (self.results_dir / "mlartifacts" / safe).resolve().as_uri()
            try:
                exp_id = self._call(self.client.create_experiment, name, artifact_location=location)
            except TrackingUnavailable:
                raise
            except Exception:  # created meanwhile by another worker
                exp = self._call(self.client.get_experiment_by_name, name)
                if exp is None:
                    raise
                exp_id = exp.experiment_id
        else:
            if exp.lifecycle_stage == "deleted":
                self._call(self.client.restore_experiment, exp.experiment_id)
            exp_id = exp.experiment_id
        self._experiments[name] = exp_id
        return exp_id

    def start_run(
        self, experiment_id: str, name: str, tags: Mapping[str, Any], *, parent: str | None = None
    ) -> str:
        """Create a RUNNING run; returns its id."""
        all_tags = {k: _tag_value(v) for k, v in tags.items()}
        if parent:
            all_tags["mlflow.parentRunId"] = parent
        run = self._call(self.client.create_run, experiment_id, run_name=name, tags=all_tags)
        return str(run.info.run_id)

    def reopen(self, run_id: str) -> None:
        """Mark a run RUNNING again (a cell or study run that gains children on a rerun)."""
        self._call(self.client.update_run, run_id, status="RUNNING")

    def end_run(self, run_id: str, status: str = "FINISHED") -> None:
        self._call(self.client.set_terminated, run_id, status)

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k, _tag_value(v)) for k, v in tags.items()]
        for i in range(0, len(items), 100):
            self._call(self.client.log_batch, run_id, tags=items[i : i + 100])

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Log parameters (values stringified, cut at MLflow's 6000 characters)."""
        from mlflow.entities import Param

        items = [Param(metric_key(k), _param_value(v)) for k, v in params.items()]
        for i in range(0, len(items), 100):
            self._call(self.client.log_batch, run_id, params=items[i : i + 100])

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int = 0) -> None:
        """Log numeric metrics at ``step`` (non-numeric values are skipped)."""
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = []
        for k, v in metrics.items():
            try:
                value = float(v)
            except (TypeError, ValueError):
                continue
            items.append(Metric(metric_key(k), value, now, int(step)))
        for i in range(0, len(items), 500):
            self._call(self.client.log_batch, run_id, metrics=items[i : i + 500])

    def log_artifact(
        self, run_id: str, path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        p = Path(path)
        if p.is_dir():
            self._call(self.client.log_artifacts, run_id, str(p), artifact_path)
        else:
            self._call(self.client.log_artifact, run_id, str(p), artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self._call(self.client.log_text, run_id, text, artifact_file)

    def log_dict(self, run_id: str, data: Any, artifact_file: str) -> None:
        self.log_text(
            run_id, json.dumps(data, indent=2, sort_keys=True, default=_json_default), artifact_file
        )

    def search(
        self, experiment_ids: list[str], filter_string: str = "", order_by: list[str] | None = None
    ) -> list[Any]:
        """Every run matching ``filter_string`` (all pages)."""
        out: list[Any] = []
        token = None
        while True:
            page = self._call(
                self.client.search_runs,
                experiment_ids,
                filter_string=filter_string,
                max_results=1000,
                order_by=order_by or ["attributes.start_time DESC"],
                page_token=token,
            )
            out.extend(page)
            token = page.token
            if not token:
                return out

    def get_run(self, run_id: str) -> Any:
        return self._call(self.client.get_run, run_id)

    def download(self, run_id: str, path: str, dst: str | os.PathLike[str]) -> Path:
        Path(dst).mkdir(parents=True, exist_ok=True)
        return Path(self._call(self.client.download_artifacts, run_id, path, str(dst)))

    def load_json_artifact(self, run_id: str, path: str) -> Any:
        """A JSON artifact of a run, or ``None`` when it is missing or unreadable."""
        import tempfile

        try:
            with tempfile.TemporaryDirectory() as tmp:
                local = self.download(run_id, path, tmp)
                return json.loads(Path(local).read_text())
        except TrackingUnavailable:
            raise
        except Exception as exc:  # a missing artifact: the caller falls back to the run's metrics
            log.debug("no artifact %s in run %s: %s", path, run_id, exc)
            return None

    def run_url(self, experiment_id: str, run_id: str) -> str:
        """Where to look at a run: the server's UI page, or the store URI and run id."""
        if self.remote:
            return f"{self.uri.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
        return f"{self.uri} (experiment {experiment_id}, run {run_id})"


def _json_default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def _param_value(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=_json_default)
    return text if len(text) <= _MAX_PARAM else text[: _MAX_PARAM - 3] + "..."


def _tag_value(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=_json_default)
    return text if len(text) <= _MAX_TAG else text[: _MAX_TAG - 3] + "..."


# ------------------------------------------------------------------------------------ environment


@functools.lru_cache(maxsize=1)
def _git(cwd: str) -> dict[str, str]:
    def run(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    if commit is None:
        return {"commit": "unknown"}
    status = run("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit,
        "branch": run("rev-parse", "--abbrev-ref", "HEAD") or "",
        "dirty": "true" if status else "false",
    }


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    names = [
        "hs-attention",
        "hs-backbone",
        "hs-data",
        "hs-pretrain",
        "hs-tasks",
        "hs-bench",
        "torch",
        "numpy",
        "scipy",
        "mlflow-skinny",
        "mlflow",
        "optuna",
    ]
    out: dict[str, str] = {}
    for n in names:
        with contextlib.suppress(md.PackageNotFoundError):
            out[n] = md.version(n)
    return out


def _hardware(device: str) -> dict[str, str]:
    import torch

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    hw = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpu_count": str(os.cpu_count()),
        "torch_threads": str(torch.get_num_threads()),
        "device": device,
    }
    with contextlib.suppress(OSError, ValueError):
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        hw["memory_gib"] = f"{pages / 2**30:.1f}"
    if torch.cuda.is_available():
        hw["gpu"] = torch.cuda.get_device_name(0)
        hw["cuda"] = str(torch.version.cuda)
    else:
        hw["gpu"] = "none"
    return hw


def environment(device: str = "cpu") -> dict[str, dict[str, str]]:
    """Package versions, the git commit of the checkout hs-bench runs from, and the hardware."""
    here = Path(__file__).resolve().parent
    git = _git(str(here))
    if git.get("commit") == "unknown":
        git = _git(os.getcwd())
    return {"versions": _versions(), "git": git, "hardware": _hardware(device)}


def environment_tags(env: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """MLflow tags of :func:`environment` (``hs_version.<pkg>``, ``hs_hw.<key>``, git commit)."""
    tags = {f"hs_version.{k}": v for k, v in env["versions"].items()}
    tags.update({f"hs_hw.{k}": v for k, v in env["hardware"].items()})
    tags["mlflow.source.git.commit"] = env["git"].get("commit", "unknown")
    if "dirty" in env["git"]:
        tags["hs_git.dirty"] = env["git"]["dirty"]
    if env["git"].get("branch"):
        tags["hs_git.branch"] = env["git"]["branch"]
    tags["mlflow.source.name"] = "hs-bench"
    return tags


def finite_or_none(v: Any) -> float | None:
    """``float(v)`` when finite, else ``None``."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@contextlib.contextmanager
def quiet_mlflow() -> Iterator[None]:
    """Silence MLflow's and alembic's INFO chatter (database creation) inside the block."""
    loggers = [logging.getLogger(n) for n in ("alembic", "mlflow", "mlflow.store.db.utils")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)
