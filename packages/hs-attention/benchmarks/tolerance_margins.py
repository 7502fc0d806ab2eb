"""How much of its declared tolerances an SSA backend uses, against the reference.

For random small problems (the shapes of the property tests) and three fixed ones (HyperSIGMA's
32×32 grid with 12 heads of 64 features and 8 points among them), runs the backend and the reference
on the same inputs in each dtype and reports, per output (forward; gradients of q, k, v, offsets),
the worst ``|x − ref| / (atol + rtol·|ref|)`` under the backend's ``FWD_TOL``/``BWD_TOL``: 1.0 means
"at the tolerance". Usage (from ``packages/hs-attention``)::

    python benchmarks/tolerance_margins.py cpu --cases 40
    TRITON_INTERPRET=1 python benchmarks/tolerance_margins.py triton --cases 40   # no GPU: interpreter
    python benchmarks/tolerance_margins.py triton --device cuda --cases 200
"""

from __future__ import annotations

import argparse
import random

import torch

from hs_attention import sparse_sampling_attention
from hs_attention.backends import get_backend
from hs_attention.backends._base import Tolerance
from hs_attention.reference import sparse_sampling_attention_reference
from hs_attention.testing import make_ssa_inputs

FIXED = [(2, 8, 8, 4, 16, 8), (1, 10, 10, 2, 64, 8), (1, 32, 32, 12, 64, 8)]  # (b, h, w, m, d, p)
LABELS = ["out", "grad q", "grad k", "grad v", "grad offsets"]


def _ratio(got: torch.Tensor, want: torch.Tensor, tol: Tolerance) -> float:
    got, want = got.detach().double().cpu(), want.detach().double().cpu()
    err = (got - want).abs()
    return float((err / (tol.atol + tol.rtol * want.abs())).max())


def margins(
    name: str, dtype: torch.dtype, shape: tuple[int, ...], scale: float, seed: int, device: str
) -> list[float]:
    backend = get_backend("ssa", name)
    b, h, w, m, d, p = shape
    x = make_ssa_inputs(b, h, w, m, d, p, dtype=dtype, offset_scale=scale, seed=seed, device=device)
    inputs = [t.requires_grad_(True) for t in x.tensors()]
    ref_inputs = [t.detach().cpu().requires_grad_(True) for t in inputs]
    out = sparse_sampling_attention(*inputs, x.shape, backend=name)
    ref = sparse_sampling_attention_reference(*ref_inputs, x.shape)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed)).to(dtype)
    got = torch.autograd.grad(out, inputs, g.to(device))
    want = torch.autograd.grad(ref, ref_inputs, g)
    return [_ratio(out, ref, backend.FWD_TOL[dtype])] + [
        _ratio(a, c, backend.BWD_TOL[dtype]) for a, c in zip(got, want)
    ]


def _random_shape(rng: random.Random) -> tuple[int, ...]:
    """(b, h, w, m, d, p) as the property tests draw them: grids 1..6 a side, odd head dims."""
    return tuple(rng.randint(1, hi) for hi in (2, 6, 6, 3, 9, 5))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("backend")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cases", type=int, default=40, help="random small problems per dtype")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    dtypes = [torch.float64, torch.float32, torch.bfloat16, torch.float16]
    print(f"backend {args.backend} on {args.device}: worst |x - ref| / (atol + rtol |ref|)")
    print("| dtype | " + " | ".join(LABELS) + " |")
    print("|---" * (len(LABELS) + 1) + "|")
    for dtype in dtypes:
        worst = [0.0] * len(LABELS)
        problems = [
            (_random_shape(rng), rng.choice([0.05, 0.7, 2.0, 5.0]), rng.randint(0, 2**16))
            for _ in range(args.cases)
        ]
        problems += [(shape, 2.0, 11) for shape in FIXED]
        for shape, scale, seed in problems:
            found = margins(args.backend, dtype, shape, scale, seed, args.device)
            worst = [max(a, b) for a, b in zip(worst, found)]
        print(f"| {str(dtype).replace('torch.', '')} | " + " | ".join(f"{r:.2g}" for r in worst) + " |")


if __name__ == "__main__":
    main()
