"""Task models of classification, detection and change detection on the tiny ``test_*`` backbones:
shapes, losses, gradients reaching every parameter, evaluators against the metric functions, and the
recipe helpers (pseudo-labels, tile stitching, options, backbone building)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import hs_backbone as hb
from hs_tasks import create_task_model, list_recipes, list_tasks
from hs_tasks.heads import FPNChangeHead, PooledMLPHead, SegmentationHead, SiameseDifferenceHead
from hs_tasks.metrics import change_detection_report, classification_report, detection_aucs
from hs_tasks.recipes import resolve_finetune
from hs_tasks.tasks import TileAccumulator, build_backbone, pseudo_labels
from hs_tasks.tasks.common import backbone_family, resolve_options

BACKBONES = ["test_hypersigma", "test_spatial_vit"]


def _unused(model: nn.Module) -> set[str]:
    """HyperSIGMA does not run the spectral blocks after the tap that feeds SEM (hs-backbone, by design)."""
    backbone = model.backbone
    if not isinstance(backbone, hb.HyperSIGMA):
        return set()
    tap = backbone.spectral.out_indices[backbone.spectral_level]
    return {
        f"backbone.spectral.{n}"
        for n, _ in backbone.spectral.named_parameters()
        if n.startswith("blocks.") and int(n.split(".")[1]) > tap
    }


def _check_gradients(model: nn.Module, loss: torch.Tensor) -> None:
    loss.backward()
    unused = _unused(model)
    missing = [
        n
        for n, p in model.named_parameters()
        if n not in unused and p.requires_grad and (p.grad is None or not p.grad.any())
    ]
    assert not missing, f"parameters without gradient: {missing}"


def _backbone(name: str, **kw: Any) -> nn.Module:
    return build_backbone(name, **kw)


def test_registered_names() -> None:
    mine = {
        "classification",
        "classification_image",
        "target_detection",
        "anomaly_detection",
        "change_detection",
        "multispectral_change_detection",
    }
    assert mine <= set(list_tasks()) and mine <= set(list_recipes())


@pytest.mark.parametrize("name", BACKBONES)
def test_patch_classifier(name: str) -> None:
    # SpatSIGMA's head pools the raw block outputs: no pyramid is needed (its ConvT would be unused)
    fpn = "identity" if name == "test_spatial_vit" else None
    backbone = _backbone(name, in_chans=6, img_size=9, patch_size=2, fpn=fpn)
    model = create_task_model("classification", backbone=backbone, num_classes=5)
    head = model.head
    assert isinstance(head, PooledMLPHead)
    if name == "test_hypersigma":  # upstream's fusion head: 4 x c' pooled -> 256 -> 128 -> k, dropout .4
        assert head.classifier[0].in_features == 4 * backbone.sem.out_channels
        assert [m.out_features for m in head.classifier if isinstance(m, nn.Linear)] == [256, 128, 5]
    else:  # SpatSIGMA: raw taps 4 x d -> 128 -> 64 -> k
        assert head.classifier[0].in_features == 4 * backbone.embed_dim
        assert [m.out_features for m in head.classifier if isinstance(m, nn.Linear)] == [128, 64, 5]
    batch = {"image": torch.randn(3, 6, 9, 9), "label": torch.tensor([1, 5, 0])}
    out = model(batch)
    assert out.pred.shape == (3, 5)
    loss, logs = model.loss(out, batch)
    assert torch.isfinite(loss) and 0.0 <= logs["acc"] <= 1.0
    # label 0 (unlabelled) is ignored: the loss equals the cross-entropy of the two labelled samples
    expected = nn.functional.cross_entropy(out.pred[:2], torch.tensor([0, 4]))
    torch.testing.assert_close(loss, expected)
    _check_gradients(model, loss)


@pytest.mark.parametrize("name", BACKBONES)
def test_image_classifier(name: str) -> None:
    backbone = _backbone(name, in_chans=6, img_size=16, patch_size=4)
    model = create_task_model("classification_image", backbone=backbone, num_classes=4)
    assert isinstance(model.head, SegmentationHead)
    label = torch.zeros(2, 16, 16, dtype=torch.int64)
    label[0, 3, 4], label[1, 10, 11] = 2, 4
    batch = {"image": torch.randn(2, 6, 16, 16), "label": label}
    out = model(batch)
    assert out.pred.shape == (2, 4, 16, 16)
    loss, _ = model.loss(out, batch)
    expected = nn.functional.cross_entropy(
        torch.stack([out.pred[0, :, 3, 4], out.pred[1, :, 10, 11]]), torch.tensor([1, 3])
    )
    torch.testing.assert_close(loss, expected)
    _check_gradients(model, loss)


@pytest.mark.parametrize("name", BACKBONES)
def test_target_and_anomaly_detectors(name: str) -> None:
    backbone = _backbone(name, in_chans=7, img_size=8, patch_size=1, fpn="identity", spectral_level=3)
    label = torch.full((2, 8, 8), 255)
    label[:, 0] = 0
    label[:, 1, :2] = 1
    x = torch.randn(2, 7, 8, 8)
    td = create_task_model("target_detection", backbone=backbone, bands=7, channels=16)
    out = td({"image": x, "target": torch.randn(2, 7), "label": label})
    assert out.pred.shape == (2, 8, 8)
    loss, _ = td.loss(out, {"label": label})
    _check_gradients(td, loss)

    backbone = _backbone(name, in_chans=7, img_size=8, patch_size=1, fpn="identity", spectral_level=3)
    ad = create_task_model("anomaly_detection", backbone=backbone, channels=16)
    out = ad({"image": x})
    assert out.pred.shape == (2, 8, 8) and out.extras["logits"].shape == (2, 2, 8, 8)
    torch.testing.assert_close(out.pred, out.extras["logits"][:, 1] - out.extras["logits"][:, 0])
    loss, _ = ad.loss(out, {"label": label})
    _check_gradients(ad, loss)
    with pytest.raises(ValueError, match="score"):
        create_task_model("anomaly_detection", backbone=backbone, score="max")


def test_detection_head_needs_full_resolution_levels() -> None:
    backbone = _backbone("test_spatial_vit", in_chans=7, img_size=8, patch_size=1)  # up2 pyramid
    model = create_task_model("anomaly_detection", backbone=backbone, channels=8)
    with pytest.raises(ValueError, match="fpn='identity'"):
        model({"image": torch.randn(1, 7, 8, 8)})


@pytest.mark.parametrize(
    ("name", "patch", "sp"),
    [("test_hypersigma", 5, 1), ("test_spatial_vit", 7, 1), ("test_hypersigma", 8, 2)],
)
def test_siamese_change_detector(name: str, patch: int, sp: int) -> None:
    backbone = _backbone(
        name, in_chans=5, img_size=patch, patch_size=sp, fpn="identity", use_abs_pos_emb=False
    )
    grid = patch // sp
    model = create_task_model("change_detection", backbone=backbone, grid=grid)
    assert isinstance(model.head, SiameseDifferenceHead)
    n_valid = sum(isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) for m in model.head.classifier)
    assert n_valid == (grid - 1) // 2  # valid 3x3 convolutions shrink the grid to one pixel (odd grids)
    batch = {
        "image_pre": torch.randn(4, 5, patch, patch),
        "image_post": torch.randn(4, 5, patch, patch),
        "label": torch.tensor([0, 1, 1, 0]),
    }
    out = model(batch)
    assert out.pred.shape == (4, 2)
    loss, _ = model.loss(out, batch)
    _check_gradients(model, loss)
    # identical dates give identical difference features whatever the weights: |a - a| = 0
    model.eval()
    same = model({"image_pre": batch["image_pre"], "image_post": batch["image_pre"]}).pred
    torch.testing.assert_close(same, same[:1].expand_as(same))


@pytest.mark.parametrize("name", BACKBONES)
def test_multispectral_change_detector(name: str) -> None:
    backbone = _backbone(name, in_chans=10, img_size=16, patch_size=4, fpn="up2", use_abs_pos_emb=False)
    model = create_task_model("multispectral_change_detection", backbone=backbone, bands=6, channels=16)
    assert isinstance(model.head, FPNChangeHead)
    assert model.stem.proj.in_channels == 6 and model.stem.proj.out_channels == 10
    label = torch.full((2, 16, 16), 255)
    label[:, :4] = 0
    label[:, 4:6, :3] = 1
    batch = {"image_pre": torch.randn(2, 6, 16, 16), "image_post": torch.randn(2, 6, 16, 16), "label": label}
    out = model(batch)
    assert out.pred.shape == (2, 2, 16, 16)
    loss, logs = model.loss(out, batch)
    assert set(logs) == {"ce", "lovasz"}
    _check_gradients(model, loss)
    with pytest.raises(ValueError, match="ChannelReductionStem"):
        model({"image_pre": torch.randn(1, 5, 16, 16), "image_post": torch.randn(1, 5, 16, 16)})


# ------------------------------------------------------------------------------------------ evaluators


def test_classification_evaluator_matches_the_report(rng: np.random.Generator) -> None:
    model = create_task_model(
        "classification",
        backbone=_backbone("test_spatial_vit", in_chans=3, img_size=8, patch_size=2),
        num_classes=4,
    )
    ev = model.evaluator()
    truth, preds = [], []
    for i in range(3):
        logits = torch.from_numpy(rng.standard_normal((7, 4)))
        label = torch.from_numpy(rng.integers(0, 5, 7))
        ev.update(type("O", (), {"pred": logits})(), {"label": label, "index": torch.arange(7) + 7 * i})
        keep = label > 0
        truth.append(label[keep].numpy() - 1)
        preds.append(logits.argmax(1)[keep].numpy())
    report = classification_report(np.concatenate(truth), np.concatenate(preds), num_classes=4)
    metrics = ev.compute()
    assert metrics["oa"] == pytest.approx(report.oa) and metrics["aa"] == pytest.approx(report.aa)
    assert metrics["kappa"] == pytest.approx(report.kappa)
    np.testing.assert_array_equal(ev.confusion, report.confusion)
    assert ev.prediction_map((3, 7)).max() <= 4


def test_tile_accumulator_averages_overlaps() -> None:
    acc = TileAccumulator()
    acc.add(
        torch.tensor([[0, 0], [0, 2]]), torch.stack([torch.full((1, 2, 3), 1.0), torch.full((1, 2, 3), 3.0)])
    )
    out = acc.assemble()
    np.testing.assert_allclose(out[0], [[1, 1, 2, 3, 3], [1, 1, 2, 3, 3]])
    padded = acc.assemble((3, 6), fill=-1.0)
    assert padded.shape == (1, 3, 6) and np.all(padded[0, 2] == -1) and np.all(padded[0, :, 5] == -1)
    with pytest.raises(ValueError, match="no tile"):
        TileAccumulator().assemble()


def _tiles(full: np.ndarray, tile: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    h, w = full.shape[-2:]
    starts = lambda n: sorted({*range(0, n - tile + 1, stride), n - tile})  # noqa: E731
    origins = [(r, c) for r in starts(h) for c in starts(w)]
    tiles = np.stack([full[..., r : r + tile, c : c + tile] for r, c in origins])
    return torch.tensor(origins), torch.from_numpy(tiles)


def test_dense_evaluators_equal_the_metrics_on_the_whole_map(rng: np.random.Generator) -> None:
    scores = rng.standard_normal((20, 23))
    truth = (rng.random((20, 23)) < 0.1).astype(np.int64)
    origin, score_tiles = _tiles(scores, 8, 5)
    _, truth_tiles = _tiles(truth, 8, 5)
    det = create_task_model(
        "anomaly_detection",
        backbone=_backbone("test_spatial_vit", in_chans=3, img_size=8, patch_size=1, fpn="identity"),
        channels=8,
    ).evaluator()
    det.update(type("O", (), {"pred": score_tiles})(), {"origin": origin, "label": truth_tiles})
    assert det.compute() == pytest.approx(detection_aucs(scores, truth).as_dict())

    logits = rng.standard_normal((2, 20, 23))
    labels = np.where(
        rng.random((20, 23)) < 0.3,
        255,
        (logits[1] > logits[0]).astype(np.int64) ^ (rng.random((20, 23)) < 0.2),
    )
    origin, logit_tiles = _tiles(logits, 8, 5)
    _, label_tiles = _tiles(labels, 8, 5)
    mcd = create_task_model(
        "multispectral_change_detection",
        backbone=_backbone("test_spatial_vit", in_chans=4, img_size=16, patch_size=4, use_abs_pos_emb=False),
        bands=3,
    ).evaluator()
    mcd.update(type("O", (), {"pred": logit_tiles})(), {"origin": origin, "label": label_tiles})
    keep = labels != 255
    expected = change_detection_report(logits.argmax(0)[keep], labels[keep]).as_dict()
    assert mcd.compute() == pytest.approx(expected)


def test_dense_classification_evaluator(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((3, 12, 12))
    labels = rng.integers(0, 4, (12, 12))
    origin, logit_tiles = _tiles(logits, 6, 4)
    _, label_tiles = _tiles(labels, 6, 4)
    model = create_task_model(
        "classification_image",
        backbone=_backbone("test_spatial_vit", in_chans=3, img_size=8, patch_size=2),
        num_classes=3,
    )
    ev = model.evaluator()
    ev.update(type("O", (), {"pred": logit_tiles})(), {"origin": origin, "label": label_tiles})
    keep = labels > 0
    report = classification_report(labels[keep] - 1, logits.argmax(0)[keep], num_classes=3)
    assert ev.compute()["oa"] == pytest.approx(report.oa)
    assert ev.compute()["kappa"] == pytest.approx(report.kappa)


# ------------------------------------------------------------------------------------------ helpers


def test_pseudo_labels_counts_and_order(rng: np.random.Generator) -> None:
    scores = rng.standard_normal((40, 50))
    labels = pseudo_labels(scores, target_percent=1.5, background_percent=30.0)
    assert (labels == 1).sum() == 30 and (labels == 0).sum() == 600 and (labels == 255).sum() == 2000 - 630
    assert scores[labels == 1].min() > scores[labels == 255].max() > scores[labels == 0].max()
    code = pseudo_labels(scores, target_percent=0.15)  # the released code's share: 3 of 2000 pixels
    assert (code == 1).sum() == 3
    assert (pseudo_labels(scores[:2, :3], target_percent=0.01) == 1).sum() == 1  # at least one target
    with pytest.raises(ValueError, match="target_percent"):
        pseudo_labels(scores, target_percent=0.0)
    with pytest.raises(ValueError, match="<= 100"):
        pseudo_labels(scores, target_percent=80.0, background_percent=30.0)


def test_options_finetune_defaults_and_backbones() -> None:
    from hs_tasks import FinetuneConfig, RecipeConfig

    assert resolve_options("x", {"a": 1, "b": 2}, {"b": 3}) == {"a": 1, "b": 3}
    with pytest.raises(
        ValueError, match=r"unknown option\(s\) \['c'\]; the recipe's options are \['a', 'b'\]"
    ):
        resolve_options("x", {"a": 1, "b": 2}, {"c": 3})
    default = resolve_finetune(RecipeConfig(seed=4), epochs=3, lr=1e-3)
    assert (default.epochs, default.lr, default.seed) == (3, 1e-3, 4)
    chosen = resolve_finetune(RecipeConfig(seed=4, finetune=FinetuneConfig(epochs=7)), epochs=3)
    assert (chosen.epochs, chosen.seed) == (7, 4)

    assert (
        backbone_family("hypersigma_base") == "hypersigma"
        and backbone_family("test_spatial_vit") == "spatial"
    )
    with pytest.raises(ValueError, match="not a task backbone"):
        backbone_family("test_spectral_vit")
    with pytest.raises(ValueError, match="unknown name"):
        backbone_family("resnet50")
    spat = build_backbone(
        "test_spatial_vit", in_chans=5, img_size=9, patch_size=1, num_tokens=25, sem_channels=7
    )
    assert isinstance(spat, hb.SpatialViT) and spat.in_chans == 5  # HyperSIGMA-only settings ignored
    hyper = build_backbone(
        "test_hypersigma", in_chans=5, img_size=9, patch_size=1, fpn="identity", spectral_level=2
    )
    assert (
        isinstance(hyper, hb.HyperSIGMA) and hyper.spectral_level == 2 and hyper.spectral.proj_levels == (2,)
    )
