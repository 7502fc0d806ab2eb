"""Fine-tuning from a pretrained encoder versus from scratch, on Salinas-A pixel classification.

A report, not a test (it needs hs-tasks, which hs-pretrain does not depend on). Protocol: Salinas-A
(83 × 86, 204 AVIRIS bands, 6 classes; ``hs_data.load_scene("salinas_a")``), divided by its 99th
percentile (the ``scale="percentile"`` of the pretraining run), a contiguous 100-band window (the
pretraining window size), 33 × 33 patches around labelled pixels (reflect padding), 10 training + 5
validation pixels per class (``hs_data.splits.per_class_split``; the rest is the test set), model
selection on validation accuracy. The backbone is the exported encoder's registered hs-backbone
(spatial patch 8, so a 4 × 4 token grid; the position embedding is interpolated, SSA offsets are new);
the head is LayerNorm + Linear on the mean token. The same script, seeds and hyper-parameters run
once from the exported weights and once from a fresh initialisation, in two modes: full fine-tuning
and a linear probe (frozen backbone).

Run (from the repository root, with every package importable)::

    PYTHONPATH=packages/hs-attention/src:packages/hs-backbone/src:packages/hs-data/src:\\
    packages/hs-tasks/src:packages/hs-pretrain/src \\
        python packages/hs-pretrain/benchmarks/finetune_comparison.py \\
        --encoder runs/local-spatial-tiny/encoder.pt --seeds 0 1 2 --out finetune.json
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

import hs_backbone
import hs_data
from hs_data.datasets import PixelPatchDataset
from hs_data.splits import per_class_split
from hs_pretrain import create_backbone_from_export
from hs_tasks import Evaluator, FinetuneConfig, TaskModel, TaskOutput, finetune
from hs_tasks.metrics.classification import average_accuracy, cohen_kappa, confusion_matrix, overall_accuracy


class _Accuracy(Evaluator):
    def __init__(self, num_classes: int) -> None:
        self.k = num_classes
        self.true: list[np.ndarray] = []
        self.pred: list[np.ndarray] = []

    def update(self, output: TaskOutput, batch: dict[str, Any]) -> None:
        self.pred.append(output.pred.argmax(-1).cpu().numpy())
        self.true.append((batch["label"] - 1).cpu().numpy())

    def compute(self) -> dict[str, float]:
        cm = confusion_matrix(np.concatenate(self.true), np.concatenate(self.pred), num_classes=self.k)
        return {"oa": overall_accuracy(cm), "aa": average_accuracy(cm), "kappa": cohen_kappa(cm)}


class PatchClassifier(TaskModel):
    """Backbone tokens → mean → LayerNorm → Linear (k classes)."""

    task = "patch_classification"
    main_metric = "oa"
    higher_is_better = True

    def __init__(self, backbone: nn.Module, num_classes: int) -> None:
        dim = int(backbone.embed_dim)  # type: ignore[arg-type]
        super().__init__(backbone, nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, num_classes)))
        self.k = num_classes

    def forward(self, batch: dict[str, Any]) -> TaskOutput:
        tokens = self.backbone.forward_features(batch["image"])  # type: ignore[operator]
        return TaskOutput(self.head(tokens.mean(dim=1)))

    def loss(self, output: TaskOutput, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        return nn.functional.cross_entropy(output.pred, batch["label"] - 1), {}

    def evaluator(self) -> Evaluator:
        return _Accuracy(self.k)

    @property
    def num_layers(self) -> int | None:
        return int(self.backbone.depth)  # type: ignore[arg-type]


def _backbone(encoder: str, pretrained: bool, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    if pretrained:
        return create_backbone_from_export(encoder, img_size=33)
    recipe = torch.load(encoder, weights_only=True)["config"]["backbone"]
    return hs_backbone.create_backbone(recipe["name"], **{**recipe["overrides"], "img_size": 33})


def run(args: argparse.Namespace) -> dict[str, Any]:
    scene = hs_data.load_scene("salinas_a")
    cube = scene["image"].astype(np.float32)
    cube = cube / np.percentile(np.abs(cube), 99)
    cube = cube[args.band_start : args.band_start + 100]
    label = scene["label"]
    num_classes = int(label.max())
    results: dict[str, Any] = {"runs": [], "config": vars(args)}
    for seed in args.seeds:
        split = per_class_split(
            label,
            args.train_per_class + args.val_per_class,
            val_per_class=args.val_per_class,
            seed=seed,
            dataset="salinas_a",
        )
        parts = {p: PixelPatchDataset(cube, split, p, patch_radius=16) for p in ("train", "val", "test")}
        for mode in ("finetune", "probe"):
            for pretrained in (True, False):
                t0 = time.perf_counter()
                model = PatchClassifier(_backbone(args.encoder, pretrained, seed), num_classes)
                if mode == "probe":
                    model.backbone.requires_grad_(False)
                cfg = FinetuneConfig(
                    epochs=args.epochs,
                    batch_size=args.batch_size,
                    lr=args.lr if mode == "finetune" else args.probe_lr,
                    layer_decay=args.layer_decay,
                    warmup_epochs=min(args.warmup_epochs, args.epochs / 2),
                    weight_decay=0.05,
                    seed=seed,
                    progress=False,
                )
                fit = finetune(model, parts["train"], parts["val"], cfg)
                test = model.evaluate(torch.utils.data.DataLoader(parts["test"], batch_size=256))
                row = {
                    "seed": seed,
                    "mode": mode,
                    "pretrained": pretrained,
                    "test": test,
                    "best_epoch": fit.best_epoch,
                    "val": fit.best_val,
                    "seconds": time.perf_counter() - t0,
                    "test_pixels": len(parts["test"]),
                }
                print(json.dumps(row))
                results["runs"].append(row)
    summary = {}
    for mode in ("finetune", "probe"):
        for pretrained in (True, False):
            oas = [
                r["test"]["oa"]
                for r in results["runs"]
                if r["mode"] == mode and r["pretrained"] == pretrained
            ]
            key = f"{mode}/{'pretrained' if pretrained else 'scratch'}"
            summary[key] = {"oa_mean": float(np.mean(oas)), "oa_std": float(np.std(oas)), "oa": oas}
    results["summary"] = summary
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--encoder", required=True, help="an hs-pretrain export (encoder.pt)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--probe-lr", type=float, default=5e-3)
    p.add_argument("--layer-decay", type=float, default=0.8)
    p.add_argument("--warmup-epochs", type=float, default=5, help="capped at half of --epochs")
    p.add_argument("--train-per-class", type=int, default=10)
    p.add_argument("--val-per-class", type=int, default=5)
    p.add_argument("--band-start", type=int, default=52)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    results = run(args)
    print(json.dumps(results["summary"], indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
