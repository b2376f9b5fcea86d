"""Where baseline records live: a local folder, or an HTTP artifact repository.

A store is a flat key -> bytes map with four operations: ``put`` (atomic: a reader sees the old
bytes or the new ones, never a mix), ``get``, ``exists`` and ``keys`` (under a prefix). Records,
side files and aliases are laid out on top of it by :mod:`mlqa.baseline.records`.

``HttpStore`` speaks what Nexus raw and Artifactory generic repositories (and WebDAV servers)
accept: PUT to upload, GET to fetch, HEAD to probe. Credentials come from environment variables
and are never written into a message, a log line or ``repr``.
"""

from __future__ import annotations

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
    the URL are taken out of it and used as basic auth. Each request has a timeout; connection
    errors, timeouts and 5xx answers are retried ``retries`` times with exponential backoff.
    """

    def __init__(self, url: str, *, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 0.5, user_env: str = USER_ENV,
                 password_env: str = PASSWORD_ENV, token_env: str = TOKEN_ENV,
                 env: Mapping[str, str] | None = None):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InputError(f"HttpStore url must be http(s)://host/path, got "
                             f"{_without_userinfo(parsed)!r}")
        if retries < 0 or timeout <= 0:
            raise InputError("HttpStore needs retries >= 0 and timeout > 0")
        env = os.environ if env is None else env
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
        self._local = threading.local()  # one requests.Session per thread

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
        import requests

        url = url or self._url(key)
        attempts = self.retries + 1
        reason = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._session().request(method, url, timeout=self.timeout,
                                                   allow_redirects=False, **kwargs)
            except requests.Timeout:
                reason = f"timed out after {self.timeout:g} s"
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
                                      f"{attempts} attempt{'s' * (attempts > 1)}: {reason}"))

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


def _without_userinfo(parsed: urllib.parse.SplitResult) -> str:
    host = parsed.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parsed.port}" if parsed.port else "")
    return urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path, "", ""))


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
