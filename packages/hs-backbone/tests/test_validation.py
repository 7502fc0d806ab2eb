from __future__ import annotations

import pytest
import torch

import hs_backbone as hb


@pytest.fixture(scope="module")
def spatial() -> hb.SpatialViT:
    return hb.create_backbone("test_spatial_vit").eval()


@pytest.fixture(scope="module")
def spectral() -> hb.SpectralViT:
    return hb.create_backbone("test_spectral_vit", in_chans=8).eval()


def test_wrong_band_count_says_how_to_adapt(spatial: hb.SpatialViT, spectral: hb.SpectralViT) -> None:
    with pytest.raises(
        ValueError, match=r"in_chans=8 bands, got a cube with 12 bands.*in_chans=12.*band_adapter"
    ):
        spatial(torch.randn(1, 12, 8, 8))
    with pytest.raises(ValueError, match=r"in_chans=8 bands, got a cube with 12.*in_chans=None"):
        spectral(torch.randn(1, 12, 8, 8))


def test_wrong_size_says_how_to_adapt(spatial: hb.SpatialViT, spectral: hb.SpectralViT) -> None:
    with pytest.raises(
        ValueError, match=r"img_size=\(8, 8\).*got a 10x10 cube.*img_size=\(10, 10\).*use_abs_pos_emb"
    ):
        spatial(torch.randn(1, 8, 10, 10))
    with pytest.raises(ValueError, match=r"spat_map.*got a 9x8 cube.*img_size=\(9, 8\).*size_adapter"):
        spectral(torch.randn(1, 8, 9, 8))
    small = hb.create_backbone("test_spatial_vit", use_abs_pos_emb=False)
    with pytest.raises(ValueError, match="4x4 that fpn='up2' needs"):
        small(torch.randn(1, 8, 6, 6))


def test_wrong_dtype_or_rank(spatial: hb.SpatialViT) -> None:
    with pytest.raises(
        ValueError, match=r"cube is torch.float64 but the model's parameters are torch.float32"
    ):
        spatial(torch.randn(1, 8, 8, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"floating-point cube, got torch.int16.*4000"):
        spatial(torch.zeros(1, 8, 8, 8, dtype=torch.int16))
    with pytest.raises(ValueError, match=r"4-D cube.*x\[None\]"):
        spatial(torch.randn(8, 8, 8))
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast may mix dtypes
        spatial(torch.randn(1, 8, 8, 8))


def test_spectral_tokens_must_be_a_perfect_square_for_ssa() -> None:
    with pytest.raises(ValueError, match=r"num_tokens=50: .*perfect square \(for example 49 or 64\)"):
        hb.create_backbone("test_spectral_vit", num_tokens=50)
    model = hb.create_backbone("test_spectral_vit", num_tokens=50, interval=1)  # all global: any t
    assert model(torch.randn(1, 8, 8, 8))[0].shape == (1, 50, 16)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"out_indices": (3, 1)}, "strictly increasing"),
        ({"out_indices": (0, 4)}, r"in \[0, 3\]"),
        ({"out_indices": ()}, "at least one"),
        ({"out_indices": (1, 3)}, "resamples exactly 4 levels"),
        ({"fpn": "pyramid"}, "fpn: expected one of"),
        ({"num_heads": 5}, "positive divisor of embed_dim=32"),
        ({"img_size": 1}, "smaller than patch_size"),
        ({"img_size": 6}, r"grid.*use a larger img_size"),
        ({"offset_init": "zeros"}, "offset_init"),
        ({"in_chans": 0}, "in_chans"),
    ],
)
def test_bad_configurations_fail_at_construction(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hb.create_backbone("test_spatial_vit", **kwargs)


def test_bad_spectral_and_composition_configurations() -> None:
    with pytest.raises(ValueError, match="proj_levels"):
        hb.create_backbone("test_spectral_vit", proj_levels=(4,))
    spatial = hb.create_backbone("test_spatial_vit")
    spectral = hb.create_backbone("test_spectral_vit")
    with pytest.raises(ValueError, match="num_tokens=9"):
        hb.HyperSIGMA(spatial, spectral, hb.SpectralEnhancement(9, 4, 8, 4, in_channels=32))
    with pytest.raises(ValueError, match="3 levels"):
        hb.HyperSIGMA(spatial, spectral, hb.SpectralEnhancement(16, 4, 8, 3, in_channels=32))
    with pytest.raises(ValueError, match="embed_dim=32"):
        hb.HyperSIGMA(spatial, spectral, hb.SpectralEnhancement(16, 4, 8, 4, in_channels=64))
    sem = hb.SpectralEnhancement(16, 4, 8, 4)
    with pytest.raises(ValueError, match=r"\(b, 16\) spectral descriptor"):
        sem.gate_weights(torch.randn(2, 10))
    with pytest.raises(ValueError, match="in_channels="):
        sem([torch.randn(1, 32, 2, 2)] * 4, torch.randn(1, 16))
    with pytest.raises(ValueError, match="ssa: expected 'auto' or one of"):
        spatial.set_attention_backends(ssa="fast")
