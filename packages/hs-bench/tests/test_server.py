"""A real `mlflow server` on loopback: the leaderboard logs to it, and survives it going away.

Needs the full ``mlflow`` package (the ``server`` extra, installed in the ``tests(hs-bench)`` session);
skips, saying so, without it. The server runs in its own process group (``setsid``) on 127.0.0.1 and a
free port, and the whole group is killed in teardown with bounded waits.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fake_recipes
import pytest
from test_leaderboard import make_config, run, seed_runs

from hs_bench.cli import main

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("flask") is None or importlib.util.find_spec("mlflow.server") is None,
    reason="`mlflow server` needs the full mlflow package: pip install 'hs-bench[server]'",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_gone(pgid: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


class Server:
    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "server.log"
        mlflow_cli = Path(sys.executable).with_name("mlflow")
        cmd = [str(mlflow_cli)] if mlflow_cli.is_file() else [sys.executable, "-m", "mlflow"]
        cmd += [
            "server",
            "--backend-store-uri",
            f"sqlite:///{workdir / 'server.db'}",
            "--artifacts-destination",
            str(workdir / "server-artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]
        env = {
            **os.environ,
            # no job runner (7 huey consumer processes this test does not need)
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            # let the server's first import write bytecode, so that its worker loads it instead of
            # compiling mlflow again (the machine may set PYTHONDONTWRITEBYTECODE)
            "PYTHONDONTWRITEBYTECODE": "",
        }
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.pgid = self.proc.pid  # setsid: the server leads its own process group
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(self.uri + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"mlflow server did not answer /health in 120 s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """Kill the whole group at once (a crash, not a shutdown)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        _wait_gone(self.pgid, 20)
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        try:
            os.killpg(self.pgid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if not _wait_gone(self.pgid, 20):
            self.kill()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    workdir = tmp_path / "server"
    workdir.mkdir()
    srv = Server(workdir)
    try:
        yield srv
    finally:
        srv.stop()


class _KillServerOnce:
    """Trainer callback: kill the server in the first epoch of the recipe's ``n``-th call."""

    def __init__(self, server: Server, after: int) -> None:
        self.server, self.after = server, after

    def on_epoch_end(self, trainer: Any, epoch: int) -> None:
        if len(fake_recipes.CALLS) == self.after and epoch == 0 and self.server.proc.poll() is None:
            self.server.kill()


def test_leaderboard_logs_to_a_real_server_then_survives_its_loss(
    bench_env: dict[str, Path],
    server: Server,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlflow.tracking import MlflowClient

    cfg = make_config(bench_env, tracking_uri=server.uri, tasks=["fake_err"], seeds=[0, 1])
    res = run(cfg)
    assert res.exit_code == 0 and res.fallback_reason is None and res.tracking_uri == server.uri
    remote = MlflowClient(tracking_uri=server.uri)
    runs = seed_runs(remote, status="FINISHED")
    assert len(runs) == 2
    arts = {a.path for a in remote.list_artifacts(runs[0].info.run_id, "maps")}
    assert arts == {"maps/prediction.png", "maps/score_map.png"}  # uploaded through the server
    assert len(remote.get_metric_history(runs[0].info.run_id, "val.rmse")) == 3
    local_db = bench_env["results"] / "mlflow.db"
    local = MlflowClient(tracking_uri=f"sqlite:///{local_db}")
    assert local.get_experiment_by_name("hsigma-test") is None  # nothing went to the local store
    # `hs-bench compare` against the server
    assert main(["compare", "hsigma-test", "--tracking-uri", server.uri]) == 0
    assert "fake_err/fake_scene_a/test_hypersigma" in capsys.readouterr().out

    # the server dies during the 2nd job of a new leaderboard: that job and the rest land locally
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    cfg2 = make_config(
        bench_env,
        experiment="hsigma-test-2",
        tracking_uri=server.uri,
        tasks=["fake_err", "fake_cls"],
        per_task={"fake_cls": {"datasets": ["fake_scene_a"]}},
        seeds=[0],
    )
    fake_recipes.CALLS.clear()
    messages: list[str] = []
    res2 = run(cfg2, messages, extra_callbacks=[_KillServerOnce(server, after=2)])
    assert res2.exit_code == 0 and res2.fallback_reason is not None
    assert any("is unreachable" in m for m in messages)
    assert res2.tracking_uri == f"sqlite:///{local_db}"
    # nothing lost: both jobs are in the report, and the second one is complete in the local store
    assert res2.counts["ran"] == 2 and len(res2.summaries) == 2
    local_runs = seed_runs(local, "hsigma-test-2", status="FINISHED")
    assert [r.data.tags["hs_task"] for r in local_runs] == ["fake_cls"]
    assert len(local.get_metric_history(local_runs[0].info.run_id, "val.score")) == 3  # replayed epochs
    md = (bench_env["results"] / "leaderboard.md").read_text()
    assert "| fake_cls | fake_scene_a |" in md and "| fake_err | fake_scene_a |" in md
