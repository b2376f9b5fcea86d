"""A real HTTP repository process for the store tests (see dav_server.py)."""

from __future__ import annotations

import dataclasses
import subprocess
import urllib.request
from pathlib import Path

import pytest
from _repository import DAV_SERVER, plain_repository, serving

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


@pytest.fixture
def plain_server(tmp_path):
    """A plain PUT/GET/HEAD repository (no listing, no conditional requests) with up to 50 ms
    of network latency per request: its base URL."""
    with plain_repository(tmp_path, latency=0.05) as url:
        yield url


@pytest.fixture
def dav_server(tmp_path):
    with serving(DAV_SERVER, tmp_path, "dav", USER, PASSWORD) as (root, port, proc):
        server = DavServer(root, port, proc)
        yield server
        server.stop()
    assert PASSWORD not in (tmp_path / "server.log").read_text(errors="replace")
