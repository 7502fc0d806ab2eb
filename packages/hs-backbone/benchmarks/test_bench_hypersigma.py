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

import pytest
import torch
from hypersigma_step import BACKENDS, CONFIG, THREADS, build, run_rounds, summarise

import hs_backbone as hb
from hs_attention.testing import peak_memory_bytes

ROUNDS = 3
STEPS = 3


@pytest.fixture(scope="module")
def setup() -> tuple[hb.HyperSIGMA, torch.Tensor]:
    torch.set_num_threads(THREADS)
    return build()


@pytest.mark.benchmark(group="hypersigma-b-cls-fwd-bwd")
def test_forward_backward_auto_vs_reference(benchmark) -> None:
    results: dict[str, list[dict]] = {}

    def all_rounds() -> None:
        results.update(run_rounds(ROUNDS, STEPS))

    benchmark.pedantic(all_rounds, rounds=1, iterations=1)
    benchmark.extra_info.update(summarise(results))


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
