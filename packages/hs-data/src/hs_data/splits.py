"""Train / validation / test splits of a label map, as explicit, seeded, serialisable objects.

Three kinds:

- :func:`per_class_split`: ``n`` labelled pixels per class for training (10, 20, 50 per class in
  HyperSIGMA), the rest for testing; validation is carved out of the training budget, never out of
  the test set. **Rule for small classes**: a class never gives more than half of its pixels to
  training (``floor(count / 2)``, logged as a warning), a class with fewer than 2 pixels gives none
  (warning), and validation never takes a class's last training pixel. Random pixel splits leak
  (a training patch around a training pixel contains test pixels); :func:`leaking_train_pixels`
  measures it.
- :func:`fixed_split` / :func:`official_split`: official maps (Pavia University TRpavia_fixed /
  TSpavia_fixed, Houston 2013 train/test, the Indian Pines disjoint map with its class remapping).
- :func:`spatially_disjoint_split`: square blocks of the scene go to train, validation or test; then
  a guard band of ``patch_radius`` pixels is removed from training (and validation) so that no
  training patch, the ``(2r+1) x (2r+1)`` window around a training pixel, contains a test pixel.

A :class:`Split` holds flat pixel indices (row-major, ``i = row * w + col``) for each part, the label
of each of those pixels, the seed, the method and its parameters. It saves to JSON or ``.npz``
(:meth:`Split.save`) so a run can store exactly what it trained and tested on.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
from scipy import ndimage

__all__ = [
    "Split",
    "derive_class_mapping",
    "fixed_split",
    "leaking_train_pixels",
    "official_split",
    "per_class_split",
    "spatially_disjoint_split",
]

log = logging.getLogger(__name__)

PARTS = ("train", "val", "test")
_FORMAT = "hs-data-split/1"


@dataclass
class Split:
    """Pixel indices and labels of a split of an ``(h, w)`` scene.

    Attributes:
        shape: ``(h, w)`` of the scene.
        train, val, test: sorted int64 flat indices (``row * w + col``); disjoint.
        y_train, y_val, y_test: int64 labels of those pixels (class ids as in the label map).
        method: how the split was made (``"per_class"``, ``"fixed"``, ``"spatially_disjoint"``...).
        seed: RNG seed (``None`` for deterministic methods).
        params: the method's parameters (saved with the split).
        dataset: registry name of the scene, if any.
    """

    shape: tuple[int, int]
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray
    method: str
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    dataset: str | None = None

    def __post_init__(self) -> None:
        self.shape = (int(self.shape[0]), int(self.shape[1]))
        n = self.shape[0] * self.shape[1]
        for part in PARTS:
            idx = np.asarray(getattr(self, part), dtype=np.int64).reshape(-1)
            y = np.asarray(getattr(self, f"y_{part}"), dtype=np.int64).reshape(-1)
            if idx.shape != y.shape:
                raise ValueError(f"split part {part!r}: {idx.size} indices but {y.size} labels")
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise ValueError(f"split part {part!r}: indices out of range for shape {self.shape}")
            order = np.argsort(idx, kind="stable")
            idx, y = idx[order], y[order]
            if idx.size and np.any(np.diff(idx) == 0):
                raise ValueError(f"split part {part!r}: duplicate pixel indices")
            setattr(self, part, idx)
            setattr(self, f"y_{part}", y)
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            common = np.intersect1d(getattr(self, a), getattr(self, b))
            if common.size:
                raise ValueError(f"split parts {a!r} and {b!r} share {common.size} pixels")

    # ------------------------------------------------------------------ views
    def indices(self, part: str) -> np.ndarray:
        """Flat indices of ``part`` (``"train"``, ``"val"`` or ``"test"``)."""
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {part!r}")
        return cast(np.ndarray, getattr(self, part))

    def labels(self, part: str) -> np.ndarray:
        """Labels of the pixels of ``part``, aligned with :meth:`indices`."""
        self.indices(part)
        return cast(np.ndarray, getattr(self, f"y_{part}"))

    def coords(self, part: str) -> np.ndarray:
        """``(n, 2)`` int64 (row, col) of the pixels of ``part``."""
        idx = self.indices(part)
        return np.stack(np.unravel_index(idx, self.shape), axis=1).astype(np.int64)

    def mask(self, part: str) -> np.ndarray:
        """``(h, w)`` bool mask of ``part``."""
        m = np.zeros(self.shape[0] * self.shape[1], dtype=bool)
        m[self.indices(part)] = True
        return m.reshape(self.shape)

    def label_map(self, part: str) -> np.ndarray:
        """``(h, w)`` int64 map with the labels of ``part`` and 0 elsewhere."""
        m = np.zeros(self.shape[0] * self.shape[1], dtype=np.int64)
        m[self.indices(part)] = self.labels(part)
        return m.reshape(self.shape)

    def counts(self, part: str) -> dict[int, int]:
        """Pixels per class in ``part``."""
        values, counts = np.unique(self.labels(part), return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts)}

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists of ints); :meth:`from_dict` inverts it."""
        out: dict[str, Any] = {
            "format": _FORMAT,
            "dataset": self.dataset,
            "method": self.method,
            "seed": self.seed,
            "params": self.params,
            "shape": list(self.shape),
        }
        for part in PARTS:
            out[part] = self.indices(part).tolist()
            out[f"y_{part}"] = self.labels(part).tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Split:
        """Rebuild a split saved by :meth:`to_dict`."""
        if data.get("format") != _FORMAT:
            raise ValueError(f"not a split ({_FORMAT!r} expected, found format {data.get('format')!r})")
        return cls(
            shape=(int(data["shape"][0]), int(data["shape"][1])),
            train=np.asarray(data["train"], dtype=np.int64),
            val=np.asarray(data["val"], dtype=np.int64),
            test=np.asarray(data["test"], dtype=np.int64),
            y_train=np.asarray(data["y_train"], dtype=np.int64),
            y_val=np.asarray(data["y_val"], dtype=np.int64),
            y_test=np.asarray(data["y_test"], dtype=np.int64),
            method=data["method"],
            seed=data.get("seed"),
            params=dict(data.get("params") or {}),
            dataset=data.get("dataset"),
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``.json`` or ``.npz`` (chosen by the suffix), atomically (temp file + ``os.replace``)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        if path.suffix == ".json":
            tmp.write_text(json.dumps(self.to_dict()))
        elif path.suffix == ".npz":
            meta = {k: v for k, v in self.to_dict().items() if k not in PARTS and not k.startswith("y_")}
            payload: dict[str, Any] = {"meta": np.asarray(json.dumps(meta))}
            payload |= {p: self.indices(p) for p in PARTS} | {f"y_{p}": self.labels(p) for p in PARTS}
            with tmp.open("wb") as f:
                cast(Any, np.savez_compressed)(f, **payload)
        else:
            raise ValueError(f"{path}: split files end in .json or .npz")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Split:
        """Read a split written by :meth:`save`."""
        path = Path(path)
        if path.suffix == ".json":
            return cls.from_dict(json.loads(path.read_text()))
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                data = json.loads(str(z["meta"]))
                for key in (*PARTS, *(f"y_{p}" for p in PARTS)):
                    data[key] = z[key]
            return cls.from_dict(data)
        raise ValueError(f"{path}: split files end in .json or .npz")


# ---------------------------------------------------------------------------------------- helpers
def _check_labels(labels: np.ndarray, name: str = "labels") -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"{name} must be an (h, w) map, got shape {labels.shape}")
    if labels.dtype.kind not in "iub":
        raise ValueError(f"{name} must be integer, got dtype {labels.dtype}")
    return labels.astype(np.int64)


def _valid_mask(labels: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    if valid is None:
        return labels > 0
    valid = np.asarray(valid, dtype=bool)
    if valid.shape != labels.shape:
        raise ValueError(f"valid mask shape {valid.shape} != labels shape {labels.shape}")
    return valid


def _rng_seed(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


def leaking_train_pixels(split: Split, patch_radius: int, *, against: str = "test") -> int:
    """Number of training pixels whose ``(2r+1)^2`` window contains a pixel of ``against``.

    Zero means no training patch of radius ``patch_radius`` sees a test (or val) pixel.
    """
    if patch_radius < 0:
        raise ValueError(f"patch_radius must be >= 0, got {patch_radius}")
    other = split.mask(against)
    near = (
        ndimage.maximum_filter(other.astype(np.uint8), size=2 * patch_radius + 1, mode="constant", cval=0) > 0
    )
    return int(np.count_nonzero(near & split.mask("train")))


# ---------------------------------------------------------------------------------------- per class
def per_class_split(
    labels: np.ndarray,
    n_per_class: int | float,
    *,
    val_per_class: int | float = 0,
    seed: int | None = 0,
    valid: np.ndarray | None = None,
    dataset: str | None = None,
) -> Split:
    """Random split with a fixed labelled budget per class.

    Args:
        labels: ``(h, w)`` integer class map.
        n_per_class: labelled pixels per class taken for training + validation: an ``int`` count
            (capped at half of the class, see the module docstring) or a ``float`` fraction in (0, 1).
        val_per_class: pixels per class carved for validation **out of** that budget (int count or
            fraction of the budget); upstream "10 train + 5 val" is ``n_per_class=15, val_per_class=5``.
        seed: RNG seed (``numpy.random.default_rng``); saved with the split.
        valid: ``(h, w)`` bool mask of labelled pixels; default ``labels > 0`` (0 = unlabelled).
            Pass ``mask`` for change maps where 0 is a class ("unchanged").
        dataset: registry name, recorded in the split.

    Returns:
        The split; every valid pixel is in exactly one part.
    """
    labels = _check_labels(labels)
    ok = _valid_mask(labels, valid)
    if isinstance(n_per_class, float) and not 0.0 < n_per_class < 1.0:
        raise ValueError(f"a fractional n_per_class must be in (0, 1), got {n_per_class}")
    if isinstance(n_per_class, int) and n_per_class < 1:
        raise ValueError(f"n_per_class must be >= 1, got {n_per_class}")
    if val_per_class < 0:
        raise ValueError(f"val_per_class must be >= 0, got {val_per_class}")
    rng = _rng_seed(seed)
    flat = labels.reshape(-1)
    valid_idx = np.flatnonzero(ok.reshape(-1))
    parts: dict[str, list[np.ndarray]] = {p: [] for p in PARTS}
    reduced: dict[int, str] = {}
    for c in np.unique(flat[valid_idx]):
        idx = valid_idx[flat[valid_idx] == c]
        idx = idx[rng.permutation(idx.size)]
        count = idx.size
        if isinstance(n_per_class, float):
            k = max(1, round(n_per_class * count)) if count >= 2 else 0
            k = min(k, count - 1)
        else:
            k = min(n_per_class, count // 2)
            if k < n_per_class:
                reduced[int(c)] = f"{count} px -> {k} for training (at most half of the class)"
        if isinstance(val_per_class, float):
            v = round(val_per_class * k)
        else:
            v = int(val_per_class)
        v = min(v, max(k - 1, 0))
        if v < (val_per_class if isinstance(val_per_class, int) else 0):
            reduced.setdefault(int(c), f"{count} px")
            reduced[int(c)] += f"; validation reduced to {v}"
        parts["val"].append(idx[:v])
        parts["train"].append(idx[v:k])
        parts["test"].append(idx[k:])
    if reduced:
        log.warning(
            "per_class_split%s: small classes capped: %s",
            f" ({dataset})" if dataset else "",
            "; ".join(f"class {c}: {msg}" for c, msg in reduced.items()),
        )
    return _make_split(
        labels,
        parts,
        method="per_class",
        seed=seed,
        params={"n_per_class": n_per_class, "val_per_class": val_per_class, "capped_classes": reduced},
        dataset=dataset,
    )


def _make_split(
    labels: np.ndarray,
    parts: dict[str, list[np.ndarray]],
    *,
    method: str,
    seed: int | None,
    params: dict[str, Any],
    dataset: str | None,
    part_labels: dict[str, np.ndarray] | None = None,
) -> Split:
    flat = labels.reshape(-1)
    arrays = {
        p: (np.concatenate(parts[p]) if parts[p] else np.zeros(0, np.int64)).astype(np.int64) for p in PARTS
    }
    ys = {
        p: (part_labels[p] if part_labels is not None and p in part_labels else flat[arrays[p]])
        for p in PARTS
    }
    return Split(
        shape=(labels.shape[0], labels.shape[1]),
        train=arrays["train"],
        val=arrays["val"],
        test=arrays["test"],
        y_train=ys["train"],
        y_val=ys["val"],
        y_test=ys["test"],
        method=method,
        seed=seed,
        params=params,
        dataset=dataset,
    )


# ---------------------------------------------------------------------------------------- fixed
def fixed_split(
    train_map: np.ndarray,
    test_map: np.ndarray | None = None,
    *,
    labels: np.ndarray | None = None,
    dataset: str | None = None,
    method: str = "fixed",
) -> Split:
    """Split given by official maps (class ids > 0 mark the pixels of each part).

    Training labels come from ``train_map``. Test pixels and labels come from ``test_map``, or, when
    it is ``None``, from ``labels`` outside the training map (``labels > 0 and train_map == 0``).

    Raises:
        ValueError: the maps overlap or have different shapes.
    """
    train_map = _check_labels(train_map, "train_map")
    if test_map is None:
        if labels is None:
            raise ValueError("fixed_split needs test_map or labels")
        lab = _check_labels(labels, "labels")
        if lab.shape != train_map.shape:
            raise ValueError(f"labels shape {lab.shape} != train_map shape {train_map.shape}")
        test_map = np.where(train_map > 0, 0, lab)
    test_map = _check_labels(test_map, "test_map")
    if test_map.shape != train_map.shape:
        raise ValueError(f"test_map shape {test_map.shape} != train_map shape {train_map.shape}")
    overlap = int(np.count_nonzero((train_map > 0) & (test_map > 0)))
    if overlap:
        raise ValueError(f"train and test maps overlap on {overlap} pixels")
    tr = np.flatnonzero(train_map.reshape(-1) > 0)
    te = np.flatnonzero(test_map.reshape(-1) > 0)
    return _make_split(
        train_map,
        {"train": [tr], "val": [], "test": [te]},
        method=method,
        seed=None,
        params={},
        dataset=dataset,
        part_labels={"train": train_map.reshape(-1)[tr], "test": test_map.reshape(-1)[te]},
    )


def official_split(
    name: str,
    variant: str | None = None,
    root: str | os.PathLike[str] | None = None,
    **load_kwargs: Any,
) -> Split:
    """The official fixed split of a registered dataset (``info.official_splits``).

    - ``pavia_university``/``"fixed"``: TRpavia_fixed (train) and TSpavia_fixed (test).
    - ``houston2013``/``"fixed"``: the DFC 2013 train and test maps.
    - ``indian_pines``/``"disjoint"``: the GRSS DASE disjoint training map, remapped to the GT class
      order; test = GT pixels outside it.

    Only the maps are read (the cubes need not be present). ``load_kwargs`` go to
    :func:`hs_data.load_scene` (``download``, ``cache_dir``...).
    """
    from hs_data.registry import get_dataset_info
    from hs_data.scenes import load_scene

    info = get_dataset_info(name)
    if not info.official_splits:
        raise ValueError(
            f"dataset {name!r} has no official split; use per_class_split or spatially_disjoint_split"
        )
    variant = variant or info.official_splits[0]
    if variant not in info.official_splits:
        raise ValueError(
            f"dataset {name!r}: unknown split {variant!r}; official splits: {info.official_splits}"
        )
    if "test_map" in info.roles:
        s = load_scene(name, root, keys=("train_map", "test_map"), **load_kwargs)
        split = fixed_split(s["train_map"], s["test_map"], dataset=name, method=f"official:{variant}")
    else:
        s = load_scene(name, root, keys=("train_map", "label"), **load_kwargs)
        split = fixed_split(s["train_map"], labels=s["label"], dataset=name, method=f"official:{variant}")
    split.params = {"variant": variant}
    return split


def derive_class_mapping(source: np.ndarray, reference: np.ndarray) -> dict[int, int]:
    """Map each class of ``source`` to the ``reference`` class it overlaps most (0 ignored in both).

    Used to re-derive the Indian Pines disjoint-map numbering from the data; raises ``ValueError``
    when two source classes land on the same reference class (the mapping must be one-to-one).
    """
    source = _check_labels(source, "source")
    reference = _check_labels(reference, "reference")
    if source.shape != reference.shape:
        raise ValueError(f"source shape {source.shape} != reference shape {reference.shape}")
    mapping: dict[int, int] = {}
    both = (source > 0) & (reference > 0)
    for c in np.unique(source[source > 0]):
        ref = reference[both & (source == c)]
        if ref.size == 0:
            raise ValueError(f"source class {int(c)} does not overlap any labelled reference pixel")
        mapping[int(c)] = int(np.bincount(ref).argmax())
    targets = list(mapping.values())
    if len(set(targets)) != len(targets):
        raise ValueError(f"class mapping is not one-to-one: {mapping}")
    return mapping


# ---------------------------------------------------------------------------------------- disjoint
def spatially_disjoint_split(
    labels: np.ndarray,
    *,
    block_size: int,
    train_fraction: float = 0.5,
    val_fraction: float = 0.0,
    patch_radius: int = 0,
    seed: int | None = 0,
    valid: np.ndarray | None = None,
    dataset: str | None = None,
) -> Split:
    """Block-wise split with a guard band so that no training patch contains a test pixel.

    The scene is tiled into ``block_size`` x ``block_size`` blocks. Blocks holding labelled pixels
    are visited in a seeded random order and assigned greedily: a block goes to training when at
    least half of its labelled pixels, each weighted by 1 / (size of its class), belong to classes
    that still lack training pixels (target: ``train_fraction`` of each class), otherwise to test;
    then validation blocks are taken from the training blocks the same way (``val_fraction`` of
    each class). Finally every training pixel
    within Chebyshev distance ``patch_radius`` of a test or validation pixel is dropped (and every
    validation pixel within ``patch_radius`` of a test pixel), so a ``(2r+1) x (2r+1)`` training
    patch never contains a test or validation pixel (checked by :func:`leaking_train_pixels`).

    Args:
        labels: ``(h, w)`` integer class map.
        block_size: side of the square blocks in pixels (larger than ``2 * patch_radius`` keeps most
            pixels usable).
        train_fraction: target fraction of each class's pixels in training blocks (before the guard).
        val_fraction: target fraction of each class moved from training to validation blocks.
        patch_radius: ``r`` of the patches the model will read.
        seed: RNG seed; saved with the split.
        valid: labelled-pixel mask; default ``labels > 0``.
        dataset: registry name, recorded in the split.
    """
    labels = _check_labels(labels)
    ok = _valid_mask(labels, valid)
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    if not 0.0 <= val_fraction < train_fraction:
        raise ValueError(f"val_fraction must be in [0, train_fraction), got {val_fraction}")
    if patch_radius < 0:
        raise ValueError(f"patch_radius must be >= 0, got {patch_radius}")
    h, w = labels.shape
    rng = _rng_seed(seed)
    nby, nbx = math.ceil(h / block_size), math.ceil(w / block_size)
    rows = np.arange(h)[:, None] // block_size
    cols = np.arange(w)[None, :] // block_size
    block_id = (rows * nbx + cols).reshape(-1)
    flat = labels.reshape(-1)
    vidx = np.flatnonzero(ok.reshape(-1))
    classes, cls_pos = np.unique(flat[vidx], return_inverse=True)
    n_blocks = nby * nbx
    hist = np.zeros((n_blocks, classes.size), dtype=np.int64)
    np.add.at(hist, (block_id[vidx], cls_pos), 1)
    totals = hist.sum(axis=0)
    order = rng.permutation(n_blocks)
    order = order[hist[order].sum(axis=1) > 0]

    weight = 1.0 / np.maximum(totals, 1)  # rare classes weigh more, so they reach training too

    def greedy(blocks: np.ndarray, need: np.ndarray) -> np.ndarray:
        take = np.zeros(blocks.size, dtype=bool)
        need = need.astype(np.float64).copy()
        for i, b in enumerate(blocks):
            counts = hist[b]
            useful = (weight * np.minimum(counts, np.maximum(need, 0))).sum()
            if useful > 0 and useful * 2 >= (weight * counts).sum():
                take[i] = True
                need -= counts
        return take

    in_train = greedy(order, train_fraction * totals)
    train_blocks = order[in_train]
    test_blocks = order[~in_train]
    val_blocks = np.zeros(0, dtype=np.int64)
    if val_fraction > 0:
        in_val = greedy(train_blocks, val_fraction * totals)
        val_blocks = train_blocks[in_val]
        train_blocks = train_blocks[~in_val]

    def pixels_of(blocks: np.ndarray) -> np.ndarray:
        sel = np.zeros(n_blocks, dtype=bool)
        sel[blocks] = True
        return vidx[sel[block_id[vidx]]]

    train_idx, val_idx, test_idx = pixels_of(train_blocks), pixels_of(val_blocks), pixels_of(test_blocks)
    size = 2 * patch_radius + 1

    def near(idx: np.ndarray) -> np.ndarray:
        m = np.zeros(h * w, dtype=np.uint8)
        m[idx] = 1
        return (ndimage.maximum_filter(m.reshape(h, w), size=size, mode="constant", cval=0) > 0).reshape(-1)

    near_test = near(test_idx)
    near_val = near(val_idx) if val_idx.size else np.zeros(h * w, dtype=bool)
    keep_train = ~(near_test[train_idx] | near_val[train_idx])
    keep_val = ~near_test[val_idx]
    dropped = {"train": int((~keep_train).sum()), "val": int((~keep_val).sum())}
    train_idx, val_idx = train_idx[keep_train], val_idx[keep_val]
    split = _make_split(
        labels,
        {"train": [train_idx], "val": [val_idx], "test": [test_idx]},
        method="spatially_disjoint",
        seed=seed,
        params={
            "block_size": block_size,
            "train_fraction": train_fraction,
            "val_fraction": val_fraction,
            "patch_radius": patch_radius,
            "guard_dropped": dropped,
            "blocks": {
                "train": int(train_blocks.size),
                "val": int(val_blocks.size),
                "test": int(test_blocks.size),
            },
        },
        dataset=dataset,
    )
    no_train = [int(c) for c in classes if c not in split.counts("train")]
    no_test = [int(c) for c in classes if c not in split.counts("test")]
    if no_train or no_test:
        log.warning(
            "spatially_disjoint_split%s: classes without training pixels %s, without test pixels %s "
            "(try a smaller block_size or another seed)",
            f" ({dataset})" if dataset else "",
            no_train,
            no_test,
        )
    return split
