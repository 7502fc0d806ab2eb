"""The fused CPU backend: a C++ kernel (``csrc/ssa_cpu.cpp``) compiled on first use.

The kernel is built with ``torch.utils.cpp_extension.load`` into ``$HS_CACHE_DIR/extensions/<key>``
(default ``~/.cache/hsigma``) once per key, where the key digests the source, the flags, the torch
and Python versions and this CPU's feature flags (the build uses ``-march=native``). Later processes,
in any virtual environment with the same torch, import the cached library directly in well under a
second instead of letting cpp_extension re-check (and rebuild for) each environment's include paths.

Set ``HS_ATTENTION_NO_BUILD=1`` to never compile (the backend then reports itself unavailable and
``backend="auto"`` falls back to the reference).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import platform
import shutil
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import torch
from torch import Tensor

from hs_attention._version import __version__
from hs_attention.backends._base import SSABackend
from hs_attention.reference import reference_points

log = logging.getLogger(__name__)

SOURCE = Path(__file__).resolve().parents[1] / "csrc" / "ssa_cpu.cpp"
CFLAGS = ["-O3", "-fopenmp", "-ffp-contract=off", "-march=native", "-DNDEBUG"]

_lock = threading.Lock()
_module: ModuleType | None = None
_error: str | None = None


def _cpu_digest() -> str:
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line
                    break
    except OSError:
        flags = platform.processor()
    return hashlib.sha256(flags.encode()).hexdigest()[:8]


def extension_name() -> str:
    """Unique per source, flags, torch and Python versions and CPU features: caches never mix builds."""
    key = b"|".join(
        [SOURCE.read_bytes(), " ".join(CFLAGS).encode(), torch.__version__.encode(), sys.version.encode()]
    )
    digest = hashlib.sha256(key).hexdigest()[:12]
    return f"hs_attention_ssa_cpu_{__version__.replace('.', '_')}_{digest}_{_cpu_digest()}"


def cache_dir() -> Path:
    root = os.environ.get("HS_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "hsigma")
    return Path(root) / "extensions" / extension_name()


def _import_built(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: not an importable extension module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ensure_ninja_on_path() -> None:
    """cpp_extension needs ``ninja`` on PATH; the ``ninja`` wheel may sit in a non-activated venv."""
    if shutil.which("ninja"):
        return
    try:
        import ninja
    except ImportError:
        return
    os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")


def load_extension() -> ModuleType | None:
    """Build (first use) or load the compiled kernel; ``None`` with :func:`build_error` set on failure."""
    global _module, _error
    if _module is not None or _error is not None:
        return _module
    with _lock:
        if _module is not None or _error is not None:
            return _module
        if os.environ.get("HS_ATTENTION_NO_BUILD", "") not in ("", "0"):
            _error = "building C++ kernels is disabled by HS_ATTENTION_NO_BUILD"
            return None
        name, build = extension_name(), cache_dir()
        try:
            built = build / f"{name}.so"
            if built.is_file():
                _module = _import_built(built, name)
                return _module
            from torch.utils import cpp_extension

            _ensure_ninja_on_path()
            build.mkdir(parents=True, exist_ok=True)
            log.warning(
                "hs-attention: compiling the CPU SSA kernel into %s (once per machine, ~1 min)", build
            )
            _module = cpp_extension.load(
                name=name,
                sources=[str(SOURCE)],
                extra_cflags=CFLAGS,
                extra_ldflags=["-fopenmp"],
                build_directory=str(build),
                verbose=False,
            )
        except Exception as exc:  # any compiler/toolchain failure means "not available here"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _error = f"C++ kernel failed to build or load: {first}"
            log.warning("hs-attention: %s; falling back to the reference backend", _error)
    return _module


def build_error() -> str | None:
    return _error


class _SSAFunction(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, q: Tensor, k: Tensor, v: Tensor, offsets: Tensor, shape: tuple[int, int], scale: float
    ) -> Tensor:
        ext = load_extension()
        assert ext is not None
        h, w = shape
        ref = reference_points(h, w, device=q.device)
        q_, k_, v_ = (t if t.stride(-1) == 1 else t.contiguous() for t in (q, k, v))
        off = offsets if offsets.stride(-1) == 1 and offsets.stride(-2) == 2 else offsets.contiguous()
        out = ext.forward(q_, k_, v_, off, ref, h, w, float(scale))
        ctx.save_for_backward(q_, k_, v_, off, ref)
        ctx.shape, ctx.scale = shape, float(scale)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        ext = load_extension()
        assert ext is not None
        q, k, v, off, ref = ctx.saved_tensors
        h, w = ctx.shape
        gq, gk, gv, goff = ext.backward(grad_out, q, k, v, off, ref, h, w, ctx.scale)
        return gq, gk, gv, goff, None, None


class CpuSSA(SSABackend):
    NAME: ClassVar[str] = "cpu"
    PRIORITY: ClassVar[int] = 10
    SUPPORTED_DEVICES: ClassVar[frozenset[str]] = frozenset({"cpu"})
    DESCRIPTION: ClassVar[str] = (
        "fused C++ kernel (OpenMP over queries; backward over (b, m) pairs): no (b, m, n, p, d) tensors"
    )

    @classmethod
    def environment_reasons(cls) -> list[str]:
        load_extension()
        return [_error] if _error else []

    @classmethod
    def apply(
        cls, q: Tensor, k: Tensor, v: Tensor, offsets: Tensor, shape: tuple[int, int], scale: float
    ) -> Tensor:
        out: Tensor = _SSAFunction.apply(q, k, v, offsets, shape, scale)
        return out
