"""Where one forward+backward step of the benchmark configuration spends its time (``torch.profiler``).

Usage (from packages/hs-backbone)::

    python benchmarks/profile_step.py auto          # or reference, auto_bf16, ...
    python benchmarks/profile_step.py auto --flops  # matrix-product flops of one step

Prints the operators by self CPU time and the share of the linear and convolution layers' matrix
products, the attention kernels and everything else (copies, elementwise, normalisation). The
profiler adds some overhead of its own, so the profiled total exceeds the plain step time of
``hypersigma_step.py``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from hypersigma_step import RUNS, THREADS, build
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

# Matrix products of the linear and convolution layers (both configurations run the same ones).
GEMM = ("aten::mm", "aten::addmm", "aten::convolution_backward", "aten::mkldnn_convolution")
# Attention: fused SSA, SDPA, and the reference's grid sampling and batched products (naive global
# attention and the reference SSA's sampled scores; no other layer of the model uses bmm).
ATTENTION = (
    "_SSAFunction",
    "_SSAFunctionBackward",
    "aten::grid_sampler_2d",
    "aten::grid_sampler_2d_backward",
    "aten::bmm",
    "aten::_softmax",
    "aten::_softmax_backward_data",
)


def count_flops(run: str, step: Callable[..., None], model: torch.nn.Module, x: torch.Tensor) -> None:
    """Flops of the products in one step (``torch.utils.flop_counter``: mm, addmm, bmm, convolutions;
    the fused kernels' own arithmetic is not counted) and the time they need at the measured rate."""
    with FlopCounterMode(display=False) as counter:
        step(model, x)
    per_op = counter.get_flop_counts()["Global"]
    total = counter.get_total_flops()
    for op, flops in sorted(per_op.items(), key=lambda kv: -kv[1]):
        print(f"{op!s:32} {flops / 1e9:9.1f} GFLOP")
    print(
        f"{run}: {total / 1e9:.1f} GFLOP of matrix products per step: {total / 300e9:.2f} s at 300 GFLOP/s "
        f"(the rate measured for the step's largest products), {total / 333e9:.2f} s at the "
        "2-core float32 peak of 333 GFLOP/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", choices=sorted(RUNS), help="configuration to profile")
    parser.add_argument("--rows", type=int, default=25, help="operators to list")
    parser.add_argument("--shapes", action="store_true", help="also list the operators per input shape")
    parser.add_argument(
        "--flops", action="store_true", help="count the step's matrix-product flops instead of profiling"
    )
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    (ssa, glob), step = RUNS[args.run]
    model, x = build()
    model.set_attention_backends(ssa=ssa, global_=glob)
    if args.flops:
        count_flops(args.run, step, model, x)
        return
    step(model, x)
    step(model, x)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=args.shapes) as prof:
        step(model, x)
    averages = prof.key_averages()
    print(averages.table(sort_by="self_cpu_time_total", row_limit=args.rows))
    if args.shapes:
        by_shape = prof.key_averages(group_by_input_shape=True)
        print(by_shape.table(sort_by="self_cpu_time_total", row_limit=args.rows))
    total = sum(e.self_cpu_time_total for e in averages)
    gemm = sum(e.self_cpu_time_total for e in averages if e.key in GEMM)
    attention = sum(
        e.self_cpu_time_total
        for e in averages
        if e.key in ATTENTION or e.key.startswith("aten::_scaled_dot_product")
    )
    print(
        f"{args.run}: profiled step {total / 1e6:.2f} s; matrix products {gemm / 1e6:.2f} s "
        f"({100 * gemm / total:.0f} %); attention kernels {attention / 1e6:.2f} s "
        f"({100 * attention / total:.0f} %); other {(total - gemm - attention) / 1e6:.2f} s"
    )


if __name__ == "__main__":
    main()
