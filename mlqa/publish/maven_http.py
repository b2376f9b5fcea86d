"""A Maven repository over HTTP (Nexus hosted, Artifactory): plain GET, HEAD and PUT.

What ``mvn deploy`` does, without Maven: each file is PUT whole with its ``.md5``/``.sha1``
beside it, and the GA-level ``maven-metadata.xml`` last, so a consumer resolving a range never
sees a version whose files are not all there. A release is never overwritten: the version's POM
is probed first (HEAD), and a 409 or 400 from the server (Nexus' answer to a redeploy into a
release repository) is a refusal too.

Credentials come from the environment only: ``MLQA_MAVEN_TOKEN`` (bearer) or
``MLQA_MAVEN_USERNAME`` + ``MLQA_MAVEN_PASSWORD`` (basic). A URL with a user or password in it
is refused (it would end up in Jenkins' console log), and no message, log line or ``repr``
carries them. The standard library's ``http.client`` speaks HTTP with a timeout per request; no
proxy or netrc setting is picked up behind the caller's back.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import math
import os
import urllib.parse
from collections.abc import Mapping, Sequence

from mlqa.errors import InputError
from mlqa.publish.maven import (
    METADATA,
    AlreadyPublished,
    Gav,
    checksum,
    ga_metadata,
    parse_metadata,
    snapshot_base,
    snapshot_build,
    snapshot_metadata,
)

USERNAME_ENV = "MLQA_MAVEN_USERNAME"
PASSWORD_ENV = "MLQA_MAVEN_PASSWORD"
TOKEN_ENV = "MLQA_MAVEN_TOKEN"
DEFAULT_TIMEOUT = 60.0


class RepositoryError(InputError):
    """The repository could not be reached, or refused a request (never holds credentials)."""


def is_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(("http://", "https://"))


class MavenHttpRepo:
    """``MavenHttpRepo("https://nexus.example/repository/models/")``: GET/HEAD/PUT of paths
    relative to the repository root, each with ``timeout`` seconds to connect and per read."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT,
                 env: Mapping[str, str] | None = None):
        parsed = urllib.parse.urlsplit(url)
        shown = _shown(parsed)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InputError(f"Maven repository URL must be http(s)://host/path, got {shown!r}")
        if "@" in parsed.netloc:
            raise InputError(f"Maven repository URL {shown}: credentials in the URL would be "
                             f"shown in build logs; set {USERNAME_ENV}/{PASSWORD_ENV} or "
                             f"{TOKEN_ENV} instead")
        if parsed.query or parsed.fragment:
            raise InputError(f"Maven repository URL {shown}: no query or fragment expected")
        try:
            self._port = parsed.port
        except ValueError:
            raise InputError(f"Maven repository URL {shown}: the port is not a number") from None
        if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
            raise InputError(f"Maven repository timeout must be a finite number of seconds > 0, "
                             f"got {timeout!r}")
        self.timeout = float(timeout)
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._path = parsed.path.rstrip("/") + "/"
        self.url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, self._path, "", ""))
        env = os.environ if env is None else env
        token = env.get(TOKEN_ENV)
        user, password = env.get(USERNAME_ENV), env.get(PASSWORD_ENV)
        self._headers: dict[str, str] = {}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
            self._credentials = TOKEN_ENV
        elif user and password is not None:
            pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {pair}"
            self._credentials = f"{USERNAME_ENV}/{PASSWORD_ENV}"
        else:
            self._credentials = f"none ({USERNAME_ENV}/{PASSWORD_ENV} or {TOKEN_ENV} unset)"

    def __repr__(self) -> str:
        return f"MavenHttpRepo({self.url!r})"

    def request(self, method: str, rel: str, data: bytes | None = None) -> tuple[int, bytes]:
        """(status, body) of one request; RepositoryError where no answer came."""
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host or "", self._port, timeout=self.timeout)
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/octet-stream"
        try:
            conn.request(method, self._path + urllib.parse.quote(rel), body=data,
                         headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        except TimeoutError:
            raise RepositoryError(f"{method} {self.url}{rel}: no answer within "
                                  f"{self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
                type(exc).__name__
            raise RepositoryError(f"{method} {self.url}{rel}: {reason} (server down or "
                                  f"unreachable?)") from None
        finally:
            conn.close()

    def get(self, rel: str) -> bytes | None:
        """The file's bytes, or None where the server has none (404)."""
        status, body = self.request("GET", rel)
        if status == 404:
            return None
        self._check(status, "GET", rel)
        return body

    def exists(self, rel: str) -> bool:
        status, _ = self.request("HEAD", rel)
        if status == 404:
            return False
        self._check(status, "HEAD", rel)
        return True

    def put(self, rel: str, data: bytes) -> str:
        """Upload ``data``; returns its URL. A 409 or 400 (a repository manager refusing to
        replace a release file) raises AlreadyPublished."""
        status, _ = self.request("PUT", rel, data)
        if status in (400, 409):
            raise AlreadyPublished(f"PUT {self.url}{rel}: the server refused it (HTTP "
                                   f"{status}): the release is already there, and a release "
                                   f"version is never overwritten; publish a new version")
        self._check(status, "PUT", rel)
        return self.url + rel

    def _check(self, status: int, method: str, rel: str) -> None:
        if 200 <= status < 300:
            return
        if status in (401, 403):
            what = "authentication failed" if status == 401 else "permission denied"
            raise RepositoryError(f"{method} {self.url}{rel}: {what} (HTTP {status}); "
                                  f"credentials from {self._credentials}")
        raise RepositoryError(f"{method} {self.url}{rel}: HTTP {status}")


def _shown(parsed: urllib.parse.SplitResult) -> str:
    """The URL as it may be shown: without user, password, query, or a port that is not a
    number (a password typed where the port goes)."""
    host = parsed.hostname or ""
    try:
        port = parsed.port
    except ValueError:
        port = None
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path, "", ""))


def put_release(repo: MavenHttpRepo, gav: Gav, artifacts: dict[str, bytes],
                checksums: Sequence[str], when: dt.datetime) -> list[str]:
    """Upload the version's files with their checksums, then the GA metadata; the URLs
    written. A release whose POM is already there is refused before anything is sent."""
    assert gav.version is not None
    ga = gav.folder.as_posix()
    version_rel = f"{ga}/{gav.version}"
    if gav.snapshot:
        where = f"{repo.url}{version_rel}/{METADATA}"
        old = parse_metadata(repo.get(f"{version_rel}/{METADATA}"), where)
        base = snapshot_base(gav, snapshot_build(old, where) + 1, when)
    else:
        base = f"{gav.artifact}-{gav.version}"
        pom = f"{version_rel}/{base}.pom"
        if repo.exists(pom):
            raise AlreadyPublished(f"{gav} is already published ({repo.url}{pom} exists): a "
                                   f"release version is never overwritten; publish a new "
                                   f"version")
    written: list[str] = []

    def put(rel: str, data: bytes) -> None:
        written.append(repo.put(rel, data))  # the file, then its checksums, as mvn deploy
        written.extend(repo.put(f"{rel}.{a}", checksum(data, a).encode()) for a in checksums)

    try:
        for suffix, data in artifacts.items():
            put(f"{version_rel}/{base}{suffix}", data)
        if gav.snapshot:
            put(f"{version_rel}/{METADATA}", snapshot_metadata(gav, base, when))
        ga_meta = f"{ga}/{METADATA}"
        old_ga = parse_metadata(repo.get(ga_meta), repo.url + ga_meta)
        put(ga_meta, ga_metadata(old_ga, gav, when.strftime("%Y%m%d%H%M%S")))
    except InputError as exc:
        if not written:
            raise
        # Nothing can be taken back over plain PUT; say what is there so the retry is not a
        # mystery (the GA metadata was not updated unless it is listed).
        raise type(exc)(f"{exc}; already uploaded, to remove in the repository manager "
                        f"before retrying: {', '.join(written)}") from None
    return written
