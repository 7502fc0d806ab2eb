"""Hypothesis strategies for the attention ops (shapes, dtypes, offset scales)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import settings
from hypothesis import strategies as st

from hs_attention.testing import SSAInputs, make_ssa_inputs


@dataclass(frozen=True)
class SSACase:
    b: int
    h: int
    w: int
    m: int
    d: int
    p: int
    offset_scale: float
    seed: int

    def inputs(self, dtype: torch.dtype, requires_grad: bool = False) -> SSAInputs:
        made = make_ssa_inputs(
            self.b,
            self.h,
            self.w,
            self.m,
            self.d,
            self.p,
            dtype=dtype,
            offset_scale=self.offset_scale,
            seed=self.seed,
            requires_grad=requires_grad,
        )
        return made


@st.composite
def ssa_cases(draw: st.DrawFn, max_side: int = 6, max_d: int = 9, max_p: int = 5) -> SSACase:
    """Small problems: batch 1-2, heads 1-3, non-square grids 1..max_side, odd head dims, 1..max_p
    points, offsets from sub-token to several tokens (so points leave the grid)."""
    return SSACase(
        b=draw(st.integers(1, 2)),
        h=draw(st.integers(1, max_side)),
        w=draw(st.integers(1, max_side)),
        m=draw(st.integers(1, 3)),
        d=draw(st.integers(1, max_d)),
        p=draw(st.integers(1, max_p)),
        offset_scale=draw(st.sampled_from([0.05, 0.7, 2.0, 5.0])),
        seed=draw(st.integers(0, 2**16)),
    )


# Backends that run slowly on a CPU-only machine get fewer examples than the loaded profile gives:
# there the Triton kernels run in Triton's interpreter (numpy, one operation at a time, ~0.1-0.5 s a
# call). The assertions are the same for every backend.
SLOW_BACKEND_MAX_EXAMPLES = {"triton": 6}


def backend_settings(name: str) -> settings:
    """The loaded hypothesis profile, with at most ``SLOW_BACKEND_MAX_EXAMPLES[name]`` examples."""
    current = settings()
    cap = SLOW_BACKEND_MAX_EXAMPLES.get(name)
    if cap is None or cap >= current.max_examples:
        return current
    return settings(current, max_examples=cap)
