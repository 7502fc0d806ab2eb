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
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

import torch

import hs_backbone as hb
from hs_attention.testing import peak_memory_bytes

CONFIG = {"batch": 8, "bands": 30, "size": 33, "patch_size": 2, "num_tokens": 100}
THREADS = 2
BACKENDS = {"auto": ("auto", "auto"), "reference": ("reference", "naive")}


def build(model_name: str = "hypersigma_base") -> tuple[hb.HyperSIGMA, torch.Tensor]:
    """The model (HyperSIGMA-B by default) in the classification configuration, with seeded weights and
    input (the same in every process)."""
    torch.manual_seed(0)
    model = hb.create_backbone(
        model_name,
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


def measure(
    name: str, steps: int, model_name: str = "hypersigma_base", *, peak: bool = True
) -> dict[str, object]:
    """Warm-up step, then ``steps`` timed steps and (``peak``) one step under the memory profiler."""
    torch.set_num_threads(THREADS)
    (ssa, glob), step = RUNS[name]
    model, x = build(model_name)
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
    return {
        "name": name,
        "model": model_name,
        "wall": wall,
        "cpu": cpu,
        "system": system,
        "minor_faults": faults,
        "peak_bytes": peak_memory_bytes(lambda: step(model, x)) if peak else None,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "allocator_env": {
            k: v for k, v in os.environ.items() if k.startswith("MALLOC_") or k == "LD_PRELOAD"
        },
    }


def run_worker(name: str, steps: int, model_name: str = "hypersigma_base", *, peak: bool = True) -> dict:
    """:func:`measure` in a fresh Python process; its JSON result."""
    here = Path(__file__).resolve()
    done = subprocess.run(
        [sys.executable, str(here), name, "--steps", str(steps), "--model", model_name]
        + ([] if peak else ["--no-peak"]),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(here.parent), *sys.path]))},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{here.name} {name} failed with exit code {done.returncode}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_rounds(rounds: int, steps: int, model_name: str = "hypersigma_base") -> dict[str, list[dict]]:
    """``rounds`` rounds, each running every configuration of :data:`RUNS` once, in its own process.

    Peak memory is deterministic, so only the first round's processes measure it."""
    results: dict[str, list[dict]] = {name: [] for name in RUNS}
    for index in range(rounds):
        for name in RUNS:
            results[name].append(run_worker(name, steps, model_name, peak=index == 0))
    return results


def summarise(results: dict[str, list[dict]]) -> dict[str, object]:
    """Per configuration and round the median step of that process; speed-ups as the median over rounds
    of the per-round ratios; peak memory from the first round (the ``extra_info`` of the
    benchmark, read by ``report.py``)."""
    rounds, steps = len(results["auto"]), len(results["auto"][0]["wall"])
    wall = {k: [median(r["wall"]) for r in v] for k, v in results.items()}
    cpu = {k: [median(r["cpu"]) for r in v] for k, v in results.items()}
    system = {k: [median(r["system"]) for r in v] for k, v in results.items()}
    faults = {k: [median(r["minor_faults"]) for r in v] for k, v in results.items()}
    peaks = {k: v[0]["peak_bytes"] for k, v in results.items()}

    def paired(times: dict[str, list[float]], other: str, base: str = "auto") -> float:
        return median([o / a for o, a in zip(times[other], times[base], strict=True)])

    return {
        "config": CONFIG,
        "model": results["auto"][0]["model"],
        "threads": THREADS,
        "design": f"fresh process per configuration and round; {rounds} rounds x {steps} steps",
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
        "memory_ratio_bf16": peaks["auto_bf16"] / peaks["reference"],
        "speedup_bf16_same_precision": paired(wall, "reference_bf16", base="auto_bf16"),
        "speedup_bf16_same_precision_cpu": paired(cpu, "reference_bf16", base="auto_bf16"),
        "memory_ratio_bf16_same_precision": peaks["auto_bf16"] / peaks["reference_bf16"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", choices=sorted(RUNS), help="configuration to time")
    parser.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    parser.add_argument(
        "--model", default="hypersigma_base", help="hs-backbone name (the tests use test_hypersigma)"
    )
    parser.add_argument("--no-peak", action="store_true", help="skip the peak-memory step")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps: expected a positive number of steps, got {args.steps}")
    if not hb.is_backbone(args.model):
        parser.error(
            f"--model: expected an hs-backbone name (hs_backbone.list_backbones()), got {args.model!r}"
        )
    print(json.dumps(measure(args.run, args.steps, args.model, peak=not args.no_peak)))


if __name__ == "__main__":
    main()
