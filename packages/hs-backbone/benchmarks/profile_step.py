"""Where one forward+backward step of the benchmark configuration spends its time (``torch.profiler``).

Usage (from packages/hs-backbone)::

    python benchmarks/profile_step.py auto          # or reference, auto_bf16, ...

Prints the operators by self CPU time and the share of the linear and convolution layers' matrix
products, the attention kernels and everything else (copies, elementwise, normalisation). The
profiler adds some overhead of its own, so the profiled total exceeds the plain step time of
``hypersigma_step.py``.
"""

from __future__ import annotations

import argparse

import torch
from hypersigma_step import RUNS, THREADS, build
from torch.profiler import ProfilerActivity, profile

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", choices=sorted(RUNS), help="configuration to profile")
    parser.add_argument("--rows", type=int, default=25, help="operators to list")
    parser.add_argument("--shapes", action="store_true", help="also list the operators per input shape")
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    (ssa, glob), step = RUNS[args.run]
    model, x = build()
    model.set_attention_backends(ssa=ssa, global_=glob)
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
