"""download=True against a local HTTP server on 127.0.0.1 serving the real scenes (HS_DATA_ROOT)."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

import hs_data
from hs_data import ChecksumError, DatasetNotFoundError, DownloadError, download_url, load_scene, sha256sum
from hs_data.download import resolve_file

SMALL = "unmixing/moffett/moffett.mat"  # 1.1 MB, one file
MOFFETT_SHA = "1fc5875512af3d87a511a9ad8795b03f3785a834d75442edf07fa31332795567"


def test_download_scene_from_mirror_matches_local(data_root: Path, http_server, tmp_path: Path) -> None:
    server = http_server(data_root)
    empty_root = tmp_path / "root"
    empty_root.mkdir()
    cache = tmp_path / "cache"
    got = load_scene("moffett", empty_root, download=True, cache_dir=cache, mirror=server.url)
    ref = load_scene("moffett", data_root)
    assert (cache / SMALL).is_file()
    assert sha256sum(cache / SMALL) == MOFFETT_SHA
    for key in ("image", "abundances", "endmembers"):
        np.testing.assert_array_equal(got[key], ref[key])
    # a second load uses the cache, no new request
    n = len(server.behaviour.requests)
    load_scene("moffett", empty_root, download=True, cache_dir=cache, mirror=server.url)
    assert len(server.behaviour.requests) == n


def test_dropped_connection_resumes_with_range(data_root: Path, http_server, tmp_path: Path) -> None:
    server = http_server(data_root)
    server.behaviour.drop_after = 300_000
    dest = tmp_path / "cache" / SMALL
    download_url(server.url + SMALL, dest, sha256=MOFFETT_SHA, backoff=0.01)
    assert sha256sum(dest) == MOFFETT_SHA
    ranges = [r for _, r in server.behaviour.requests]
    assert ranges == [None, "bytes=300000-"], ranges
    assert not dest.with_name(dest.name + ".part").exists()


def test_dropped_connection_without_range_support_refetches(
    data_root: Path, http_server, tmp_path: Path
) -> None:
    server = http_server(data_root)
    server.behaviour.drop_after = 200_000
    server.behaviour.ranges = False
    dest = tmp_path / "cache" / SMALL
    download_url(server.url + SMALL, dest, sha256=MOFFETT_SHA, backoff=0.01)
    assert sha256sum(dest) == MOFFETT_SHA
    assert len(server.behaviour.requests) == 2  # the second request got a full 200 answer


def test_partial_file_from_an_earlier_run_is_resumed(data_root: Path, http_server, tmp_path: Path) -> None:
    server = http_server(data_root)
    dest = tmp_path / "cache" / SMALL
    dest.parent.mkdir(parents=True)
    data = (data_root / SMALL).read_bytes()
    dest.with_name(dest.name + ".part").write_bytes(data[:123_456])
    download_url(server.url + SMALL, dest, sha256=MOFFETT_SHA)
    assert sha256sum(dest) == MOFFETT_SHA
    assert server.behaviour.requests == [("/" + SMALL, "bytes=123456-")]


def test_corrupted_download_raises_and_leaves_good_cache_untouched(
    data_root: Path, http_server, tmp_path: Path
) -> None:
    server = http_server(data_root)
    server.behaviour.corrupt = True
    dest = tmp_path / "cache" / SMALL
    dest.parent.mkdir(parents=True)
    shutil.copyfile(data_root / SMALL, dest)  # a good cached copy
    with pytest.raises(ChecksumError) as err:
        download_url(server.url + SMALL, dest, sha256=MOFFETT_SHA)
    msg = str(err.value)
    assert f"expected {MOFFETT_SHA}" in msg and f"actual {err.value.actual}" in msg
    assert err.value.actual != MOFFETT_SHA
    assert sha256sum(dest) == MOFFETT_SHA  # untouched
    assert not dest.with_name(dest.name + ".part").exists()  # bad bytes deleted


def test_corrupted_resumed_download_is_refetched_once_then_raises(
    data_root: Path, http_server, tmp_path: Path
) -> None:
    server = http_server(data_root)
    server.behaviour.corrupt = True
    server.behaviour.drop_after = 100_000
    dest = tmp_path / "cache" / SMALL
    with pytest.raises(ChecksumError):
        download_url(server.url + SMALL, dest, sha256=MOFFETT_SHA, backoff=0.01)
    assert not dest.exists()
    assert [r for _, r in server.behaviour.requests] == [None, "bytes=100000-", None]


def test_bad_cached_file_is_replaced_only_by_a_verified_download(
    data_root: Path, http_server, tmp_path: Path
) -> None:
    server = http_server(data_root)
    cache = tmp_path / "cache"
    bad = cache / SMALL
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"truncated")
    info = hs_data.get_dataset_info("moffett")
    spec = info.file(SMALL)
    with pytest.raises(ChecksumError):  # without download: refuse, name expected and actual
        resolve_file(info, spec, root=tmp_path / "none", cache=cache)
    path = resolve_file(info, spec, root=tmp_path / "none", cache=cache, download=True, mirror=server.url)
    assert path == bad and sha256sum(bad) == MOFFETT_SHA


def test_http_error_is_a_download_error(data_root: Path, http_server, tmp_path: Path) -> None:
    server = http_server(data_root)
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_url(server.url + "no/such/file.mat", tmp_path / "x.mat", sha256=MOFFETT_SHA)
    assert not (tmp_path / "x.mat").exists()


def test_download_false_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as err:
        load_scene("pavia_university", tmp_path, keys=("image",), cache_dir=tmp_path / "cache")
    msg = str(err.value)
    assert "classification/pavia_university/PaviaU.mat" in msg
    assert "download=True" in msg and "ehu.eus" in msg and "no checksum is known" in msg


def test_unreachable_server_fails_after_bounded_retries(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port that was free a moment ago: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="2 attempts"):
        download_url(
            f"http://127.0.0.1:{port}/x.mat",
            tmp_path / "x.mat",
            sha256=MOFFETT_SHA,
            retries=1,
            backoff=0.01,
            timeout=2,
        )
    assert not (tmp_path / "x.mat").exists()
