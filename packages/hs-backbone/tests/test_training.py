"""The shared training machinery: layer decay, schedule, atomic checkpoints, exact resume."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from hs_backbone.training import (
    CheckpointError,
    NonFiniteLossError,
    ResumableSampler,
    TrainConfig,
    Trainer,
    WarmupCosine,
    atomic_save,
    build_adamw,
    capture_rng_state,
    epoch_loader,
    layer_id,
    load_checkpoint,
    param_groups,
    restore_rng_state,
)


class _Encoder(nn.Module):
    def __init__(self, depth: int, dim: int = 4) -> None:
        super().__init__()
        self.patch_embed = nn.Linear(3, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, 5, dim))
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim)) for _ in range(depth)
        )

    def no_weight_decay(self) -> set[str]:
        return {"pos_embed"}


class _TwoBranch(nn.Module):
    """Named like a HyperSIGMA task model: two encoders under task-specific prefixes plus a head."""

    def __init__(self, depth: int = 3) -> None:
        super().__init__()
        self.spat_encoder = _Encoder(depth)
        self.spec_encoder = _Encoder(depth)
        self.head = nn.Linear(4, 2)


def test_layer_id_reads_blocks_anywhere_in_the_name() -> None:
    assert layer_id("spat_encoder.blocks.0.1.weight", 12) == 1
    assert layer_id("backbone.blocks.11.attn.qkv.weight", 12) == 12
    assert layer_id("spec_encoder.spat_map.weight", 12) == 0
    assert layer_id("spat_encoder.patch_embed.proj.weight", 12) == 0
    assert layer_id("head.weight", 12) == 13
    with pytest.raises(ValueError, match="num_layers"):
        layer_id("blocks.12.x", 12)


def test_layer_decay_really_gives_each_depth_its_own_rate() -> None:
    model = _TwoBranch(depth=3)
    opt = build_adamw(model, lr=1.0, weight_decay=0.05, layer_decay=0.5)
    rate = {}
    for group in opt.param_groups:
        for name in group["names"]:
            rate[name] = group["lr"]
    # head at the base rate, block i at 0.5 ** (3 - i), embeddings at 0.5 ** 4, in BOTH branches
    assert rate["head.weight"] == 1.0
    for branch in ("spat_encoder", "spec_encoder"):
        for i in range(3):
            assert rate[f"{branch}.blocks.{i}.1.weight"] == pytest.approx(0.5 ** (3 - i))
        assert rate[f"{branch}.patch_embed.weight"] == pytest.approx(0.5**4)
    assert len({round(r, 9) for r in rate.values()}) == 5  # 5 distinct depths


def test_weight_decay_skips_biases_norms_and_listed_names() -> None:
    groups = param_groups(_TwoBranch(), weight_decay=0.1)
    decay = {n: g["weight_decay"] for g in groups for n in g["names"]}
    assert decay["head.weight"] == 0.1
    assert decay["head.bias"] == 0.0
    assert decay["spat_encoder.blocks.0.0.weight"] == 0.0  # LayerNorm weight (1-D)
    assert decay["spec_encoder.pos_embed"] == 0.0  # no_weight_decay()
    assert decay["spec_encoder.blocks.2.1.weight"] == 0.1


def test_warmup_cosine_shape() -> None:
    s = WarmupCosine(base_lr=1.0, total_steps=110, warmup_steps=10, min_lr=0.1)
    assert s.lr_at(0) == pytest.approx(0.1)
    assert s.lr_at(9) == pytest.approx(1.0)
    assert s.lr_at(60) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert s.lr_at(110) == pytest.approx(0.1)
    lrs = [s.lr_at(i) for i in range(10, 111)]
    assert all(a >= b for a, b in itertools.pairwise(lrs))  # monotone after warm-up
    opt = build_adamw(_TwoBranch(), lr=1.0, layer_decay=0.5)
    s.apply(opt, 60)
    scales = {round(g["lr"] / s.lr_at(60), 9) for g in opt.param_groups}
    assert scales == {round(g["lr_scale"], 9) for g in opt.param_groups}  # layer decay survives
    with pytest.raises(ValueError, match="warmup_steps"):
        WarmupCosine(1.0, total_steps=5, warmup_steps=6)


def test_atomic_save_keeps_the_old_file_when_the_disk_fills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "last.pt"
    atomic_save({"step": 1, "w": torch.ones(3)}, path)

    def full_disk(obj, f, *args, **kwargs):
        f.write(b"partial bytes")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError, match="No space left"):
        atomic_save({"step": 2}, path)
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # no temporary left behind


def test_load_checkpoint_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"missing\.pt: checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")
    good = atomic_save({"a": torch.zeros(100)}, tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CheckpointError, match=r"truncated\.pt: cannot read checkpoint"):
        load_checkpoint(truncated)
    atomic_save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="expected a dict checkpoint, found list"):
        load_checkpoint(tmp_path / "list.pt")


def test_rng_state_round_trip(tmp_path: Path) -> None:
    state = capture_rng_state()
    atomic_save(state, tmp_path / "rng.pt")
    first = (random.random(), np.random.rand(), torch.rand(2))  # noqa: NPY002 (global RNG on purpose)
    restore_rng_state(load_checkpoint(tmp_path / "rng.pt"))
    second = (random.random(), np.random.rand(), torch.rand(2))  # noqa: NPY002
    assert first[0] == second[0] and first[1] == second[1] and torch.equal(first[2], second[2])


def test_sampler_shards_reassemble_the_single_process_order() -> None:
    single = list(ResumableSampler(10, seed=3, rank=0, world_size=1))
    shards = [list(ResumableSampler(10, seed=3, rank=r, world_size=2)) for r in range(2)]
    interleaved = [i for pair in zip(*shards) for i in pair]
    assert interleaved == single
    s = ResumableSampler(10, seed=3, rank=0, world_size=1)
    s.set_start(4)
    assert list(s) == single[4:]
    s.set_epoch(1)
    assert sorted(s._indices()) == list(range(10)) and s._indices() != single


# ----------------------------------------------------------------------------- exact resume


def _setup(out_dir: Path | None, epochs: int = 3):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Dropout(0.3), nn.Linear(16, 3))
    data = TensorDataset(torch.randn(40, 6, generator=torch.Generator().manual_seed(1)), torch.arange(40) % 3)
    opt = build_adamw(model, lr=1e-2, weight_decay=0.05)
    steps = len(data) // 8
    schedule = WarmupCosine(1e-2, total_steps=epochs * steps, warmup_steps=2)
    cfg = TrainConfig(
        epochs=epochs,
        steps_per_epoch=steps,
        out_dir=str(out_dir) if out_dir else None,
        checkpoint_every=3,
        progress=False,
    )

    def step_fn(m, batch):
        x, y = batch
        loss = nn.functional.cross_entropy(m(x), y)
        return loss, {"acc": float((m(x).argmax(-1) == y).float().mean())}

    def loader(epoch: int, start: int):
        return epoch_loader(data, batch_size=8, epoch=epoch, start_batch=start, seed=5)

    return model, Trainer(model, step_fn, opt, cfg, schedule=schedule), loader


class _Kill(Exception):
    pass


def test_a_killed_and_resumed_run_matches_an_uninterrupted_one(tmp_path: Path) -> None:
    model_a, trainer_a, loader = _setup(tmp_path / "a")
    history_a = trainer_a.fit(loader)

    _, trainer_b, loader = _setup(tmp_path / "b")
    original_step = trainer_b._train_step

    def dying_step(batch):
        if trainer_b.global_step == 7:  # mid-epoch 1, one step after the step-6 checkpoint
            raise _Kill
        return original_step(batch)

    trainer_b._train_step = dying_step
    with pytest.raises(_Kill):
        trainer_b.fit(loader)
    torch.manual_seed(123)  # a new process would start with a different RNG: resume must restore it
    np.random.seed(7)  # noqa: NPY002
    model_c, trainer_c, loader = _setup(tmp_path / "b")
    history_c = trainer_c.fit(loader)

    assert trainer_c.global_step == trainer_a.global_step == 15
    for (name, a), c in zip(model_a.state_dict().items(), model_c.state_dict().values()):
        assert torch.equal(a, c), name
    assert history_c == history_a


def test_non_finite_loss_stops_the_run() -> None:
    _, trainer, loader = _setup(None)
    trainer.step_fn = lambda m, b: (m(b[0]).sum() * float("nan"), {})
    with pytest.raises(NonFiniteLossError, match=r"step 0 .* loss is nan"):
        trainer.fit(loader)


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_runs_and_saves_the_scaler(tmp_path: Path, amp: str) -> None:
    _, trainer, loader = _setup(tmp_path, epochs=1)
    trainer.config.amp = amp
    trainer.scaler = torch.amp.GradScaler("cpu", enabled=amp == "fp16")
    history = trainer.fit(loader)
    assert math.isfinite(history[-1]["loss"])
    assert "scaler" in load_checkpoint(tmp_path / "last.pt")


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="amp: expected None, 'bf16' or 'fp16', got 'int8'"):
        TrainConfig(epochs=1, steps_per_epoch=1, amp="int8")
    with pytest.raises(ValueError, match="epochs / steps_per_epoch"):
        TrainConfig(epochs=0, steps_per_epoch=1)


# ----------------------------------------------------------------------------- accumulation, FSDP


def _regression_setup(out_dir: Path | None, *, batch: int, accum: int, epochs: int = 2):
    """A float64 regression whose loss is a per-batch mean, so two half batches average to one."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 12), nn.Tanh(), nn.Linear(12, 2)).double()
    gen = torch.Generator().manual_seed(2)
    data = TensorDataset(
        torch.randn(48, 5, generator=gen, dtype=torch.float64),
        torch.randn(48, 2, generator=gen, dtype=torch.float64),
    )
    opt = build_adamw(model, lr=1e-2, weight_decay=0.05)
    steps = len(data) // (batch * accum)
    cfg = TrainConfig(
        epochs=epochs,
        steps_per_epoch=steps,
        out_dir=str(out_dir) if out_dir else None,
        checkpoint_every=2,
        progress=False,
        accum_steps=accum,
    )
    schedule = WarmupCosine(1e-2, total_steps=3 * steps, warmup_steps=1)  # independent of epochs

    def step_fn(m, b):
        return nn.functional.mse_loss(m(b[0]), b[1]), {}

    def loader(epoch: int, start: int):
        return epoch_loader(data, batch_size=batch, epoch=epoch, start_batch=start, seed=5)

    return model, Trainer(model, step_fn, opt, cfg, schedule=schedule), loader


def test_gradient_accumulation_matches_one_large_batch_and_resumes(tmp_path: Path) -> None:
    model_a, trainer_a, loader_a = _regression_setup(None, batch=8, accum=1)
    history_a = trainer_a.fit(loader_a)
    model_b, trainer_b, loader_b = _regression_setup(tmp_path / "b", batch=4, accum=2)
    history_b = trainer_b.fit(loader_b)
    assert trainer_b.global_step == trainer_a.global_step == 12
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14, msg=name)
    for ha, hb in zip(history_a, history_b):
        assert ha["loss"] == pytest.approx(hb["loss"], rel=1e-12)

    # killed after step 3 (checkpoint at step 2, i.e. batch 4 of epoch 0) and resumed: identical
    _, trainer_c, loader_c = _regression_setup(tmp_path / "c", batch=4, accum=2)
    original = trainer_c._train_step

    def dying(*batches):
        if trainer_c.global_step == 3:
            raise _Kill
        return original(*batches)

    trainer_c._train_step = dying  # type: ignore[method-assign]
    with pytest.raises(_Kill):
        trainer_c.fit(loader_c)
    assert load_checkpoint(tmp_path / "c" / "last.pt")["trainer"]["batch_in_epoch"] == 4
    model_d, trainer_d, loader_d = _regression_setup(tmp_path / "c", batch=4, accum=2)
    trainer_d.fit(loader_d)
    for (name, b), d in zip(model_b.state_dict().items(), model_d.state_dict().values()):
        assert torch.equal(b, d), name
    with pytest.raises(ValueError, match="accum_steps: expected >= 1"):
        TrainConfig(epochs=1, steps_per_epoch=1, accum_steps=0)


def test_a_missing_rng_file_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _, trainer, loader = _regression_setup(tmp_path, batch=8, accum=1, epochs=1)
    trainer.fit(loader)
    assert sorted(f.name for f in tmp_path.glob("rng.*")) == ["rng.rank0.step6.pt"]  # older ones deleted
    (tmp_path / "rng.rank0.step6.pt").rename(tmp_path / "rng.rank0.step4.pt")
    _, again, loader = _regression_setup(tmp_path, batch=8, accum=1, epochs=2)
    with caplog.at_level("WARNING", logger="hs_backbone.training.loop"):
        again.fit(loader)
    assert "rng.rank0.step6.pt is missing (found: rng.rank0.step4.pt)" in caplog.text


def _dropout_setup(out_dir: Path):
    """A model whose steps draw from the global RNG (dropout), so a resume restoring the wrong random
    state diverges from the uninterrupted run."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.Dropout(0.5), nn.Linear(16, 2)).double()
    gen = torch.Generator().manual_seed(2)
    data = TensorDataset(
        torch.randn(32, 5, generator=gen, dtype=torch.float64),
        torch.randn(32, 2, generator=gen, dtype=torch.float64),
    )
    cfg = TrainConfig(epochs=2, steps_per_epoch=4, out_dir=str(out_dir), checkpoint_every=1, progress=False)

    def step_fn(m, b):
        return nn.functional.mse_loss(m(b[0]), b[1]), {}

    def loader(epoch: int, start: int):
        return epoch_loader(data, batch_size=8, epoch=epoch, start_batch=start, seed=5)

    return model, Trainer(model, step_fn, build_adamw(model, lr=1e-2), cfg), loader


@pytest.mark.parametrize("dies_at", ["rng file", "last.pt", "deleting old rng files"])
def test_a_kill_inside_a_checkpoint_write_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dies_at: str
) -> None:
    """A checkpoint is two files (last.pt and this rank's RNG state); dying between any two of its
    writes must still resume to the uninterrupted run's parameters."""
    import hs_backbone.training.loop as loop

    model_a, trainer_a, loader_a = _dropout_setup(tmp_path / "a")
    trainer_a.fit(loader_a)

    _, trainer_b, loader_b = _dropout_setup(tmp_path / "b")
    real_save, real_unlink = loop.atomic_save, Path.unlink

    def save(obj, path, *args, **kwargs):
        target = Path(path).name
        if trainer_b.global_step == 5 and (
            (dies_at == "rng file" and target.startswith("rng."))
            or (dies_at == "last.pt" and target == "last.pt")
        ):
            raise _Kill
        return real_save(obj, path, *args, **kwargs)

    def unlink(self, *args, **kwargs):
        if dies_at == "deleting old rng files" and trainer_b.global_step == 5:
            raise _Kill
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(loop, "atomic_save", save)
    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(_Kill):
        trainer_b.fit(loader_b)
    monkeypatch.undo()
    written = load_checkpoint(tmp_path / "b" / "last.pt")["trainer"]["global_step"]
    assert written == (5 if dies_at == "deleting old rng files" else 4)

    torch.manual_seed(1234)  # a fresh process starts with another global random state
    model_c, trainer_c, loader_c = _dropout_setup(tmp_path / "b")
    trainer_c.fit(loader_c)
    assert trainer_c.global_step == trainer_a.global_step == 8
    for (name, a), c in zip(model_a.state_dict().items(), model_c.state_dict().values()):
        assert torch.equal(a, c), name
    assert sorted(f.name for f in (tmp_path / "b").glob("rng.*")) == ["rng.rank0.step8.pt"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fsdp_worker(rank: int, world: int, port: int, out_dir: str) -> None:
    import os

    import torch.distributed as dist
    from torch.distributed.fsdp import fully_shard

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        model, _, _ = _regression_setup(None, batch=4, accum=1)  # the model only
        for layer in model:
            if isinstance(layer, nn.Linear):
                fully_shard(layer)
        fully_shard(model)
        _, template, loader = _regression_setup(Path(out_dir), batch=4, accum=1)
        opt = build_adamw(model, lr=1e-2, weight_decay=0.05)
        cfg = template.config
        cfg.steps_per_epoch = 48 // 8  # 8 samples per step across the two ranks
        schedule = WarmupCosine(1e-2, total_steps=3 * cfg.steps_per_epoch, warmup_steps=1)
        Trainer(model, template.step_fn, opt, cfg, schedule=schedule).fit(loader)
    finally:
        dist.destroy_process_group()


def test_fsdp_training_and_its_gathered_checkpoint_match_a_single_process(tmp_path: Path) -> None:
    """FSDP2 on two CPU processes (gloo) trains exactly as one process with the same global batch;
    its checkpoint holds the full model and optimiser state and resumes in a plain process."""
    import torch.multiprocessing as mp

    mp.spawn(_fsdp_worker, args=(2, _free_port(), str(tmp_path / "fsdp")), nprocs=2, join=True)
    state = load_checkpoint(tmp_path / "fsdp" / "last.pt")
    model_ref, trainer_ref, loader_ref = _regression_setup(None, batch=8, accum=1, epochs=2)
    trainer_ref.fit(loader_ref)
    for name, ref in model_ref.state_dict().items():
        torch.testing.assert_close(state["model"][name], ref, rtol=1e-12, atol=1e-14, msg=name)
    # one more epoch in a single plain process, resumed from the FSDP checkpoint
    model_c, trainer_c, loader_c = _regression_setup(tmp_path / "fsdp", batch=8, accum=1, epochs=3)
    trainer_c.fit(loader_c)
    model_r, trainer_r, loader_r = _regression_setup(None, batch=8, accum=1, epochs=3)
    trainer_r.fit(loader_r)
    assert trainer_c.global_step == trainer_r.global_step == 18
    for (name, r), c in zip(model_r.state_dict().items(), model_c.state_dict().values()):
        torch.testing.assert_close(c, r, rtol=1e-12, atol=1e-14, msg=name)
