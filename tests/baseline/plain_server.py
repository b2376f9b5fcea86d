"""A plain HTTP file repository on 127.0.0.1, the way a Nexus raw or Artifactory generic
repository behaves to a client that only uses PUT, GET and HEAD: a PUT replaces the file whole
(written beside it, then renamed), OPTIONS answers without a ``DAV`` header, there is no folder
listing (PROPFIND is 405) and no conditional request is honoured.

``python plain_server.py ROOT PORT_FILE [LATENCY_S [VISIBLE_AFTER_S]]``: serves ROOT, writes the
port it bound to PORT_FILE. ``LATENCY_S`` delays every request by a seeded random 0..LATENCY_S
seconds, as a repository across a network does (it is what gives concurrent writers room to
interleave). ``VISIBLE_AFTER_S`` makes it a write-behind server: a PUT is acknowledged at once
and its file appears that many seconds later (a caching proxy, an eventually consistent store).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = Path(".")
    latency = 0.0
    visible_after = 0.0
    _random = random.Random(0)
    _lock = threading.Lock()

    def parse_request(self) -> bool:
        if self.latency:
            with self._lock:
                delay = self._random.uniform(0, self.latency)
            time.sleep(delay)
        return super().parse_request()

    def _path(self) -> Path | None:
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        target = (self.root / rel).resolve()
        return target if target.is_relative_to(self.root.resolve()) else None

    def _answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_PUT(self) -> None:  # noqa: N802 - http.server's names
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self._path()
        if target is None:
            return self._answer(400)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if self.visible_after:  # acknowledged now, readable later
            threading.Timer(self.visible_after, os.replace, (tmp, target)).start()
        else:
            os.replace(tmp, target)
        self._answer(201)

    def do_GET(self) -> None:  # noqa: N802
        target = self._path()
        if target is None or not target.is_file():
            return self._answer(404)
        self._answer(200, target.read_bytes())

    do_HEAD = do_GET

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._answer(200, headers={"Allow": "GET, HEAD, PUT, OPTIONS"})

    def do_PROPFIND(self) -> None:  # noqa: N802
        self._answer(405)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    root, port_file = sys.argv[1:3]
    Handler.root = Path(root)
    Handler.latency = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    Handler.visible_after = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = Path(port_file + ".tmp")
    tmp.write_text(str(server.server_address[1]))
    tmp.replace(port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
