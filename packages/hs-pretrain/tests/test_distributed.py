"""Two CPU processes (gloo): DDP, and FSDP2 with gradient accumulation, follow the loss curve of one
process with the same global batch (float64, so the comparison is tight)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import numpy as np
import torch

from hs_backbone.training import load_checkpoint
from hs_pretrain import PretrainConfig, pretrain


def _config(folder: Path, out: Path, **kw) -> PretrainConfig:
    base = {
        "model": "test_spatial_mae",  # drop path 0: no per-process random draws besides the data's
        "sources": [str(folder)],
        "epochs": 2,
        "batch_size": 4,
        "samples_per_epoch": 16,
        "warmup_epochs": 0.5,
        "blr": 0.05,
        "dtype": "float64",
        "out_dir": str(out),
        "progress": False,
    }
    return PretrainConfig(**(base | kw))


def _worker(rank: int, world: int, port: int, folder: str, out: str) -> None:
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        ddp = pretrain(_config(Path(folder), Path(out) / "ddp", distributed="ddp"))
        fsdp = pretrain(
            _config(Path(folder), Path(out) / "fsdp", distributed="fsdp", batch_size=2, accum_steps=2)
        )
        if rank == 0:
            steps = {"ddp": [s["loss"] for s in ddp.steps], "fsdp": [s["loss"] for s in fsdp.steps]}
            (Path(out) / "steps.json").write_text(json.dumps(steps))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_processes_follow_the_single_process_loss_curve(tmp_path: Path) -> None:
    import torch.multiprocessing as mp

    folder = tmp_path / "scenes"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        np.save(folder / f"s{i}.npy", rng.random((12, 20, 20), dtype=np.float32) * 4000)
    mp.spawn(_worker, args=(2, _free_port(), str(folder), str(tmp_path)), nprocs=2, join=True)
    single = pretrain(_config(folder, tmp_path / "single"))
    curve = [s["loss"] for s in single.steps]
    steps = json.loads((tmp_path / "steps.json").read_text())
    assert len(curve) == 8 and curve[-1] < curve[0]
    np.testing.assert_allclose(steps["ddp"], curve, rtol=1e-10)
    np.testing.assert_allclose(steps["fsdp"], curve, rtol=1e-10)  # FSDP2 + accumulation, same curve
    reference = load_checkpoint(tmp_path / "single" / "encoder.pt")["state_dict"]
    for mode in ("ddp", "fsdp"):
        exported = load_checkpoint(tmp_path / mode / "encoder.pt")["state_dict"]
        assert exported.keys() == reference.keys()
        for key, value in reference.items():
            torch.testing.assert_close(exported[key], value, rtol=1e-9, atol=1e-12, msg=f"{mode} {key}")
    # the FSDP checkpoint holds the full model and resumes in a single process
    state = load_checkpoint(tmp_path / "fsdp" / "last.pt")
    assert state["model"]["encoder.blocks.0.attn.qkv.weight"].shape == (96, 32)
