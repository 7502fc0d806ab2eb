"""Synthetic and semi-synthetic data: noise models, bicubic degradation, implanted changes.

- :mod:`hs_data.synthetic.noise`: Gaussian (i.i.d., blind, non-i.i.d.), impulse, stripes, deadlines,
  and the five complex-noise cases (QRNN3D).
- :mod:`hs_data.synthetic.degradation`: MATLAB-style bicubic resize, x4/x8 LR/HR pairs.
- :mod:`hs_data.synthetic.change`: change-detection pairs with implanted spectral changes.
- :mod:`hs_data.synthetic.scenes`: the registered ``semisyn_*`` scenes built from real cubes, and
  :func:`make_synthetic_scene`, a tiny random scene for tests and smoke runs.
"""

from hs_data.synthetic.change import implant_changes
from hs_data.synthetic.degradation import bicubic_downsample, imresize, make_sr_pair
from hs_data.synthetic.noise import (
    NOISE_CASES,
    deadlines,
    gaussian_blind,
    gaussian_iid,
    gaussian_noniid,
    impulse,
    noise_case,
    stripes,
)
from hs_data.synthetic.scenes import build_semisynthetic, make_synthetic_scene

__all__ = [
    "NOISE_CASES",
    "bicubic_downsample",
    "build_semisynthetic",
    "deadlines",
    "gaussian_blind",
    "gaussian_iid",
    "gaussian_noniid",
    "implant_changes",
    "impulse",
    "imresize",
    "make_sr_pair",
    "make_synthetic_scene",
    "noise_case",
    "stripes",
]
