"""A TCP server on 127.0.0.1 that accepts every connection and never answers: what a store or
endpoint that hangs looks like to a client (connect succeeds, no byte ever comes back)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def silent_server(path: str = "/repo/") -> Iterator[str]:
    """Its URL (``http://127.0.0.1:PORT`` + ``path``) while the block runs."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}{path}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()
