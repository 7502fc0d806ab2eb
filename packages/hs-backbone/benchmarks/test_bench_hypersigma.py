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

The fwd+bwd comparison alternates the two configurations round by round and keeps each one's fastest
round, so load from other processes on the machine affects both alike.
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


@pytest.mark.benchmark(group="hypersigma-b-cls-fwd-bwd")
def test_forward_backward_auto_vs_reference(benchmark, setup) -> None:
    model, x = setup
    times: dict[str, list[float]] = {name: [] for name in BACKENDS}

    def both() -> None:
        for name, (ssa, glob) in BACKENDS.items():
            model.set_attention_backends(ssa=ssa, global_=glob)
            start = time.perf_counter()
            _train_step(model, x)
            times[name].append(time.perf_counter() - start)

    benchmark.pedantic(both, rounds=4, warmup_rounds=1, iterations=1)
    peaks = {}
    for name, (ssa, glob) in BACKENDS.items():
        model.set_attention_backends(ssa=ssa, global_=glob)
        peaks[name] = peak_memory_bytes(lambda: _train_step(model, x))
    model.set_attention_backends(ssa="auto", global_="auto")
    best = {name: min(ts[1:]) for name, ts in times.items()}  # the first entry is the warm-up round
    benchmark.extra_info.update(
        {
            "config": CONFIG,
            "threads": THREADS,
            "seconds_min": best,
            "seconds_all": {name: ts[1:] for name, ts in times.items()},
            "peak_bytes": peaks,
            "speedup": best["reference"] / best["auto"],
            "memory_ratio": peaks["auto"] / peaks["reference"],
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
