"""Bad Maven repository locations, dead and silent servers, and bad maven: baselines: each an
``InputError`` (``RepositoryError``, a ``BaselineError`` subclass for a baseline) or exit 2
naming what was wrong, never a raw library exception, never a credential."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from _matrix import Case, cases, cli, input_error, refusal, run_case
from _silent_server import silent_server

from mlqa.baseline import BaselineError, CorruptRecord, RecordNotFound, StoreError
from mlqa.baseline.maven import MavenBaseline
from mlqa.publish.maven_http import MavenHttpRepo, RepositoryError

SECRET = ("s3cret",)
SPEC = "maven:com.acme.models:churn:RELEASE"


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/repository/models/"


def _silent(action: Any) -> Any:
    def run(tmp: Path) -> Any:
        with silent_server("/repository/models/") as url:
            return action(url)
    return run


def _metadata(tmp: Path, text: str) -> Path:
    meta = tmp / "com/acme/models/churn/maven-metadata.xml"
    meta.parent.mkdir(parents=True)
    meta.write_text(text)
    return tmp


LISTS_1_0 = ("<metadata><versioning><latest>1.0</latest><release>1.0</release><versions>"
             "<version>1.0</version></versions></versioning></metadata>")

MAVEN = [
    Case("maven-repo-url-ftp", lambda tmp: MavenHttpRepo("ftp://alice:s3cret@host/x"),
         input_error("Maven repository URL must be http(s)://host/path, got 'ftp://host/x'",
                     absent=SECRET)),
    Case("maven-repo-url-credentials", lambda tmp: MavenHttpRepo("https://alice:s3cret@h/x"),
         input_error("credentials in the URL would be shown in build logs; set "
                     "MLQA_MAVEN_USERNAME/MLQA_MAVEN_PASSWORD", absent=SECRET)),
    Case("maven-repo-url-password-as-port", lambda tmp: MavenHttpRepo("https://h:s3cret/x"),
         input_error("the port is not a number", absent=SECRET)),
    Case("maven-repo-url-query", lambda tmp: MavenHttpRepo("https://h/x?token=s3cret"),
         input_error("no query or fragment expected", absent=SECRET)),
    Case("maven-repo-timeout-zero", lambda tmp: MavenHttpRepo("https://h/x", timeout=0),
         input_error("timeout must be a finite number of seconds > 0, got 0")),
    Case("maven-verify-dead-server",
         lambda tmp: cli("verify", "maven-repo", _dead_url(), "--gav", "com.acme:churn"),
         refusal("server down or unreachable")),
    Case("maven-verify-silent-server",
         _silent(lambda url: MavenHttpRepo(url, timeout=0.3).get("a/maven-metadata.xml")),
         input_error("no answer within 0.3 s", exc=RepositoryError)),
    Case("maven-verify-url-without-gav",
         lambda tmp: cli("verify", "maven-repo", "https://h/repository/models/"),
         refusal("name the artifact with --gav")),
    Case("maven-verify-not-a-folder", lambda tmp: cli("verify", "maven-repo", tmp / "none"),
         refusal("not a folder or an http(s):// URL")),
    Case("maven-publish-repo-not-a-folder",
         lambda tmp: cli("publish", "maven", "--gav", "g:a:1", "--model", tmp / "m",
                         "--bundle", tmp, "--repo", tmp / "none"),
         refusal("not a folder (create it first) or an http(s):// URL")),
    Case("maven-baseline-no-repository",
         lambda tmp: MavenBaseline(SPEC, None, env={}),
         input_error("no Maven repository to resolve it in; give --mlqa-maven-repo",
                     exc=BaselineError)),
    Case("maven-baseline-no-version", lambda tmp: MavenBaseline("maven:com.acme:churn", tmp),
         input_error("write maven:group:artifact:VERSION", exc=BaselineError)),
    Case("maven-baseline-dead-server", lambda tmp: MavenBaseline(SPEC, _dead_url()).load(),
         input_error("server down or unreachable", exc=StoreError)),
    Case("maven-baseline-credentials-in-url",
         lambda tmp: MavenBaseline(SPEC, "https://u:s3cret@h/r/").load(),
         input_error("credentials in the URL", exc=StoreError, absent=SECRET)),
    Case("maven-baseline-metadata-not-xml",
         lambda tmp: MavenBaseline(SPEC, _metadata(tmp, "<metadata>")).load(),
         input_error("maven-metadata.xml is not valid XML", exc=CorruptRecord)),
    Case("maven-baseline-release-not-listed",
         lambda tmp: MavenBaseline(SPEC, _metadata(tmp, LISTS_1_0.replace(
             "<release>1.0</release>", "<release>2.0</release>"))).load(),
         input_error("names no release version among the versions it lists (1.0)",
                     exc=RecordNotFound)),
    Case("maven-baseline-bad-range",
         lambda tmp: MavenBaseline("maven:com.acme.models:churn:[1.0;2.0)",
                                   _metadata(tmp, LISTS_1_0)).load(),
         input_error("'[1.0;2.0)' is not a Maven version range", exc=BaselineError)),
    Case("maven-baseline-no-evidence",
         lambda tmp: MavenBaseline(SPEC, _metadata(tmp, LISTS_1_0)).load(),
         input_error("com.acme.models:churn:1.0 has no evidence zip", exc=RecordNotFound)),
]


@pytest.mark.parametrize("case", cases(MAVEN))
def test_case(case, tmp_path, record_property):
    run_case(case, tmp_path, record_property)
