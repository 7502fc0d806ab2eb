"""Input checks at the public boundary: every failure says what the model expects and how to adapt."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import torch
from torch import Tensor


def autocast_enabled(device_type: str) -> bool:
    """Whether autocast is active for ``device_type`` (works across torch versions)."""
    try:
        return bool(torch.is_autocast_enabled(device_type))
    except TypeError:  # torch < 2.4
        if device_type == "cpu":
            return bool(torch.is_autocast_cpu_enabled())
        return bool(torch.is_autocast_enabled())


def check_cube(x: object, *, model: str, param_dtype: torch.dtype) -> Tensor:
    """``x`` must be a floating ``(b, c, h, w)`` tensor in the model's dtype (or under autocast)."""
    if not isinstance(x, Tensor):
        raise ValueError(f"{model}: expected a (b, c, h, w) torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        hint = " (add a batch axis with x[None])" if x.ndim == 3 else ""
        raise ValueError(f"{model}: expected a 4-D cube (b, c, h, w), got shape {tuple(x.shape)}{hint}")
    if not x.is_floating_point():
        raise ValueError(
            f"{model}: expected a floating-point cube, got {x.dtype}; convert and scale it first "
            "(for example x.float() / 4000, the scaling of the HyperSIGMA pretraining)"
        )
    if x.dtype != param_dtype and not autocast_enabled(x.device.type):
        raise ValueError(
            f"{model}: the cube is {x.dtype} but the model's parameters are {param_dtype}; convert the "
            f"input (x.to({param_dtype})) or the model (model.to({x.dtype})), or run under torch.autocast"
        )
    return x


def check_out_indices(out_indices: Iterable[int], depth: int) -> tuple[int, ...]:
    """A non-empty, strictly increasing sequence of block indices in ``[0, depth)``."""
    try:
        indices = tuple(int(i) for i in out_indices)
    except TypeError:
        raise ValueError(f"out_indices: expected a sequence of block indices, got {out_indices!r}") from None
    if not indices:
        raise ValueError("out_indices: expected at least one block index, got an empty sequence")
    if any(i < 0 or i >= depth for i in indices):
        raise ValueError(
            f"out_indices: expected block indices in [0, {depth - 1}] (depth={depth}), got {indices}"
        )
    if any(b <= a for a, b in itertools.pairwise(indices)):
        raise ValueError(f"out_indices: expected strictly increasing block indices, got {indices}")
    return indices
