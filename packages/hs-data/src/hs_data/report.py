"""What is known, what is present locally, and how to get the rest (the ``hs-bench datasets`` report).

:func:`dataset_status` checks one dataset's files in the data root and cache (optionally verifying
checksums); :func:`format_status_table` and :func:`describe_dataset` render plain text. The CLI in
hs-bench only parses arguments and prints these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hs_data.download import cache_dir, data_root, locate_file, sha256sum
from hs_data.registry import DatasetInfo, get_dataset_info
from hs_data.scenes import _default_keys, _needed_roles

__all__ = ["DatasetStatus", "dataset_status", "describe_dataset", "format_status_table"]


@dataclass
class DatasetStatus:
    """Local availability of one dataset.

    Attributes:
        name: registry name.
        state: ``"present"`` (every file), ``"partial"`` (some files; see ``loadable_keys``),
            ``"missing"`` (none), ``"no-source"`` (no file is registered: no public source known).
        files_total, files_present: counts.
        missing: relative paths not found.
        bad_checksum: ``"path: expected X, actual Y"`` for files that fail verification (``verify=True``).
        loadable_keys: sample keys whose files are all present.
    """

    name: str
    state: str
    files_total: int
    files_present: int
    missing: list[str] = field(default_factory=list)
    bad_checksum: list[str] = field(default_factory=list)
    loadable_keys: list[str] = field(default_factory=list)


def dataset_status(
    name: str,
    *,
    root: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
    verify: bool = False,
) -> DatasetStatus:
    """Check which files of ``name`` are present (and, with ``verify``, whether their sha256 match)."""
    info = get_dataset_info(name)
    if not info.files:
        return DatasetStatus(name, "no-source", 0, 0)
    present: set[str] = set()
    missing: list[str] = []
    bad: list[str] = []
    for spec in info.files:
        path = locate_file(spec, root=root, cache=cache)
        if path is None:
            missing.append(spec.path)
            continue
        present.add(spec.path)
        if verify and spec.sha256 is not None:
            actual = sha256sum(path)
            if actual != spec.sha256:
                bad.append(f"{path}: expected {spec.sha256}, actual {actual}")
    loadable: list[str] = []
    if info.base is not None:
        loadable = ["(built from " + info.base + ")"] if not missing else []
    else:
        for key in _default_keys(info):
            try:
                specs = info.files_for(_needed_roles(info, [key]))
            except ValueError:
                continue
            if all(s.path in present for s in specs):
                loadable.append(key)
    n = len(info.files)
    state = "present" if not missing else ("partial" if present else "missing")
    return DatasetStatus(name, state, n, len(present), missing, bad, loadable)


def _size(info: DatasetInfo) -> str:
    dims = [info.height, info.width, info.bands]
    if all(d is None for d in dims):
        return "?"
    return "x".join("?" if d is None else str(d) for d in dims)


def format_status_table(
    statuses: list[DatasetStatus],
    *,
    root: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> str:
    """A plain-text table (name, task, size, HyperSIGMA, state, what to do) and a summary."""
    rows = [("dataset", "task", "h x w x c", "paper", "local", "what is there / how to get it")]
    for st in statuses:
        info = get_dataset_info(st.name)
        paper = {"v1": "v1", "tpami": "TPAMI", "": "-"}[info.hypersigma]
        if info.synthetic:
            paper = "synthetic"
        if st.state == "present":
            what = "all files present" + (" (BAD CHECKSUM)" if st.bad_checksum else "")
        elif st.state == "partial":
            loadable = ", ".join(st.loadable_keys) or "nothing"
            what = f"{st.files_present}/{st.files_total} files; loadable: {loadable}; "
            what += f"get the rest: {info.how_to_get}"
        elif st.state == "missing":
            what = info.how_to_get or "no instructions"
        else:
            what = "no public source known: " + (info.how_to_get or info.notes)
        local = st.state + (" !" if st.bad_checksum else "")
        rows.append((st.name, info.task, _size(info), paper, local, what))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:5])) + "  " + r[5] for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 30)
    counts = {
        s: sum(st.state == s for st in statuses) for s in ("present", "partial", "missing", "no-source")
    }
    base = data_root(root)
    lines.append("")
    lines.append(
        f"{len(statuses)} datasets: {counts['present']} present, {counts['partial']} partial, "
        f"{counts['missing']} missing, {counts['no-source']} without a known source."
    )
    lines.append(
        f"data root: {base if base is not None else 'not set (HS_DATA_ROOT unset)'}; "
        f"cache: {cache_dir(cache)}"
    )
    bad = [b for st in statuses for b in st.bad_checksum]
    if bad:
        lines.append("CHECKSUM MISMATCHES:")
        lines += [f"  {b}" for b in bad]
    lines.append(
        "Details and download URLs: hs-bench datasets NAME; fetch: hs_data.load_scene(NAME, download=True)."
    )
    return "\n".join(lines)


def describe_dataset(
    name: str,
    *,
    root: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
    verify: bool = False,
) -> str:
    """Everything the registry knows about one dataset, with the local state of each file."""
    info = get_dataset_info(name)
    st = dataset_status(name, root=root, cache=cache, verify=verify)
    lines = [
        f"{info.name}: {info.title}",
        f"  task: {info.task}   sensor: {info.sensor}   size (h x w x c): {_size(info)}",
        f"  in HyperSIGMA: {info.hypersigma or 'no'}   synthetic: {'yes' if info.synthetic else 'no'}",
    ]
    if info.synthetic and info.base:
        lines.append(f"  built from: {info.base} by {info.recipe}")
    if info.classes:
        lines.append(
            f"  classes ({len(info.classes)}): "
            + ", ".join(f"{i + 1} {c}" for i, c in enumerate(info.classes))
        )
    if info.endmembers:
        lines.append(f"  endmembers: {', '.join(info.endmembers)}")
    if info.wavelength_range_nm:
        exact = (
            " (per-band values in the sample)" if info.wavelengths_nm or "wavelengths" in info.roles else ""
        )
        lines.append(
            f"  wavelengths: {info.wavelength_range_nm[0]:g}-{info.wavelength_range_nm[1]:g} nm{exact}"
        )
    lines.append(f"  image values: stored / {info.scale:g} -> {info.units}")
    if info.official_splits:
        lines.append(f"  official splits: {', '.join(info.official_splits)}")
    lines.append(
        f"  local state: {st.state}"
        + (f"; loadable keys: {', '.join(st.loadable_keys)}" if st.loadable_keys else "")
    )
    lines.append("  files:")
    for spec in info.files:
        path = locate_file(spec, root=root, cache=cache)
        where = f"present at {path}" if path is not None else "MISSING"
        lines.append(f"    {spec.path} [{where}]")
        lines.append(
            f"      sha256: {spec.sha256 or 'unknown (never seen by this project)'}; "
            f"bytes: {spec.size or '?'}"
        )
        for arr in spec.arrays:
            lines.append(f"      key {arr.key or '-'}: {'x'.join(map(str, arr.shape))} {arr.dtype}")
        for url in spec.urls:
            lines.append(f"      url ({spec.url_status}): {url}")
        if spec.source:
            lines.append(f"      source: {spec.source}")
        if spec.note:
            lines.append(f"      note: {spec.note}")
    for b in st.bad_checksum:
        lines.append(f"  CHECKSUM MISMATCH: {b}")
    lines.append(f"  how to get: {info.how_to_get or '-'}")
    lines.append(f"  homepage: {info.homepage or '-'}")
    lines.append(f"  cite: {info.citation or '-'}")
    lines.append(f"  terms: {info.terms or '-'}")
    if info.related:
        lines.append(f"  related: {', '.join(info.related)}")
    if info.notes:
        lines.append(f"  notes: {info.notes}")
    return "\n".join(lines)
