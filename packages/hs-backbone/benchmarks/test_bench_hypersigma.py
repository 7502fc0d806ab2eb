"""HyperSIGMA-B in upstream's classification configuration: fast attention paths vs the reference.

Run (from packages/hs-backbone)::

    python -m pytest -o addopts="" benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/report.py bench.json

Configuration (``shared/reference/hypersigma.md`` Appendix B): 33 × 33 patches of 30 PCA components,
batch 8, spatial patch 2 (16 × 16 tokens), 100 spectral tokens (10 × 10 SSA grid), SEM on 4 levels;
training mode (drop path 0.1) for forward+backward, eval mode for inference. The same weights run with
``auto`` attention (fused C++ SSA kernel, SDPA) and with ``reference`` SSA + ``naive`` global attention
(the definitions, which the parity tests tie to the official code). Peak memory is the peak of CPU tensor
allocations during one step (:func:`hs_attention.testing.peak_memory_bytes`).

Forward+backward: every configuration runs in a fresh process of its own (``hypersigma_step.py``: one
warm-up step, ``STEPS`` timed steps), the configurations alternating within each of ``ROUNDS`` rounds,
so they share neither a heap nor, on a shared machine, much of a difference in load. The report gives
the median over rounds of the per-round ratios of the per-process median step times (wall clock and
process CPU time) besides the best times. Informational runs: ``upstream_equivalent``, the reference
attention with every spectral block run, as upstream's classifier does (this package stops after the
tap that SEM uses; the outputs are identical), and ``auto_bf16`` and ``reference_bf16``, both
configurations under ``torch.autocast("cpu", dtype=torch.bfloat16)``. The allocator matters (README,
"Speed and memory"): the run's ``MALLOC_*``/``LD_PRELOAD`` settings are recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypersigma_step import BACKENDS, CONFIG, RUNS, THREADS, build

import hs_backbone as hb
from hs_attention.testing import peak_memory_bytes

ROUNDS = 3
STEPS = 3
WORKER = Path(__file__).with_name("hypersigma_step.py")


@pytest.fixture(scope="module")
def setup() -> tuple[hb.HyperSIGMA, torch.Tensor]:
    torch.set_num_threads(THREADS)
    return build()


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _run_worker(name: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(WORKER), name, "--steps", str(STEPS)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(WORKER.parent), *sys.path]))},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{WORKER.name} {name} failed with exit code {done.returncode}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.benchmark(group="hypersigma-b-cls-fwd-bwd")
def test_forward_backward_auto_vs_reference(benchmark) -> None:
    results: dict[str, list[dict]] = {name: [] for name in RUNS}

    def all_rounds() -> None:
        for _ in range(ROUNDS):
            for name in RUNS:
                results[name].append(_run_worker(name))

    benchmark.pedantic(all_rounds, rounds=1, iterations=1)
    # Per configuration and round: the median step of that process.
    wall = {k: [_median(r["wall"]) for r in v] for k, v in results.items()}
    cpu = {k: [_median(r["cpu"]) for r in v] for k, v in results.items()}
    system = {k: [_median(r["system"]) for r in v] for k, v in results.items()}
    faults = {k: [_median(r["minor_faults"]) for r in v] for k, v in results.items()}
    peaks = {k: max(r["peak_bytes"] for r in v) for k, v in results.items()}

    def paired(times: dict[str, list[float]], other: str, base: str = "auto") -> float:
        return _median([o / a for o, a in zip(times[other], times[base])])

    benchmark.extra_info.update(
        {
            "config": CONFIG,
            "threads": THREADS,
            "design": f"fresh process per configuration and round; {ROUNDS} rounds x {STEPS} steps",
            "wall_seconds": wall,
            "cpu_seconds": cpu,
            "system_seconds": system,
            "minor_page_faults": faults,
            "wall_seconds_all_steps": {k: [r["wall"] for r in v] for k, v in results.items()},
            "peak_bytes": peaks,
            "allocator_env": results["auto"][0]["allocator_env"],
            "speedup_wall_best": min(wall["reference"]) / min(wall["auto"]),
            "speedup_wall_paired_median": paired(wall, "reference"),
            "speedup_cpu_paired_median": paired(cpu, "reference"),
            "speedup_vs_upstream_equivalent_wall": paired(wall, "upstream_equivalent"),
            "memory_ratio": peaks["auto"] / peaks["reference"],
            "memory_ratio_vs_upstream_equivalent": peaks["auto"] / peaks["upstream_equivalent"],
            "speedup_bf16_vs_reference": paired(wall, "reference", base="auto_bf16"),
            "speedup_bf16_same_precision": paired(wall, "reference_bf16", base="auto_bf16"),
            "speedup_bf16_same_precision_cpu": paired(cpu, "reference_bf16", base="auto_bf16"),
            "memory_ratio_bf16_same_precision": peaks["auto_bf16"] / peaks["reference_bf16"],
            "memory_ratio_bf16": peaks["auto_bf16"] / peaks["reference"],
        }
    )


@pytest.mark.benchmark(group="hypersigma-b-cls-inference")
@pytest.mark.parametrize("backend", [*BACKENDS, "auto_bf16"])
def test_inference_throughput(benchmark, setup, backend: str) -> None:
    model, x = setup
    ssa, glob = BACKENDS[backend.removesuffix("_bf16")]
    model.set_attention_backends(ssa=ssa, global_=glob)
    model.eval()
    bf16 = backend.endswith("_bf16")

    def infer() -> None:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(x)

    benchmark.pedantic(infer, rounds=5, warmup_rounds=1, iterations=1)
    peak = peak_memory_bytes(infer)
    model.set_attention_backends(ssa="auto", global_="auto")
    benchmark.extra_info.update(
        {
            "config": CONFIG,
            "threads": THREADS,
            "patches_per_second": CONFIG["batch"] / benchmark.stats.stats.min,
            "peak_bytes": peak,
        }
    )
