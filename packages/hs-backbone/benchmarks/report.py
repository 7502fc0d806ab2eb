"""Markdown table from a pytest-benchmark JSON of ``test_bench_hypersigma.py``.

Usage: ``python benchmarks/report.py bench.json``.
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> str:
    with open(path) as f:
        data = json.load(f)
    lines = []
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        if "speedup" in info:
            sec, peak = info["seconds_min"], info["peak_bytes"]
            lines += [
                "| forward+backward (batch 8) | time (best of rounds) | peak memory |",
                "|---|---|---|",
                f"| auto (fused SSA kernel + SDPA) | {sec['auto']:.2f} s | {peak['auto'] / 2**20:.0f} MiB |",
                f"| reference SSA + naive global | {sec['reference']:.2f} s | {peak['reference'] / 2**20:.0f} MiB |",
                f"| auto vs reference | **{info['speedup']:.2f}x faster** | **{info['memory_ratio']:.2f}x** |",
                "",
                "rounds (s): "
                + "; ".join(f"{k}: {', '.join(f'{t:.2f}' for t in v)}" for k, v in info["seconds_all"].items()),
                "",
            ]
    rows = [b for b in data["benchmarks"] if "patches_per_second" in b["extra_info"]]
    if rows:
        lines += ["| inference (batch 8, eval) | best time | patches / s | peak memory |", "|---|---|---|---|"]
        for b in rows:
            info = b["extra_info"]
            lines.append(
                f"| {b['param']} | {b['stats']['min']:.3f} s | {info['patches_per_second']:.1f} | "
                f"{info['peak_bytes'] / 2**20:.0f} MiB |"
            )
    machine = data.get("machine_info", {})
    lines += ["", f"torch threads 2; CPU: {machine.get('cpu', {}).get('brand_raw', '?')}"]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(sys.argv[1]))
