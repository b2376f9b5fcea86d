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
def dav_server(tmp_path):
    root = tmp_path / "dav-root"
    root.mkdir()
    port_file = tmp_path / "port"
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, str(SERVER), str(root), str(port_file), USER,
                             PASSWORD], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(f"dav server did not start: {(tmp_path / 'server.log').read_text()}")
        time.sleep(0.05)
    server = DavServer(root, int(port_file.read_text()), proc)
    try:
        yield server
    finally:
        server.stop()
        log.close()
        assert PASSWORD not in (tmp_path / "server.log").read_text(errors="replace")
