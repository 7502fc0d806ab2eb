"""Leaderboard configuration: profiles, custom files, validation before anything runs.

A configuration is a nested mapping (a TOML or JSON file, or a built-in profile of
:mod:`hs_bench.profiles`) with these keys (every one optional; ``extends`` starts from a profile):

=================  ===================================================================================
``extends``        a profile to start from (``quick``, ``paper``); the file's keys are merged over it
``name``           short name of the configuration (default: the profile's or the file's stem)
``description``    free text shown in the report
``experiment``     MLflow experiment (default ``hsigma-<name>``)
``models``         hs-backbone names (:func:`hs_backbone.list_backbones`), e.g. ``test_hypersigma``
``seeds``          list of integer seeds (each seeds the split, the initialisation and the data order)
``tasks``          ``"all"`` (every registered recipe) or a list of recipe names
``datasets``       default dataset selection for every task: ``"present"`` (every registered dataset
                   of the task), ``"paper"`` (the datasets of the HyperSIGMA paper), or a list of
                   names; those present locally run, the others are listed with how to get them
``synthetic``      include simulated / semi-synthetic datasets in a selector (default true)
``pretrained``     ``"none"`` (from scratch), ``"official"`` (the released checkpoints from
                   ``weights_dir``), or a table model -> ``"none"`` / ``"official"`` / a path / a table
                   ``{spatial = ..., spectral = ...}``
``weights_dir``    where official checkpoints are (default ``$HS_WEIGHTS_DIR``)
``finetune``       :class:`hs_tasks.FinetuneConfig` values for every task (``epochs``, ``batch_size``,
                   ``lr``, ``weight_decay``, ``layer_decay``, ``warmup_epochs``, ``min_lr``, ``amp``,
                   ``grad_clip``, ``grad_checkpointing``, ``val_every``, ``eval_batch_size``)
``per_task``       table recipe -> ``{datasets, data_task, models, finetune, options, per_dataset}``;
                   ``per_dataset`` is a table dataset -> ``{finetune, options}``
``device``         ``cpu``, ``cuda``, ``cuda:1``...
``data_root``      the scenes (default ``$HS_DATA_ROOT``)
``results_dir``    the results folder (default ``$HS_RESULTS_DIR`` or ``./results``)
``tracking_uri``   MLflow tracking URI (default ``sqlite:///<results_dir>/mlflow.db``)
``checkpoints``    keep fine-tuning checkpoints under ``<results_dir>/checkpoints`` so that an
                   interrupted job resumes mid-training on the next run (default false)
``plugins``        modules to import first (they may register recipes, backbones or datasets)
``tune``           Optuna settings: ``storage``, ``trials``, ``timeout_s``, ``sampler`` (``tpe`` /
                   ``random``), ``pruner`` (``median`` / ``none``), ``seed``, ``use_tuned`` (take the
                   best trial of each job's study as its fine-tuning values), ``space`` (table param
                   -> ``{low, high, log}`` or ``{choices}``; params: ``lr``, ``layer_decay``,
                   ``weight_decay``, ``epochs``, ``batch_size``, ``warmup_epochs``; a ``tune.space``
                   given in a file or override replaces the profile's whole space)
=================  ===================================================================================

:func:`load_config` merges and checks everything; a wrong key or value raises :class:`ConfigError`
naming the key path, what is allowed and what was found.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DATASET_SELECTORS",
    "FINETUNE_KEYS",
    "TUNE_PARAMS",
    "BenchConfig",
    "ConfigError",
    "TaskSettings",
    "dump_toml",
    "load_config",
    "parse_override",
]

DATASET_SELECTORS = ("present", "paper")
# The hs_tasks.FinetuneConfig fields a configuration may set (seed, device, out_dir and progress are the
# runner's); spelled out so that reading a configuration does not import torch (a test checks the list).
FINETUNE_KEYS = (
    "epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "layer_decay",
    "warmup_epochs",
    "min_lr",
    "amp",
    "grad_clip",
    "grad_checkpointing",
    "val_every",
    "eval_batch_size",
)
TUNE_PARAMS = ("lr", "layer_decay", "weight_decay", "epochs", "batch_size", "warmup_epochs")
_TOP_KEYS = (
    "extends",
    "name",
    "description",
    "experiment",
    "models",
    "seeds",
    "tasks",
    "datasets",
    "synthetic",
    "pretrained",
    "weights_dir",
    "finetune",
    "per_task",
    "device",
    "data_root",
    "results_dir",
    "tracking_uri",
    "checkpoints",
    "plugins",
    "tune",
)
_TASK_KEYS = ("datasets", "data_task", "models", "finetune", "options", "per_dataset")
_TUNE_KEYS = ("storage", "trials", "timeout_s", "sampler", "pruner", "seed", "use_tuned", "space")
_SPACE_KEYS = ("low", "high", "log", "choices")


class ConfigError(ValueError):
    """An invalid configuration; ``problems`` lists every problem found, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid configuration:\n  " + "\n  ".join(self.problems))


def _hint(value: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, list(allowed), n=2)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


@dataclass
class TaskSettings:
    """What one recipe runs with (after merging the global and per-task values)."""

    name: str
    data_task: str | None
    datasets: str | list[str]
    models: list[str]
    finetune: dict[str, Any]
    options: dict[str, Any]
    per_dataset: dict[str, dict[str, Any]] = field(default_factory=dict)

    def finetune_for(self, dataset: str) -> dict[str, Any]:
        return {**self.finetune, **self.per_dataset.get(dataset, {}).get("finetune", {})}

    def options_for(self, dataset: str) -> dict[str, Any]:
        return {**self.options, **self.per_dataset.get(dataset, {}).get("options", {})}


@dataclass
class BenchConfig:
    """A validated leaderboard configuration (see the module docstring for every key)."""

    name: str
    description: str
    experiment: str
    models: list[str]
    seeds: list[int]
    tasks: list[str]
    datasets: str | list[str]
    synthetic: bool
    pretrained: str | dict[str, Any]
    weights_dir: str | None
    finetune: dict[str, Any]
    per_task: dict[str, dict[str, Any]]
    device: str
    data_root: str | None
    results_dir: str
    tracking_uri: str
    checkpoints: bool
    plugins: list[str]
    tune: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)

    def task_settings(self, task: str) -> TaskSettings:
        """The merged settings of one recipe."""
        spec = self.per_task.get(task, {})
        return TaskSettings(
            name=task,
            data_task=spec.get("data_task") or infer_data_task(task),
            datasets=spec.get("datasets", self.datasets),
            models=list(spec.get("models", self.models)),
            finetune={**self.finetune, **spec.get("finetune", {})},
            options=dict(spec.get("options", {})),
            per_dataset=dict(spec.get("per_dataset", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        """The resolved configuration (what a rerun needs), JSON/TOML-serialisable."""
        return {
            "name": self.name,
            "description": self.description,
            "experiment": self.experiment,
            "models": list(self.models),
            "seeds": list(self.seeds),
            "tasks": list(self.tasks),
            "datasets": self.datasets,
            "synthetic": self.synthetic,
            "pretrained": self.pretrained,
            **({"weights_dir": self.weights_dir} if self.weights_dir else {}),
            "finetune": dict(self.finetune),
            "per_task": copy.deepcopy(self.per_task),
            "device": self.device,
            **({"data_root": self.data_root} if self.data_root else {}),
            "results_dir": self.results_dir,
            "tracking_uri": self.tracking_uri,
            "checkpoints": self.checkpoints,
            "plugins": list(self.plugins),
            "tune": copy.deepcopy(self.tune),
        }


def infer_data_task(recipe: str) -> str | None:
    """The hs-data task of a recipe name: the name itself, else the longest task it starts with."""
    from hs_data import TASKS

    if recipe in TASKS:
        return recipe
    hits = [t for t in TASKS if recipe.startswith(t + "_") or recipe.startswith(t + "-")]
    return max(hits, key=len) if hits else None


# ---------------------------------------------------------------------------------------- loading


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"config file {path}: not found")
    text = path.read_text()
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError([f"{path}: not valid JSON: {exc}"]) from None
    elif path.suffix == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            raise ConfigError([f"{path}: TOML configs need Python >= 3.11; use a .json file"]) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    else:
        raise ConfigError([f"{path}: expected a .toml or .json file, got suffix {path.suffix!r}"])
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a table at the top level, got {type(data).__name__}"])
    return data


# Tables that a later layer replaces as a whole instead of merging into (a search space names every
# parameter it searches; merging would keep the profile's others).
_REPLACED_TABLES = {("tune", "space")}


def _merge(base: dict[str, Any], over: Mapping[str, Any], _path: tuple[str, ...] = ()) -> dict[str, Any]:
    """``over`` merged into a copy of ``base``: tables merge key by key, other values replace."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        path = (*_path, key)
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and path not in _REPLACED_TABLES:
            out[key] = _merge(out[key], value, path)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"finetune.epochs=3"`` -> (``["finetune", "epochs"]``, 3); values parse as JSON, else strings."""
    if "=" not in text:
        raise ConfigError([f"--set {text!r}: expected KEY.PATH=VALUE (e.g. finetune.epochs=3)"])
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip().split("."), value


def _set_path(data: dict[str, Any], path: list[str], value: Any) -> None:
    node = data
    for part in path[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    node[path[-1]] = value


def load_config(
    profile: str | None = None,
    path: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    *,
    check_registries: bool = True,
) -> BenchConfig:
    """Build and validate a configuration.

    Args:
        profile: a built-in profile (:data:`hs_bench.profiles.PROFILES`); default ``quick`` when no
            ``path`` is given.
        path: a TOML/JSON file; its ``extends`` (or ``profile``) is the starting point.
        overrides: ``KEY.PATH=VALUE`` strings (values are JSON) or a mapping merged last.
        check_registries: check models, tasks and datasets against the registries (after
            importing ``plugins``).

    Raises:
        ConfigError: every problem found, each naming the key, what is allowed and what was found.
        FileNotFoundError: ``path`` does not exist.
    """
    from hs_bench.profiles import PROFILES

    data: dict[str, Any] = {}
    stem = None
    if path is not None:
        data = _read_file(Path(path))
        stem = Path(path).stem
    base_name = data.get("extends", profile if profile is not None else (None if path else "quick"))
    if profile is not None and path is not None and "extends" in data and data["extends"] != profile:
        raise ConfigError(
            [f"extends: the file extends {data['extends']!r} but --profile {profile!r} was given"]
        )
    if base_name is not None:
        if base_name not in PROFILES:
            raise ConfigError(
                [
                    f"extends: expected one of {sorted(PROFILES)}, got {base_name!r}"
                    f"{_hint(str(base_name), list(PROFILES))}"
                ]
            )
        data = _merge(PROFILES[base_name], {k: v for k, v in data.items() if k != "extends"})
        data.setdefault("name", stem or base_name)
        if stem and data.get("name") == base_name:
            data["name"] = stem
    if isinstance(overrides, Mapping):
        data = _merge(data, overrides)
    else:
        for text in overrides:
            key, value = parse_override(text)
            _set_path(data, key, value)
    return validate(data, check_registries=check_registries)


# ------------------------------------------------------------------------------------- validation


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_finetune(where: str, values: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        problems.append(f"{where}: expected a table of {list(FINETUNE_KEYS)}, got {values!r}")
        return {}
    from hs_tasks import FinetuneConfig

    defaults = FinetuneConfig()
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in FINETUNE_KEYS:
            extra = " (set by the runner)" if key in ("seed", "device", "out_dir", "progress") else ""
            problems.append(
                f"{where}.{key}: unknown key{extra}{_hint(key, FINETUNE_KEYS)}; "
                f"allowed: {list(FINETUNE_KEYS)}"
            )
            continue
        default = getattr(defaults, key)
        ok = True
        if key == "amp":
            ok = value in (None, "bf16", "fp16")
            allowed = "null, 'bf16' or 'fp16'"
        elif isinstance(default, bool):
            ok, allowed = isinstance(value, bool), "true or false"
        elif key in ("epochs", "batch_size", "val_every"):
            ok, allowed = _is_int(value) and value >= 1, "an integer >= 1"
        elif key == "eval_batch_size":
            ok, allowed = value is None or (_is_int(value) and value >= 1), "null or an integer >= 1"
        elif key == "grad_clip":
            ok, allowed = value is None or (_is_num(value) and value > 0), "null or a number > 0"
        elif key == "lr":
            ok, allowed = _is_num(value) and value > 0, "a number > 0"
        elif key == "layer_decay":
            ok, allowed = _is_num(value) and 0 < value <= 1, "a number in (0, 1]"
        else:  # weight_decay, warmup_epochs, min_lr
            ok, allowed = _is_num(value) and value >= 0, "a number >= 0"
        if not ok:
            problems.append(f"{where}.{key}: expected {allowed}, got {value!r}")
        else:
            out[key] = value
    return out


def _check_str_list(where: str, value: Any, problems: list[str]) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    problems.append(f"{where}: expected a list of strings, got {value!r}")
    return None


def _check_datasets(where: str, value: Any, problems: list[str], registered: list[str] | None) -> Any:
    if isinstance(value, str):
        if value not in DATASET_SELECTORS:
            problems.append(
                f"{where}: expected one of {list(DATASET_SELECTORS)} or a list of dataset names, "
                f"got {value!r}{_hint(value, DATASET_SELECTORS)}"
            )
        return value
    names = _check_str_list(where, value, problems)
    if names is not None and registered is not None:
        for i, n in enumerate(names):
            if n not in registered:
                problems.append(
                    f"{where}[{i}]: {n!r} is not a registered dataset{_hint(n, registered)} "
                    "(see `hs-bench datasets`)"
                )
    return names if names is not None else value


def _check_models(where: str, value: Any, problems: list[str], backbones: list[str] | None) -> list[str]:
    names = _check_str_list(where, value, problems)
    if names is None:
        return []
    if not names:
        problems.append(f"{where}: expected at least one model, got an empty list")
    if backbones is not None:
        for i, n in enumerate(names):
            if n not in backbones:
                problems.append(f"{where}[{i}]: expected one of {backbones}, got {n!r}{_hint(n, backbones)}")
    return names


def _check_pretrained(value: Any, problems: list[str]) -> Any:
    def one(where: str, spec: Any) -> None:
        if isinstance(spec, str):
            return
        if (
            isinstance(spec, Mapping)
            and spec
            and set(spec) <= {"spatial", "spectral"}
            and all(isinstance(v, str) for v in spec.values())
        ):
            return
        problems.append(
            f"{where}: expected 'none', 'official', a checkpoint path or a table "
            f"{{spatial = PATH, spectral = PATH}}, got {spec!r}"
        )

    if isinstance(value, Mapping):
        for model, spec in value.items():
            one(f"pretrained.{model}", spec)
    else:
        one("pretrained", value)
    return value


def _check_tune(value: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        problems.append(f"tune: expected a table with keys {list(_TUNE_KEYS)}, got {value!r}")
        return {}
    out = dict(value)
    for key in value:
        if key not in _TUNE_KEYS:
            problems.append(f"tune.{key}: unknown key{_hint(key, _TUNE_KEYS)}; allowed: {list(_TUNE_KEYS)}")
    if "trials" in value and not (_is_int(value["trials"]) and value["trials"] >= 0):
        problems.append(f"tune.trials: expected an integer >= 0, got {value['trials']!r}")
    if value.get("timeout_s") is not None and not (_is_num(value["timeout_s"]) and value["timeout_s"] > 0):
        problems.append(f"tune.timeout_s: expected null or a number > 0, got {value['timeout_s']!r}")
    if value.get("sampler", "tpe") not in ("tpe", "random"):
        problems.append(f"tune.sampler: expected 'tpe' or 'random', got {value['sampler']!r}")
    if value.get("pruner", "median") not in ("median", "none"):
        problems.append(f"tune.pruner: expected 'median' or 'none', got {value['pruner']!r}")
    if value.get("seed") is not None and not _is_int(value["seed"]):
        problems.append(f"tune.seed: expected null or an integer, got {value['seed']!r}")
    if "use_tuned" in value and not isinstance(value["use_tuned"], bool):
        problems.append(f"tune.use_tuned: expected true or false, got {value['use_tuned']!r}")
    if value.get("storage") is not None and not isinstance(value["storage"], str):
        problems.append(f"tune.storage: expected a database URL string, got {value['storage']!r}")
    space = value.get("space", {})
    if not isinstance(space, Mapping):
        problems.append(
            f"tune.space: expected a table param -> {{low, high, log}} or {{choices}}, got {space!r}"
        )
        return out
    for param, spec in space.items():
        where = f"tune.space.{param}"
        if param not in TUNE_PARAMS:
            problems.append(
                f"{where}: unknown parameter{_hint(param, TUNE_PARAMS)}; allowed: {list(TUNE_PARAMS)}"
            )
            continue
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: expected {{low, high, log}} or {{choices = [...]}}, got {spec!r}")
            continue
        for k in spec:
            if k not in _SPACE_KEYS:
                problems.append(f"{where}.{k}: unknown key; allowed: {list(_SPACE_KEYS)}")
        if "choices" in spec:
            ch = spec["choices"]
            if not (isinstance(ch, list) and ch and all(_is_num(c) for c in ch)):
                problems.append(f"{where}.choices: expected a non-empty list of numbers, got {ch!r}")
            continue
        lo: Any = spec.get("low")
        hi: Any = spec.get("high")
        if not (_is_num(lo) and _is_num(hi) and lo < hi):
            problems.append(f"{where}: expected numbers low < high, got low={lo!r}, high={hi!r}")
        elif spec.get("log") and lo <= 0:
            problems.append(f"{where}: a log scale needs low > 0, got {lo!r}")
        elif param in ("epochs", "batch_size") and not (_is_int(lo) and _is_int(hi) and lo >= 1):
            problems.append(f"{where}: expected integers >= 1, got low={lo!r}, high={hi!r}")
        elif param == "layer_decay" and not (lo > 0 and hi <= 1):
            problems.append(f"{where}: layer_decay must lie in (0, 1], got [{lo}, {hi}]")
        if "log" in spec and not isinstance(spec["log"], bool):
            problems.append(f"{where}.log: expected true or false, got {spec['log']!r}")
    return out


def import_plugins(modules: Sequence[str]) -> None:
    """Import ``modules`` (they register recipes, datasets or backbones), and the recipes of hs-tasks."""
    import importlib
    import pkgutil

    import hs_tasks

    sub = getattr(hs_tasks, "__path__", None)
    if sub is not None:
        for info in pkgutil.iter_modules(sub):
            if info.name == "tasks":  # a subpackage of recipes: import every module in it
                pkg = importlib.import_module("hs_tasks.tasks")
                for m in pkgutil.iter_modules(pkg.__path__):
                    importlib.import_module(f"hs_tasks.tasks.{m.name}")
    for name in modules:
        importlib.import_module(name)


def validate(data: Mapping[str, Any], *, check_registries: bool = True) -> BenchConfig:
    """Check a merged configuration mapping and return a :class:`BenchConfig` (see :func:`load_config`)."""
    problems: list[str] = []
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(f"{key}: unknown key{_hint(key, _TOP_KEYS)}; allowed: {list(_TOP_KEYS)}")

    plugins = _check_str_list("plugins", data.get("plugins", []), problems) or []
    backbones = recipes = registered = None
    data_tasks: tuple[str, ...] = ()
    if check_registries:
        try:
            import_plugins(plugins)
        except ImportError as exc:
            problems.append(f"plugins: cannot import: {exc}")
        import hs_backbone
        import hs_data
        import hs_tasks

        backbones = hs_backbone.list_backbones()
        recipes = hs_tasks.list_recipes()
        registered = hs_data.list_datasets()
        data_tasks = tuple(t for t in hs_data.TASKS if t != "auxiliary")

    name = data.get("name", "custom")
    if not isinstance(name, str) or not name or any(c in name for c in "/\\:"):
        problems.append(f"name: expected a non-empty string without / \\ :, got {name!r}")
        name = "custom"
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(f"description: expected a string, got {description!r}")
    experiment = data.get("experiment") or f"hsigma-{name}"
    if not isinstance(experiment, str):
        problems.append(f"experiment: expected a string, got {experiment!r}")

    models = _check_models("models", data.get("models", ["test_hypersigma"]), problems, backbones)

    seeds = data.get("seeds", [0])
    if not (isinstance(seeds, list) and seeds and all(_is_int(s) and s >= 0 for s in seeds)):
        problems.append(f"seeds: expected a non-empty list of integers >= 0, got {seeds!r}")
        seeds = [0]
    elif len(set(seeds)) != len(seeds):
        problems.append(f"seeds: expected distinct seeds, got {seeds!r}")

    tasks_value = data.get("tasks", "all")
    tasks: list[str] = []
    if tasks_value == "all":
        tasks = list(recipes) if recipes is not None else []
    else:
        tasks = _check_str_list("tasks", tasks_value, problems) or []
        if isinstance(tasks_value, str):
            problems[-1] = f"tasks: expected 'all' or a list of recipe names, got {tasks_value!r}"
        if recipes is not None:
            for i, t in enumerate(tasks):
                if t not in recipes:
                    problems.append(
                        f"tasks[{i}]: expected one of the registered recipes {recipes}, got {t!r}"
                        f"{_hint(t, recipes)}"
                    )

    datasets = _check_datasets("datasets", data.get("datasets", "present"), problems, registered)
    synthetic = data.get("synthetic", True)
    if not isinstance(synthetic, bool):
        problems.append(f"synthetic: expected true or false, got {synthetic!r}")
    pretrained = _check_pretrained(data.get("pretrained", "none"), problems)
    if isinstance(pretrained, Mapping) and backbones is not None:
        for m in pretrained:
            if m not in backbones:
                problems.append(f"pretrained.{m}: not a registered backbone{_hint(m, backbones)}")
    weights_dir = data.get("weights_dir") or os.environ.get("HS_WEIGHTS_DIR")
    finetune = _check_finetune("finetune", data.get("finetune", {}), problems)

    per_task_raw = data.get("per_task", {})
    per_task: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    if not isinstance(per_task_raw, Mapping):
        problems.append(f"per_task: expected a table recipe -> settings, got {per_task_raw!r}")
        per_task_raw = {}
    for task, spec in per_task_raw.items():
        where = f"per_task.{task}"
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: expected a table with keys {list(_TASK_KEYS)}, got {spec!r}")
            continue
        if recipes is not None and task not in recipes:
            notes.append(f"{where}: no recipe {task!r} is registered; its settings are not used")
        clean: dict[str, Any] = {}
        for key, value in spec.items():
            if key not in _TASK_KEYS:
                problems.append(
                    f"{where}.{key}: unknown key{_hint(key, _TASK_KEYS)}; allowed: {list(_TASK_KEYS)}"
                )
            elif key == "datasets":
                clean[key] = _check_datasets(f"{where}.datasets", value, problems, registered)
            elif key == "data_task":
                if check_registries and value not in data_tasks:
                    problems.append(f"{where}.data_task: expected one of {list(data_tasks)}, got {value!r}")
                clean[key] = value
            elif key == "models":
                clean[key] = _check_models(f"{where}.models", value, problems, backbones)
            elif key == "finetune":
                clean[key] = _check_finetune(f"{where}.finetune", value, problems)
            elif key == "options":
                if not isinstance(value, Mapping):
                    problems.append(f"{where}.options: expected a table of recipe options, got {value!r}")
                else:
                    clean[key] = dict(value)
            elif key == "per_dataset":
                if not isinstance(value, Mapping):
                    problems.append(f"{where}.per_dataset: expected a table dataset -> {{finetune, options}}")
                    continue
                pd: dict[str, Any] = {}
                for ds, dspec in value.items():
                    w = f"{where}.per_dataset.{ds}"
                    if registered is not None and ds not in registered:
                        problems.append(f"{w}: {ds!r} is not a registered dataset{_hint(ds, registered)}")
                    if not isinstance(dspec, Mapping) or not set(dspec) <= {"finetune", "options"}:
                        problems.append(
                            f"{w}: expected a table with keys ['finetune', 'options'], got {dspec!r}"
                        )
                        continue
                    pd[ds] = {
                        "finetune": _check_finetune(f"{w}.finetune", dspec.get("finetune", {}), problems),
                        "options": dict(dspec.get("options", {})),
                    }
                clean[key] = pd
        per_task[task] = clean
    if check_registries:
        for t in list(tasks):
            if infer_data_task(t) is None and "data_task" not in per_task.get(t, {}):
                ds = per_task.get(t, {}).get("datasets", datasets)
                if isinstance(ds, str) and tasks_value == "all":
                    tasks.remove(t)
                    notes.append(
                        f"recipe {t!r}: its name is not an hs-data task and per_task.{t} gives no data_task "
                        'or dataset list, so `tasks = "all"` leaves it out'
                    )
                elif isinstance(ds, str):
                    problems.append(
                        f"per_task.{t}: the recipe name does not name an hs-data task, so its datasets "
                        f"cannot be selected by {ds!r}; set per_task.{t}.data_task (one of "
                        f"{list(data_tasks)}) or per_task.{t}.datasets (a list)"
                    )

    device = data.get("device", "cpu")
    if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda") or device == "mps"):
        problems.append(f"device: expected 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}")
    data_root = data.get("data_root") or os.environ.get("HS_DATA_ROOT") or None
    results_dir = data.get("results_dir") or os.environ.get("HS_RESULTS_DIR") or "results"
    for key, value in (("data_root", data_root), ("results_dir", results_dir)):
        if value is not None and not isinstance(value, str):
            problems.append(f"{key}: expected a path string, got {value!r}")
    results_dir = str(Path(str(results_dir)).expanduser().resolve())
    tracking_uri = data.get("tracking_uri") or os.environ.get("MLFLOW_TRACKING_URI") or ""
    if not isinstance(tracking_uri, str):
        problems.append(f"tracking_uri: expected a URI string, got {tracking_uri!r}")
        tracking_uri = ""
    if not tracking_uri:
        tracking_uri = "sqlite:///" + str(Path(results_dir) / "mlflow.db")
    elif not tracking_uri.startswith(
        ("sqlite:", "http://", "https://", "postgresql", "mysql", "file:", "databricks")
    ):
        problems.append(
            f"tracking_uri: expected sqlite:///PATH, http(s)://HOST:PORT or another MLflow store URI, "
            f"got {tracking_uri!r}"
        )
    checkpoints = data.get("checkpoints", False)
    if not isinstance(checkpoints, bool):
        problems.append(f"checkpoints: expected true or false, got {checkpoints!r}")
    tune = _check_tune(data.get("tune", {}), problems)

    if problems:
        raise ConfigError(problems)
    return BenchConfig(
        name=name,
        description=description,
        experiment=experiment,
        models=models,
        seeds=list(seeds),
        tasks=tasks,
        datasets=datasets,
        synthetic=synthetic,
        pretrained=copy.deepcopy(pretrained),
        weights_dir=weights_dir,
        finetune=finetune,
        per_task=per_task,
        device=device,
        data_root=data_root,
        results_dir=results_dir,
        tracking_uri=tracking_uri,
        checkpoints=checkpoints,
        plugins=plugins,
        tune=tune,
        raw=dict(data),
        notes=notes,
    )


# ------------------------------------------------------------------------------------------ TOML


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return (
            "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items() if x is not None) + "}"
        )
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _toml_key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "_-" for c in k) else json.dumps(k)


def dump_toml(data: Mapping[str, Any]) -> str:
    """Write a configuration mapping as TOML (``None`` values are left out; TOML has no null)."""
    lines: list[str] = []

    def table(prefix: str, node: Mapping[str, Any]) -> None:
        scalars = [(k, v) for k, v in node.items() if not isinstance(v, Mapping) and v is not None]
        subs = [(k, v) for k, v in node.items() if isinstance(v, Mapping)]
        if prefix and (scalars or not subs):
            lines.append(f"\n[{prefix}]")
        for k, v in scalars:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
        for k, v in subs:
            table(f"{prefix}.{_toml_key(k)}" if prefix else _toml_key(k), v)

    table("", data)
    return "\n".join(lines).lstrip("\n") + "\n"
