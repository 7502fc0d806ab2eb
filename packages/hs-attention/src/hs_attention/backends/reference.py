"""The reference backends: the definitions in :mod:`hs_attention.reference`, run as they are."""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from hs_attention.backends._base import GlobalBackend, SSABackend
from hs_attention.reference import global_attention_reference, sparse_sampling_attention_reference


class ReferenceSSA(SSABackend):
    NAME: ClassVar[str] = "reference"
    PRIORITY: ClassVar[int] = 0
    DESCRIPTION: ClassVar[str] = "two F.grid_sample calls over (b·m, d, n, p) tensors: the definition"

    @classmethod
    def apply(
        cls, q: Tensor, k: Tensor, v: Tensor, offsets: Tensor, shape: tuple[int, int], scale: float
    ) -> Tensor:
        return sparse_sampling_attention_reference(q, k, v, offsets, shape, scale=scale)


class NaiveGlobal(GlobalBackend):
    NAME: ClassVar[str] = "naive"
    PRIORITY: ClassVar[int] = 0
    DESCRIPTION: ClassVar[str] = "softmax(q kᵀ) v with the n×s scores materialised (upstream's Attention)"

    @classmethod
    def apply(cls, q: Tensor, k: Tensor, v: Tensor, scale: float, dropout_p: float) -> Tensor:
        return global_attention_reference(q, k, v, scale=scale, dropout_p=dropout_p, training=dropout_p > 0)
