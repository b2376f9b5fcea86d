"""A lean HTTP/1.1 client on asyncio streams, for the open-loop endpoint driver.

The driver's own cost per request is part of what it measures: on a loaded build agent an
HTTP library that spends a millisecond of Python per request delays its answers by that much
and more (on this project's shared 2-core machine, httpx's p50 from send to answer was 7.8 ms
against LoadGen's 3 ms on the same server). This client does only what a POST of a
pre-encoded JSON body needs: keep-alive connections (Nagle off, asyncio's default for TCP),
``Content-Length`` and chunked answers, and nothing else. Stdlib only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import urllib.parse

_MAX_HEADER_LINES = 200


class HttpError(Exception):
    """The connection failed (``connect``) or the answer was not HTTP/1.1 (``protocol``)."""

    def __init__(self, kind: str, text: str):
        super().__init__(text)
        self.kind = kind


class Connections:
    """Keep-alive connections to one URL's host; ``post`` sends one request on an idle
    connection (or a new one) and hands it back only after a complete answer, so a request
    cancelled halfway (a timeout) never leaves a half-read connection in the pool."""

    def __init__(self, url: str, headers: dict[str, str]):
        parts = urllib.parse.urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        path = parts.path or "/"
        self.path = path + (f"?{parts.query}" if parts.query else "")
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.head = (f"POST {self.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                     f"Content-Type: application/json\r\n{extra}").encode("latin-1")
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.idle:
            reader, writer = self.idle.pop()
        else:
            try:
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=ssl.create_default_context() if self.tls else None)
            except OSError as exc:
                raise HttpError("connect", f"{type(exc).__name__}: {exc}") from None
        done = False
        try:
            writer.write(self.head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            status, keep, payload = await _answer(reader)
            done = keep
            return status, payload
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            raise HttpError("protocol", f"{type(exc).__name__}: {exc or 'connection closed'}"
                            ) from None
        finally:
            if done:
                self.idle.append((reader, writer))
            else:
                writer.close()

    async def aclose(self) -> None:
        for _, writer in self.idle:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        self.idle.clear()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """(status, keep the connection, body) of one HTTP/1.x answer."""
    line = await reader.readuntil(b"\r\n")
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {line[:60]!r}")
    status = int(parts[1])
    headers: dict[bytes, bytes] = {}
    for _ in range(_MAX_HEADER_LINES):
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            break
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise ValueError("more than 200 header lines")
    keep = headers.get(b"connection", b"").lower() != b"close" and parts[0] != b"HTTP/1.0"
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers expected: the closing CRLF
                return status, keep, b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    if b"content-length" in headers:
        return status, keep, await reader.readexactly(int(headers[b"content-length"]))
    return status, False, await reader.read()  # the body runs to the connection's close
