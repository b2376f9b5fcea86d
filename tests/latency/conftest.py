"""The endpoint tests' model server: tests/latency/endpoint_server.py in its own process on
127.0.0.1 (an ephemeral port), one per test module."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ENDPOINT_SERVER = Path(__file__).with_name("endpoint_server.py")


class ModelServer:
    def __init__(self, base: str):
        self.base = base

    def url(self, name: str, protocol: str = "http-json") -> str:
        return f"{self.base}/v2/models/{name}/infer" if protocol == "kserve-v2" else \
            f"{self.base}/predict/{name}"

    def reset(self) -> None:
        """Re-arm the stall model (it stalls STALL_AT_S after this)."""
        request = urllib.request.Request(f"{self.base}/reset", data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    yield from _serve(tmp_path_factory, 1.0)


@pytest.fixture(scope="module")
def slow_model_server(tmp_path_factory):
    """Every service time x10 (20 ms a request): the model, not this shared machine's
    scheduling noise, dominates each latency (for the A/A and +30% series)."""
    yield from _serve(tmp_path_factory, 10.0)


def _serve(tmp_path_factory, scale):
    folder = tmp_path_factory.mktemp("endpoint")
    port_file, log = folder / "port", open(folder / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, str(ENDPOINT_SERVER), str(port_file), str(scale)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():  # bounded: the server fits its model in about a second
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"model server did not start: "
                                   f"{(folder / 'server.log').read_text()[-2000:]}")
            time.sleep(0.05)
        yield ModelServer(f"http://127.0.0.1:{int(port_file.read_text())}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
