"""The reference is the definition: check it against an independent loop version and by gradcheck."""

from __future__ import annotations

import pytest
import torch

from hs_attention import global_attention_reference, reference_points, sparse_sampling_attention_reference
from hs_attention.reference import sampling_grid
from hs_attention.testing import make_ssa_inputs, naive_sparse_sampling_attention

SHAPES = [  # (b, h, w, m, d, p)
    (1, 1, 1, 1, 1, 1),
    (2, 1, 7, 2, 3, 4),
    (1, 5, 3, 3, 5, 2),
    (2, 4, 6, 2, 4, 8),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("offset_scale", [0.3, 3.0])
def test_reference_matches_naive_loops(shape: tuple[int, ...], offset_scale: float) -> None:
    b, h, w, m, d, p = shape
    x = make_ssa_inputs(b, h, w, m, d, p, dtype=torch.float64, offset_scale=offset_scale, seed=7)
    expected = naive_sparse_sampling_attention(*x.tensors(), x.shape)
    actual = sparse_sampling_attention_reference(*x.tensors(), x.shape)
    torch.testing.assert_close(actual, expected, atol=1e-12, rtol=1e-12)


def test_reference_points_are_token_centres_rounded_to_float32() -> None:
    ref = reference_points(3, 4)
    assert ref.dtype == torch.float32 and ref.shape == (12, 2)
    # token 6 = row 1, column 2 -> ((2 + 0.5) / 4, (1 + 0.5) / 3)
    assert ref[6].tolist() == [
        torch.tensor(2.5 / 4, dtype=torch.float32).item(),
        torch.tensor(1.5 / 3).item(),
    ]


def test_zero_offset_samples_the_token_centre() -> None:
    # grid_sample convention: pixel = ((g + 1)·w − 1) / 2 must be (close to) the token's own index.
    h, w = 3, 5
    g = sampling_grid(torch.zeros(1, h * w, 1, 1, 2, dtype=torch.float64), (h, w))[0, :, 0, 0]
    px = ((g[:, 0] + 1) * w - 1) / 2
    py = ((g[:, 1] + 1) * h - 1) / 2
    cols = torch.arange(h * w) % w
    rows = torch.arange(h * w) // w
    torch.testing.assert_close(px, cols.double(), atol=1e-6, rtol=0)
    torch.testing.assert_close(py, rows.double(), atol=1e-6, rtol=0)


def test_reference_gradcheck() -> None:
    x = make_ssa_inputs(1, 3, 4, 2, 3, 3, dtype=torch.float64, offset_scale=1.3, seed=3, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda q, k, v, o: sparse_sampling_attention_reference(q, k, v, o, x.shape), x.tensors()
    )


def test_half_precision_is_computed_in_float32() -> None:
    x = make_ssa_inputs(1, 4, 4, 2, 8, 4, dtype=torch.float32, seed=1)
    half = [t.bfloat16() for t in x.tensors()]
    out = sparse_sampling_attention_reference(*half, x.shape)
    assert out.dtype == torch.bfloat16
    expected = sparse_sampling_attention_reference(*[t.float() for t in half], x.shape)
    torch.testing.assert_close(out.float(), expected, atol=1e-2, rtol=1e-2)


def test_global_reference_is_softmax_attention() -> None:
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 5, 3, 4, generator=gen, dtype=torch.float64) for _ in range(3))
    out = global_attention_reference(q, k, v)
    # explicit per-head loop
    for b in range(2):
        for m in range(3):
            scores = q[b, :, m] @ k[b, :, m].T / 2.0  # d = 4 -> scale 1/2
            expected = torch.softmax(scores, dim=-1) @ v[b, :, m]
            torch.testing.assert_close(out[b, :, m], expected, atol=1e-12, rtol=1e-12)
