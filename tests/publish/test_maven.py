"""``mlqa publish maven`` and ``mlqa verify maven-repo`` against a real run's bundle and real Maven.

One small suite (a real scikit-learn model held to an accuracy floor) runs twice in child
pytest processes: once approved, once refused by a floor it cannot meet. The approved bundle
is published as two releases into a folder repository, which Debian's ``mvn`` (OpenJDK 17)
resolves offline by a version range with no Maven plugin: the model jar is a build extension of
a ``packaging=pom`` consumer (research note next-stage.md §B). Tampered copies of the folder
are judged by both ``mvn`` and the validator.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from _mvn import run_mvn

from mlqa.cli import main
from mlqa.errors import InputError
from mlqa.publish.maven import parse_gav
from mlqa.publish.maven_verify import verify

GA = "com.acme.models:churn"
GA_DIR = Path("com/acme/models/churn")

def publish(runs, repo: Path, version: str, *extra: str, bundle: Path | None = None) -> int:
    approved, _, model = runs
    return main(["publish", "maven", "--gav", f"{GA}:{version}", "--model", str(model),
                 "--bundle", str(bundle or approved), "--repo", str(repo), *extra])


@pytest.fixture(scope="module")
def repo(runs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("repo")
    assert publish(runs, folder, "1.0.0") == 0
    assert publish(runs, folder, "1.1.0", "--checksums", "sha256,sha512") == 0
    return folder


def test_published_layout_binds_the_verdict_to_the_bundle(runs, repo, capsys):
    approved = runs[0]
    v = repo / GA_DIR / "1.1.0"
    names = sorted(p.name for p in v.iterdir())
    for artifact in ("churn-1.1.0.jar", "churn-1.1.0.pom", "churn-1.1.0-mlqa-evidence.zip"):
        data = (v / artifact).read_bytes()
        for alg in ("md5", "sha1", "sha256", "sha512"):
            assert (v / f"{artifact}.{alg}").read_text() == hashlib.new(alg, data).hexdigest()
    assert not any(n.endswith(".sha256") for n in os.listdir(repo / GA_DIR / "1.0.0"))
    assert len(names) == 15, names
    bundle_sha = hashlib.sha256((approved / "results.jsonl").read_bytes()).hexdigest()
    with zipfile.ZipFile(v / "churn-1.1.0-mlqa-evidence.zip") as zf:
        verdict = json.loads(zf.read("verdict.json"))
        assert zf.read("results.jsonl") == (approved / "results.jsonl").read_bytes()
        assert {"session.json", "provenance.json"} <= set(zf.namelist())
    assert verdict["decision"] == "approve" and verdict["bundle_sha256"] == bundle_sha
    with zipfile.ZipFile(v / "churn-1.1.0.jar") as zf:
        props = zf.read("mlqa.properties").decode().splitlines()
        assert zf.read("approved.pkl") == runs[2].read_bytes()
    assert f"bundle.sha256={bundle_sha}" in props and "verdict=APPROVE" in props
    meta = (repo / GA_DIR / "maven-metadata.xml").read_text()
    assert "<latest>1.1.0</latest>" in meta and "<release>1.1.0</release>" in meta
    assert meta.index("<version>1.0.0</version>") < meta.index("<version>1.1.0</version>")
    assert verify(repo) == []
    assert main(["verify", "maven-repo", str(repo), "--gav", f"{GA}:1.0.0"]) == 0
    assert "consistent" in capsys.readouterr().out


def _rewrite_metadata(folder: Path, old: str, new: str) -> None:
    meta = folder / GA_DIR / "maven-metadata.xml"
    data = meta.read_text().replace(old, new)
    meta.write_text(data)
    for alg in ("md5", "sha1"):  # consistent checksums: only the version list lies
        meta.with_name(f"maven-metadata.xml.{alg}").write_text(
            hashlib.new(alg, data.encode()).hexdigest())


def _wrong_sha1(folder: Path) -> str:
    (folder / GA_DIR / "1.1.0/churn-1.1.0.jar.sha1").write_text("0" * 40)
    return "churn-1.1.0.jar.sha1: does not match"


def _listed_not_on_disk(folder: Path) -> str:
    _rewrite_metadata(folder, "<version>1.1.0</version>",
                      "<version>1.1.0</version><version>1.5.0</version>")
    _rewrite_metadata(folder, "<latest>1.1.0</latest>", "<latest>1.5.0</latest>")
    return "lists 1.5.0, which is not on disk"


@pytest.mark.parametrize("tamper", [None, _wrong_sha1, _listed_not_on_disk],
                         ids=["intact", "wrong-sha1", "listed-not-on-disk"])
def test_mvn_and_the_validator_agree(repo, tmp_path, tamper):
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    problem = tamper(copy) if tamper else None
    built = run_mvn(tmp_path, copy.as_uri(), offline=True)
    found = verify(copy)
    if problem is None:
        assert built.returncode == 0, built.stdout + built.stderr
        assert found == []
        jar = tmp_path / "m2" / GA_DIR / "1.1.0" / "churn-1.1.0.jar"
        assert jar.read_bytes() == (repo / GA_DIR / "1.1.0/churn-1.1.0.jar").read_bytes()
    else:
        assert built.returncode != 0, built.stdout
        assert any(problem in p for p in found), found
        assert main(["verify", "maven-repo", str(copy)]) == 1


def test_missing_evidence_is_found_where_mvn_cannot_look(repo, tmp_path, capsys):
    """A plugin-free Maven build resolves only the jar, so it cannot miss the evidence: the
    validator is the check that a version still carries what approved it."""
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    (copy / GA_DIR / "1.0.0/churn-1.0.0-mlqa-evidence.zip").unlink()
    assert main(["verify", "maven-repo", str(copy)]) == 1
    assert "churn-1.0.0-mlqa-evidence.zip: missing" in capsys.readouterr().out


def test_a_release_is_never_overwritten(runs, repo, capsys):
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    assert publish(runs, repo, "1.0.0") == 2
    err = capsys.readouterr().err
    assert "already published" in err and str(repo / GA_DIR / "1.0.0") in err
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before


def test_a_refused_bundle_is_not_published(runs, tmp_path, capsys):
    assert publish(runs, tmp_path, "1.0.0", bundle=runs[1]) == 1
    assert "REFUSE" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_publish_judges_with_the_gates_own_options(runs, tmp_path, capsys):
    """The policy file that turns `mlqa gate`'s REFUSE into NEEDS A DECISION (the failing
    family advisory) does the same to publish; neither publishes without an APPROVE."""
    from mlqa.gate import gate

    policy = tmp_path / "policy.yaml"
    policy.write_text("advisory:\n  families: [metric]\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    for extra, code in (((), 1), (("--policy", str(policy)), 3)):
        assert main(["gate", str(runs[1]), *extra]) == code
        capsys.readouterr()
        decision = gate(runs[1], policy=policy if extra else None).decision
        assert publish(runs, repo, "1.0.0", *extra, bundle=runs[1]) == 1
        assert f"the gate says {decision.upper()}" in capsys.readouterr().err
    assert list(repo.iterdir()) == []


def test_snapshots_get_timestamped_names(runs, tmp_path):
    assert publish(runs, tmp_path, "2.0-SNAPSHOT") == 0
    assert publish(runs, tmp_path, "2.0-SNAPSHOT") == 0
    folder = tmp_path / GA_DIR / "2.0-SNAPSHOT"
    jars = sorted(p.name for p in folder.glob("*.jar"))
    assert [j.rsplit("-", 1)[1] for j in jars] == ["1.jar", "2.jar"], jars
    meta = (folder / "maven-metadata.xml").read_text()
    assert "<buildNumber>2</buildNumber>" in meta
    assert verify(tmp_path) == []
    assert "<release>" not in (tmp_path / GA_DIR / "maven-metadata.xml").read_text()


@pytest.mark.parametrize("gav", ["com.acme:churn", "com.acme:../x:1.0", "a:b:c:d", "com acme:x:1"])
def test_bad_coordinates_are_named(gav):
    with pytest.raises(InputError, match="--gav"):
        parse_gav(gav)
    assert main(["verify", "maven-repo", "/nonexistent-mlqa-repo"]) == 2


def test_a_failed_publish_leaves_no_half_release(runs, tmp_path, capsys):
    """Unreadable GA metadata stops the publish after the version's files were written: they
    are removed again, so fixing the metadata and retrying publishes, not "already there"."""
    meta = tmp_path / GA_DIR / "maven-metadata.xml"
    meta.parent.mkdir(parents=True)
    meta.write_text("<metadata><versioning>")
    assert publish(runs, tmp_path, "1.0.0") == 2
    assert "not valid XML" in capsys.readouterr().err
    assert not (tmp_path / GA_DIR / "1.0.0").exists()
    meta.unlink()
    assert publish(runs, tmp_path, "1.0.0") == 0
    assert verify(tmp_path, gav=f"{GA}:1.0.0") == []
    assert verify(tmp_path, gav=f"{GA}:9.9") == [
        f"{GA_DIR / 'maven-metadata.xml'} does not list 9.9"]
