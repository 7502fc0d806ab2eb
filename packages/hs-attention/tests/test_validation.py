"""Bad input raises ValueError naming the argument, what was expected and what was given."""

from __future__ import annotations

import pytest
import torch

from hs_attention import GlobalAttention, SparseSamplingAttention, global_attention, sparse_sampling_attention
from hs_attention.testing import make_ssa_inputs


@pytest.fixture
def x():  # (b, n, m, d, p) = (2, 12, 2, 4, 3) on a 3×4 grid
    return make_ssa_inputs(2, 3, 4, 2, 4, 3, seed=0)


def test_n_must_equal_h_times_w(x) -> None:
    with pytest.raises(ValueError, match=r"shape: expected h\*w == n == 12 .* got \(3, 3\) with h\*w = 9"):
        sparse_sampling_attention(*x.tensors(), (3, 3))


@pytest.mark.parametrize("shape", [(3,), (3, 4, 1), "34", (3.0, 4), (0, 12), (-3, -4)])
def test_shape_must_be_two_positive_ints(x, shape) -> None:
    with pytest.raises(ValueError, match="shape: expected"):
        sparse_sampling_attention(*x.tensors(), shape)


def test_mismatched_key_shape(x) -> None:
    with pytest.raises(
        ValueError, match=r"k: expected shape \(2, 12, 2, 4\) \(the shape of q\), got \(2, 12, 2, 5\)"
    ):
        sparse_sampling_attention(x.q, torch.zeros(2, 12, 2, 5), x.v, x.offsets, x.shape)


def test_wrong_rank(x) -> None:
    with pytest.raises(
        ValueError, match=r"q: expected a 4-D tensor of shape \(b, n, m, d\), got shape \(2, 12, 8\)"
    ):
        sparse_sampling_attention(x.q.flatten(2), x.k, x.v, x.offsets, x.shape)


def test_offsets_layout(x) -> None:
    with pytest.raises(
        ValueError, match=r"offsets: expected shape \(2, 12, 2, p, 2\).*got \(2, 12, 2, 3, 3\)"
    ):
        sparse_sampling_attention(x.q, x.k, x.v, torch.zeros(2, 12, 2, 3, 3), x.shape)


def test_dtype_mix(x) -> None:
    with pytest.raises(
        ValueError, match=r"v: expected dtype torch.float32 \(the dtype of q\), got torch.float64"
    ):
        sparse_sampling_attention(x.q, x.k, x.v.double(), x.offsets, x.shape)


def test_integer_dtype(x) -> None:
    with pytest.raises(ValueError, match=r"q: expected a floating dtype .* got torch.int64"):
        sparse_sampling_attention(x.q.long(), x.k, x.v, x.offsets, x.shape)


def test_device_mix(x) -> None:
    with pytest.raises(ValueError, match=r"k: expected device cpu \(the device of q\), got meta"):
        sparse_sampling_attention(x.q, x.k.to("meta"), x.v, x.offsets, x.shape)


def test_non_tensor(x) -> None:
    with pytest.raises(ValueError, match=r"v: expected a torch.Tensor .* got list"):
        sparse_sampling_attention(x.q, x.k, [1.0], x.offsets, x.shape)


def test_non_finite_offsets_only_when_asked(x) -> None:
    offsets = x.offsets.clone()
    offsets[0, 0, 0, 0, 0] = float("nan")
    offsets[1, 2, 1, 2, 1] = float("inf")
    sparse_sampling_attention(x.q, x.k, x.v, offsets, x.shape)  # not checked by default
    with pytest.raises(ValueError, match="offsets: expected finite values, found 2 NaN or Inf entries"):
        sparse_sampling_attention(x.q, x.k, x.v, offsets, x.shape, check_finite=True)


def test_global_attention_shapes() -> None:
    q = torch.zeros(2, 5, 3, 4)
    with pytest.raises(ValueError, match=r"k: expected shape \(2, s, 3, 4\)"):
        global_attention(q, torch.zeros(2, 5, 2, 4), torch.zeros(2, 5, 2, 4))
    with pytest.raises(ValueError, match=r"v: expected shape \(2, 7, 3, d_v\)"):
        global_attention(q, torch.zeros(2, 7, 3, 4), torch.zeros(2, 6, 3, 4))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dim": 10, "num_heads": 3}, "num_heads: expected a positive divisor of dim=10, got 3"),
        ({"dim": 0, "num_heads": 1}, "dim: expected a positive int, got 0"),
        ({"dim": 8, "num_heads": 2, "num_points": 0}, "num_points: expected a positive int, got 0"),
        ({"dim": 8, "num_heads": 2, "backend": "cuda"}, "backend: expected 'auto' or one of"),
        ({"dim": 8, "num_heads": 2, "offset_init": "xavier"}, "offset_init: expected 'detr' or 'upstream'"),
    ],
)
def test_module_construction_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SparseSamplingAttention(**kwargs)


def test_module_input_errors() -> None:
    mod = SparseSamplingAttention(8, 2, 2)
    with pytest.raises(ValueError, match=r"x: expected a \(b, n, 8\) tensor, got \(2, 6, 9\)"):
        mod(torch.zeros(2, 6, 9), (2, 3))
    with pytest.raises(ValueError, match=r"shape: expected h\*w == n == 6"):
        mod(torch.zeros(2, 6, 8), (3, 3))
    with pytest.raises(ValueError, match=r"x: expected a \(b, n, 8\) tensor"):
        GlobalAttention(8, 2)(torch.zeros(6, 8))
