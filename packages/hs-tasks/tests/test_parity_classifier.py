"""The patch classifier (hs-backbone's HyperSIGMA + our PooledMLPHead) reproduces the official
HyperSIGMA classifier (``ss_fusion_cls.SSFusionFramework``) to 1e-10 in float64.

Fixture: ``fusion_cls_tiny`` (official code, float64, see shared/fixtures/hypersigma_reference/README.md
§4), loaded through ``HS_FIXTURES_ROOT``; the test skips with the reason when it is unset.
"""

from __future__ import annotations

import pytest
import torch

import hs_backbone as hb
from hs_tasks import create_task_model
from hs_tasks.tasks import PatchClassifier, load_official_classifier

BACKENDS = [("reference", "naive"), ("auto", "auto")]
TOL = {"rtol": 1e-9, "atol": 1e-10}


@pytest.fixture
def fusion_fixture() -> dict:
    from hs_attention.testing import fixtures_root, load_official_fixture

    if fixtures_root() is None:
        pytest.skip("HS_FIXTURES_ROOT is not set (official-code fixtures live in shared/fixtures)")
    return load_official_fixture("fusion_cls_tiny")


def _model(data: dict, ssa: str, glob: str, num_classes: int | None = None) -> PatchClassifier:
    cfg, over = data["config"], data["config"]["encoder_overrides"]
    backbone = hb.create_backbone(
        "hypersigma_base",
        in_chans=cfg["in_channels"],
        img_size=cfg["img_size"],
        patch_size=cfg["patch_size"],
        num_tokens=cfg["NUM_TOKENS"],
        embed_dim=over["embed_dim"],
        depth=over["depth"],
        num_heads=over["num_heads"],
        out_indices=over["out_indices"],
        interval=over["interval"],
        num_points=over["n_points"],
        ssa_backend=ssa,
        global_backend=glob,
    )
    model = create_task_model("classification", backbone=backbone, num_classes=num_classes or cfg["classes"])
    assert isinstance(model, PatchClassifier)
    return model.double().eval()


@pytest.mark.parametrize(("ssa", "glob"), BACKENDS)
def test_patch_classifier_reproduces_the_official_classifier(
    fusion_fixture: dict, ssa: str, glob: str
) -> None:
    data = fusion_fixture
    model = _model(data, ssa, glob)
    report = load_official_classifier(model, data["state_dict"])
    assert report.initialised == {} and report.adapted == {}
    head_keys = sorted(k for k in data["state_dict"] if k.startswith("classifier."))
    assert sorted(model.head.state_dict()) == head_keys
    for key in head_keys:  # the head holds upstream's weights, unchanged
        torch.testing.assert_close(model.head.state_dict()[key], data["state_dict"][key])

    x = data["x"].clone().requires_grad_(True)
    out = model({"image": x})
    levels = model.backbone(x).enhanced
    torch.testing.assert_close(model.head.pool(levels), data["intermediates"]["classifier_in"], **TOL)
    torch.testing.assert_close(out.pred, data["logits"], **TOL)
    out.pred.sum().backward()
    torch.testing.assert_close(x.grad, data["grad_x"], **TOL)
    assert data["grad_x"].abs().max() > 1e-5  # the gradient check is not vacuous


def test_dropping_upstreams_unused_background_logit(fusion_fixture: dict) -> None:
    data = fusion_fixture
    k = data["config"]["classes"]
    model = _model(data, "reference", "naive", num_classes=k - 1)
    load_official_classifier(model, data["state_dict"], drop_background_logit=True)
    with torch.no_grad():
        out = model({"image": data["x"]}).pred
    torch.testing.assert_close(out, data["logits"][:, 1:], **TOL)


def test_official_loading_refuses_other_state_dicts(fusion_fixture: dict) -> None:
    data = fusion_fixture
    model = _model(data, "reference", "naive")
    without_head = {k: v for k, v in data["state_dict"].items() if not k.startswith("classifier.")}
    with pytest.raises(ValueError, match="no 'classifier"):
        load_official_classifier(model, without_head)
    spatial = create_task_model(
        "classification", backbone=hb.create_backbone("test_spatial_vit"), num_classes=3
    )
    assert isinstance(spatial, PatchClassifier)
    with pytest.raises(ValueError, match="not a HyperSIGMA"):
        load_official_classifier(spatial, data["state_dict"])
