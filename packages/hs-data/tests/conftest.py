from __future__ import annotations

import os
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes to the user's cache or reads a mirror from the environment."""
    monkeypatch.setenv("HS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("HS_DATA_MIRROR", raising=False)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The project's real data folder; tests that need it skip (saying why) when it is not set."""
    root = os.environ.get("HS_DATA_ROOT")
    if not root:
        pytest.skip("HS_DATA_ROOT is not set: real-scene tests need the project's shared data folder")
    path = Path(root)
    if not (path / "SHA256SUMS").is_file():
        pytest.skip(f"HS_DATA_ROOT={root} does not hold the shared data folder (no SHA256SUMS)")
    return path


@dataclass
class ServerBehaviour:
    """How the test HTTP server answers (changed by the tests)."""

    ranges: bool = True  # honour "Range: bytes=N-" with 206
    drop_after: int | None = None  # close the connection after this many body bytes (first request only)
    corrupt: bool = False  # flip bytes in the middle of every body
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    dropped: bool = False


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_GET(self) -> None:
        behaviour = self.server.behaviour
        rng = self.headers.get("Range")
        behaviour.requests.append((self.path, rng))
        rel = urllib.parse.unquote(urllib.parse.urlparse(self.path).path).lstrip("/")
        target = (self.server.directory / rel).resolve()
        if self.server.directory not in target.parents or not target.is_file():
            self.send_error(404, "not found")
            return
        body = target.read_bytes()
        if behaviour.corrupt:
            mid = len(body) // 2
            body = body[:mid] + bytes(b ^ 0xFF for b in body[mid : mid + 16]) + body[mid + 16 :]
        start = 0
        if rng and behaviour.ranges and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Accept-Ranges", "bytes" if behaviour.ranges else "none")
        self.end_headers()
        if behaviour.drop_after is not None and not behaviour.dropped:
            behaviour.dropped = True
            self.wfile.write(payload[: behaviour.drop_after])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, directory: Path, behaviour: ServerBehaviour) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.directory = directory.resolve()
        self.behaviour = behaviour
        self.timeout = 10


@dataclass
class LocalServer:
    url: str
    behaviour: ServerBehaviour
    directory: Path


@pytest.fixture
def http_server() -> Iterator[Callable[[Path], LocalServer]]:
    """Factory: serve a directory on 127.0.0.1 (random free port, one thread), shut down at teardown."""
    started: list[tuple[_Server, threading.Thread]] = []

    def start(directory: Path) -> LocalServer:
        behaviour = ServerBehaviour()
        server = _Server(directory, behaviour)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append((server, thread))
        host, port = server.server_address[:2]
        return LocalServer(f"http://{host}:{port}/", behaviour, directory)

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
