"""Configuration: profiles, files, overrides, and errors that name the key and the allowed values."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

import pytest

import hs_backbone
import hs_tasks
from hs_bench.cli import main
from hs_bench.config import FINETUNE_KEYS, ConfigError, dump_toml, load_config
from hs_bench.plan import build_plan


def test_finetune_keys_are_the_configurable_fields_of_finetune_config() -> None:
    fields = {f.name for f in dataclasses.fields(hs_tasks.FinetuneConfig)}
    assert set(FINETUNE_KEYS) == fields - {"seed", "device", "out_dir", "progress"}


def _problems(**over: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config("quick", None, over)
    return info.value.problems


def test_quick_profile_resolves(bench_env: dict[str, Path]) -> None:
    cfg = load_config("quick")
    assert cfg.name == "quick" and cfg.models == ["test_hypersigma"] and cfg.seeds == [0, 1]
    # `tasks = "all"`: every registered recipe whose datasets can be found; the fake ones are not
    # named after an hs-data task, so they are left out, with a note saying why
    assert "fake_cls" not in cfg.tasks and any("recipe 'fake_cls'" in n for n in cfg.notes)
    assert set(cfg.tasks) == set(hs_tasks.list_recipes()) - {
        "fake_cls",
        "fake_err",
        "fake_fail",
        "fake_interrupt",
    }
    cfg = load_config("quick", None, {"per_task": {"fake_cls": {"data_task": "classification"}}})
    assert "fake_cls" in cfg.tasks and "fake_err" not in cfg.tasks
    assert cfg.tracking_uri == "sqlite:///" + str(Path("results").resolve() / "mlflow.db")
    paper = load_config("paper")
    assert paper.models == ["hypersigma_base", "spatial_vit_base"] and paper.pretrained == "official"
    assert paper.task_settings("target_detection").finetune["batch_size"] == 2  # Appendix A


def test_unknown_top_level_key_names_it_and_the_allowed_keys() -> None:
    (msg,) = _problems(modles=["test_hypersigma"])
    assert msg.startswith("modles: unknown key (did you mean 'models'?)")
    assert "allowed: [" in msg and "'seeds'" in msg


def test_unknown_model_lists_the_registered_backbones() -> None:
    (msg,) = _problems(models=["hypersigma_tiny"])
    assert msg.startswith("models[0]: expected one of")
    for name in hs_backbone.list_backbones():
        assert name in msg
    assert "got 'hypersigma_tiny'" in msg


def test_finetune_values_are_checked_with_their_allowed_range() -> None:
    probs = _problems(finetune={"epochs": 0, "lr": -1, "layer_decay": 1.5, "lrr": 1, "seed": 3})
    text = "\n".join(probs)
    assert "finetune.epochs: expected an integer >= 1, got 0" in text
    assert "finetune.lr: expected a number > 0, got -1" in text
    assert "finetune.layer_decay: expected a number in (0, 1], got 1.5" in text
    assert "finetune.lrr: unknown key (did you mean 'lr'?)" in text and str(list(FINETUNE_KEYS)) in text
    assert "finetune.seed: unknown key (set by the runner)" in text
    assert len(probs) == 5  # every problem is reported at once


def test_tasks_datasets_and_selectors(bench_env: dict[str, Path]) -> None:
    text = "\n".join(_problems(tasks=["fake_clss"], datasets="everything"))
    assert "tasks[0]: expected one of the registered recipes" in text and "did you mean 'fake_cls'" in text
    assert (
        "datasets: expected one of ['present', 'paper'] or a list of dataset names, got 'everything'" in text
    )
    (msg,) = _problems(tasks=["fake_cls"], datasets=["salinas_aa"])
    assert msg.startswith("datasets[0]: 'salinas_aa' is not a registered dataset (did you mean 'salinas_a'")
    # a recipe whose name is not an hs-data task needs data_task or an explicit list
    (msg,) = _problems(tasks=["fake_cls"])
    assert "per_task.fake_cls: the recipe name does not name an hs-data task" in msg
    assert "set per_task.fake_cls.data_task" in msg


def test_tune_space_errors() -> None:
    text = "\n".join(
        _problems(
            tune={
                "trials": -1,
                "sampler": "grid",
                "space": {"lr": {"low": 0, "high": 1, "log": True}, "momentum": {}},
            }
        )
    )
    assert "tune.trials: expected an integer >= 0, got -1" in text
    assert "tune.sampler: expected 'tpe' or 'random', got 'grid'" in text
    assert "tune.space.lr: a log scale needs low > 0, got 0" in text
    assert "tune.space.momentum: unknown parameter" in text


def test_file_extends_a_profile_and_overrides_win(tmp_path: Path, bench_env: dict[str, Path]) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'extends = "quick"\nseeds = [3]\ntasks = ["fake_cls"]\n'
        '[per_task.fake_cls]\ndatasets = ["fake_scene_a"]\nfinetune = {epochs = 2}\n'
    )
    cfg = load_config(
        None, path, ["finetune.lr=0.01", "finetune.batch_size=16", "per_task.fake_cls.options.k=5"]
    )
    assert cfg.name == "mine" and cfg.seeds == [3]
    settings = cfg.task_settings("fake_cls")
    assert settings.finetune["epochs"] == 2 and settings.finetune["lr"] == 0.01
    assert settings.finetune["batch_size"] == 16
    assert "weight_decay" not in settings.finetune  # quick leaves it to the recipe's own default
    assert settings.options == {"k": 5}
    # the resolved config written as TOML reads back to the same values
    again = tomllib.loads(dump_toml(cfg.to_dict()))
    assert again["per_task"]["fake_cls"]["finetune"] == {"epochs": 2}
    assert again["finetune"]["lr"] == 0.01 and again["seeds"] == [3]


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        load_config(None, tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seeds = [0,\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_config(None, bad)
    other = tmp_path / "c.yaml"
    other.write_text("a: 1")
    with pytest.raises(ConfigError, match=r"expected a \.toml or \.json file"):
        load_config(None, other)
    js = tmp_path / "c.json"
    js.write_text(json.dumps({"extends": "fast"}))
    with pytest.raises(ConfigError, match=r"extends: expected one of \['paper', 'quick'\], got 'fast'"):
        load_config(None, js)


def test_cli_reports_config_errors_before_running(
    bench_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    results = bench_env["results"]
    code = main(["run", "--results", str(results), "--set", "finetune.epochs=zero", "--models", "nope"])
    err = capsys.readouterr().err
    assert code == 2
    assert "finetune.epochs: expected an integer >= 1, got 'zero'" in err
    assert "models[0]: expected one of" in err and "nothing was run" in err
    assert sorted(p.name for p in results.iterdir()) == ["mlflow.db"]  # nothing ran, nothing was written


def test_plan_lists_missing_datasets_and_weights(bench_env: dict[str, Path], tmp_path: Path) -> None:
    cfg = load_config(
        "quick",
        None,
        {
            "tasks": ["fake_cls"],
            "models": ["test_hypersigma", "hypersigma_base"],
            "pretrained": "official",
            "weights_dir": str(tmp_path / "weights"),
            "per_task": {"fake_cls": {"data_task": "classification"}},
        },
    )
    plan = build_plan(cfg)
    runs = {(j.dataset, j.model) for j in plan.jobs}
    assert runs == {("fake_scene_a", "test_hypersigma"), ("fake_scene_b", "test_hypersigma")}
    not_run = {(n.dataset, n.model): n for n in plan.not_run}
    assert not_run[("fake_missing", None)].reason == "not present locally"
    assert "make_root" in not_run[("fake_missing", None)].how_to_get
    # every real classification scene of the registry is listed (none is present in this data root)
    assert ("pavia_university", None) in not_run and "PaviaU.mat" in not_run[
        ("pavia_university", None)
    ].how_to_get
    w = not_run[("fake_scene_a", "hypersigma_base")]
    assert w.kind == "weights" and "spat-vit-base-ultra-checkpoint-1599.pth" in w.reason
    assert any("test_hypersigma: no official checkpoint" in n for n in plan.notes)
    # the configuration hash separates seeds and configurations but not the cell
    a, b = [j for j in plan.jobs if j.dataset == "fake_scene_a"]
    assert a.cell_hash == b.cell_hash and a.config_hash != b.config_hash
