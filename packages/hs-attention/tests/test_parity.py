"""Parity with the official HyperSIGMA code (``shared/fixtures/hypersigma_reference/ssa_tiny.pt``).

The fixture holds the official ``SampleAttention`` (dim 64, 4 heads, 8 points, a 6×7 grid) run in
float64 with large random weights (43% of the points fall wholly outside the grid), its output,
the input gradient and every parameter gradient. We load its state dict unchanged and must
reproduce all of them to 1e-10 on every backend that runs here.
"""

from __future__ import annotations

import pytest
import torch
from einops import rearrange

from hs_attention import SparseSamplingAttention, available_backends, reference_points
from hs_attention.backends import SSA_BACKENDS
from hs_attention.reference import sampling_grid
from hs_attention.testing import load_official_fixture

TOL = {"atol": 1e-10, "rtol": 1e-9}  # the fixture README's suggested float64 parity tolerance


@pytest.fixture(scope="module")
def fixture() -> dict:
    try:
        return load_official_fixture("ssa_tiny")
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


def _module(fixture: dict, backend: str) -> SparseSamplingAttention:
    cfg = fixture["config"]
    mod = SparseSamplingAttention(
        cfg["dim"], cfg["num_heads"], cfg["n_points"], qkv_bias=cfg["qkv_bias"], backend=backend
    ).double()
    mod.load_state_dict(fixture["state_dict"], strict=True)
    return mod.eval()


@pytest.mark.parametrize("backend", sorted(SSA_BACKENDS))
def test_module_reproduces_official_output_and_gradients(fixture: dict, backend: str) -> None:
    reasons = available_backends("ssa", device="cpu", dtype=torch.float64)[backend]
    if reasons:
        pytest.skip("; ".join(reasons))
    mod = _module(fixture, backend)
    x = fixture["x"].clone().requires_grad_(True)
    hw = (fixture["config"]["Hg"], fixture["config"]["Wg"])
    out = mod(x, hw)
    torch.testing.assert_close(out, fixture["out"], **TOL)
    out.sum().backward()
    torch.testing.assert_close(x.grad, fixture["grad_x"], **TOL)
    for name, param in mod.named_parameters():
        torch.testing.assert_close(
            param.grad, fixture["grads"][name], **TOL, msg=lambda m, n=name: f"{n}: {m}"
        )


def test_reference_points_and_sampling_grid_match_official(fixture: dict) -> None:
    h, w = fixture["config"]["Hg"], fixture["config"]["Wg"]
    assert torch.equal(reference_points(h, w)[None], fixture["reference_points"])
    m, p = fixture["config"]["num_heads"], fixture["config"]["n_points"]
    off = rearrange(
        fixture["intermediates"]["sampling_offsets_out"], "b n (m p xy) -> b n m p xy", m=m, p=p, xy=2
    )
    grid = rearrange(sampling_grid(off, (h, w)), "b n m p xy -> (b m) n p xy")
    torch.testing.assert_close(grid, fixture["intermediates"]["grid_sample_grid"], atol=0, rtol=0)


def test_fixture_exercises_out_of_grid_points(fixture: dict) -> None:
    # Guard against a silently weakened fixture: parity must cover zero padding and large offsets.
    assert fixture["stats"]["frac_points_entirely_outside(sample==0)"] > 0.3
    assert fixture["stats"]["offset_abs_mean_tokens"] > 1.0
