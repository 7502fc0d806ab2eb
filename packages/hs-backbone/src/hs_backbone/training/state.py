"""Checkpoint files that survive crashes, and the RNG state that makes a resumed run identical.

- :func:`atomic_save` writes to a temporary file in the target folder, flushes it to disk, then renames
  it over the target (``os.replace`` is atomic on POSIX). A crash or a full disk mid-write leaves the
  previous file untouched and removes the partial one.
- :func:`load_checkpoint` reads with ``torch.load(weights_only=True)`` and turns every failure into an
  error that names the file and the problem.
- :func:`capture_rng_state` / :func:`restore_rng_state` cover Python's ``random``, NumPy's global
  generator, torch's CPU generator and every CUDA generator, in a form ``weights_only`` loading accepts
  (tensors and plain values only).
"""

from __future__ import annotations

import os
import pickle
import random
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "CheckpointError",
    "atomic_save",
    "atomic_write",
    "capture_rng_state",
    "load_checkpoint",
    "restore_rng_state",
]


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, or not what the caller expects."""


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], object]) -> Path:
    """Write ``path`` atomically: ``write(tmp)`` fills a temporary file beside it, which is synced
    and renamed over ``path``; readers see the old file or the complete new one, and a failed write
    (an exception, a full disk) removes the temporary file and leaves ``path`` as it was.

    Args:
        path: the target file (its folder is created).
        write: called with the temporary file's name; writes the whole content there.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp_name)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return target


def atomic_save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (:func:`atomic_write`)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            torch.save(obj, f)

    return atomic_write(path, write)


def load_checkpoint(path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint dict with ``weights_only=True``.

    Raises:
        CheckpointError: the file is missing, truncated/corrupt, holds unsafe objects, or is not a dict.
    """
    file = Path(path)
    if not file.is_file():
        raise CheckpointError(f"{file}: checkpoint not found")
    try:
        data = torch.load(file, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError) as exc:
        raise CheckpointError(f"{file}: cannot read checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"{file}: expected a dict checkpoint, found {type(data).__name__}")
    return data


def capture_rng_state() -> dict:
    """Every global RNG state, as tensors and plain values."""
    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        import numpy as np

        legacy = np.random.get_state(legacy=True)  # noqa: NPY002 (the global RNG code seeds with np.random.seed)
        kind, keys, pos, has_gauss, cached = legacy
        state["numpy"] = {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys).astype("int64")),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        }
    except ImportError:
        pass
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Restore what :func:`capture_rng_state` captured (missing parts are left alone)."""
    if "python" in state:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
    if "torch" in state:
        torch.set_rng_state(state["torch"].cpu())
    if "numpy" in state:
        import numpy as np

        s = state["numpy"]
        np.random.set_state(  # noqa: NPY002
            (s["kind"], s["keys"].numpy().astype("uint32"), s["pos"], s["has_gauss"], s["cached_gaussian"])
        )
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
