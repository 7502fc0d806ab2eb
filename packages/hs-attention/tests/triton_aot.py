"""Compile the Triton SSA kernels for an NVIDIA GPU without one, and report their resource usage.

Run as a script (``python triton_aot.py fp32 [fp64 ...]``) in a process where ``TRITON_INTERPRET`` is
unset, so that the kernels are real JIT functions. Each kernel is compiled ahead of time for sm_90
(H100) with Triton's bundled ``ptxas``, specialised as a launch at HyperSIGMA's shapes would be
(b = 2, 32×32 grid, 12 heads of 64 features, 8 points, q/k/v views of a packed projection, strides
divisible by 16), with the block sizes and launch options the backend uses. Prints one JSON line
per kernel: registers, spill stack bytes (from ``cuobjdump -res-usage``) and PTX instruction counts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

B, H, W, M, D, P = 2, 32, 32, 12, 64, 8
N = H * W
FWD_POINTERS = ["q_ptr", "k_ptr", "v_ptr", "off_ptr", "ref_ptr", "out_ptr"]
BWD_POINTERS = ["gout_ptr", "q_ptr", "k_ptr", "v_ptr", "off_ptr", "ref_ptr"]
BWD_POINTERS += ["gq_ptr", "gk_ptr", "gv_ptr", "goff_ptr"]
# the integer arguments of a launch at HyperSIGMA shapes (packed qkv: row stride 3·m·d)
INTS = {
    "R": B * N * M, "N": N, "M": M, "P": P, "D": D,
    "sq_b": N * 3 * M * D, "sq_n": 3 * M * D, "sq_m": D,
    "sk_b": N * 3 * M * D, "sk_n": 3 * M * D, "sk_m": D,
    "sv_b": N * 3 * M * D, "sv_n": 3 * M * D, "sv_m": D,
    "sg_b": N * M * D, "sg_n": M * D, "sg_m": D,
    "so_b": N * M * P * 2, "so_n": M * P * 2, "so_m": P * 2, "so_p": 2, "so_c": 1,
    "sout_b": N * M * D, "sout_n": M * D, "sout_m": D,
    "sgq_b": N * M * D, "sgq_n": M * D, "sgq_m": D,
    "sga_b": N * M * D, "sga_n": M * D, "sga_m": D,
    "sgo_b": N * M * P * 2, "sgo_n": M * P * 2, "sgo_m": P * 2, "sgo_p": 2, "sgo_c": 1,
}  # fmt: skip
TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16, "fp64": torch.float64}


def _source(fn: Any, ptr_types: dict[str, str], constexprs: dict[str, object]) -> Any:
    import triton

    signature: dict[str, str] = {}
    attrs: dict[tuple[int, ...], list[list[object]]] = {}
    for i, name in enumerate(fn.arg_names):
        if name in constexprs:
            signature[name] = "constexpr"
        elif name in ptr_types:
            signature[name] = ptr_types[name]
            attrs[(i,)] = [["tt.divisibility", 16]]  # torch allocations are 16-byte aligned
        elif name == "scale_bits":
            signature[name] = "i64"
        elif name in ("H", "W"):
            signature[name] = "i32"  # do_not_specialize
        elif INTS[name] == 1:  # Triton specialises integer arguments equal to 1 as constants
            signature[name] = "constexpr"
            constexprs[name] = 1
        else:
            signature[name] = "i32"
            if INTS[name] % 16 == 0:
                attrs[(i,)] = [["tt.divisibility", 16]]
    return triton.compiler.ASTSource(fn=fn, signature=signature, constexprs=constexprs, attrs=attrs)


def compile_kernels(dtype_name: str) -> list[dict[str, object]]:
    import triton
    from triton.backends.compiler import GPUTarget

    from hs_attention.backends import _triton_kernels as kernels
    from hs_attention.backends import triton_ssa
    from hs_attention.reference import compute_dtype

    assert not triton_ssa.interpreted(), "run without TRITON_INTERPRET"
    dtype = TORCH_DTYPES[dtype_name]
    acc = "fp64" if compute_dtype(dtype) == torch.float64 else "fp32"
    options = triton_ssa._launch_options()
    cuobjdump = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
    results = []
    for name, fn, ptrs, backward in (
        ("forward", kernels.ssa_fwd_kernel, FWD_POINTERS, False),
        ("backward", kernels.ssa_bwd_kernel, BWD_POINTERS, True),
    ):
        block_q, block_d, block_p = triton_ssa.block_sizes(B * N * M, D, P, dtype, backward=backward)
        ptr_types = {p: f"*{dtype_name}" for p in ptrs}
        ptr_types["ref_ptr"] = "*fp32"
        if backward:
            ptr_types["gk_ptr"] = ptr_types["gv_ptr"] = f"*{acc}"
        constexprs: dict[str, object] = {
            "BLOCK_Q": block_q, "BLOCK_D": block_d, "BLOCK_P": block_p, "F64": acc == "fp64"
        }  # fmt: skip
        compiled = triton.compile(
            _source(fn, ptr_types, constexprs), target=GPUTarget("cuda", 90, 32), options=options
        )
        ptx = compiled.asm["ptx"]
        usage = {}
        with tempfile.TemporaryDirectory() as tmp:
            cubin = Path(tmp) / "k.cubin"
            cubin.write_bytes(compiled.asm["cubin"])
            out = subprocess.run([str(cuobjdump), "-res-usage", str(cubin)], capture_output=True, text=True)
            for key in ("REG", "STACK", "LOCAL"):
                found = re.search(rf"\b{key}:(\d+)", out.stdout)
                usage[key.lower()] = int(found.group(1)) if found else None
        results.append(
            {
                "kernel": name,
                "dtype": dtype_name,
                "block_q": block_q,
                **usage,
                "fma": len(re.findall(r"\bfma\.rn\.f32\b", ptx)),
                "div_full_f32": len(re.findall(r"\bdiv\.full\.f32\b", ptx)),
                "div_rn_f32": len(re.findall(r"\bdiv\.rn\.f32\b", ptx)),
                "red_or_atom": len(re.findall(r"\b(?:red|atom)\.global", ptx)),
            }
        )
    return results


if __name__ == "__main__":
    os.environ.pop("TRITON_INTERPRET", None)
    for dtype_name in sys.argv[1:] or ["fp32"]:
        for row in compile_kernels(dtype_name):
            print(json.dumps(row), flush=True)
