"""hs-attention: HyperSIGMA's sparse sampling attention (SSA) and global attention.

The reference (:mod:`hs_attention.reference`) is the definition; fused backends (a C++ CPU kernel,
a Triton GPU kernel, SDPA and xformers for global attention) are chosen by ``backend="auto"``.
"""

from hs_attention._version import __version__
from hs_attention.backends import BackendUnavailableError, available_backends, select_backend
from hs_attention.functional import global_attention, sparse_sampling_attention
from hs_attention.modules import GlobalAttention, OffsetInit, SparseSamplingAttention
from hs_attention.reference import (
    global_attention_reference,
    reference_points,
    sparse_sampling_attention_reference,
)

__all__ = [
    "BackendUnavailableError",
    "GlobalAttention",
    "OffsetInit",
    "SparseSamplingAttention",
    "__version__",
    "available_backends",
    "global_attention",
    "global_attention_reference",
    "reference_points",
    "select_backend",
    "sparse_sampling_attention",
    "sparse_sampling_attention_reference",
]
