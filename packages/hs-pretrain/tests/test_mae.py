"""The MAEs: parity with the official code (upstream mode), the fixes, masking, patchify, the loss."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from hs_pretrain import (
    MAE_SIZES,
    SpatialMAE,
    SpectralMAE,
    create_mae,
    from_official_keys,
    list_maes,
    mae_family,
    mask_noise,
    masked_reconstruction_loss,
    random_masking,
    spatial_patchify,
    spatial_unpatchify,
    spectral_patchify,
    spectral_unpatchify,
)

TOL = {"rtol": 1e-9, "atol": 1e-10}  # the fixtures README's parity tolerance for float64


def _from_fixture(fx: dict, backend: str) -> SpatialMAE | SpectralMAE:
    c = fx["config"]
    common = {
        "img_size": c["img_size"],
        "in_chans": c["in_chans"],
        "embed_dim": c["embed_dim"],
        "depth": c["depth"],
        "num_heads": c["num_heads"],
        "decoder_embed_dim": c["decoder_embed_dim"],
        "decoder_depth": c["decoder_depth"],
        "decoder_num_heads": c["decoder_num_heads"],
        "mlp_ratio": c["mlp_ratio"],
        "norm_pix_loss": c["norm_pix_loss"],
        "drop_path_rate": c["drop_path_rate"],
        "mask_ratio": c["mask_ratio"],
        "encoder_pos_embed": "upstream",
        "global_backend": backend,
        "dtype": torch.float64,
    }
    if "NUM_TOKENS" in c:
        model: SpatialMAE | SpectralMAE = SpectralMAE(
            num_tokens=c["NUM_TOKENS"], decoder_pos_embed="zeros", **common
        )
    else:
        model = SpatialMAE(patch_size=c["patch_size"], **common)
    result = model.load_official_state_dict(fx["state_dict"])
    assert not result.missing_keys and not result.unexpected_keys
    return model.eval()


@pytest.mark.parametrize("backend", ["naive", "auto"])
@pytest.mark.parametrize("name", ["mae_spatial_tiny", "mae_spectral_tiny"])
def test_upstream_mode_matches_the_official_mae(official, name: str, backend: str) -> None:
    """Loss, prediction, mask and input gradient of the official SpatMAE/SpecMAE, same mask (float64)."""
    fx = official(name)
    model = _from_fixture(fx, backend)
    x = fx["x"].clone().requires_grad_(True)
    out = model(x, noise=fx["noise"])
    out.loss.backward()
    torch.testing.assert_close(out.loss, fx["loss"], **TOL)
    torch.testing.assert_close(out.pred, fx["pred"], **TOL)
    assert out.mask.dtype == torch.float32 and torch.equal(out.mask, fx["mask"])
    torch.testing.assert_close(x.grad, fx["grad_x"], **TOL)
    # the intermediates: kept tokens, latent after the final norm, decoder embedding
    masking = model.masking(2, noise=fx["noise"])
    assert torch.equal(masking.ids_keep, fx["ids_keep"]) and torch.equal(
        masking.ids_restore, fx["ids_restore"]
    )
    with torch.no_grad():
        tokens = model.tokens(fx["x"])
        kept = torch.gather(tokens, 1, masking.ids_keep[..., None].expand(-1, -1, tokens.shape[-1]))
        latent = model.forward_encoder(fx["x"], masking)
        torch.testing.assert_close(kept, fx["intermediates"]["x_masked_tokens"], **TOL)
        torch.testing.assert_close(latent, fx["intermediates"]["latent"], **TOL)
        torch.testing.assert_close(
            model.decoder_embed(latent), fx["intermediates"]["decoder_embed_out"], **TOL
        )
        # the loss without pixel normalisation, on the same prediction
        plain = masked_reconstruction_loss(out.pred, model.patchify(fx["x"]), out.mask, norm_pix=False)
    torch.testing.assert_close(plain, fx["loss_norm_pix_false"], **TOL)
    assert set(model.official_state_dict()) == set(fx["state_dict"])


def test_the_upstream_spectral_decoder_predicts_the_same_for_every_masked_token(official) -> None:
    """Quirk 14 in upstream mode; the default sin-cos decoder table removes it."""
    fx = official("mae_spectral_tiny")
    model = _from_fixture(fx, "auto")
    with torch.no_grad():
        pred = model(fx["x"], noise=fx["noise"]).pred
        masked = pred[fx["mask"].bool()].reshape(2, -1, pred.shape[-1])
        assert (masked - masked[:, :1]).abs().max() == 0  # identical rows, as upstream
        fixed = create_mae("test_spectral_mae", dtype=torch.float64).eval()
        x = torch.randn(2, 16, 8, 8, dtype=torch.float64)
        out = fixed(x)
        rows = out.pred[out.mask.bool()].reshape(2, -1, out.pred.shape[-1])
        assert (rows - rows[:, :1]).abs().amax(dim=(1, 2)).min() > 1e-3


@pytest.mark.parametrize("family", ["spatial_mae", "spectral_mae"])
def test_the_encoder_sees_positions_only_when_fixed(family: str) -> None:
    """Upstream (quirk 11): moving the patches (band groups) of the input only permutes the encoder's
    output, the encoder has no idea where a token came from. Default: the sin-cos table is added, so
    the output changes."""
    torch.manual_seed(1)
    spatial = family == "spatial_mae"
    x = torch.randn(2, *((8, 8, 8) if spatial else (16, 8, 8)), dtype=torch.float64)
    perm = torch.randperm(16)
    if spatial:
        moved = spatial_unpatchify(spatial_patchify(x, 2)[:, perm], 2, (4, 4))
    else:
        moved = spectral_unpatchify(spectral_patchify(x, 16)[:, perm], (8, 8))
    keep_all = torch.arange(16, dtype=torch.float32).expand(2, 16)  # keep every token, in order
    for upstream in (True, False):
        model = create_mae(f"test_{family}", upstream=upstream, dtype=torch.float64).eval()
        masking = model.masking(2, 0.0, noise=keep_all)
        with torch.no_grad():
            a = model.forward_encoder(x, masking)[:, perm]
            b = model.forward_encoder(moved, masking)
        assert torch.allclose(a, b, atol=1e-12) == upstream
        assert model.encoder.pos_embed is not None and not model.encoder.pos_embed.requires_grad


def test_learned_position_embedding_trains() -> None:
    model = create_mae("test_spatial_mae", encoder_pos_embed="learned")
    model(torch.randn(2, 8, 8, 8)).loss.backward()
    assert model.encoder.pos_embed is not None and model.encoder.pos_embed.grad is not None
    assert "encoder.pos_embed" in model.no_weight_decay()


def test_sizes_and_keys_round_trip_the_released_checkpoints() -> None:
    """Every B/L/H MAE has exactly the released checkpoints' keys and shapes (checkpoint_keys.json)."""
    root = os.environ.get("HS_FIXTURES_ROOT")
    if not root:
        pytest.skip("HS_FIXTURES_ROOT is not set (official-code fixtures live in shared/fixtures)")
    ref = json.loads((Path(root) / "hypersigma_reference" / "checkpoint_keys.json").read_text())["models"]
    for family, short in (("spatial_mae", "spat_mae"), ("spectral_mae", "spec_mae")):
        for size in ("base", "large", "huge"):
            model = create_mae(f"{family}_{size}", device="meta")
            official = {k: list(v.shape) for k, v in model.official_state_dict().items()}
            expected = ref[f"{short}_{size[0]}"]
            assert official == expected["params"], (family, size)
            assert sum(v.numel() for v in model.state_dict().values()) == expected["numel_state_dict"]
            assert set(from_official_keys(model.official_state_dict())) == set(model.state_dict())


def test_registry() -> None:
    assert "spatial_mae_base" in list_maes() and "test_spectral_mae" in list_maes("test_*")
    assert mae_family("test_spatial_mae") == ("spatial_mae", "test")
    assert mae_family("spectral_mae_huge") == ("spectral_mae", "huge")
    with pytest.raises(ValueError, match="did you mean spatial_mae_base"):
        create_mae("spatial_mae_bsae")
    assert MAE_SIZES["huge"].embed_dim == 1280
    model = create_mae("spectral_mae_tiny", device="meta", upstream=True)
    assert model.decoder_pos_embed_kind == "zeros" and model.encoder_pos_embed == "upstream"
    assert model.mae_config["model"] == "spectral_mae_tiny"


def test_masking_properties() -> None:
    noise = torch.rand(5, 16)
    m = random_masking(noise, 0.75)
    assert m.ids_keep.shape == (5, 4)
    assert torch.equal(m.mask.sum(1), torch.full((5,), 12.0))
    for b in range(5):  # kept tokens are exactly the 4 smallest noise values, and unmasked
        assert set(m.ids_keep[b].tolist()) == set(noise[b].argsort()[:4].tolist())
        assert m.mask[b, m.ids_keep[b]].sum() == 0
    shuffled = torch.gather(torch.arange(16).expand(5, 16), 1, noise.argsort(1))
    assert torch.equal(torch.gather(shuffled, 1, m.ids_restore), torch.arange(16).expand(5, 16))
    with pytest.raises(ValueError, match="keeps no token"):
        random_masking(noise, 0.99)
    # per-sample noise: a sample's mask does not depend on its batch
    a = mask_noise([7, 8, 9], 16)
    b = mask_noise([9], 16)
    assert torch.equal(a[2], b[0]) and not torch.equal(a[0], a[1])


def test_patchify_layouts_and_inverses() -> None:
    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float64).reshape(2, 3, 4, 6)
    t = spatial_patchify(x, 2)
    assert t.shape == (2, 6, 12)
    # token (0, 1) = rows 0-1, cols 2-3; inside: (row, col, band) order as upstream's einsum
    expected = torch.stack([x[0, c, r, 2 + q] for r in range(2) for q in range(2) for c in range(3)])
    assert torch.equal(t[0, 1], expected)
    assert torch.equal(spatial_unpatchify(t, 2, (2, 3)), x)
    s = spectral_patchify(torch.arange(2 * 6 * 2 * 2.0).reshape(2, 6, 2, 2), 3)
    assert s.shape == (2, 3, 8) and torch.equal(s[0, 1], torch.arange(8.0, 16.0))
    assert torch.equal(spectral_unpatchify(s, (2, 2)), torch.arange(2 * 6 * 2 * 2.0).reshape(2, 6, 2, 2))
    with pytest.raises(ValueError, match="do not split into 4 spectral tokens"):
        spectral_patchify(torch.zeros(1, 6, 2, 2), 4)


def test_norm_pix_loss_against_a_float64_loop() -> None:
    torch.manual_seed(3)
    pred, target = torch.randn(2, 5, 7, dtype=torch.float64), torch.randn(2, 5, 7, dtype=torch.float64)
    mask = (torch.rand(2, 5) > 0.5).float()
    mask[0, 0] = 1
    total, count = 0.0, 0.0
    for b in range(2):
        for n in range(5):
            t = target[b, n]
            mu = sum(t.tolist()) / 7
            var = sum((v - mu) ** 2 for v in t.tolist()) / 6  # unbiased
            err = sum(
                (p - (v - mu) / (var + 1e-6) ** 0.5) ** 2 for p, v in zip(pred[b, n].tolist(), t.tolist())
            )
            total += float(mask[b, n]) * err / 7
            count += float(mask[b, n])
    got = masked_reconstruction_loss(pred, target, mask)
    assert got.item() == pytest.approx(total / count, rel=1e-12)


def test_gradient_checkpointing_gives_identical_gradients() -> None:
    x = torch.randn(2, 8, 8, 8, dtype=torch.float64)
    noise = torch.rand(2, 16)
    grads = []
    for ckpt in (False, True):
        torch.manual_seed(0)
        model = create_mae("test_spatial_mae", dtype=torch.float64, decoder_depth=2)
        model.set_grad_checkpointing(ckpt)
        model(x, noise=noise).loss.backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) > 20
    for n in grads[0]:
        torch.testing.assert_close(grads[0][n], grads[1][n], rtol=0, atol=1e-15)


def test_bf16_autocast_forward_and_backward() -> None:
    model = create_mae("test_spectral_mae")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randn(2, 16, 8, 8))
    out.loss.backward()
    assert torch.isfinite(out.loss) and model.decoder_pred.weight.grad is not None


def test_bad_inputs_are_explained() -> None:
    model = create_mae("test_spatial_mae")
    with pytest.raises(
        ValueError, match=r"built for 8 bands of 8x8 pixels, got a cube of shape \(2, 5, 8, 8\)"
    ):
        model(torch.randn(2, 5, 8, 8))
    with pytest.raises(ValueError, match="floating-point cube"):
        model(torch.zeros(2, 8, 8, 8, dtype=torch.int16))
    with pytest.raises(ValueError, match=r"noise: expected shape \(2, 16\)"):
        model(torch.randn(2, 8, 8, 8), noise=torch.rand(2, 5))
    with pytest.raises(ValueError, match="multiple of the token count"):
        SpectralMAE(
            num_tokens=16,
            in_chans=20,
            img_size=8,
            embed_dim=32,
            depth=1,
            num_heads=2,
            decoder_embed_dim=16,
            decoder_depth=1,
            decoder_num_heads=2,
        )
    with pytest.raises(ValueError, match="mask_ratio"):
        create_mae("test_spatial_mae", mask_ratio=1.0)
