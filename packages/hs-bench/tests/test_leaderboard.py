"""The leaderboard with fake recipes: results, MLflow records, failures, Ctrl-C, fallback, compare."""

from __future__ import annotations

import json
import math
import socket
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import fake_recipes
import pytest

from hs_bench.cli import main
from hs_bench.config import _merge, load_config
from hs_bench.leaderboard import LeaderboardResult, run_leaderboard
from hs_bench.png import decode_png


def make_config(env: dict[str, Path], **over: Any) -> Any:
    base = {
        "name": "t",
        "experiment": "hsigma-test",
        "tasks": ["fake_cls", "fake_err"],
        "models": ["test_hypersigma"],
        "seeds": [0, 1],
        "per_task": {
            "fake_cls": {"datasets": ["fake_scene_a", "fake_scene_b", "fake_missing"]},
            "fake_err": {"datasets": ["fake_scene_a"]},
        },
        "finetune": {"epochs": 3, "batch_size": 8, "lr": 1e-3},
        "results_dir": str(env["results"]),
    }
    return load_config("quick", None, _merge(base, over))


def run(cfg: Any, messages: list[str] | None = None, **kw: Any) -> LeaderboardResult:
    sink = messages if messages is not None else []
    return run_leaderboard(cfg, echo=sink.append, progress=False, command="pytest", **kw)


def client(uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def seed_runs(c: Any, experiment: str = "hsigma-test", status: str | None = None) -> list[Any]:
    exp = c.get_experiment_by_name(experiment)
    flt = "tags.hs_kind = 'seed'" + (f" and attributes.status = '{status}'" if status else "")
    return list(c.search_runs([exp.experiment_id], filter_string=flt, max_results=1000))


def rows_by_key(results: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    data = json.loads((results / "leaderboard.json").read_text())
    return {(r["task"], r["dataset"], r["model"]): r for r in data["rows"]}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_full_leaderboard(bench_env: dict[str, Path]) -> None:
    cfg = make_config(bench_env)
    res = run(cfg)
    results = bench_env["results"]
    assert res.exit_code == 0 and res.counts["ran"] == 6 and res.counts["failed"] == 0
    assert res.tracking_uri == "sqlite:///" + str(results / "mlflow.db")

    # mean and sample std over seeds, against closed forms: two values v, v + d -> mean v + d/2, std d/sqrt(2)
    rows = rows_by_key(results)
    q = fake_recipes.quality(1e-3, fake_recipes.TEST_BEST_LR)
    cls = rows[("fake_cls", "fake_scene_a", "test_hypersigma")]
    assert cls["metrics"]["score"]["mean"] == pytest.approx(q + 0.005, abs=1e-12)
    assert cls["metrics"]["score"]["std"] == pytest.approx(0.01 / math.sqrt(2), abs=1e-12)
    assert cls["metrics"]["other"]["mean"] == pytest.approx(2.5) and cls["seeds"] == [0, 1]
    base = rows[("fake_cls", "fake_scene_a", "baseline: fake-baseline")]
    assert base["is_baseline"] and base["metrics"]["score"]["mean"] == pytest.approx(0.51)
    assert base["metrics"]["score"]["std"] == pytest.approx(0.02 / math.sqrt(2))
    err = rows[("fake_err", "fake_scene_a", "test_hypersigma")]
    assert err["higher_is_better"] is False and err["metrics"]["rmse"]["mean"] == pytest.approx(0.25)

    # the reports
    md = (results / "leaderboard.md").read_text()
    assert "| fake_err | fake_scene_a | rmse ↓ | 0.4 ± 0 (fake-baseline) | **0.25 ± 0.071** | – |" in md
    assert "| fake_cls | fake_missing | all | not present locally | tests: make_root() writes" in md
    assert "## Speed: hs-attention kernel micro-benchmarks" in md
    html = (results / "leaderboard.html").read_text()
    parser = _Collect()
    parser.feed(html)
    assert parser.tags.count("svg") >= 3 and "img" in parser.tags and "table" in parser.tags
    for name in ("fake_cls.svg", "fake_err.svg", "curves_fake_cls__fake_scene_a.svg"):
        assert (results / "plots" / name).read_text().startswith("<svg")
    png = results / "maps" / "fake_cls" / "fake_scene_a" / "test_hypersigma" / "seed0" / "prediction.png"
    assert decode_png(png.read_bytes()).shape == (8, 8, 3)
    assert not list(results.rglob(".*.tmp"))  # atomic writes leave no temporaries

    # MLflow: one seed run per job with params, per-epoch metrics, final metrics, environment, artifacts
    c = client(res.tracking_uri)
    runs = seed_runs(c, status="FINISHED")
    assert len(runs) == 6
    r = next(x for x in runs if x.data.tags["hs_task"] == "fake_cls" and x.data.tags["hs_seed"] == "1")
    assert r.data.params["finetune.lr"] == "0.001" and r.data.params["seed"] == "1"
    assert r.data.params["split.train"] == "16"
    assert r.data.metrics["test.score"] == pytest.approx(q + 0.01)
    assert r.data.metrics["baseline.score"] == pytest.approx(0.52)
    tags = r.data.tags
    assert tags["hs_version.torch"].startswith("2.") and tags["mlflow.source.git.commit"]
    assert tags["hs_hw.cpu_count"] and tags["hs_main_metric"] == "score"
    history = c.get_metric_history(r.info.run_id, "val.score")
    assert [m.step for m in history] == [0, 1, 2]  # one value per epoch
    assert [m.value for m in history] == sorted(m.value for m in history)
    assert len(c.get_metric_history(r.info.run_id, "train.loss")) == 3
    names = {a.path for a in c.list_artifacts(r.info.run_id)}
    assert {"summary.json", "split.json", "config.json", "environment.json", "maps", "plots"} <= names
    assert {a.path for a in c.list_artifacts(r.info.run_id, "plots")} == {
        "plots/confusion_matrix.svg",
        "plots/curves.svg",
    }
    # the cell run holds mean and std over seeds and is the parent of its seed runs
    parent = c.get_run(tags["mlflow.parentRunId"])
    assert parent.data.tags["hs_kind"] == "cell" and parent.info.status == "FINISHED"
    assert parent.data.metrics["test.score.mean"] == pytest.approx(q + 0.005)
    assert parent.data.metrics["test.score.std"] == pytest.approx(0.01 / math.sqrt(2))
    lb = c.get_run(res.leaderboard_run_id)
    assert {a.path for a in c.list_artifacts(lb.info.run_id)} >= {
        "leaderboard.md",
        "leaderboard.html",
        "plots",
        "maps",
    }


def test_failures_are_isolated_and_retried(bench_env: dict[str, Path]) -> None:
    cfg = make_config(
        bench_env,
        tasks=["fake_fail", "fake_err"],
        seeds=[0],
        per_task={"fake_fail": {"datasets": ["fake_scene_a", "fake_scene_b"]}},
    )
    res = run(cfg)
    assert res.exit_code == 1
    assert res.counts == {"total": 3, "ran": 2, "cached": 0, "failed": 1, "missing": 0, "not_started": 0}
    (failure,) = res.failures
    assert failure["dataset"] == "fake_scene_b" and "fake failure on purpose" in failure["error"]
    c = client(res.tracking_uri)
    failed = c.get_run(failure["run_id"])
    assert failed.info.status == "FAILED" and failed.data.tags["hs_status"] == "failed"
    assert "RuntimeError: fake failure on purpose" in failed.data.tags["hs_error"]
    assert [a.path for a in c.list_artifacts(failed.info.run_id)] == ["error.txt"]
    assert len(seed_runs(c, status="FINISHED")) == 2  # the others completed
    md = (bench_env["results"] / "leaderboard.md").read_text()
    assert "## Failures" in md and "RuntimeError: fake failure on purpose" in md
    assert ("fake_fail", "fake_scene_a", "test_hypersigma") in rows_by_key(bench_env["results"])

    # a rerun retries the failure only
    fake_recipes.CALLS.clear()
    res2 = run(cfg)
    assert fake_recipes.CALLS == [("fake_fail", "fake_scene_b", "test_hypersigma", 0)]
    assert res2.counts["cached"] == 2 and res2.exit_code == 1


def test_ctrl_c_marks_runs_killed_and_a_rerun_continues(bench_env: dict[str, Path]) -> None:
    cfg = make_config(
        bench_env,
        tasks=["fake_cls", "fake_interrupt", "fake_err"],
        per_task={
            "fake_cls": {"datasets": ["fake_scene_a"]},
            "fake_interrupt": {"datasets": ["fake_scene_a"]},
        },
    )
    fake_recipes.INTERRUPT["on"] = ("fake_scene_a", 1)  # Ctrl-C in the 2nd epoch of the 4th job
    res = run(cfg)
    results = bench_env["results"]
    assert res.exit_code == 130 and res.interrupted
    assert res.counts["ran"] == 3 and res.counts["not_started"] == 2
    c = client(res.tracking_uri)
    killed = [r for r in seed_runs(c) if r.info.status == "KILLED"]
    assert len(killed) == 1 and killed[0].data.tags["hs_status"] == "killed"
    assert killed[0].data.tags["hs_task"] == "fake_interrupt" and killed[0].data.tags["hs_seed"] == "1"
    assert len(c.get_metric_history(killed[0].info.run_id, "val.score")) == 1  # the epoch before Ctrl-C
    assert c.get_run(killed[0].data.tags["mlflow.parentRunId"]).info.status == "KILLED"
    assert c.get_run(res.leaderboard_run_id).info.status == "KILLED"
    assert not [r for r in seed_runs(c) if r.info.status == "RUNNING"]  # nothing left half-open
    # the results files are complete documents holding the finished runs only
    data = json.loads((results / "leaderboard.json").read_text())
    assert data["interrupted"] is True and data["counts"]["not_started"] == 2
    rows = rows_by_key(results)
    assert rows[("fake_interrupt", "fake_scene_a", "test_hypersigma")]["seeds"] == [0]
    assert ("fake_err", "fake_scene_a", "test_hypersigma") not in rows
    assert "**Interrupted**" in (results / "leaderboard.md").read_text()
    assert (results / "leaderboard.html").read_text().rstrip().endswith("</html>")

    # rerun: the three finished jobs are skipped, the killed one and the two never started run
    fake_recipes.INTERRUPT["on"] = None
    fake_recipes.CALLS.clear()
    res2 = run(cfg)
    assert res2.exit_code == 0 and res2.counts["cached"] == 3 and res2.counts["ran"] == 3
    assert fake_recipes.CALLS == [
        ("fake_interrupt", "fake_scene_a", "test_hypersigma", 1),
        ("fake_err", "fake_scene_a", "test_hypersigma", 0),
        ("fake_err", "fake_scene_a", "test_hypersigma", 1),
    ]
    rows = rows_by_key(results)
    assert rows[("fake_interrupt", "fake_scene_a", "test_hypersigma")]["seeds"] == [0, 1]
    assert rows[("fake_cls", "fake_scene_a", "test_hypersigma")]["seeds"] == [0, 1]
    assert json.loads((results / "leaderboard.json").read_text())["interrupted"] is False


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_falls_back_to_the_local_store(bench_env: dict[str, Path]) -> None:
    uri = f"http://127.0.0.1:{_closed_port()}"
    cfg = make_config(bench_env, tracking_uri=uri, tasks=["fake_err"], seeds=[0])
    messages: list[str] = []
    res = run(cfg, messages)
    local = "sqlite:///" + str(bench_env["results"] / "mlflow.db")
    assert res.exit_code == 0 and res.tracking_uri == local and res.fallback_reason
    (msg,) = [m for m in messages if "unreachable" in m]
    assert f"the MLflow server {uri} is unreachable" in msg and f"logging to the local store {local}" in msg
    assert len(seed_runs(client(local), status="FINISHED")) == 1
    assert f"(fell back from {uri})" in (bench_env["results"] / "leaderboard.md").read_text()


def test_server_failing_after_the_health_check_falls_back(
    bench_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the server answered /health, then every API call fails: the first call switches stores
    monkeypatch.setattr("hs_bench.tracking.probe_server", lambda uri, timeout=5.0: None)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    uri = f"http://127.0.0.1:{_closed_port()}"
    cfg = make_config(bench_env, tracking_uri=uri, tasks=["fake_err"], seeds=[0])
    messages: list[str] = []
    res = run(cfg, messages)
    assert res.exit_code == 0 and res.fallback_reason and "API request" in res.fallback_reason
    assert len(seed_runs(client(res.tracking_uri), status="FINISHED")) == 1


def test_compare_experiments_and_runs(bench_env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    one = {"tasks": ["fake_cls"], "seeds": [0], "per_task": {"fake_cls": {"datasets": ["fake_scene_a"]}}}
    run(make_config(bench_env, experiment="hsigma-a", **one))
    res_b = run(make_config(bench_env, experiment="hsigma-b", finetune={"lr": 3e-3}, **one))
    c = client(res_b.tracking_uri)
    cell_b = c.search_runs(
        [c.get_experiment_by_name("hsigma-b").experiment_id], filter_string="tags.hs_kind = 'cell'"
    )[0]
    c.set_tag(cell_b.info.run_id, "hs_version.torch", "9.9.9")  # as if B ran with another torch
    results = str(bench_env["results"])
    assert main(["compare", "hsigma-a", "hsigma-b", "--results", results]) == 0
    out = capsys.readouterr().out
    delta = fake_recipes.quality(3e-3, fake_recipes.TEST_BEST_LR) - fake_recipes.quality(
        1e-3, fake_recipes.TEST_BEST_LR
    )
    assert f"{delta:+.4g} (better)" in out
    assert "CONFIG DIFFERS:" in out and "finetune.lr: A=0.001, B=0.003" in out
    assert "VERSIONS / ENVIRONMENT DIFFER:" in out and "hs_version.torch: A=2." in out and "B=9.9.9" in out

    # two single runs compare whatever their keys; JSON output
    seeds = {r.data.tags["hs_task"]: r for r in seed_runs(c, "hsigma-a")}
    rid_a = seeds["fake_cls"].info.run_id
    rid_b = seed_runs(c, "hsigma-b")[0].info.run_id
    assert main(["compare", rid_a, rid_b, "--results", results, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (row,) = data["rows"]
    assert row["metric"] == "score" and row["deltas"][1] == pytest.approx(delta)
    assert main(["compare", "no-such-experiment", "--results", results]) == 2
    assert "no run with this id and no experiment" in capsys.readouterr().err
