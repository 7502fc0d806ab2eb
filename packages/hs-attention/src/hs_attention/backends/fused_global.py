"""Global (full) attention on fused kernels: PyTorch SDPA everywhere, xformers on CUDA when installed.

Both keep memory linear in the sequence length (no ``n × s`` score matrix) on the kernels that
support it: the CPU flash kernel of SDPA, and the memory-efficient CUDA kernels.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from hs_attention.backends._base import GlobalBackend


class SdpaGlobal(GlobalBackend):
    NAME: ClassVar[str] = "sdpa"
    PRIORITY: ClassVar[int] = 10
    DESCRIPTION: ClassVar[str] = (
        "torch.nn.functional.scaled_dot_product_attention (flash / efficient kernels)"
    )

    @classmethod
    def environment_reasons(cls) -> list[str]:
        if not hasattr(F, "scaled_dot_product_attention"):
            return [f"torch {torch.__version__} has no scaled_dot_product_attention (needs >= 2.0)"]
        return []

    @classmethod
    def apply(cls, q: Tensor, k: Tensor, v: Tensor, scale: float, dropout_p: float) -> Tensor:
        # (b, n, m, d) -> (b, m, n, d): SDPA's layout; the transposes are views.
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), dropout_p=dropout_p, scale=scale
        )
        return out.transpose(1, 2)


@functools.cache
def _xformers_ops() -> tuple[Any, str | None]:
    """Import ``xformers.ops`` once; returns (module or None, reason it is unusable)."""
    try:
        import xformers.ops as xops
    except Exception as exc:  # ImportError, or a broken build raising at import
        return None, f"xformers not importable ({type(exc).__name__}: {exc}); install hs-attention[xformers]"
    return xops, None


class XformersGlobal(GlobalBackend):
    NAME: ClassVar[str] = "xformers"
    PRIORITY: ClassVar[int] = 20
    SUPPORTED_DEVICES: ClassVar[frozenset[str]] = frozenset({"cuda"})
    SUPPORTED_DTYPES: ClassVar[frozenset[torch.dtype]] = frozenset(
        {torch.float16, torch.bfloat16, torch.float32}
    )
    IS_DETERMINISTIC: ClassVar[bool] = False
    DESCRIPTION: ClassVar[str] = "xformers.ops.memory_efficient_attention (CUDA only)"

    @classmethod
    def environment_reasons(cls) -> list[str]:
        reasons = []
        if not torch.cuda.is_available():
            reasons.append("no CUDA device (xformers has no CPU kernels)")
        _, err = _xformers_ops()
        if err:
            reasons.append(err)
        return reasons

    @classmethod
    def apply(cls, q: Tensor, k: Tensor, v: Tensor, scale: float, dropout_p: float) -> Tensor:
        xops, _ = _xformers_ops()
        try:
            out: Tensor = xops.memory_efficient_attention(q, k, v, p=dropout_p, scale=scale)
            return out
        except NotImplementedError:
            # No xformers kernel for this build/shape/dtype: SDPA computes the same function.
            return SdpaGlobal.apply(q, k, v, scale, dropout_p)
