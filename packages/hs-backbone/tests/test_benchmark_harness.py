"""The HyperSIGMA-B benchmark harness (``benchmarks/``) runs end to end, here on the tiny model.

The benchmark itself is slow (HyperSIGMA-B, ~10 minutes) and never runs in CI; these tests keep its
worker processes, the aggregation and the report from rotting.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def step() -> ModuleType:
    return _load("hypersigma_step")


def test_measure_in_process_records_every_field(step: ModuleType) -> None:
    result = step.measure("reference", steps=2, model_name="test_hypersigma")
    assert result["name"] == "reference" and result["model"] == "test_hypersigma"
    assert len(result["wall"]) == len(result["cpu"]) == len(result["system"]) == 2
    assert all(t > 0 for t in result["wall"]) and result["peak_bytes"] > 0
    assert all(f >= 0 for f in result["minor_faults"])
    # Later rounds skip the (deterministic) peak-memory step.
    assert step.measure("auto", steps=1, model_name="test_hypersigma", peak=False)["peak_bytes"] is None


def test_fresh_processes_summary_and_report(step: ModuleType, tmp_path: Path) -> None:
    results = step.run_rounds(rounds=1, steps=1, model_name="test_hypersigma")
    assert set(results) == set(step.RUNS) and all(len(v) == 1 for v in results.values())
    summary = step.summarise(results)
    assert summary["model"] == "test_hypersigma"
    assert summary["design"].endswith("1 rounds x 1 steps")
    wall = summary["wall_seconds"]
    assert summary["speedup_wall_paired_median"] == pytest.approx(wall["reference"][0] / wall["auto"][0])
    # The fused kernel never needs more memory than the reference's sampled tensors.
    assert 0 < summary["memory_ratio"] < 1
    report = _load("report")
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"benchmarks": [{"extra_info": summary}], "machine_info": {}}))
    text = report.main(str(path))
    assert "reference under bf16 autocast" in text and "both under bf16 autocast" in text
    assert "glibc defaults" in text or "MALLOC_" in text


def test_worker_rejects_an_unknown_model(step: ModuleType) -> None:
    with pytest.raises(RuntimeError, match="--model: expected an hs-backbone name"):
        step.run_worker("auto", 1, model_name="no_such_model")
