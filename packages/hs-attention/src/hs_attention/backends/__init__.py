"""Backend registry and dispatch.

``backend="auto"`` takes the highest-priority backend whose ``not_supported_reasons`` is empty for
the inputs' device and dtype. An explicit name runs that backend or raises
:class:`BackendUnavailableError` with its reasons. The environment variables
``HS_ATTENTION_BACKEND`` (sparse sampling attention) and ``HS_GLOBAL_ATTENTION_BACKEND`` (global
attention) turn ``"auto"`` into an explicit choice, for example to force the reference everywhere.
"""

from __future__ import annotations

import os

import torch

from hs_attention.backends._base import (
    Backend,
    BackendUnavailableError,
    GlobalBackend,
    SSABackend,
    Tolerance,
)
from hs_attention.backends.cpu import CpuSSA
from hs_attention.backends.fused_global import SdpaGlobal, XformersGlobal
from hs_attention.backends.reference import NaiveGlobal, ReferenceSSA
from hs_attention.backends.triton_ssa import TritonSSA

__all__ = [
    "ENV_VARS",
    "GLOBAL_BACKENDS",
    "SSA_BACKENDS",
    "Backend",
    "BackendUnavailableError",
    "GlobalBackend",
    "SSABackend",
    "Tolerance",
    "available_backends",
    "get_backend",
    "select_backend",
]

SSA_BACKENDS: dict[str, type[SSABackend]] = {b.NAME: b for b in (ReferenceSSA, CpuSSA, TritonSSA)}
GLOBAL_BACKENDS: dict[str, type[GlobalBackend]] = {
    b.NAME: b for b in (NaiveGlobal, SdpaGlobal, XformersGlobal)
}
_REGISTRIES: dict[str, dict[str, type[SSABackend]] | dict[str, type[GlobalBackend]]] = {
    "ssa": SSA_BACKENDS,
    "global": GLOBAL_BACKENDS,
}
ENV_VARS = {"ssa": "HS_ATTENTION_BACKEND", "global": "HS_GLOBAL_ATTENTION_BACKEND"}


def _registry(op: str) -> dict[str, type[SSABackend]] | dict[str, type[GlobalBackend]]:
    if op not in _REGISTRIES:
        raise ValueError(f"op: expected one of {sorted(_REGISTRIES)}, got {op!r}")
    return _REGISTRIES[op]


def get_backend(op: str, name: str) -> type[Backend]:
    """The backend class called ``name`` for ``op`` (``"ssa"`` or ``"global"``)."""
    registry = _registry(op)
    if name not in registry:
        raise ValueError(
            f"backend: expected 'auto' or one of {sorted(registry)} for {op} attention, got {name!r}"
        )
    return registry[name]


def available_backends(
    op: str = "ssa", *, device: torch.device | str | None = None, dtype: torch.dtype | None = None
) -> dict[str, list[str]]:
    """Every backend of ``op`` with the reasons it cannot run here (an empty list: it can).

    Args:
        op: ``"ssa"`` (sparse sampling attention) or ``"global"`` (full attention).
        device: also check support for this device (default: environment only).
        dtype: also check support for this dtype.

    Example:
        >>> available_backends("ssa")  # doctest: +SKIP
        {'reference': [], 'cpu': [], 'triton': ['no CUDA device ...']}
    """
    return {name: b.not_supported_reasons(device, dtype) for name, b in _registry(op).items()}


def select_backend(
    op: str, device: torch.device | str, dtype: torch.dtype, requested: str = "auto"
) -> type[Backend]:
    """Resolve ``requested`` (``"auto"`` or a name) to a backend class that can run the inputs."""
    registry = _registry(op)
    if requested == "auto":
        forced = os.environ.get(ENV_VARS[op], "").strip()
        if forced and forced != "auto":
            if forced not in registry:
                raise ValueError(
                    f"{ENV_VARS[op]}: expected 'auto' or one of {sorted(registry)}, got {forced!r}"
                )
            requested = forced
    if requested != "auto":
        backend = get_backend(op, requested)
        reasons = backend.not_supported_reasons(device, dtype)
        if reasons:
            raise BackendUnavailableError(
                f"{op} attention backend {requested!r} cannot run {dtype} on {torch.device(device).type}: "
                + "; ".join(reasons)
            )
        return backend
    candidates = sorted(registry.values(), key=lambda b: -b.PRIORITY)
    report = []
    dev = torch.device(device).type
    for backend in candidates:
        if backend.AUTO_DEVICES is not None and dev not in backend.AUTO_DEVICES:
            report.append(f"{backend.NAME}: not chosen automatically on {dev}")
            continue
        reasons = backend.not_supported_reasons(device, dtype)
        if not reasons:
            return backend
        report.append(f"{backend.NAME}: {'; '.join(reasons)}")
    raise BackendUnavailableError(
        f"no {op} attention backend can run {dtype} on {torch.device(device).type}: " + " | ".join(report)
    )
