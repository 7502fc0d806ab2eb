"""The fused GPU backend (Triton). Work in progress: reports itself unavailable until it lands."""

from __future__ import annotations

from typing import ClassVar

from hs_attention.backends._base import SSABackend


class TritonSSA(SSABackend):
    NAME: ClassVar[str] = "triton"
    PRIORITY: ClassVar[int] = 20
    SUPPORTED_DEVICES: ClassVar[frozenset[str]] = frozenset({"cuda"})
    DESCRIPTION: ClassVar[str] = (
        "fused Triton kernel (gather K, dot, softmax over P, gather V) with a backward"
    )

    @classmethod
    def environment_reasons(cls) -> list[str]:
        return ["the Triton kernel is not implemented yet"]
