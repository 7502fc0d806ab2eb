"""The Triton kernels compile for an H100 (sm_90) on a machine without a GPU.

The interpreter tests check what the kernels compute; these check that the same source also goes
through Triton's GPU compiler, with the properties the backend relies on there: no floating-point
contraction (``fma``) and IEEE float32 division in the sampling coordinate (so the bilinear cell
agrees with the reference), atomics for the dK/dV scatter, and no register spills at the block
sizes the backend picks for HyperSIGMA's shapes. ``triton_aot.py`` runs in a subprocess because
this process has the kernels in interpreter mode.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")

SCRIPT = Path(__file__).with_name("triton_aot.py")


def _compile(tmp_path: Path, *dtypes: str) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_CACHE_DIR"] = str(tmp_path / "triton-cache")
    spec = importlib.util.find_spec("triton")
    assert spec is not None and spec.origin is not None
    ptxas = Path(spec.origin).parent / "backends" / "nvidia" / "bin" / "ptxas"
    if not ptxas.is_file():
        pytest.skip(f"{ptxas}: Triton's bundled ptxas is missing (not a Linux x86-64 wheel?)")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *dtypes], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _check(rows: list[dict], dtypes: tuple[str, ...]) -> None:
    assert {(r["kernel"], r["dtype"]) for r in rows} == {
        (k, d) for k in ("forward", "backward") for d in dtypes
    }
    for row in rows:
        assert row["stack"] == 0 and row["local"] == 0, f"register spills: {row}"
        assert row["fma"] == 0, f"contracted multiply-adds: {row}"
        if row["dtype"] != "fp64":
            assert row["div_rn_f32"] > 0, f"no IEEE division for the sampling coordinate: {row}"
        assert (row["red_or_atom"] > 0) == (row["kernel"] == "backward"), row


def test_kernels_compile_for_sm90_float32_and_float64(tmp_path: Path) -> None:
    dtypes = ("fp32", "fp64")
    _check(_compile(tmp_path, *dtypes), dtypes)


@pytest.mark.slow
def test_kernels_compile_for_sm90_half_types(tmp_path: Path) -> None:
    dtypes = ("bf16", "fp16")
    _check(_compile(tmp_path, *dtypes), dtypes)
