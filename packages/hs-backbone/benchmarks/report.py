"""Markdown tables from a pytest-benchmark JSON of ``test_bench_hypersigma.py``.

Usage: ``python benchmarks/report.py bench.json``.
"""

from __future__ import annotations

import json
import sys
from statistics import median

LABELS = {
    "auto": "auto (fused SSA kernel + SDPA)",
    "reference": "reference SSA + naive global",
    "upstream_equivalent": "reference + all spectral blocks (upstream's computation)",
    "auto_bf16": "auto under bf16 autocast",
    "reference_bf16": "reference under bf16 autocast",
}


def main(path: str) -> str:
    with open(path) as f:
        data = json.load(f)
    lines: list[str] = []
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        if "wall_seconds" not in info:
            continue
        wall, cpu, peak = info["wall_seconds"], info["cpu_seconds"], info["peak_bytes"]
        lines += [f"Design: {info['design']}; times are each process's median step.", ""]
        lines += [
            "| forward+backward, batch 8 | wall time per round (s) | best (s) | CPU time, best (s) "
            "| of it system (s) | minor page faults | peak memory |",
            "|---|---|---|---|---|---|---|",
        ]
        system, faults = info["system_seconds"], info["minor_page_faults"]
        for name, label in LABELS.items():
            rounds = ", ".join(f"{t:.1f}" for t in wall[name])
            best, best_cpu, mib = min(wall[name]), min(cpu[name]), peak[name] / 2**20
            sys_s, flt = median(system[name]), median(faults[name]) / 1e3
            lines.append(
                f"| {label} | {rounds} | {best:.1f} | {best_cpu:.1f} | {sys_s:.2f} | {flt:.0f} k "
                f"| {mib:.0f} MiB |"
            )
        lines += [
            "",
            f"- speed-up of auto over reference: {info['speedup_wall_paired_median']:.2f}x (median of "
            f"per-round wall-time ratios), {info['speedup_cpu_paired_median']:.2f}x (CPU time), "
            f"{info['speedup_wall_best']:.2f}x (best times)",
            f"- peak memory of auto / reference: {info['memory_ratio']:.2f}",
            f"- against upstream's computation: {info['speedup_vs_upstream_equivalent_wall']:.2f}x faster, "
            f"memory {info['memory_ratio_vs_upstream_equivalent']:.2f}",
            f"- auto under bf16 autocast against the float32 reference: "
            f"{info['speedup_bf16_vs_reference']:.2f}x faster, memory {info['memory_ratio_bf16']:.2f}",
            f"- both under bf16 autocast (same precision): "
            f"{info['speedup_bf16_same_precision']:.2f}x faster (wall), "
            f"{info['speedup_bf16_same_precision_cpu']:.2f}x (CPU time), "
            f"memory {info['memory_ratio_bf16_same_precision']:.2f}",
            "",
        ]
    rows = [b for b in data["benchmarks"] if "patches_per_second" in b["extra_info"]]
    if rows:
        lines += [
            "| inference, batch 8, eval | best time | median time | patches / s (best) | peak memory |",
            "|---|---|---|---|---|",
        ]
        for b in rows:
            info = b["extra_info"]
            lines.append(
                f"| {b['param']} | {b['stats']['min']:.2f} s | {b['stats']['median']:.2f} s | "
                f"{info['patches_per_second']:.2f} | {info['peak_bytes'] / 2**20:.0f} MiB |"
            )
    machine = data.get("machine_info", {})
    allocator = next(
        b["extra_info"]["allocator_env"] for b in data["benchmarks"] if "allocator_env" in b["extra_info"]
    )
    lines += [
        "",
        f"torch threads: 2; CPU: {machine.get('cpu', {}).get('brand_raw', '?')}; "
        f"allocator settings of the run: {allocator or 'glibc defaults'}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(sys.argv[1]))
