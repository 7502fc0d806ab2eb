"""Pretraining throughput (patches per second) and peak memory per model size, on CPU; and the time of
one tiny-variant epoch over the local scenes.

Run (from packages/hs-pretrain, in an environment with the package installed, e.g. the nox venv
``../../.nox/tests-hs-pretrain/bin/python``)::

    python -m pytest -o addopts="" benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/report.py bench.json

One training step is what :func:`hs_pretrain.pretrain` runs per batch: upstream's input (64 × 64
crops, 100 bands; spatial patch 8 → 64 tokens, 75 % masked; spectral 100 tokens, 75 % masked),
forward, normalised-pixel loss, backward, AdamW (β 0.9/0.95) step, float32, 2 threads. Peak memory is
the largest tensor allocation during one step (activations, gradients, temporaries; measured with the
PyTorch profiler, :func:`hs_attention.testing.peak_memory_bytes`) plus what persists between steps
(parameters and the two AdamW moments).
"""

from __future__ import annotations

import os
import resource
import time

import pytest
import torch

from hs_attention.testing import peak_memory_bytes
from hs_backbone.training import build_adamw
from hs_pretrain import PretrainConfig, create_mae, pretrain

THREADS = 2
BATCH = {"tiny": 32, "base": 8, "large": 4, "huge": 2}
SIZES = [
    (family, size) for size in ("tiny", "base", "large", "huge") for family in ("spatial_mae", "spectral_mae")
]


@pytest.mark.parametrize(("family", "size"), SIZES, ids=[f"{f}_{s}" for f, s in SIZES])
def test_training_step(benchmark, family: str, size: str) -> None:
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    model = create_mae(f"{family}_{size}")
    optimizer = build_adamw(model, lr=1e-4, weight_decay=0.05, betas=(0.9, 0.95))
    batch = BATCH[size]
    x = torch.rand(batch, 100, 64, 64)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        model(x).loss.backward()
        optimizer.step()

    step()  # allocates the AdamW state
    persistent = sum(p.numel() * p.element_size() * 3 for p in model.parameters() if p.requires_grad)
    persistent += sum(b.numel() * b.element_size() for b in model.buffers())
    peak = peak_memory_bytes(step)
    cpu0 = time.process_time()
    benchmark.pedantic(step, rounds=3, iterations=1, warmup_rounds=0)
    cpu = (time.process_time() - cpu0) / 3
    best = benchmark.stats.stats.min
    benchmark.extra_info.update(
        {
            "batch": batch,
            "params": sum(p.numel() for p in model.parameters()),
            "encoder_params": sum(p.numel() for p in model.encoder.parameters()),
            "patches_per_second": batch / best,
            "cpu_seconds_per_step": cpu,
            "step_peak_bytes": peak,
            "persistent_bytes": persistent,
            "peak_bytes": peak + persistent,
            "threads": THREADS,
            "load_average": os.getloadavg()[0],
        }
    )


def test_tiny_epoch_on_the_local_scenes(benchmark, tmp_path) -> None:
    """One epoch of spatial_mae_tiny over every local scene (hs-data registry), 2 threads."""
    if not os.environ.get("HS_DATA_ROOT"):
        pytest.skip("HS_DATA_ROOT is not set (the real scenes live in shared/data)")
    torch.set_num_threads(THREADS)
    results = {}

    def run() -> None:
        for name, samples in (("natural", None), ("1024", 1024)):
            t0 = time.perf_counter()
            result = pretrain(
                PretrainConfig(
                    model="spatial_mae_tiny",
                    sources=["hs-data:*"],
                    scale="percentile",
                    epochs=1,
                    batch_size=32,
                    samples_per_epoch=samples,
                    warmup_epochs=0,
                    blr=1.5e-4,
                    progress=False,
                    resume=False,
                )
            )
            results[name] = {
                "seconds": time.perf_counter() - t0,
                "samples": result.data["samples_per_epoch"],
                "scenes": result.data["scenes"],
            }

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(
        {"epochs": results, "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    )
