"""What every backend declares, as data (the xformers ``AttentionOpBase`` pattern).

A backend is a class with class attributes (devices, dtypes, tolerances) and two class methods:
``environment_reasons()`` (why it cannot run on this machine at all; cached) and ``apply(...)``.
``not_supported_reasons(device, dtype)`` combines both into the list of human-readable reasons;
an empty list means the backend can run these inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor


class BackendUnavailableError(RuntimeError):
    """An explicitly requested backend cannot run the given inputs; the message lists why."""


@dataclass(frozen=True)
class Tolerance:
    """Allowed deviation from the float64 reference (``|x - ref| <= atol + rtol·|ref|``)."""

    atol: float
    rtol: float


# Tolerances for comparing a backend against the reference on the same inputs in the same dtype
# (the reference computes half types in float32, as the kernels do). Calibrated on the property
# tests; a backend overrides them where it differs.
DEFAULT_FWD_TOL: dict[torch.dtype, Tolerance] = {
    torch.float64: Tolerance(1e-10, 1e-9),
    torch.float32: Tolerance(2e-5, 2e-5),
    torch.bfloat16: Tolerance(3e-2, 2e-2),
    torch.float16: Tolerance(4e-3, 4e-3),
}
DEFAULT_BWD_TOL: dict[torch.dtype, Tolerance] = {
    torch.float64: Tolerance(1e-10, 1e-9),
    torch.float32: Tolerance(1e-4, 1e-4),
    torch.bfloat16: Tolerance(1e-1, 5e-2),
    torch.float16: Tolerance(2e-2, 1e-2),
}


class Backend:
    """Base class of the SSA and global-attention backends."""

    NAME: ClassVar[str] = ""
    OP: ClassVar[str] = ""  # "ssa" or "global"
    PRIORITY: ClassVar[int] = 0  # higher is preferred by backend="auto"
    SUPPORTED_DEVICES: ClassVar[frozenset[str]] = frozenset({"cpu", "cuda"})
    # Devices on which backend="auto" may pick this backend (None: every supported device). A
    # backend that can run somewhere only slowly (Triton's CPU interpreter) leaves that device out.
    AUTO_DEVICES: ClassVar[frozenset[str] | None] = None
    SUPPORTED_DTYPES: ClassVar[frozenset[torch.dtype]] = frozenset(
        {torch.float16, torch.bfloat16, torch.float32, torch.float64}
    )
    FWD_TOL: ClassVar[dict[torch.dtype, Tolerance]] = DEFAULT_FWD_TOL
    BWD_TOL: ClassVar[dict[torch.dtype, Tolerance]] = DEFAULT_BWD_TOL
    IS_DETERMINISTIC: ClassVar[bool] = True
    DESCRIPTION: ClassVar[str] = ""

    @classmethod
    def environment_reasons(cls) -> list[str]:
        """Why this backend cannot run on this machine at all (empty: it can)."""
        return []

    @classmethod
    def supported_devices(cls) -> frozenset[str]:
        """The device types this backend runs on here (``SUPPORTED_DEVICES`` unless it depends on the
        environment, as Triton's CPU interpreter does)."""
        return cls.SUPPORTED_DEVICES

    @classmethod
    def not_supported_reasons(
        cls, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> list[str]:
        """Reasons this backend cannot run inputs on ``device`` with ``dtype`` (empty: it can)."""
        reasons = list(cls.environment_reasons())
        if device is not None:
            dev = torch.device(device).type
            devices = cls.supported_devices()
            if dev not in devices:
                reasons.append(f"device {dev!r} not supported (supports {sorted(devices)})")
        if dtype is not None and dtype not in cls.SUPPORTED_DTYPES:
            names = sorted(str(d).replace("torch.", "") for d in cls.SUPPORTED_DTYPES)
            reasons.append(f"dtype {str(dtype).replace('torch.', '')} not supported (supports {names})")
        return reasons


class SSABackend(Backend):
    """A sparse-sampling-attention backend: ``apply(q, k, v, offsets, shape, scale) -> (b, n, m, d)``."""

    OP = "ssa"

    @classmethod
    def apply(
        cls, q: Tensor, k: Tensor, v: Tensor, offsets: Tensor, shape: tuple[int, int], scale: float
    ) -> Tensor:
        raise NotImplementedError


class GlobalBackend(Backend):
    """A full-attention backend: ``apply(q, k, v, scale, dropout_p) -> (b, n, m, d_v)``."""

    OP = "global"

    @classmethod
    def apply(cls, q: Tensor, k: Tensor, v: Tensor, scale: float, dropout_p: float) -> Tensor:
        raise NotImplementedError
