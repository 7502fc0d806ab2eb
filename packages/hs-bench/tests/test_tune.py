"""Optuna tuning on the validation split: optimum, pruning, resume, shared studies, MLflow, feed-back."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import fake_recipes
import optuna
import pytest
from optuna.trial import TrialState

from hs_bench.config import _merge, load_config
from hs_bench.leaderboard import run_leaderboard
from hs_bench.tune import study_name, tune

TESTS = Path(__file__).parent


def make_config(env: dict[str, Path], **over: Any) -> Any:
    base = {
        "name": "t",
        "experiment": "hsigma-test",
        "tasks": ["fake_cls"],
        "models": ["test_hypersigma"],
        "seeds": [0],
        "per_task": {"fake_cls": {"datasets": ["fake_scene_a"]}},
        "finetune": {"epochs": 4, "batch_size": 8, "lr": 1e-3},
        "results_dir": str(env["results"]),
        "tune": {
            "trials": 10,
            "sampler": "random",
            "seed": 1,
            "space": {"lr": {"low": 1e-4, "high": 1e-1, "log": True}},
        },
    }
    return load_config("quick", None, _merge(base, over))


def _mlflow(env: dict[str, Path]) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri="sqlite:///" + str(env["results"] / "mlflow.db"))


def _study(env: dict[str, Path]) -> optuna.Study:
    return optuna.load_study(
        study_name=study_name("fake_cls", "fake_scene_a", "test_hypersigma"),
        storage="sqlite:///" + str(env["results"] / "optuna.db"),
    )


def test_tuning_finds_the_validation_optimum_and_logs_trials(bench_env: dict[str, Path]) -> None:
    cfg = make_config(bench_env)
    res = tune(cfg, "fake_cls", "fake_scene_a", echo=lambda m: None, progress=False)
    study = _study(bench_env)
    done = study.get_trials(states=(TrialState.COMPLETE,))
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    assert res.exit_code == 0 and len(done) + len(pruned) == 10
    assert pruned, "the median pruner stopped no trial; the fake curves are built so that it must"
    # the best trial is the completed one whose lr is closest (in log scale) to the VALIDATION optimum,
    # not to the test optimum (a tuner reading test metrics would pick lr near TEST_BEST_LR instead)
    closest = min(done, key=lambda t: abs(math.log10(t.params["lr"] / fake_recipes.BEST_LR)))
    assert res.best_trial == closest.number and res.best_params == closest.params
    assert abs(math.log10(res.best_params["lr"] / fake_recipes.BEST_LR)) < 0.5
    assert res.best_value == pytest.approx(closest.value)
    assert res.main_metric == "score" and res.higher_is_better is True
    # the objective is the best validation value of the selected epoch: quality(lr) * (1 - 2^-epochs) + ...
    q = fake_recipes.quality(closest.params["lr"])
    assert closest.value == pytest.approx(q * (1 - 0.5**4) + 0.004)

    # MLflow: one parent run per study, one child per trial, pruned ones KILLED with their state
    c = _mlflow(bench_env)
    exp = c.get_experiment_by_name("hsigma-test-tune")
    (parent,) = c.search_runs([exp.experiment_id], "tags.hs_kind = 'study'")
    assert parent.info.run_id == res.parent_run_id and parent.info.status == "FINISHED"
    assert parent.data.tags["hs_best_trial"] == str(res.best_trial)
    trials = c.search_runs([exp.experiment_id], "tags.hs_kind = 'trial'", max_results=100)
    assert len(trials) == 10 and {t.data.tags["mlflow.parentRunId"] for t in trials} == {parent.info.run_id}
    state = {int(t.data.tags["optuna_trial"]): t for t in trials}
    for t in pruned:
        assert (
            state[t.number].info.status == "KILLED" and state[t.number].data.tags["optuna_state"] == "PRUNED"
        )
    best = state[res.best_trial]
    assert best.info.status == "FINISHED" and best.data.metrics["objective"] == pytest.approx(closest.value)
    assert float(best.data.params["finetune.lr"]) == pytest.approx(closest.params["lr"])
    assert len(c.get_metric_history(best.info.run_id, "val.score")) == 4  # per-epoch validation
    assert not any(k.startswith("test.") for t in trials for k in t.data.metrics)  # never test metrics

    # the best values feed the leaderboard
    cfg2 = make_config(bench_env, tune={"use_tuned": True})
    out = run_leaderboard(cfg2, echo=lambda m: None, progress=False, command="pytest")
    assert out.exit_code == 0
    (seed_run,) = c.search_runs(
        [c.get_experiment_by_name("hsigma-test").experiment_id], "tags.hs_kind = 'seed'"
    )
    assert float(seed_run.data.params["finetune.lr"]) == pytest.approx(res.best_params["lr"])
    assert seed_run.data.tags["hs_tuned_from"].startswith(res.study_name)
    assert fake_recipes.CALLS[-1][:2] == ("fake_cls", "fake_scene_a")


class _InterruptOnTrial:
    """Trainer callback: Ctrl-C in the first epoch of the ``n``-th recipe run."""

    def __init__(self, n: int) -> None:
        self.n = n

    def on_epoch_end(self, trainer: Any, epoch: int) -> None:
        if len(fake_recipes.CALLS) == self.n:
            raise KeyboardInterrupt


def test_an_interrupted_study_resumes(bench_env: dict[str, Path]) -> None:
    cfg = make_config(bench_env, tune={"trials": 4, "pruner": "none"})
    res = tune(
        cfg,
        "fake_cls",
        "fake_scene_a",
        echo=lambda m: None,
        progress=False,
        extra_callbacks=[_InterruptOnTrial(3)],
    )
    assert res.exit_code == 130 and res.counts["complete"] == 2 and res.counts["fail"] == 1
    c = _mlflow(bench_env)
    exp = c.get_experiment_by_name("hsigma-test-tune")
    killed = c.search_runs([exp.experiment_id], "tags.hs_kind = 'trial' and attributes.status = 'KILLED'")
    assert len(killed) == 1 and killed[0].data.tags["hs_status"] == "killed"
    # resume from the database: only the missing trials run
    fake_recipes.CALLS.clear()
    res2 = tune(cfg, "fake_cls", "fake_scene_a", echo=lambda m: None, progress=False)
    assert res2.exit_code == 0 and len(fake_recipes.CALLS) == 2
    assert res2.counts == {"complete": 4, "pruned": 0, "fail": 1, "running": 0}
    # already complete: nothing more runs
    fake_recipes.CALLS.clear()
    messages: list[str] = []
    tune(cfg, "fake_cls", "fake_scene_a", echo=messages.append, progress=False)
    assert fake_recipes.CALLS == [] and "already holds 4 finished trial(s)" in messages[-1]
    (_parent,) = c.search_runs([exp.experiment_id], "tags.hs_kind = 'study'")  # the same parent throughout
    assert len(c.search_runs([exp.experiment_id], "tags.hs_kind = 'trial'")) == 5  # 2 + killed + 2


def test_two_workers_share_a_study(bench_env: dict[str, Path]) -> None:
    results = bench_env["results"]
    storage = "sqlite:///" + str(results / "optuna.db")
    args = [
        sys.executable,
        "-m",
        "hs_bench.cli",
        "tune",
        "--plugin",
        "fake_recipes",
        "--task",
        "fake_cls",
        "--dataset",
        "fake_scene_a",
        "--seeds",
        "0",
        "--trials",
        "6",
        "--storage",
        storage,
        "--results",
        str(results),
        "--no-progress",
        "--set",
        'per_task={"fake_cls": {"datasets": ["fake_scene_a"]}}',
        "--set",
        "finetune.epochs=2",
        "--set",
        "name=w",
        "--set",
        'tune.pruner="none"',
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "HS_FAKE_BARRIER": f"{bench_env['tmp'] / 'barrier'}:2",  # both workers wait for each other
        "PYTHONDONTWRITEBYTECODE": "",  # (the machine may set it) so the workers share compiled imports
    }
    # compile the imports once (written as bytecode), so that two fresh processes start in seconds
    warm = "import hs_bench.cli, hs_bench.tune, mlflow.tracking, optuna, fake_recipes"
    subprocess.run([sys.executable, "-c", warm], env=env, check=True, timeout=240)
    # create the study first, so that the two workers start from the same one
    optuna.create_study(
        storage=storage,
        study_name=study_name("fake_cls", "fake_scene_a", "test_hypersigma"),
        direction="maximize",
    )
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outs = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        outs.append(out)
        assert p.returncode == 0, out
    study = _study(bench_env)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert 6 <= len(finished) <= 7  # the total is shared (a worker may finish one in flight)
    workers = {t.user_attrs["worker"] for t in finished}
    assert len(workers) == 2, outs  # both processes ran trials of the same study
    c = _mlflow(bench_env)
    exp = c.get_experiment_by_name("hsigma-w-tune")
    parents = c.search_runs([exp.experiment_id], "tags.hs_kind = 'study'")
    assert len(parents) == 1  # the workers converged on one parent run
    trials = c.search_runs([exp.experiment_id], "tags.hs_kind = 'trial'", max_results=100)
    assert {t.data.tags["mlflow.parentRunId"] for t in trials} == {parents[0].info.run_id}
