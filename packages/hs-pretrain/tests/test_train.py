"""The training entry point: exact resume (in process and after SIGKILL), refused checkpoints, a full
disk, the schedule, MLflow, the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
import torch

from hs_backbone.training import WarmupCosine, load_checkpoint
from hs_pretrain import CheckpointMismatchError, PretrainConfig, pretrain
from hs_pretrain.cli import main


def _config(folder: Path, out: Path | None, **kw) -> PretrainConfig:
    base = {
        "model": "test_spatial_mae",
        "model_kwargs": {
            "drop_path_rate": 0.1
        },  # drop path draws from the global RNG: resume must restore it
        "sources": [str(folder)],
        "epochs": 3,
        "batch_size": 4,
        "samples_per_epoch": 16,
        "warmup_epochs": 1,
        "blr": 0.05,
        "out_dir": str(out) if out else None,
        "checkpoint_every": 3,
        "progress": False,
    }
    return PretrainConfig(**(base | kw))


class _Kill(Exception):
    pass


class _KillAt:
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer, metrics) -> None:
        if trainer.global_step == self.step:
            raise _Kill


def _same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_a_killed_run_resumes_step_for_step(scenes, tmp_path: Path) -> None:
    folder = scenes()
    full = pretrain(_config(folder, tmp_path / "a"))
    assert len(full.steps) == 12 and full.checkpoint is not None and full.encoder is not None
    with pytest.raises(_Kill):  # dies at step 5: the last checkpoint is from step 4 (epoch end)
        pretrain(_config(folder, tmp_path / "b"), callbacks=[_KillAt(5)])
    assert load_checkpoint(tmp_path / "b" / "last.pt")["trainer"]["global_step"] == 4
    torch.manual_seed(1234)  # a fresh process starts with another global random state
    resumed = pretrain(_config(folder, tmp_path / "b"))
    assert [s["loss"] for s in resumed.steps] == [s["loss"] for s in full.steps]
    assert resumed.history == full.history
    _same_weights(full.model.state_dict(), resumed.model.state_dict())
    finished = pretrain(_config(folder, tmp_path / "b"))  # rerunning a finished run changes nothing
    _same_weights(full.model.state_dict(), finished.model.state_dict())


def _kill_after_step(proc: subprocess.Popen, out: Path, step: int) -> None:
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if (out / "last.pt").is_file():
            try:
                if load_checkpoint(out / "last.pt")["trainer"]["global_step"] >= step:
                    break
            except Exception:  # being replaced right now; look again
                pass
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_killing_the_command_at_any_moment_and_rerunning_it_resumes(scenes, tmp_path: Path) -> None:
    """SIGKILL the real `hs-pretrain train` process mid-run, rerun the same command, compare with an
    uninterrupted run: the exported encoders are identical."""
    folder = scenes()
    out = tmp_path / "cli"
    args = [
        sys.executable,
        "-m",
        "hs_pretrain.cli",
        "train",
        "--model",
        "test_spatial_mae",
        "--data",
        str(folder),
        "--epochs",
        "6",
        "--batch-size",
        "4",
        "--samples-per-epoch",
        "16",
        "--warmup-epochs",
        "1",
        "--blr",
        "0.05",
        "--drop-path",
        "0.1",
        "--checkpoint-every",
        "1",
        "--out-dir",
        str(out),
        "--no-progress",
        "--log-every",
        "1",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    log_file = tmp_path / "first.log"
    with log_file.open("w") as log:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log)
        _kill_after_step(proc, out, 5)
    killed_at = load_checkpoint(out / "last.pt")["trainer"]["global_step"]
    assert 5 <= killed_at < 24 and not (out / "encoder.pt").exists()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"resumed {out / 'last.pt'}" in done.stderr
    reference = pretrain(_config(folder, tmp_path / "ref", epochs=6, checkpoint_every=0))
    _same_weights(
        load_checkpoint(out / "encoder.pt")["state_dict"],
        load_checkpoint(tmp_path / "ref" / "encoder.pt")["state_dict"],
    )
    assert load_checkpoint(out / "last.pt")["callbacks"][0]["steps"] == reference.steps


def test_a_checkpoint_of_another_model_is_refused(scenes, tmp_path: Path) -> None:
    folder = scenes()
    pretrain(_config(folder, tmp_path, epochs=1))
    with pytest.raises(CheckpointMismatchError, match=r"written for another model: bands 8 vs 6.*--out-dir"):
        pretrain(_config(folder, tmp_path, epochs=2, model_kwargs={"in_chans": 6}))
    with pytest.raises(
        CheckpointMismatchError, match=r"model test_spatial_mae \(checkpoint\) vs test_spectral_mae"
    ):
        pretrain(_config(folder, tmp_path, epochs=2, model="test_spectral_mae", model_kwargs={}))
    with pytest.raises(CheckpointMismatchError, match="width 32 vs 48"):
        pretrain(_config(folder, tmp_path, epochs=2, model_kwargs={"embed_dim": 48}))
    fresh = pretrain(_config(folder, tmp_path, epochs=1, model_kwargs={"in_chans": 6}, resume=False))
    assert fresh.model.in_chans == 6  # --no-resume starts over and overwrites


def test_a_full_disk_never_leaves_a_broken_checkpoint(scenes, tmp_path: Path, monkeypatch) -> None:
    folder = scenes()
    pretrain(_config(folder, tmp_path / "run", epochs=1, checkpoint_every=0))
    before = load_checkpoint(tmp_path / "run" / "last.pt")
    real_save = torch.save

    def full_disk(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        pretrain(_config(folder, tmp_path / "run", epochs=2, checkpoint_every=0))
    monkeypatch.setattr(torch, "save", real_save)
    after = load_checkpoint(tmp_path / "run" / "last.pt")  # intact, still the epoch-1 state
    assert after["trainer"]["global_step"] == before["trainer"]["global_step"] == 4
    _same_weights(after["model"], before["model"])
    assert not [p for p in (tmp_path / "run").iterdir() if p.suffix == ".tmp"]
    # space is back: the same command finishes, exactly as an uninterrupted run
    done = pretrain(_config(folder, tmp_path / "run", epochs=2, checkpoint_every=0))
    ref = pretrain(_config(folder, tmp_path / "ref", epochs=2, checkpoint_every=0))
    _same_weights(done.model.state_dict(), ref.model.state_dict())


def test_learning_rate_scaling_and_per_step_schedule(scenes) -> None:
    folder = scenes()
    result = pretrain(
        _config(folder, None, epochs=2, blr=1e-3, accum_steps=2, warmup_epochs=0.5, min_lr=1e-5)
    )
    lr = 1e-3 * 8 / 256  # blr * batch * accum / 256
    schedule = WarmupCosine(lr, total_steps=4, warmup_steps=1, min_lr=1e-5)
    assert [s["lr"] for s in result.steps] == pytest.approx([schedule.lr_at(i) for i in range(4)])
    assert PretrainConfig(model="spatial_mae_base").betas == (0.9, 0.95)
    with pytest.raises(ValueError, match="unknown MAE 'spatial_mae_xl'"):
        PretrainConfig(model="spatial_mae_xl")
    with pytest.raises(ValueError, match="fewer than one optimiser step of 32"):
        pretrain(_config(folder, None, batch_size=32))


def test_upstream_mode_uses_upstream_defects_and_the_per_file_window(scenes, tmp_path: Path) -> None:
    folder = scenes()
    result = pretrain(
        _config(folder, tmp_path, epochs=1, model="test_spectral_mae", model_kwargs={}, upstream=True)
    )
    assert result.model.encoder_pos_embed == "upstream" and result.model.decoder_pos_embed_kind == "zeros"
    training = load_checkpoint(tmp_path / "last.pt")["config"]["extra"]["training"]
    assert training["band_window"] == "per_file"
    assert json.loads((tmp_path / "summary.json").read_text())["model"]["upstream"] is True


class _FakeMlflow(types.ModuleType):
    def __init__(self) -> None:
        super().__init__("mlflow")
        self.calls: list[tuple] = []
        self.runs = 0

    def set_tracking_uri(self, uri):
        self.calls.append(("uri", uri))

    def set_experiment(self, name):
        self.calls.append(("experiment", name))

    def start_run(self, run_id=None, run_name=None):
        self.calls.append(("start", run_id, run_name))
        self.runs += 1
        return types.SimpleNamespace(info=types.SimpleNamespace(run_id=run_id or f"run{self.runs}"))

    def log_params(self, params):
        self.calls.append(("params", sorted(params)))

    def log_metrics(self, metrics, step):
        self.calls.append(("metrics", step, sorted(metrics)))

    def end_run(self):
        self.calls.append(("end",))


def test_mlflow_logs_only_when_configured_and_resumes_its_run(scenes, tmp_path: Path, monkeypatch) -> None:
    folder = scenes()
    fake = _FakeMlflow()
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    pretrain(_config(folder, tmp_path / "off", epochs=1))
    assert fake.calls == []  # not configured: nothing logged
    pretrain(
        _config(
            folder, tmp_path / "on", epochs=1, log_every=2, mlflow_uri="file:///tmp/x", mlflow_run_name="spat"
        ),
        callbacks=[],
    )
    assert ("uri", "file:///tmp/x") in fake.calls and ("start", None, "spat") in fake.calls
    steps = [c[1] for c in fake.calls if c[0] == "metrics" and "loss" in c[2]]
    assert steps == [2, 4] and any(c[0] == "metrics" and "epoch_loss" in c[2] for c in fake.calls)
    assert load_checkpoint(tmp_path / "on" / "last.pt")["callbacks"][2] == {"run_id": "run1"}
    fake.calls.clear()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "file:///tmp/y")  # the environment variable also enables it
    pretrain(_config(folder, tmp_path / "on", epochs=2, log_every=2))
    assert ("start", "run1", None) in fake.calls  # the resumed run logs into the same MLflow run
    monkeypatch.setitem(sys.modules, "mlflow", None)  # configured but not installed
    with pytest.raises(ImportError, match=r"hs-pretrain\[mlflow\]"):
        pretrain(_config(folder, tmp_path / "missing", epochs=1))


def test_command_line(scenes, tmp_path: Path, capsys) -> None:
    folder = scenes()
    assert main(["models"]) == 0 and "spectral_mae_huge" in capsys.readouterr().out
    assert main(["scan", str(folder), "--crop", "8", "--num-bands", "8"]) == 0
    assert '"scenes": 3' in capsys.readouterr().out
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--model",
            "test_spectral_mae",
            "--data",
            str(folder),
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--samples-per-epoch",
            "8",
            "--out-dir",
            str(out),
            "--no-progress",
            "--bad-bands",
            "1-4",
        ]
    )
    assert code == 0 and json.loads(capsys.readouterr().out.strip().splitlines()[-1])["epochs_done"] == 1
    assert main(["export", str(out / "last.pt"), str(tmp_path / "enc.safetensors")]) == 0
    assert "test_spectral_vit" in capsys.readouterr().out
    assert main(["export", str(out / "last.pt"), str(tmp_path / "official.pth"), "--official"]) == 0
    assert main(["train", "--data", str(tmp_path / "nothing_here"), "--model", "test_spatial_mae"]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_real_scenes_train(data_root: Path, tmp_path: Path) -> None:
    result = pretrain(
        PretrainConfig(
            model="test_spatial_mae",
            model_kwargs={"img_size": 16, "in_chans": 16},
            sources=["hs-data:*"],
            scale="percentile",
            epochs=1,
            batch_size=8,
            samples_per_epoch=16,
            progress=False,
        )
    )
    assert result.data["scenes"] >= 10 and all(torch.isfinite(torch.tensor(s["loss"])) for s in result.steps)
