"""Turn a pytest-benchmark JSON of ``test_bench_attention.py`` into a Markdown report with the
issue's targets checked. Usage: ``python benchmarks/report.py results.json [--out report.md]``.

Figures are medians over the rounds; peak memory is the tensor memory of one call (profiler on CPU,
the caching allocator on CUDA). Targets are reported, not enforced (a loaded machine is noisy).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def load(path: Path) -> tuple[dict, list[dict]]:
    data = json.loads(path.read_text())
    rows = []
    for bench in data["benchmarks"]:
        info = dict(bench["extra_info"])
        info["ms"] = bench["stats"]["median"] * 1e3
        info["name"] = bench["name"]
        rows.append(info)
    return data.get("machine_info", {}), rows


def find(rows: list[dict], **keys: object) -> dict | None:
    for r in rows:
        if all(r.get(k) == v for k, v in keys.items()):
            return r
    return None


def table(rows: list[dict]) -> list[str]:
    out = [
        "| op | grid | device | dtype | backend | mode | median ms | peak MiB |",
        "|---|---|---|---|---|---|---:|---:|",
    ]
    order = {"ssa_module": 0, "ssa_linears": 1, "global_module": 2, "global_core": 3}
    for r in sorted(
        rows,
        key=lambda r: (r["device"], r["dtype"], order.get(r["op"], 9), r["grid"], r["mode"], r["backend"]),
    ):
        out.append(
            f"| {r['op']} | {r['grid']} | {r['device']} | {r['dtype']} | {r['backend']} | {r['mode']} "
            f"| {r['ms']:.1f} | {r['peak_mib']:.1f} |"
        )
    return out


def targets(rows: list[dict]) -> list[str]:
    lines: list[str] = []

    def check(label: str, ok: bool, detail: str) -> None:
        lines.append(f"- [{'x' if ok else ' '}] {label}: {detail}")

    ref = find(rows, op="ssa_module", grid="det32", device="cpu", backend="reference", mode="fwd+bwd")
    fast = find(rows, op="ssa_module", grid="det32", device="cpu", backend="cpu", mode="fwd+bwd")
    floor = find(rows, op="ssa_linears", grid="det32", device="cpu")
    if ref and fast:
        speed, mem = ref["ms"] / fast["ms"], fast["peak_mib"] / ref["peak_mib"]
        check(
            "CPU 32x32 fwd+bwd: fast path >= 3x faster than reference",
            speed >= 3,
            f"{speed:.2f}x ({fast['ms']:.0f} vs {ref['ms']:.0f} ms)",
        )
        check(
            "CPU 32x32 fwd+bwd: fast path <= 0.5x reference peak memory",
            mem <= 0.5,
            f"{mem:.2f}x ({fast['peak_mib']:.0f} vs {ref['peak_mib']:.0f} MiB)",
        )
    if fast and floor:
        ratio = fast["ms"] / floor["ms"]
        check(
            "CPU 32x32: SSA module within 1.3x of its linear layers alone",
            ratio <= 1.3,
            f"{ratio:.2f}x ({fast['ms']:.0f} vs {floor['ms']:.0f} ms)",
        )
    for mode in ("fwd", "fwd+bwd"):
        naive = find(rows, op="global_core", grid="n1024", device="cpu", backend="naive", mode=mode)
        sdpa = find(rows, op="global_core", grid="n1024", device="cpu", backend="sdpa", mode=mode)
        if naive and sdpa:
            speed = naive["ms"] / sdpa["ms"]
            check(
                f"CPU global core {mode} at 1024 tokens: SDPA >= 2x faster than naive",
                speed >= 2,
                f"{speed:.2f}x ({sdpa['ms']:.0f} vs {naive['ms']:.0f} ms)",
            )
    for backend in ("naive", "sdpa"):
        small = find(rows, op="global_core", grid="n1024", device="cpu", backend=backend, mode="fwd")
        big = find(rows, op="global_core", grid="n2048", device="cpu", backend=backend, mode="fwd")
        if small and big:
            growth = big["peak_mib"] / max(small["peak_mib"], 1e-9)
            if backend == "sdpa":
                check(
                    "CPU global core fwd: SDPA memory does not grow with n^2 (1024 -> 2048 tokens < 3x)",
                    growth < 3,
                    f"{growth:.2f}x",
                )
            else:
                lines.append(f"- (naive for comparison: {growth:.2f}x from 1024 to 2048 tokens)")
    for dtype in ("float32", "bfloat16"):
        ref = find(
            rows,
            op="ssa_module",
            grid="det32",
            device="cuda",
            dtype=dtype,
            backend="reference",
            mode="fwd+bwd",
        )
        fast = find(
            rows, op="ssa_module", grid="det32", device="cuda", dtype=dtype, backend="triton", mode="fwd+bwd"
        )
        if ref and fast:
            speed = ref["ms"] / fast["ms"]
            check(
                f"GPU 32x32 {dtype} fwd+bwd: fused >= 5x faster than reference", speed >= 5, f"{speed:.2f}x"
            )
    if not find(rows, device="cuda"):
        lines.append("- GPU targets: not measured (no CUDA device in this run)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    machine, rows = load(args.json)
    cpu = machine.get("cpu", {}).get("brand_raw", "?")
    threads = sorted({r.get("threads") for r in rows})
    lines = [
        "# hs-attention kernel benchmarks",
        "",
        f"Machine: {cpu}, torch threads {threads}. Command: `./noxw -s kernels`.",
        "",
        "## Targets",
        *targets(rows),
        "",
        "## All cases (median of the rounds)",
        *table(rows),
        "",
    ]
    text = "\n".join(lines)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
