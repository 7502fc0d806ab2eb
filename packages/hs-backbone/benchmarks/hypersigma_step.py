"""One configuration of the HyperSIGMA-B forward+backward benchmark, timed in a process of its own.

Used by ``test_bench_hypersigma.py``, which starts one such process per configuration and round;
also runnable alone::

    python benchmarks/hypersigma_step.py auto --steps 3

prints one JSON object: per-step wall and process CPU seconds, kernel (system) seconds and minor page
faults, and the peak tensor memory of one more step. A fresh process per configuration keeps the
configurations from sharing a heap: in one process, the large temporaries of one configuration leave
the C allocator's heap in a state that changes how many page faults the next one takes (measured:
the reference configuration ran 10-25 % slower after the others than in a process of its own).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Callable

import torch

import hs_backbone as hb
from hs_attention.testing import peak_memory_bytes

CONFIG = {"batch": 8, "bands": 30, "size": 33, "patch_size": 2, "num_tokens": 100}
THREADS = 2
BACKENDS = {"auto": ("auto", "auto"), "reference": ("reference", "naive")}


def build() -> tuple[hb.HyperSIGMA, torch.Tensor]:
    """HyperSIGMA-B in the classification configuration, seeded weights and input (same in every process)."""
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


def train_step(model: hb.HyperSIGMA, x: torch.Tensor) -> None:
    model.train()
    out = model(x)
    loss = sum(e.mean(dim=(2, 3)).sum() for e in out.enhanced)
    loss.backward()
    model.zero_grad(set_to_none=True)


def train_step_bf16(model: hb.HyperSIGMA, x: torch.Tensor) -> None:
    model.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
        loss = sum(e.float().mean(dim=(2, 3)).sum() for e in out.enhanced)
    loss.backward()
    model.zero_grad(set_to_none=True)


def upstream_step(model: hb.HyperSIGMA, x: torch.Tensor) -> None:
    """What upstream's classifier computes: every spectral block runs, only the first tap is used."""
    model.train()
    spatial = model.spatial(x)
    spectral = model.spectral(x)[model.spectral_level]  # all levels: all blocks
    enhanced = model.sem(spatial, model.sem.descriptor(spectral))
    loss = sum(e.mean(dim=(2, 3)).sum() for e in enhanced)
    loss.backward()
    model.zero_grad(set_to_none=True)


Step = Callable[[hb.HyperSIGMA, torch.Tensor], None]
RUNS: dict[str, tuple[tuple[str, str], Step]] = {
    "auto": (BACKENDS["auto"], train_step),
    "reference": (BACKENDS["reference"], train_step),
    # Informational: the reference attention with upstream's full spectral branch, and both
    # configurations under bf16 autocast (lower precision; uses AMX/AVX-512-BF16 matmuls where present).
    "upstream_equivalent": (BACKENDS["reference"], upstream_step),
    "auto_bf16": (BACKENDS["auto"], train_step_bf16),
    "reference_bf16": (BACKENDS["reference"], train_step_bf16),
}


def measure(name: str, steps: int) -> dict[str, object]:
    """Warm-up step, then ``steps`` timed steps and one step under the memory profiler."""
    torch.set_num_threads(THREADS)
    (ssa, glob), step = RUNS[name]
    model, x = build()
    model.set_attention_backends(ssa=ssa, global_=glob)
    step(model, x)  # warm-up: kernel build, first-touch of the weights' gradients
    wall, cpu, system, faults = [], [], [], []
    for _ in range(steps):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        start, start_cpu = time.perf_counter(), time.process_time()
        step(model, x)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        after = resource.getrusage(resource.RUSAGE_SELF)
        system.append(after.ru_stime - usage.ru_stime)
        faults.append(after.ru_minflt - usage.ru_minflt)
    peak = peak_memory_bytes(lambda: step(model, x))
    return {
        "name": name,
        "wall": wall,
        "cpu": cpu,
        "system": system,
        "minor_faults": faults,
        "peak_bytes": peak,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "allocator_env": {
            k: v for k, v in os.environ.items() if k.startswith("MALLOC_") or k == "LD_PRELOAD"
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", choices=sorted(RUNS), help="configuration to time")
    parser.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps: expected a positive number of steps, got {args.steps}")
    print(json.dumps(measure(args.run, args.steps)))


if __name__ == "__main__":
    main()
