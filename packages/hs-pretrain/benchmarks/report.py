"""Markdown tables from a pytest-benchmark JSON of ``test_bench_pretrain.py``.

Usage: ``python benchmarks/report.py bench.json``.
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> str:
    with open(path) as f:
        data = json.load(f)
    lines = [
        "| model | params (encoder) | batch | step, best (s) | CPU s / step | patches / s | "
        "step peak | + params & AdamW | total peak |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    epochs = []
    loads = []
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        if "epochs" in info:
            epochs.append(info)
            continue
        loads.append(info["load_average"])
        mib = 2**20
        lines.append(
            f"| {bench['param']} | {info['params'] / 1e6:.1f} M ({info['encoder_params'] / 1e6:.1f} M) | "
            f"{info['batch']} | {bench['stats']['min']:.2f} | {info['cpu_seconds_per_step']:.2f} | "
            f"{info['patches_per_second']:.1f} | {info['step_peak_bytes'] / mib:.0f} MiB | "
            f"{info['persistent_bytes'] / mib:.0f} MiB | {info['peak_bytes'] / mib:.0f} MiB |"
        )
    for info in epochs:
        lines += [
            "",
            "| tiny epoch on the local scenes | scenes | samples | wall time |",
            "|---|---|---|---|",
        ]
        for name, e in info["epochs"].items():
            lines.append(f"| {name} | {e['scenes']} | {e['samples']} | {e['seconds']:.1f} s |")
    machine = data.get("machine_info", {})
    load = f"; 1-minute load average during the runs {min(loads):.1f}-{max(loads):.1f}" if loads else ""
    lines += ["", f"torch threads: 2; CPU: {machine.get('cpu', {}).get('brand_raw', '?')}{load}"]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(sys.argv[1]))
