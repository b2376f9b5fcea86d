"""``mlqa publish maven`` and ``mlqa verify maven-repo`` against a hosted repository on
127.0.0.1 (tests/publish/maven_server.py: basic auth, 409 on a release file that exists), and
real Maven resolving the model from it over HTTP by a version range."""

from __future__ import annotations

import hashlib
import logging
import socket
from pathlib import Path

import pytest
from _mvn import run_mvn
from _silent_server import silent_server
from maven_server import PASSWORD, USER

from mlqa.cli import main
from mlqa.errors import InputError
from mlqa.publish.maven_http import MavenHttpRepo, RepositoryError
from mlqa.publish.maven_verify import verify

GA = "com.acme.models:churn"
GA_DIR = Path("com/acme/models/churn")


def publish(runs, repo: str, version: str, *extra: str, bundle: Path | None = None) -> int:
    approved, _, model = runs
    return main(["publish", "maven", "--gav", f"{GA}:{version}", "--model", str(model),
                 "--bundle", str(bundle or approved), "--repo", repo, *extra])


def _puts(server) -> list[str]:
    return [path for method, path, _ in server.requests if method == "PUT"]


@pytest.mark.parametrize("tamper", [False, True], ids=["intact", "wrong-sha1"])
def test_mvn_resolves_by_range_over_http(runs, maven_server, tmp_path, tamper, capsys):
    for version in ("1.0.0", "1.1.0"):
        assert publish(runs, maven_server.url, version) == 0
    puts = _puts(maven_server)
    assert puts[-3:] == [f"/repository/models/{GA_DIR}/maven-metadata.xml{ext}"
                         for ext in ("", ".md5", ".sha1")]  # the metadata last
    assert len(puts) == 2 * (3 * 3 + 3)  # jar, pom, zip and metadata, each with md5 and sha1
    assert all(ok for _, _, ok in maven_server.requests)
    # What the server holds is the folder layout: both validators agree it is consistent.
    assert verify(maven_server.url, gav=GA) == []
    assert verify(maven_server.root) == []
    if tamper:
        (maven_server.root / GA_DIR / "1.1.0/churn-1.1.0.jar.sha1").write_text("0" * 40)
    before = len(maven_server.requests)
    (tmp_path / "consumer").mkdir()
    built = run_mvn(tmp_path / "consumer", maven_server.url, user=USER, password=PASSWORD)
    fetched = [path for method, path, _ in maven_server.requests[before:] if method == "GET"]
    assert f"/repository/models/{GA_DIR}/maven-metadata.xml" in fetched
    capsys.readouterr()
    code = main(["verify", "maven-repo", maven_server.url, "--gav", GA])
    out = capsys.readouterr().out
    if not tamper:
        assert built.returncode == 0, built.stdout + built.stderr
        jar = tmp_path / "consumer/m2" / GA_DIR / "1.1.0/churn-1.1.0.jar"
        assert jar.read_bytes() == (maven_server.root / GA_DIR / "1.1.0/churn-1.1.0.jar"
                                    ).read_bytes()
        assert code == 0 and "consistent" in out
    else:
        assert built.returncode != 0, built.stdout
        assert "Checksum validation failed" in built.stdout + built.stderr
        assert code == 1 and "churn-1.1.0.jar.sha1: does not match" in out


def test_a_release_is_never_overwritten_over_http(runs, maven_server, capsys):
    assert publish(runs, maven_server.url, "1.0.0") == 0
    stored = {p: p.read_bytes() for p in maven_server.root.rglob("*") if p.is_file()}
    count = len(_puts(maven_server))
    assert publish(runs, maven_server.url, "1.0.0") == 2  # the POM is there: refused up front
    assert "1.0.0 is already published" in capsys.readouterr().err
    assert len(_puts(maven_server)) == count
    # A server that refuses the first upload (409, Nexus' answer to a redeploy) is a refusal
    # too, and the metadata never names the version.
    orphan = maven_server.root / GA_DIR / "1.2.0/churn-1.2.0.jar"
    orphan.parent.mkdir()
    orphan.write_bytes(b"an earlier upload")
    assert publish(runs, maven_server.url, "1.2.0") == 2
    err = capsys.readouterr().err
    assert "the server refused it (HTTP 409)" in err and "never overwritten" in err
    assert len(_puts(maven_server)) == count + 1
    assert orphan.read_bytes() == b"an earlier upload"
    assert {p: p.read_bytes() for p in stored} == stored
    assert "1.2.0" not in (maven_server.root / GA_DIR / "maven-metadata.xml").read_text()


def test_snapshots_over_http_get_timestamped_names(runs, maven_server):
    assert publish(runs, maven_server.url, "2.0-SNAPSHOT") == 0
    assert publish(runs, maven_server.url, "2.0-SNAPSHOT") == 0
    folder = maven_server.root / GA_DIR / "2.0-SNAPSHOT"
    jars = sorted(p.name for p in folder.glob("*.jar"))
    assert [j.rsplit("-", 1)[1] for j in jars] == ["1.jar", "2.jar"], jars
    assert "<buildNumber>2</buildNumber>" in (folder / "maven-metadata.xml").read_text()
    assert verify(maven_server.url, gav=f"{GA}:2.0-SNAPSHOT") == []


def test_credentials_are_never_shown(runs, maven_server, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    assert publish(runs, maven_server.url, "1.0.0") == 0
    shown = capsys.readouterr()
    assert PASSWORD not in shown.out + shown.err + caplog.text
    assert PASSWORD not in repr(MavenHttpRepo(maven_server.url))
    wrong = "wr0ng-Secret-42"
    monkeypatch.setenv("MLQA_MAVEN_PASSWORD", wrong)
    assert publish(runs, maven_server.url, "1.1.0") == 2
    err = capsys.readouterr().err
    assert "authentication failed (HTTP 401)" in err
    assert "MLQA_MAVEN_USERNAME/MLQA_MAVEN_PASSWORD" in err
    assert wrong not in err + caplog.text
    monkeypatch.delenv("MLQA_MAVEN_PASSWORD")
    monkeypatch.delenv("MLQA_MAVEN_USERNAME")
    assert main(["verify", "maven-repo", maven_server.url, "--gav", GA]) == 2
    assert "unset" in capsys.readouterr().err
    with_secret = maven_server.url.replace("http://", f"http://{USER}:{wrong}@")
    with pytest.raises(InputError, match="credentials in the URL") as refused:
        MavenHttpRepo(with_secret)
    assert wrong not in str(refused.value)
    assert publish(runs, with_secret, "1.1.0") == 2
    assert wrong not in capsys.readouterr().err


def test_a_dead_or_silent_server_is_a_named_refusal(runs, tmp_path, capsys):
    with socket.socket() as sock:  # a port nothing listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert publish(runs, f"http://127.0.0.1:{port}/repository/models/", "1.0.0") == 2
    assert "server down or unreachable" in capsys.readouterr().err
    with silent_server("/repository/models/") as url:
        with pytest.raises(RepositoryError, match="no answer within 0.5 s"):
            MavenHttpRepo(url, timeout=0.5).get(f"{GA_DIR.as_posix()}/maven-metadata.xml")


def test_verify_over_http_checks_what_the_metadata_names(runs, maven_server, capsys):
    assert publish(runs, maven_server.url, "1.0.0") == 0
    assert main(["verify", "maven-repo", maven_server.url]) == 2
    assert "--gav" in capsys.readouterr().err
    meta = maven_server.root / GA_DIR / "maven-metadata.xml"
    data = meta.read_text().replace("<version>1.0.0</version>",
                                    "<version>1.0.0</version><version>1.5.0</version>")
    meta.write_text(data)
    for alg in ("md5", "sha1"):
        meta.with_name(f"maven-metadata.xml.{alg}").write_text(
            hashlib.new(alg, data.encode()).hexdigest())
    assert any("lists 1.5.0, which is not on the server" in p
               for p in verify(maven_server.url, gav=GA))
    (maven_server.root / GA_DIR / "1.0.0/churn-1.0.0-mlqa-evidence.zip").unlink()
    assert any("churn-1.0.0-mlqa-evidence.zip: missing" in p
               for p in verify(maven_server.url, gav=GA))
