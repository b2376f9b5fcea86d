"""The project's test HTTP repositories (tests/baseline/plain_server.py: PUT/GET/HEAD without
listing; dav_server.py: WebDAV) started as real processes on 127.0.0.1, for the store tests and
the bad-input matrix alike."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVERS = Path(__file__).parent / "baseline"
PLAIN_SERVER = SERVERS / "plain_server.py"
DAV_SERVER = SERVERS / "dav_server.py"


@contextlib.contextmanager
def serving(script: Path, tmp_path: Path, name: str, *args: str
            ) -> Iterator[tuple[Path, int, subprocess.Popen]]:
    """Run ``script ROOT PORT_FILE *args`` until the block ends: (root, port, process). Its
    output goes to ``tmp_path/server.log``."""
    root = tmp_path / f"{name}-root"
    root.mkdir()
    port_file = tmp_path / f"{name}.port"
    with open(tmp_path / "server.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, str(script), str(root), str(port_file), *args],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{name} server did not start: "
                                f"{(tmp_path / 'server.log').read_text()}")
                time.sleep(0.05)
            yield root, int(port_file.read_text()), proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)


@contextlib.contextmanager
def plain_repository(tmp_path: Path, *, latency: float = 0.0, visible_after: float = 0.0
                     ) -> Iterator[str]:
    """A plain PUT/GET/HEAD repository (no listing, no conditional requests): its base URL.
    ``latency``: up to that many seconds per request; ``visible_after``: a write-behind server
    whose acknowledged PUTs become readable that many seconds later."""
    with serving(PLAIN_SERVER, tmp_path, "plain", str(latency), str(visible_after)) as \
            (_, port, _):
        yield f"http://127.0.0.1:{port}/repository/ml/"
