"""Where dataset files are found, and how they are fetched and verified.

Look-up order for a registered file (relative path ``p``):

1. ``root / p`` where ``root`` is the ``root`` argument, else ``$HS_DATA_ROOT``. This folder is
   only ever read.
2. ``cache / p`` where ``cache`` is the ``cache_dir`` argument, else ``$HS_CACHE_DIR``, else
   ``$XDG_CACHE_HOME/hsigma/data``, else ``~/.cache/hsigma/data``.
3. With ``download=True``: fetched into the cache from ``mirror + p`` (``mirror`` argument or
   ``$HS_DATA_MIRROR``), else from the file's canonical URLs.

A download is written to ``<cache>/p.part``, resumed with an HTTP ``Range`` request when the
connection drops and the server supports ranges (otherwise fetched again from the start), checked
against the registered sha256, and only then moved onto ``<cache>/p`` with ``os.replace``. A
checksum mismatch deletes the partial file, raises :class:`~hs_data.errors.ChecksumError` with the
expected and actual digests, and leaves any existing cached file untouched.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from hs_data.errors import ChecksumError, DatasetNotFoundError, DownloadError
from hs_data.registry import DatasetInfo, FileSpec

__all__ = [
    "cache_dir",
    "data_root",
    "download_url",
    "locate_file",
    "resolve_file",
    "sha256sum",
    "verify_checksum",
]

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def data_root(root: str | os.PathLike[str] | None = None) -> Path | None:
    """The read-only data root: ``root`` if given, else ``$HS_DATA_ROOT``, else ``None``."""
    if root is not None:
        return Path(root)
    env = os.environ.get("HS_DATA_ROOT")
    return Path(env) if env else None


def cache_dir(cache: str | os.PathLike[str] | None = None) -> Path:
    """The download cache: ``cache``, else ``$HS_CACHE_DIR``, else ``$XDG_CACHE_HOME/hsigma/data``,
    else ``~/.cache/hsigma/data``."""
    if cache is not None:
        return Path(cache)
    if os.environ.get("HS_CACHE_DIR"):
        return Path(os.environ["HS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hsigma" / "data"


def sha256sum(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(path: str | os.PathLike[str], expected: str, *, context: str = "") -> None:
    """Raise :class:`ChecksumError` (expected and actual digests) unless ``sha256(path) == expected``."""
    actual = sha256sum(path)
    if actual != expected.lower():
        raise ChecksumError(path, expected.lower(), actual, context=context)


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, headers={"User-Agent": "hs-data"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return cast(http.client.HTTPResponse, urllib.request.urlopen(request, timeout=timeout))


def download_url(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    timeout: float = 60.0,
    retries: int = 3,
    backoff: float = 0.5,
) -> Path:
    """Fetch ``url`` into ``dest`` through ``dest.part``, resuming a dropped transfer, atomically.

    Args:
        url: http(s) or file URL.
        dest: final path; its parent is created. An existing ``dest`` is replaced only by a verified
            download (or, when ``sha256`` is ``None``, by a complete one).
        sha256: expected hex digest; ``None`` saves the file unverified (logged).
        timeout: seconds per connection attempt.
        retries: further attempts after a dropped connection (each resumes when the server answers
            a ``Range`` request with 206, else starts over).
        backoff: seconds before the first retry (doubled each time).

    Returns:
        ``dest``.

    Raises:
        ChecksumError: the completed file does not match ``sha256`` (after one fresh re-download
            when the first result was assembled from a resumed transfer); nothing at ``dest`` changes.
        DownloadError: HTTP error or the transfer kept failing.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    fresh_retry_done = False
    attempt = 0
    resumed = False
    while True:
        offset = part.stat().st_size if part.exists() else 0
        try:
            with _open(url, offset, timeout) as resp:
                status = getattr(resp, "status", 200)
                if (
                    offset
                    and status == 206
                    and resp.headers.get("Content-Range", "").startswith(f"bytes {offset}-")
                ):
                    mode = "ab"
                    resumed = True
                    log.info("%s: resuming at byte %d", url, offset)
                else:
                    if offset:
                        log.info("%s: server ignored the range request; fetching again from the start", url)
                    mode = "wb"
                    resumed = False
                length = resp.headers.get("Content-Length")
                received = 0
                with part.open(mode) as f:
                    while True:
                        chunk = resp.read(_CHUNK)
                        if not chunk:
                            break
                        f.write(chunk)
                        received += len(chunk)
                if length is not None and received < int(length):
                    # http.client returns b"" at EOF without raising when the peer closes early
                    raise http.client.IncompleteRead(b"", int(length) - received)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:  # range not satisfiable: the partial file may be complete or bad
                log.info("%s: range %d- not satisfiable; verifying the partial file", url, offset)
            else:
                part.unlink(missing_ok=True)
                raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason} (for {dest})") from exc
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as exc:
            attempt += 1
            if attempt > retries:
                raise DownloadError(
                    f"{url}: transfer failed after {retries + 1} attempts ({type(exc).__name__}: {exc}); "
                    f"partial file kept at {part} for a later resume"
                ) from exc
            log.warning("%s: transfer interrupted (%s); retry %d of %d", url, exc, attempt, retries)
            time.sleep(backoff * 2 ** (attempt - 1))
            continue
        if sha256 is None:
            log.warning("%s: no checksum registered; saved %s unverified", url, dest)
            os.replace(part, dest)
            return dest
        actual = sha256sum(part)
        if actual == sha256.lower():
            os.replace(part, dest)
            return dest
        part.unlink(missing_ok=True)
        if resumed and not fresh_retry_done:
            log.warning(
                "%s: checksum mismatch after a resumed transfer; fetching once more from scratch", url
            )
            fresh_retry_done = True
            continue
        raise ChecksumError(
            dest, sha256.lower(), actual, context=f"Downloaded from {url}; the bad download was deleted."
        )


def _mirror(mirror: str | None) -> str | None:
    value = mirror if mirror is not None else os.environ.get("HS_DATA_MIRROR")
    if not value:
        return None
    return value if value.endswith("/") else value + "/"


def locate_file(
    spec: FileSpec,
    *,
    root: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> Path | None:
    """The local copy of ``spec`` (data root first, then cache), or ``None``. Does not verify."""
    for candidate in _candidates(spec, root, cache):
        if candidate.is_file():
            return candidate
    return None


def _candidates(
    spec: FileSpec, root: str | os.PathLike[str] | None, cache: str | os.PathLike[str] | None
) -> list[Path]:
    out = []
    base = data_root(root)
    if base is not None:
        out.append(base / spec.path)
    out.append(cache_dir(cache) / spec.path)
    return out


def _urls(spec: FileSpec, mirror: str | None) -> list[str]:
    m = _mirror(mirror)
    if m is not None:
        return [m + "/".join(urllib.parse.quote(p) for p in spec.path.split("/"))]
    return list(spec.urls)


def resolve_file(
    info: DatasetInfo,
    spec: FileSpec,
    *,
    root: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
    download: bool = False,
    mirror: str | None = None,
    checksum: bool = True,
) -> Path:
    """Find (or fetch) one registered file and verify it; returns its local path.

    A file in the data root with a wrong checksum raises (the root is never written). A file in the
    cache with a wrong checksum raises unless ``download`` is set, in which case a verified copy
    replaces it.

    Raises:
        DatasetNotFoundError: the file is absent and cannot be downloaded (message says how to get it).
        ChecksumError: the local or downloaded file does not match the registered sha256.
        DownloadError: every URL failed.
    """
    candidates = _candidates(spec, root, cache)
    cached = candidates[-1]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        if checksum and spec.sha256 is not None:
            try:
                verify_checksum(candidate, spec.sha256, context=f"(dataset {info.name!r})")
            except ChecksumError:
                if candidate == cached and download:
                    log.warning("%s: cached copy fails its checksum; downloading a verified copy", candidate)
                    break
                raise
        return candidate
    urls = _urls(spec, mirror)
    if not download or not urls:
        raise DatasetNotFoundError(_not_found_message(info, spec, candidates, download, urls))
    errors: list[str] = []
    for url in urls:
        try:
            return download_url(url, cached, sha256=spec.sha256 if checksum else None)
        except DownloadError as exc:
            errors.append(str(exc))
            log.warning("%s", exc)
    raise DownloadError(f"dataset {info.name!r}: could not download {spec.path}: " + "; ".join(errors))


def _not_found_message(
    info: DatasetInfo, spec: FileSpec, candidates: Sequence[Path], download: bool, urls: Sequence[str]
) -> str:
    looked = ", ".join(str(c) for c in candidates)
    lines = [f"dataset {info.name!r}: file {spec.path} not found (looked in: {looked})."]
    if data_root(None) is None:
        lines.append("HS_DATA_ROOT is not set.")
    if urls and not download:
        unverified = "" if spec.sha256 else "; no checksum is known, so it would be saved unverified"
        lines.append(f"Pass download=True to fetch it from {urls[0]} (URL {spec.url_status}{unverified}).")
    elif not urls:
        lines.append("No direct download address is known.")
    if info.how_to_get:
        lines.append(f"How to get it: {info.how_to_get}.")
    return " ".join(lines)
