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

The fwd+bwd comparison runs the configurations one after the other in each round and reports the
median over rounds of the per-round time ratios (wall clock and process CPU time) besides the best
times, so load from other processes on a shared machine affects both alike. An informational third run,
``upstream_equivalent``, is the reference attention with every spectral block run, as upstream's
classifier does (this package stops after the tap that SEM uses; the outputs are identical).
"""

from __future__ import annotations

import time

import pytest
import torch

import hs_backbone as hb
from hs_attention.testing import peak_memory_bytes

CONFIG = {"batch": 8, "bands": 30, "size": 33, "patch_size": 2, "num_tokens": 100}
BACKENDS = {"auto": ("auto", "auto"), "reference": ("reference", "naive")}
THREADS = 2
ROUNDS = 3


@pytest.fixture(scope="module")
def setup() -> tuple[hb.HyperSIGMA, torch.Tensor]:
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    model = hb.create_backbone(
        "hypersigma_base",
        in_chans=CONFIG["bands"],
        img_size=CONFIG["size"],
        patch_size=CONFIG["patch_size"],
        num_tokens=CONFIG["num_tokens"],
    )
    x = torch.randn(CONFIG["batch"], CONFIG["bands"], CONFIG["size"], CONFIG["size"])
    return model, x


def _train_step(model: hb.HyperSIGMA, x: torch.Tensor) -> None:
    model.train()
    out = model(x)
    loss = sum(e.mean(dim=(2, 3)).sum() for e in out.enhanced)
    loss.backward()
    model.zero_grad(set_to_none=True)


def _upstream_step(model: hb.HyperSIGMA, x: torch.Tensor) -> None:
    """What upstream's classifier computes: every spectral block runs, only the first tap is used."""
    model.train()
    spatial = model.spatial(x)
    spectral = model.spectral(x)[model.spectral_level]  # all levels: all blocks
    enhanced = model.sem(spatial, model.sem.descriptor(spectral))
    loss = sum(e.mean(dim=(2, 3)).sum() for e in enhanced)
    loss.backward()
    model.zero_grad(set_to_none=True)


RUNS = {
    "auto": (BACKENDS["auto"], _train_step),
    "reference": (BACKENDS["reference"], _train_step),
    # Informational: the reference attention with upstream's full spectral branch.
    "upstream_equivalent": (BACKENDS["reference"], _upstream_step),
}


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@pytest.mark.benchmark(group="hypersigma-b-cls-fwd-bwd")
def test_forward_backward_auto_vs_reference(benchmark, setup) -> None:
    model, x = setup
    wall: dict[str, list[float]] = {name: [] for name in RUNS}
    cpu: dict[str, list[float]] = {name: [] for name in RUNS}

    def all_runs() -> None:
        for name, ((ssa, glob), step) in RUNS.items():
            model.set_attention_backends(ssa=ssa, global_=glob)
            start, start_cpu = time.perf_counter(), time.process_time()
            step(model, x)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)

    benchmark.pedantic(all_runs, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    peaks = {}
    for name, ((ssa, glob), step) in RUNS.items():
        model.set_attention_backends(ssa=ssa, global_=glob)
        peaks[name] = peak_memory_bytes(lambda step=step: step(model, x))  # type: ignore[misc]
    model.set_attention_backends(ssa="auto", global_="auto")
    wall = {k: v[1:] for k, v in wall.items()}  # drop the warm-up round
    cpu = {k: v[1:] for k, v in cpu.items()}

    def paired(times: dict[str, list[float]], other: str) -> float:
        return _median([o / a for o, a in zip(times[other], times["auto"])])

    benchmark.extra_info.update(
        {
            "config": CONFIG,
            "threads": THREADS,
            "wall_seconds": wall,
            "cpu_seconds": cpu,
            "peak_bytes": peaks,
            "speedup_wall_best": min(wall["reference"]) / min(wall["auto"]),
            "speedup_wall_paired_median": paired(wall, "reference"),
            "speedup_cpu_paired_median": paired(cpu, "reference"),
            "speedup_vs_upstream_equivalent_wall": paired(wall, "upstream_equivalent"),
            "memory_ratio": peaks["auto"] / peaks["reference"],
            "memory_ratio_vs_upstream_equivalent": peaks["auto"] / peaks["upstream_equivalent"],
        }
    )


@pytest.mark.benchmark(group="hypersigma-b-cls-inference")
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_inference_throughput(benchmark, setup, backend: str) -> None:
    model, x = setup
    ssa, glob = BACKENDS[backend]
    model.set_attention_backends(ssa=ssa, global_=glob)
    model.eval()

    def infer() -> None:
        with torch.inference_mode():
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
