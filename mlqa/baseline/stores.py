"""Where baseline records live: a local folder, or an HTTP artifact repository.

A store is a flat key -> bytes map with four operations: ``put`` (atomic: a reader sees the old
bytes or the new ones, never a mix), ``get``, ``exists`` and ``keys`` (under a prefix). Records,
side files and aliases are laid out on top of it by :mod:`mlqa.baseline.records`.

``HttpStore`` speaks what Nexus raw and Artifactory generic repositories (and WebDAV servers)
accept: PUT to upload, GET to fetch, HEAD to probe. Credentials come from environment variables
and are never written into a message, a log line or ``repr``.
"""

from __future__ import annotations

import math
import os
import threading
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlqa._atomic import write_atomic
from mlqa.baseline.errors import RecordNotFound, StoreError
from mlqa.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import requests

DEFAULT_LOCAL_PATH = ".mlqa/baselines"

USER_ENV = "MLQA_STORE_USER"
PASSWORD_ENV = "MLQA_STORE_PASSWORD"
TOKEN_ENV = "MLQA_STORE_TOKEN"
# Seconds a writer waits before trusting an index slot it claimed on a store that cannot list
# folders (see mlqa.baseline.journal); HEAD + PUT of a 200-byte slot must take less.
DEFAULT_SETTLE = 5.0
SETTLE_ENV = "MLQA_STORE_SETTLE"
# Every save on such a store waits settle once (more when writers collide): past five minutes
# a value is a typo or a unit mix-up (milliseconds), not a network, and 1e9 would hang a run.
MAX_SETTLE = 300.0


class Store:
    """Key -> bytes. Keys are relative POSIX paths (``records/<id>/record.json``)."""

    location: str

    def put(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``RecordNotFound`` if there are none."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InputError(f"store key must be a relative path without '.' or '..', got {key!r}")
    return key


class LocalStore(Store):
    """A folder on disk (default ``.mlqa/baselines``). Writes are temp file + fsync + rename, so
    concurrent writers (threads, xdist workers) leave one whole version, never a torn file."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_LOCAL_PATH):
        self.root = Path(path)
        self.location = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_check_key(key).split("/"))

    def put(self, key: str, data: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise RecordNotFound(f"{key} not found in {self.location}") from None
        except OSError as exc:
            raise StoreError(f"cannot read {key} from {self.location}: {exc.strerror}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def children(self, prefix: str) -> list[str]:
        """Names of the folders directly under ``prefix``."""
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir())


class HttpStore(Store):
    """A raw / generic HTTP repository: ``HttpStore("https://nexus.example/repository/ml/")``.

    Authentication, from the environment: ``MLQA_STORE_TOKEN`` (bearer) or ``MLQA_STORE_USER`` +
    ``MLQA_STORE_PASSWORD`` (basic); the variable names can be changed. Credentials written in
    the URL are taken out of it and used as basic auth. Each request has a ``timeout`` (for
    connecting and for each read); connection errors, timeouts and 5xx answers are retried
    ``retries`` times with exponential backoff. ``deadline`` bounds a whole operation (every
    attempt, the waits between them and the transfer): a server that trickles its answer a
    byte at a time cannot hold a run past it. By default it is what the retries would take if
    every attempt used its whole timeout (plus a second).

    On a WebDAV server (it answers ``OPTIONS`` with a ``DAV`` header) the store lists folders
    with ``PROPFIND``, so the record list comes from the records themselves. Other repositories
    (Nexus raw, Artifactory generic) keep a journal of numbered index slots
    (:mod:`mlqa.baseline.journal`): a save waits ``settle`` seconds after claiming its slot, and
    no entry is lost as long as a HEAD and a PUT of a small file take less than that (default
    5 s, or ``MLQA_STORE_SETTLE``).
    """

    def __init__(self, url: str, *, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 0.5, deadline: float | None = None,
                 settle: float | None = None, user_env: str = USER_ENV,
                 password_env: str = PASSWORD_ENV, token_env: str = TOKEN_ENV,
                 env: Mapping[str, str] | None = None):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InputError(f"HttpStore url must be http(s)://host/path, got "
                             f"{_without_userinfo(parsed)!r}")
        env = os.environ if env is None else env
        # Every setting is checked here, before the store is used, so a bad one is refused
        # before anything is written (an infinite settle used to fail after the slot's PUT).
        if settle is None:
            settle = check_settle(env.get(SETTLE_ENV, DEFAULT_SETTLE), source=SETTLE_ENV)
        else:
            settle = check_settle(settle, source="HttpStore settle=")
        timeout = _seconds("timeout", timeout, low=0.0)
        backoff = _seconds("backoff", backoff, low=0.0, zero_ok=True)
        if deadline is not None:
            deadline = _seconds("deadline", deadline, low=0.0)
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InputError(f"HttpStore retries= must be a whole number >= 0, got {retries!r}")
        self._secrets: list[str] = []
        self._headers: dict[str, str] = {}
        self._auth: tuple[str, str] | None = None
        token = env.get(token_env)
        user, password = env.get(user_env), env.get(password_env)
        if parsed.username is not None:  # credentials in the URL: use them, never show them
            user = urllib.parse.unquote(parsed.username)
            password = urllib.parse.unquote(parsed.password or "")
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
            self._secrets.append(token)
        elif user is not None and password is not None:
            self._auth = (user, password)
            self._secrets.append(password)
        self._auth_hint = (f"{token_env}" if token else
                           f"{user_env}/{password_env}" if self._auth else
                           f"no credentials were set ({user_env}/{password_env} or {token_env})")
        base = _without_userinfo(parsed)
        self.base_url = base if base.endswith("/") else base + "/"
        self.location = self.base_url
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.settle = float(settle)
        # Default: every attempt using its whole timeout, the waits, and a second to spare (so
        # that the last attempt's own timeout, the more telling message, comes first).
        self.deadline = float(deadline) if deadline is not None else \
            self.timeout * (self.retries + 1) + sum(self.backoff * 2 ** i
                                                    for i in range(self.retries)) + 1.0
        self._local = threading.local()  # one requests.Session per thread
        self._lists: bool | None = None  # whether the server answers PROPFIND (probed once)

    # -- the four operations ----------------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        response = self._request("PUT", key, data=data)
        if response.status_code == 409:  # WebDAV servers want the parent collections first
            self._make_collections(key)
            response = self._request("PUT", key, data=data)
        self._raise_for(response, "PUT", key)

    def get(self, key: str) -> bytes:
        response = self._request("GET", key)
        if response.status_code == 404:
            raise RecordNotFound(f"{key} not found in {self.location}")
        self._raise_for(response, "GET", key)
        return response.content

    def exists(self, key: str) -> bool:
        response = self._request("HEAD", key)
        if response.status_code == 404:
            return False
        self._raise_for(response, "HEAD", key)
        return True

    # -- plumbing -----------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            session.trust_env = False  # no netrc / proxy credentials picked up behind our back
            session.headers.update(self._headers)
            session.auth = self._auth
            self._local.session = session
        return session

    def _url(self, key: str) -> str:
        return self.base_url + urllib.parse.quote(_check_key(key))

    def _request(self, method: str, key: str, *, url: str | None = None, **kwargs: Any
                 ) -> requests.Response:
        """One operation (with its retries) under the total deadline. It runs in a worker
        thread so that the caller stops waiting at the deadline whatever the socket does (a
        per-read timeout restarts with every byte a trickling server sends); the abandoned
        worker ends at its own next timeout."""
        outcome: dict[str, Any] = {}
        ends = time.monotonic() + self.deadline

        def work() -> None:
            try:
                outcome["response"] = self._attempts(method, key, url, ends, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                outcome["error"] = exc
            finally:
                session = getattr(self._local, "session", None)
                if session is not None:
                    session.close()

        worker = threading.Thread(target=work, name="mlqa-http-store", daemon=True)
        worker.start()
        worker.join(self.deadline)
        if worker.is_alive():
            raise StoreError(self._redact(
                f"{method} {key} at {self.location}: no complete answer within the "
                f"{self.deadline:g} s deadline (HttpStore deadline=)"))
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _attempts(self, method: str, key: str, url: str | None, ends: float, **kwargs: Any
                  ) -> requests.Response:
        import requests

        url = url or self._url(key)
        attempts = self.retries + 1
        reason = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1),
                               max(0.0, ends - time.monotonic())))
            left = ends - time.monotonic()
            if left <= 0:
                attempts = attempt
                break
            try:
                response = self._session().request(method, url, timeout=min(self.timeout, left),
                                                   allow_redirects=False, **kwargs)
            except requests.Timeout:
                reason = f"timed out after {min(self.timeout, left):g} s"
                continue
            except requests.ConnectionError:
                reason = "could not connect (server down or unreachable)"
                continue
            except requests.exceptions.ChunkedEncodingError:
                # the body ended early: the server dropped the connection, or the file
                # changed while it was being sent
                reason = "the response was cut off"
                continue
            except requests.RequestException as exc:
                raise StoreError(self._redact(
                    f"{method} {key} at {self.location} failed: {type(exc).__name__}")) from None
            if response.status_code < 500:
                return response
            reason = f"HTTP {response.status_code} {response.reason}"
        raise StoreError(self._redact(f"{method} {key} at {self.location} failed after "
                                      f"{attempts} attempt{'s' * (attempts != 1)}: {reason}"))

    def _raise_for(self, response: requests.Response, method: str, key: str) -> None:
        status = response.status_code
        if status < 300:
            return
        if status in (401, 403):
            what = "authentication failed" if status == 401 else "permission denied"
            raise StoreError(self._redact(
                f"{method} {key} at {self.location}: {what} (HTTP {status}); "
                f"credentials from {self._auth_hint}"))
        raise StoreError(self._redact(
            f"{method} {key} at {self.location}: HTTP {status} {response.reason}"))

    @property
    def children(self) -> Any:  # noqa: ANN401 - a method, or None where the server cannot list
        """``children(prefix)`` (folder names under ``prefix``) on a WebDAV server, else None:
        :mod:`mlqa.baseline.records` then keeps an index file instead. Listing the records
        themselves means concurrent writers cannot lose an entry of a shared index."""
        if self._lists is None:
            response = self._request("OPTIONS", "", url=self.base_url)
            self._lists = response.status_code < 300 and "DAV" in response.headers
        return self._list_folders if self._lists else None

    def _list_folders(self, prefix: str) -> list[str]:
        import xml.etree.ElementTree as ET

        url = self._url(prefix).rstrip("/") + "/"
        response = self._request("PROPFIND", prefix, url=url, headers={"Depth": "1"})
        if response.status_code == 404:
            return []
        if response.status_code != 207:
            self._raise_for(response, "PROPFIND", prefix)
            raise StoreError(f"PROPFIND {prefix} at {self.location}: HTTP "
                             f"{response.status_code}, not a folder listing")
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            raise StoreError(f"PROPFIND {prefix} at {self.location}: the listing is not "
                             f"XML") from None
        own = urllib.parse.urlsplit(url).path.rstrip("/")
        names = []
        for item in root.iter("{DAV:}response"):
            href = item.findtext("{DAV:}href") or ""
            path = urllib.parse.unquote(urllib.parse.urlsplit(href).path).rstrip("/")
            folder = item.find(".//{DAV:}resourcetype/{DAV:}collection") is not None
            if folder and path != urllib.parse.unquote(own) and "/" in path:
                names.append(path.rsplit("/", 1)[1])
        return sorted(names)

    def _make_collections(self, key: str) -> None:
        """MKCOL each missing folder from the server root down to ``key``'s parent (WebDAV
        servers answer PUT into a missing folder with 409; artifact repositories never do)."""
        parsed = urllib.parse.urlsplit(self.base_url)
        base_parts = [p for p in parsed.path.split("/") if p]
        folders = ["/".join(base_parts[:i]) for i in range(1, len(base_parts) + 1)]
        folders += ["/".join(base_parts + key.split("/")[:i])
                    for i in range(1, len(key.split("/")))]
        root = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, "/", "", ""))
        for folder in folders:
            response = self._request("MKCOL", folder,
                                     url=root + urllib.parse.quote(folder) + "/")
            # 201 made, 405 exists already, 301 redirected to the slash form
            if response.status_code in (401, 403) or (
                    response.status_code not in (201, 301, 405) and
                    folder.count("/") >= len(base_parts)):
                self._raise_for(response, "MKCOL", folder)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
                text = text.replace(urllib.parse.quote(secret, safe=""), "***")
        return text


def check_settle(value: Any, *, source: str) -> float:
    """``value`` (a number or the text of an environment variable) as the settle time in
    seconds: a finite number in (0, MAX_SETTLE]. ``source`` names the variable or argument in
    the message, with the value and the range."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not 0 < seconds <= MAX_SETTLE:  # also refuses nan
        raise InputError(f"{source} must be a number of seconds > 0 and <= {MAX_SETTLE:g} "
                         f"(the wait after claiming a record-index slot), got {value!r}")
    return seconds


def _seconds(name: str, value: Any, *, low: float, zero_ok: bool = False) -> float:
    """An ``HttpStore`` time setting: a finite number of seconds above ``low`` (or equal to
    it where ``zero_ok``); inf and nan are refused (a wait on them hangs or crashes)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < low or (seconds == low and not zero_ok):
        bound = ">=" if zero_ok else ">"
        raise InputError(f"HttpStore {name}= must be a finite number of seconds {bound} "
                         f"{low:g}, got {value!r}")
    return seconds


def _without_userinfo(parsed: urllib.parse.SplitResult) -> str:
    host = parsed.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parsed.port
    except ValueError:  # the text after the last ':' may be a password typed in the wrong place
        raise InputError(f"HttpStore url {parsed.scheme}://{host}/...: the port is not a "
                         f"number") from None
    netloc = host + (f":{port}" if port else "")
    return urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path, "", ""))


def redacted(location: Any) -> str:
    """A store location fit to show: a URL without user and password."""
    text = os.fspath(location) if isinstance(location, str | os.PathLike) else str(location)
    if "://" in text:
        try:
            return _without_userinfo(urllib.parse.urlsplit(text))
        except (InputError, ValueError):
            return text.split("://", 1)[0] + "://(unparseable URL)"
    return text


def open_store(location: str | os.PathLike[str] | Store | None = None) -> Store:
    """A store from a path or URL (``None``: ``.mlqa/baselines``)."""
    if isinstance(location, Store):
        return location
    if location is None:
        return LocalStore(DEFAULT_LOCAL_PATH)
    text = os.fspath(location)
    if text.startswith(("http://", "https://")):
        return HttpStore(text)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise InputError(f"baseline store: unsupported scheme {scheme!r}; use a folder path "
                         f"or an http(s):// URL")
    return LocalStore(text)
