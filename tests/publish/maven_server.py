"""A hosted Maven repository on 127.0.0.1, as Nexus serves a release repository to PUT/GET.

It is tests/baseline/plain_server.py's file server (PUT replaces a file whole, GET/HEAD serve
it, no listing) run in this process, with what a repository manager adds: every request needs
the configured basic credentials (without them: 401 with a ``WWW-Authenticate`` challenge, as
Nexus gives to anonymous deploys; Maven's wagon answers it with the ``<server>`` credentials
of settings.xml), and a PUT onto a file that exists is 409, except for ``maven-metadata.xml``
and its checksums and anything in a ``-SNAPSHOT`` folder, which Nexus rewrites. ``requests``
logs (method, path, authorised) in the order they came.
"""

from __future__ import annotations

import base64
import importlib.util
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

USER, PASSWORD = "deployer", "s3cret-Maven-pw"


def _file_handler() -> type:
    """plain_server.Handler, loaded from its file (its folder is not put on sys.path: a
    ``conftest`` there would shadow this folder's)."""
    path = Path(__file__).parents[1] / "baseline" / "plain_server.py"
    spec = importlib.util.spec_from_file_location("_mlqa_plain_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Handler


FileHandler = _file_handler()


class MavenServer:
    def __init__(self, served: Path, *, user: str, password: str):
        self.served = served  # the server's document root; the repository is a folder in it
        self.root = served / "repository" / "models"
        self.root.mkdir(parents=True, exist_ok=True)
        self.token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.requests: list[tuple[str, str, bool]] = []
        server = self

        class Handler(FileHandler):
            root = served

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
                target = self._path()
                mutable = target is None or target.name.startswith("maven-metadata.xml") or \
                    target.parent.name.endswith("-SNAPSHOT")
                if not mutable and target is not None and target.exists():
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    return self._answer(409, b"Repository does not allow updating assets")
                super().do_PUT()

            def do_GET(self) -> None:  # noqa: N802
                if self._authorised():
                    super().do_GET()

            do_HEAD = do_GET

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/repository/models/"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> MavenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
