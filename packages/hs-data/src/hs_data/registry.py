"""The dataset registry: what each benchmark scene is, which files make it, and where they come from.

A :class:`DatasetInfo` is data, not code (timm's ``PretrainedCfg`` idea): task, sensor, size, bands,
wavelengths where known, class names, files with their keys, shapes and sha256, canonical URLs
(each with how far it was checked), citation and terms of use. :mod:`hs_data.scenes` turns an
entry into a sample; :mod:`hs_data.report` says what is present locally; the README table is
generated from here (:mod:`hs_data.readme`).

URL status vocabulary (``FileSpec.url_status``):

- ``"hash-checked"``: the file at that address (a repository at a fixed commit) was read and hashed
  when the project's data folder was assembled; its sha256 is the registered one.
- ``"seen-in-public-code"``: the address appears in several public loaders/documents; not fetched
  from here (the project's machines reach no web site but package registries).
- ``"unverified"``: from the literature or from memory; may be stale.
- ``"none"``: no public direct-download address is known (portal with registration, cloud drive).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "TASKS",
    "ArraySpec",
    "DatasetInfo",
    "FileSpec",
    "Role",
    "get_dataset_info",
    "list_datasets",
    "register_dataset",
]

TASKS = (
    "classification",
    "target_detection",
    "anomaly_detection",
    "change_detection",
    "unmixing",
    "denoising",
    "super_resolution",
    "multispectral_change_detection",
    "auxiliary",
)

URL_STATUSES = ("hash-checked", "seen-in-public-code", "unverified", "none")


@dataclass(frozen=True)
class ArraySpec:
    """One array of a file, as stored (MATLAB axis order for MAT files).

    Attributes:
        key: variable name in a MAT file; ``None`` for single-array formats (TIFF, npy, ENVI, BMP).
        shape: stored shape.
        dtype: stored numpy dtype name (``"uint16"``, ``"float64"``...).
    """

    key: str | None
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset.

    Attributes:
        path: path relative to the data root (posix separators); the same relative path is used in
            the download cache and on a mirror.
        sha256: hex digest, or ``None`` when not known (the file was never seen by this project).
        size: bytes, or ``None`` when unknown.
        urls: canonical download addresses, best first.
        url_status: how far ``urls`` were checked (see the module docstring).
        source: provenance, e.g. ``"github:owner/repo@<commit>:path"`` or a portal name.
        arrays: the arrays inside, with stored shape and dtype (checked by the tests where present).
        shared: the file is in the project's shared data folder (``HS_DATA_ROOT`` on its machines).
        note: anything a user must know about this file.
    """

    path: str
    sha256: str | None
    size: int | None
    urls: tuple[str, ...] = ()
    url_status: str = "unverified"
    source: str = ""
    arrays: tuple[ArraySpec, ...] = ()
    shared: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if self.url_status not in URL_STATUSES:
            raise ValueError(f"{self.path}: url_status {self.url_status!r} not in {URL_STATUSES}")
        if self.sha256 is not None and (
            len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256)
        ):
            raise ValueError(f"{self.path}: sha256 must be 64 lowercase hex digits, got {self.sha256!r}")

    @property
    def name(self) -> str:
        """The file name (last path component)."""
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Role:
    """How one sample key is read from a file.

    Attributes:
        file: ``FileSpec.path`` of the file holding it.
        key: MAT variable name (``None`` for single-array formats).
        layout: stored layout, one of
            ``"hwc"`` (rows, cols, bands), ``"chw"``, ``"hw"`` (a map),
            ``"c_p"`` / ``"e_p"`` (bands or endmembers x pixels, pixels in MATLAB column-major order),
            ``"hwe"`` (abundance maps last), ``"ce"`` (bands x endmembers), ``"ec"``,
            ``"vec"`` (a vector stored as (n, 1) or (1, n)), ``"mask255"`` (a map where 255 marks the class).
        remap: ``((stored, new), ...)`` label renumbering applied after reading (e.g. the Indian Pines
            disjoint training map uses its own class order); stored values not listed become 0;
            ``-1`` marks "unknown" in change maps (it becomes ``mask == False``).
        max_value: largest allowed value of this map after ``remap`` (checked on load); ``None``
            uses the dataset's :attr:`DatasetInfo.max_label` for label-like keys.
    """

    file: str
    key: str | None
    layout: str
    remap: tuple[tuple[int, int], ...] | None = None
    max_value: int | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """Everything the project knows about one benchmark scene (or semi-synthetic scene).

    Attributes:
        name: registry key (``snake_case``).
        title: human-readable name.
        task: one of :data:`TASKS`.
        sensor: acquiring sensor (or ``"semi-synthetic from <base>"``).
        height, width, bands: size as used (``None`` where not known).
        files: the files, see :class:`FileSpec`.
        roles: sample key -> :class:`Role` (``image``, ``label``, ``train_map``, ``abundances``...).
        classes: class names for label values ``1..k`` (classification, multiclass change maps).
        num_label_values: for non-classification label maps, the number of allowed values
            (binary maps: 2, values ``0..1``); ``None`` means ``len(classes) + 1``.
        wavelength_range_nm: nominal spectral range.
        wavelengths_nm: exact per-band centre wavelengths when known from documentation (an exact
            grid such as CAVE's 400:10:700 nm, or an ENVI header); a ``wavelengths`` role reads them
            from a file instead. Otherwise samples carry no ``wavelengths`` (none are made up).
        endmembers: endmember names, in the order of the ``endmembers``/``abundances`` arrays.
        scale: the stored image values are divided by this to give ``image`` (see ``units``).
        units: what ``image`` values mean after scaling.
        citation: what to cite.
        terms: licence or terms of use of the data (not of any code).
        homepage: the page that distributes the data.
        how_to_get: instructions when the files are not present.
        hypersigma: ``"v1"`` (in the 16 datasets of arXiv v1), ``"tpami"`` (added in the journal
            version), or ``""`` (not in the HyperSIGMA paper).
        synthetic: ``True`` for simulated or semi-synthetic scenes (never mixed into a real row).
        base: for semi-synthetic scenes, the real dataset they are built from.
        recipe: for semi-synthetic scenes, how they are built (the function in ``hs_data.synthetic``).
        related: names of registry entries of the same scene family (other crops, GT-only files).
        official_splits: names accepted by :func:`hs_data.splits.official_split`.
        notes: quirks a user must know.
    """

    name: str
    title: str
    task: str
    sensor: str
    height: int | None
    width: int | None
    bands: int | None
    files: tuple[FileSpec, ...] = ()
    roles: Mapping[str, Role] = field(default_factory=dict)
    classes: tuple[str, ...] = ()
    num_label_values: int | None = None
    wavelength_range_nm: tuple[float, float] | None = None
    wavelengths_nm: tuple[float, ...] | None = None
    endmembers: tuple[str, ...] = ()
    scale: float = 1.0
    units: str = "DN"
    citation: str = ""
    terms: str = ""
    homepage: str = ""
    how_to_get: str = ""
    hypersigma: str = ""
    synthetic: bool = False
    base: str | None = None
    recipe: str = ""
    related: tuple[str, ...] = ()
    official_splits: tuple[str, ...] = ()
    notes: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"dataset {self.name!r}: task {self.task!r} not in {TASKS}")
        if self.hypersigma not in ("", "v1", "tpami"):
            raise ValueError(f"dataset {self.name!r}: hypersigma must be '', 'v1' or 'tpami'")
        paths = [f.path for f in self.files]
        if len(set(paths)) != len(paths):
            raise ValueError(f"dataset {self.name!r}: duplicate file paths {paths}")
        for key, role in self.roles.items():
            if role.file not in paths:
                raise ValueError(f"dataset {self.name!r}: role {key!r} names unknown file {role.file!r}")
        object.__setattr__(self, "roles", MappingProxyType(dict(self.roles)))

    @property
    def num_classes(self) -> int:
        """Number of classes ``k`` (label values ``1..k``; 0 = unlabelled), or 0 when not a class map."""
        return len(self.classes)

    @property
    def max_label(self) -> int | None:
        """Largest allowed label value, or ``None`` if the dataset has no label map."""
        if self.num_label_values is not None:
            return self.num_label_values - 1
        return len(self.classes) if self.classes else None

    def file(self, path: str) -> FileSpec:
        """The :class:`FileSpec` with this relative path (or file name)."""
        for f in self.files:
            if path in (f.path, f.name):
                return f
        raise KeyError(f"dataset {self.name!r} has no file {path!r}; files: {[f.path for f in self.files]}")

    def files_for(self, keys: Iterable[str]) -> tuple[FileSpec, ...]:
        """The files needed to build the given sample keys, in registry order."""
        keys = list(keys)
        unknown = [k for k in keys if k not in self.roles]
        if unknown:
            raise ValueError(
                f"dataset {self.name!r}: unknown sample key(s) {unknown}; known: {sorted(self.roles)}"
            )
        needed = {self.roles[k].file for k in keys}
        return tuple(f for f in self.files if f.path in needed)

    @property
    def shared_status(self) -> str:
        """``"all"``, ``"partial"`` or ``"none"``: how many files are in the project's shared data."""
        if not self.files:
            return "none"
        n = sum(f.shared for f in self.files)
        return "all" if n == len(self.files) else ("partial" if n else "none")


_REGISTRY: dict[str, DatasetInfo] = {}


def register_dataset(info: DatasetInfo, *, overwrite: bool = False) -> DatasetInfo:
    """Add an entry to the registry (``ValueError`` if the name is taken, unless ``overwrite``)."""
    if info.name in _REGISTRY and not overwrite:
        raise ValueError(f"dataset {info.name!r} is already registered")
    if info.base is not None and info.base not in _REGISTRY:
        raise ValueError(f"dataset {info.name!r}: base {info.base!r} is not registered")
    _REGISTRY[info.name] = info
    return info


def _ensure_loaded() -> None:
    if not _REGISTRY:
        from hs_data import _catalog  # noqa: F401  (registers the entries on import)


def get_dataset_info(name: str) -> DatasetInfo:
    """The registry entry ``name``.

    Raises:
        ValueError: unknown name (the message suggests close names and lists tasks).
    """
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"; did you mean {close}?" if close else ""
        raise ValueError(
            f"unknown dataset {name!r}{hint} ({len(_REGISTRY)} registered; see hs_data.list_datasets())"
        ) from None


def list_datasets(
    task: str | None = None, *, synthetic: bool | None = None, hypersigma: bool | None = None
) -> list[str]:
    """Registered dataset names, sorted by task then name.

    Args:
        task: keep only this task (one of :data:`TASKS`).
        synthetic: ``True`` only simulated/semi-synthetic, ``False`` only real, ``None`` both.
        hypersigma: ``True`` only datasets of the HyperSIGMA paper, ``False`` only the others.
    """
    _ensure_loaded()
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; tasks: {TASKS}")
    out = [
        info
        for info in _REGISTRY.values()
        if (task is None or info.task == task)
        and (synthetic is None or info.synthetic == synthetic)
        and (hypersigma is None or bool(info.hypersigma) == hypersigma)
    ]
    out.sort(key=lambda i: (TASKS.index(i.task), i.name))
    return [i.name for i in out]
