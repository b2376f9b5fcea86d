"""A real HTTP repository process for the store tests (see dav_server.py)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

SERVER = Path(__file__).with_name("dav_server.py")
PLAIN_SERVER = Path(__file__).with_name("plain_server.py")
USER = "ci-bot"
PASSWORD = "pw-Zq8!k3-secret"  # tests grep every output for this string


@dataclasses.dataclass
class DavServer:
    root: Path
    port: int
    proc: subprocess.Popen
    user: str = USER
    password: str = PASSWORD

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/baselines/"

    def env(self, password: str = PASSWORD) -> dict[str, str]:
        return {"MLQA_STORE_USER": USER, "MLQA_STORE_PASSWORD": password}

    def fault(self, status: int, count: int) -> None:
        """The next ``count`` requests answer ``status``."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_fault?status={status}"
                                    f"&count={count}", timeout=10) as response:
            assert response.status == 200

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _start(tmp_path: Path, name: str, *args: str) -> tuple[Path, int, subprocess.Popen, object]:
    root = tmp_path / f"{name}-root"
    root.mkdir()
    port_file = tmp_path / f"{name}.port"
    log = open(tmp_path / "server.log", "wb")
    script = SERVER if name == "dav" else PLAIN_SERVER
    proc = subprocess.Popen([sys.executable, str(script), str(root), str(port_file), *args],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(f"{name} server did not start: {(tmp_path / 'server.log').read_text()}")
        time.sleep(0.05)
    return root, int(port_file.read_text()), proc, log


@pytest.fixture
def plain_server(tmp_path):
    """A plain PUT/GET/HEAD repository (no listing, no conditional requests) with up to 50 ms
    of network latency per request: its base URL."""
    root, port, proc, log = _start(tmp_path, "plain", "0.05")
    try:
        yield f"http://127.0.0.1:{port}/repository/ml/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def dav_server(tmp_path):
    root, port, proc, log = _start(tmp_path, "dav", USER, PASSWORD)
    server = DavServer(root, port, proc)
    try:
        yield server
    finally:
        server.stop()
        log.close()
        assert PASSWORD not in (tmp_path / "server.log").read_text(errors="replace")
