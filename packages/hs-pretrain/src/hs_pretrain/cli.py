"""The ``hs-pretrain`` command.

::

    hs-pretrain train --model spatial_mae_base --data path/to/hyperion --bad-bands hyperion \\
        --epochs 1600 --batch-size 2048 --out-dir runs/spat-b      # rerun the same line to resume
    torchrun --nproc-per-node 8 -m hs_pretrain.cli train ... --distributed fsdp
    hs-pretrain export runs/spat-b/last.pt spat-b-encoder.pt
    hs-pretrain scan path/to/hyperion --bad-bands hyperion          # what would be used or skipped
    hs-pretrain models
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["build_parser", "main"]


def _scale(text: str) -> float | str | None:
    if text in ("percentile", "none", "None"):
        return None if text.lower() == "none" else text
    return float(text)


def _bad_bands(text: str) -> str | list[int]:
    if text.replace(",", "").replace("-", "").isdigit():
        out: list[int] = []
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            out += list(range(int(lo), int(hi or lo) + 1))
        return out
    return text


def _data_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument(
        "--data",
        nargs="+",
        default=[],
        metavar="SRC",
        help="files, folders, glob patterns, or hs-data:NAME / hs-data:PATTERN registry scenes",
    )
    g.add_argument(
        "--exclude",
        nargs="+",
        default=[],
        metavar="PATTERN",
        help="leave out sources matching these glob patterns (e.g. an evaluation scene)",
    )
    g.add_argument(
        "--scale",
        type=_scale,
        default=4000.0,
        help="divide values by this (default 4000, as upstream), 'percentile' or 'none'",
    )
    g.add_argument(
        "--bad-bands",
        type=_bad_bands,
        default=None,
        help="'hyperion', 'gf5' or 1-based bands such as 1-7,58-76 (removed before the window)",
    )
    g.add_argument(
        "--band-window",
        choices=["per_sample", "per_file"],
        default=None,
        help="random band window per sample (default) or fixed per file (upstream)",
    )
    g.add_argument(
        "--key", default=None, help="MAT variable holding the cube (default: the largest 3-D array)"
    )
    g.add_argument("--layout", choices=["auto", "chw", "hwc"], default="auto")
    g.add_argument(
        "--short-scenes",
        choices=["skip", "resample"],
        default="skip",
        help="scenes with fewer bands than the window",
    )
    g.add_argument("--samples-per-epoch", type=int, default=None)
    g.add_argument(
        "--order",
        choices=["global", "blocks"],
        default="global",
        help="'blocks' streams corpora larger than memory (scenes in shuffled blocks)",
    )
    g.add_argument("--block-scenes", type=int, default=8)
    g.add_argument("--flip", action="store_true", help="random flips (upstream: none)")
    g.add_argument("--cache-scenes", type=int, default=16)
    g.add_argument("--validate", choices=["header", "full"], default="header")
    g.add_argument("--num-workers", type=int, default=0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``hs-pretrain`` (sub-commands ``train``, ``export``, ``scan``, ``models``)."""
    parser = argparse.ArgumentParser(prog="hs-pretrain", description="HyperSIGMA MAE pretraining")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="pretrain (or resume) a spatial or spectral MAE")
    t.add_argument("--model", default="spatial_mae_base", help="a name of `hs-pretrain models`")
    t.add_argument(
        "--upstream",
        action="store_true",
        help="upstream behaviour: encoder position embedding unused, zero spectral decoder "
        "position embedding, band window per file",
    )
    t.add_argument("--in-chans", type=int, default=None, help="bands per sample (default 100)")
    t.add_argument("--img-size", type=int, default=None, help="crop size (default 64)")
    t.add_argument("--patch-size", type=int, default=None)
    t.add_argument("--num-tokens", type=int, default=None)
    t.add_argument("--mask-ratio", type=float, default=None)
    t.add_argument("--drop-path", type=float, default=None)
    t.add_argument("--no-norm-pix-loss", action="store_true")
    t.add_argument("--encoder-pos-embed", choices=["sincos", "learned", "upstream"], default=None)
    t.add_argument("--decoder-pos-embed", choices=["sincos", "zeros"], default=None)
    t.add_argument("--grad-checkpointing", action="store_true")
    _data_options(t)
    o = t.add_argument_group("optimisation")
    o.add_argument("--epochs", type=int, default=1600)
    o.add_argument("--batch-size", type=int, default=64, help="samples per step over all processes")
    o.add_argument("--accum-steps", type=int, default=1)
    o.add_argument("--blr", type=float, default=1.5e-4, help="lr = blr * batch * accum / 256")
    o.add_argument("--lr", type=float, default=None)
    o.add_argument("--min-lr", type=float, default=0.0)
    o.add_argument("--warmup-epochs", type=float, default=40.0)
    o.add_argument("--weight-decay", type=float, default=0.05)
    o.add_argument("--grad-clip", type=float, default=None)
    o.add_argument("--amp", choices=["bf16", "fp16"], default=None)
    r = t.add_argument_group("run")
    r.add_argument("--out-dir", default=None, help="checkpoints and the exported encoder")
    r.add_argument("--checkpoint-every", type=int, default=0, help="steps (epoch ends always)")
    r.add_argument("--no-resume", action="store_true")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--log-every", type=int, default=10)
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--distributed", choices=["auto", "none", "ddp", "fsdp"], default="auto")
    r.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    r.add_argument("--dtype", choices=["float32", "float64", "bfloat16"], default="float32")
    r.add_argument("--no-export", action="store_true")
    r.add_argument("--mlflow-uri", default=None, help="MLflow tracking URI (or set MLFLOW_TRACKING_URI)")
    r.add_argument("--mlflow-experiment", default="hs-pretrain")
    r.add_argument("--mlflow-run-name", default=None)

    e = sub.add_parser("export", help="write a trained encoder in the format hs-backbone loads")
    e.add_argument("checkpoint", help="an hs-pretrain last.pt")
    e.add_argument("output", help="output file (.pt or .safetensors)")
    e.add_argument(
        "--official", action="store_true", help="upstream's {'model','epoch','args'} layout instead"
    )
    e.add_argument("--bands-note", default=None)

    s = sub.add_parser("scan", help="list the scenes a data specification yields, and what is skipped")
    s.add_argument("sources", nargs="+")
    s.add_argument("--crop", type=int, default=64)
    s.add_argument("--num-bands", type=int, default=100)
    s.add_argument("--exclude", nargs="+", default=[])
    s.add_argument("--scale", type=_scale, default=4000.0)
    s.add_argument("--bad-bands", type=_bad_bands, default=None)
    s.add_argument("--key", default=None)
    s.add_argument("--layout", choices=["auto", "chw", "hwc"], default="auto")
    s.add_argument("--short-scenes", choices=["skip", "resample"], default="skip")

    sub.add_parser("models", help="list the registered MAEs")
    return parser


def _train(args: argparse.Namespace) -> int:
    from hs_pretrain.train import PretrainConfig, pretrain

    model_kwargs: dict[str, Any] = {
        "in_chans": args.in_chans,
        "img_size": args.img_size,
        "patch_size": args.patch_size,
        "num_tokens": args.num_tokens,
        "mask_ratio": args.mask_ratio,
        "drop_path_rate": args.drop_path,
        "encoder_pos_embed": args.encoder_pos_embed,
        "decoder_pos_embed": args.decoder_pos_embed,
    }
    if args.no_norm_pix_loss:
        model_kwargs["norm_pix_loss"] = False
    config = PretrainConfig(
        model=args.model,
        upstream=args.upstream,
        model_kwargs={k: v for k, v in model_kwargs.items() if v is not None},
        grad_checkpointing=args.grad_checkpointing,
        dtype=args.dtype,
        sources=list(args.data),
        exclude=list(args.exclude),
        band_window=args.band_window,
        scale=args.scale,
        bad_bands=args.bad_bands,
        key=args.key,
        layout=args.layout,
        short_scenes=args.short_scenes,
        samples_per_epoch=args.samples_per_epoch,
        order=args.order,
        block_scenes=args.block_scenes,
        flip=args.flip,
        cache_scenes=args.cache_scenes,
        validate=args.validate,
        num_workers=args.num_workers,
        epochs=args.epochs,
        batch_size=args.batch_size,
        accum_steps=args.accum_steps,
        blr=args.blr,
        lr=args.lr,
        min_lr=args.min_lr,
        warmup_epochs=args.warmup_epochs,
        weight_decay=args.weight_decay,
        grad_clip=args.grad_clip,
        amp=args.amp,
        out_dir=args.out_dir,
        checkpoint_every=args.checkpoint_every,
        resume=not args.no_resume,
        seed=args.seed,
        log_every=args.log_every,
        progress=not args.no_progress,
        distributed=args.distributed,
        device=args.device,
        export=not args.no_export,
        mlflow_uri=args.mlflow_uri,
        mlflow_experiment=args.mlflow_experiment,
        mlflow_run_name=args.mlflow_run_name,
    )
    if not config.sources:
        raise SystemExit("hs-pretrain train: --data is required (files, folders, patterns or hs-data:NAME)")
    result = pretrain(config)
    last = result.history[-1] if result.history else {}
    print(
        json.dumps(
            {
                "epochs_done": len(result.history),
                "last_epoch": last,
                "checkpoint": str(result.checkpoint) if result.checkpoint else None,
                "encoder": str(result.encoder) if result.encoder else None,
            }
        )
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hs-pretrain``; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "export":
            from hs_pretrain.export import export_encoder, export_official

            if args.official:
                export_official(args.checkpoint, args.output)
                print(json.dumps({"written": args.output, "layout": "official"}))
            else:
                cfg = export_encoder(args.checkpoint, args.output, bands_note=args.bands_note)
                print(json.dumps({"written": args.output, "backbone": cfg["backbone"]}))
            return 0
        if args.command == "scan":
            from hs_pretrain.data import PatchDataset

            ds = PatchDataset(
                args.sources,
                crop=args.crop,
                num_bands=args.num_bands,
                scale=args.scale,
                bad_bands=args.bad_bands,
                key=args.key,
                layout=args.layout,
                short_scenes=args.short_scenes,
                exclude=args.exclude,
            )
            for rec in ds.scenes:
                print(f"use  {rec.source}: {rec.height}x{rec.width}, {len(rec.bands)} bands ({rec.layout})")
            for src, reason in ds.skipped:
                print(f"skip {src}: {reason}")
            print(
                json.dumps(
                    {"scenes": len(ds.scenes), "skipped": len(ds.skipped), "samples_per_epoch": len(ds)}
                )
            )
            return 0
        from hs_pretrain.variants import list_maes

        print("\n".join(list_maes()))
        return 0
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"hs-pretrain: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
