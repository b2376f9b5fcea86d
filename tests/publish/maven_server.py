"""A hosted Maven repository on 127.0.0.1, as Nexus serves a release repository to PUT/GET.

Files live under ``root`` in the repository layout (so the folder validator can read what the
server holds). Every request needs the configured basic credentials: without them the answer is
401 with a ``WWW-Authenticate`` challenge, as Nexus gives to anonymous deploys (and Maven's
wagon answers the challenge with the ``<server>`` credentials of settings.xml). A PUT onto a
file that exists is 409, except for ``maven-metadata.xml`` and its checksums and anything in a
``-SNAPSHOT`` folder, which Nexus rewrites. ``requests`` logs (method, path, authorised) in the
order they came.
"""

from __future__ import annotations

import base64
import os
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class MavenServer:
    def __init__(self, served: Path, *, user: str, password: str):
        self.served = served  # the server's document root; the repository is a folder in it
        self.root = served / "repository" / "models"
        self.root.mkdir(parents=True, exist_ok=True)
        self.token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.requests: list[tuple[str, str, bool]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _target(self) -> Path | None:
                rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
                target = (server.served / rel).resolve()
                return target if target.is_relative_to(server.served.resolve()) else None

            def _answer(self, status: int, body: bytes = b"",
                        headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _authorised(self) -> bool:
                ok = self.headers.get("Authorization") == f"Basic {server.token}"
                server.requests.append((self.command, self.path, ok))
                if not ok:
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    self._answer(401, headers={"WWW-Authenticate": 'Basic realm="models"'})
                return ok

            def do_PUT(self) -> None:  # noqa: N802 - http.server's names
                if not self._authorised():
                    return
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self._target()
                if target is None:
                    return self._answer(400)
                mutable = target.name.startswith("maven-metadata.xml") or \
                    target.parent.name.endswith("-SNAPSHOT")
                if target.exists() and not mutable:
                    return self._answer(409, b"Repository does not allow updating assets")
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, target)
                self._answer(201)

            def do_GET(self) -> None:  # noqa: N802
                if not self._authorised():
                    return
                target = self._target()
                if target is None or not target.is_file():
                    return self._answer(404)
                self._answer(200, target.read_bytes())

            do_HEAD = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/repository/models/"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> MavenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
