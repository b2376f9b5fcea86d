"""A real HTTP artifact repository for the store tests: wsgidav (WebDAV, which answers PUT, GET,
HEAD like Nexus raw / Artifactory generic repositories) served by cheroot on 127.0.0.1, with
basic auth. Run as a separate process by the ``dav_server`` fixture.

``python dav_server.py ROOT PORT_FILE USER PASSWORD``. A test-only control path ``/_fault``
(no auth) makes the next ``count`` requests answer ``status`` (``/_fault?status=500&count=2``),
so retries can be tested against the real server.
"""

from __future__ import annotations

import sys
import threading
import urllib.parse
from pathlib import Path

from cheroot import wsgi
from wsgidav.wsgidav_app import WsgiDAVApp


def main() -> None:
    root, port_file, user, password = sys.argv[1:5]
    app = WsgiDAVApp({
        "host": "127.0.0.1",
        "port": 0,
        "provider_mapping": {"/": root},
        "http_authenticator": {"domain_controller": None, "accept_basic": True,
                               "accept_digest": False, "default_to_digest": False},
        "simple_dc": {"user_mapping": {"*": {user: {"password": password}}}},
        "verbose": 1,
        "logging": {"enable": False},
        "dir_browser": {"enable": False},
    })
    fault = {"status": 0, "count": 0}
    lock = threading.Lock()

    def with_faults(environ, start_response):
        if environ.get("PATH_INFO") == "/_fault":
            query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
            with lock:
                fault["status"] = int(query.get("status", ["500"])[0])
                fault["count"] = int(query.get("count", ["1"])[0])
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        with lock:
            status = fault["status"] if fault["count"] > 0 else 0
            fault["count"] = max(0, fault["count"] - 1)
        if status:
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            start_response(f"{status} Injected", [("Content-Type", "text/plain")])
            return [b"injected fault"]
        return app(environ, start_response)

    server = wsgi.Server(("127.0.0.1", 0), with_faults, numthreads=8)
    server.prepare()
    tmp = Path(port_file + ".tmp")
    tmp.write_text(str(server.bind_addr[1]))
    tmp.replace(port_file)
    server.serve()


if __name__ == "__main__":
    main()
