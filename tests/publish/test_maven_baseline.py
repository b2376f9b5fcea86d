"""A published release as the next run's baseline: ``--mlqa-baseline=maven:G:A:VERSION``.

Two real runs (model versions 1.0.0 and 1.1.0) save their baseline record and are published
into a folder repository; the resolver picks the version RELEASE, LATEST, an exact version or
a range names, verifies the evidence and compares with exactly the predictions zipped in it.
A version that is missing, unapproved or tampered with is an error, never a comparison.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

# Imported here so pytester's in-process runs find them loaded (numpy's extension modules
# cannot be loaded twice in one process, and pytester unloads what a run imported).
import numpy.fft  # noqa: F401
import pytest
import sklearn.datasets  # noqa: F401
import sklearn.linear_model  # noqa: F401
import skops.io  # noqa: F401

import mlqa
from mlqa.baseline import BaselineError, CorruptRecord, RecordNotFound
from mlqa.baseline.maven import MavenBaseline, in_range, version_key
from mlqa.cli import main

GA = "com.acme.models:churn"
GA_DIR = Path("com/acme/models/churn")

SUITE = textwrap.dedent("""
    import os
    import pytest
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    import mlqa

    X, y = make_classification(n_samples=2000, n_features=8, random_state=0)
    model = LogisticRegression(max_iter=300).fit(X[:1000], y[:1000])
    X_test, y_test = X[1000:], y[1000:]

    def predict(X):
        pred = model.predict(X)
        if os.environ.get("DEGRADE") == "1":  # a broken candidate: every 12th answer flipped
            pred = pred.copy()
            pred[::12] = 1 - pred[::12]
        return pred

    @pytest.mark.mlqa
    def test_accuracy(mlqa_baseline):
        mlqa_baseline.save_model(model, name="churn", version=os.environ.get("VERSION", "x"))
        mlqa_baseline.save_predictions("holdout", y_test, model.predict(X_test), X=X_test)
        mlqa_baseline.save_latency("predict", [1.0, 1.25, 0.9, 1.1], batch_size=1,
                                   environment={"device": "cpu"})
        mlqa.expect_metric(y_test, predict(X_test), "accuracy", min=0.6, ci=None)

    if os.environ.get("COMPARE") == "1":
        @pytest.mark.mlqa
        def test_no_regression(mlqa_baseline):
            mlqa.expect_regression(y_test, predict(X_test), mlqa_baseline.predictions("holdout"),
                                   max_drop=0.02, data=X_test)
""")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """(folder repository with churn 1.0.0 and 1.1.0, the model file, the store the runs
    saved into), each version's evidence holding its run's baseline record."""
    base = tmp_path_factory.mktemp("baseline-runs")
    (base / "test_model.py").write_text(SUITE)
    model = base / "model.bin"
    model.write_bytes(b"the model file a Java service loads")
    repo = base / "repo"
    repo.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "COMPARE")}
    for version in ("1.0.0", "1.1.0"):
        args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "-p", "no:faker", "-p", "no:anyio", "-p", "no:hypothesispytest",
                f"--mlqa-baseline={base / 'store'}", "--mlqa-save-baseline",
                f"--mlqa-results={base / version}", str(base / "test_model.py")]
        ran = subprocess.run(args, cwd=base, env={**env, "VERSION": version},
                             capture_output=True, text=True, timeout=300, check=False)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert main(["publish", "maven", "--gav", f"{GA}:{version}", "--model", str(model),
                     "--bundle", str(base / version), "--repo", str(repo)]) == 0
    return repo, model, base / "store"


def test_publishing_marks_the_runs_build_released_in_its_history(published):
    """Each run added its build to the store's history; ``mlqa publish maven`` marked it
    released (not approved: promoting is the gatekeeper's act), so the trend page shows it."""
    from mlqa.history import read_history

    store = published[2]
    history = read_history(store)
    entries = [json.loads((store.parent / v / "history.json").read_text())["entry"]
               for v in ("1.0.0", "1.1.0")]
    assert [b.entry for b in history.builds] == entries
    assert [(b.released, b.approved) for b in history.builds] == [(True, False), (True, False)]
    mark = json.loads((store / "history/marks" / entries[1] / "released.json").read_text())
    assert (mark["flag"], mark["reason"]) == ("released", f"published as {GA}:1.1.0")


@pytest.mark.parametrize(("selector", "version"), [
    ("RELEASE", "1.1.0"), ("LATEST", "1.1.0"), ("1.0.0", "1.0.0"), ("[1.0,1.1)", "1.0.0"),
    ("[1.0,2.0)", "1.1.0"), ("(,1.1.0]", "1.1.0"), ("[1.0.0]", "1.0.0")])
def test_a_selector_resolves_to_its_version(published, selector, version):
    repo = published[0]
    record = MavenBaseline(f"maven:{GA}:{selector}", repo).load()
    assert record.model["version"] == version
    with zipfile.ZipFile(repo / GA_DIR / version / f"churn-{version}-mlqa-evidence.zip") as zf:
        zipped = zf.read(f"baseline/records/{record.id}/record.json")
    assert json.loads(zipped)["id"] == record.id
    ident = record.predictions("holdout").source
    assert ident is not None and ident.alias == f"maven {selector}"
    assert f"{GA}:{version} (gate APPROVE" in (ident.reason or "")


def test_the_baseline_is_exactly_what_was_published(published):
    repo, _, store = published
    baseline = MavenBaseline(f"maven:{GA}:RELEASE", repo).load().predictions("holdout")
    saved = mlqa.baseline.load_record(store, "latest").predictions("holdout")  # the 1.1.0 run
    assert (baseline.y_pred == saved.y_pred).all() and (baseline.y_true == saved.y_true).all()
    latency = MavenBaseline(f"maven:{GA}:RELEASE", repo).load().latency("predict")
    assert list(latency.samples_ms) == [1.0, 1.25, 0.9, 1.1]
    assert dict(latency.environment) == {"device": "cpu"}
    result = mlqa.check_regression(saved.y_true, saved.y_pred, baseline, max_drop=0.02)
    assert result.outcome == mlqa.Outcome.PASS
    assert result.details["baseline_record"]["alias"] == "maven RELEASE"


@pytest.mark.parametrize(("spec", "error", "text"), [
    (f"maven:{GA}:9.9", RecordNotFound, "does not list 9.9 (it lists: 1.0.0, 1.1.0)"),
    (f"maven:{GA}:[3.0,4.0)", RecordNotFound, "lists no release in [3.0,4.0)"),
    ("maven:com.acme.models:other:RELEASE", RecordNotFound, "nothing of com.acme.models:other"),
    (f"maven:{GA}:2.0-SNAPSHOT", BaselineError, "a baseline is an approved release"),
    (f"maven:{GA}", BaselineError, "write maven:group:artifact:VERSION"),
    ("maven:com acme:churn:RELEASE", BaselineError, "not a valid Maven coordinate"),
    (f"maven:{GA}:[1.0;2.0)", BaselineError, "not a Maven version range"),
])
def test_what_cannot_be_resolved_is_named(published, spec, error, text):
    with pytest.raises(error) as raised:
        MavenBaseline(spec, published[0]).load()
    assert text in str(raised.value)


def _rezip(zip_path: Path, change) -> None:
    """Rewrite the evidence zip with ``change(files)`` and give it matching checksums: only
    the content lies, as a careless or hostile hand would leave it."""
    with zipfile.ZipFile(zip_path) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    change(files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    zip_path.write_bytes(buf.getvalue())
    for alg in ("md5", "sha1"):
        zip_path.with_name(f"{zip_path.name}.{alg}").write_text(
            hashlib.new(alg, buf.getvalue()).hexdigest())


def _unapproved(files):
    verdict = json.loads(files["verdict.json"])
    files["verdict.json"] = json.dumps({**verdict, "decision": "refuse"}).encode()


def _swapped_predictions(files):
    name = next(n for n in files if n.endswith("predictions/holdout.npz"))
    files[name] = files[name][:-1] + bytes([files[name][-1] ^ 1])


@pytest.mark.parametrize(("tamper", "error", "text"), [
    (_unapproved, BaselineError, "the verdict is 'refuse', not approve"),
    (_swapped_predictions, BaselineError, "differs from the verdict's SHA-256"),
])
def test_an_unapproved_or_altered_release_is_refused(published, tmp_path, tamper, error, text):
    repo = tmp_path / "repo"
    shutil.copytree(published[0], repo)
    _rezip(repo / GA_DIR / "1.1.0/churn-1.1.0-mlqa-evidence.zip", tamper)
    with pytest.raises(error) as raised:
        MavenBaseline(f"maven:{GA}:RELEASE", repo).load()
    assert text in str(raised.value)
    assert MavenBaseline(f"maven:{GA}:1.0.0", repo).load().model["version"] == "1.0.0"


def test_a_tampered_checksum_or_missing_evidence_is_refused(published, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(published[0], repo)
    (repo / GA_DIR / "1.1.0/churn-1.1.0-mlqa-evidence.zip.sha1").write_text("0" * 40)
    with pytest.raises(CorruptRecord, match="does not match its .sha1"):
        MavenBaseline(f"maven:{GA}:RELEASE", repo).load()
    (repo / GA_DIR / "1.0.0/churn-1.0.0-mlqa-evidence.zip").unlink()
    with pytest.raises(RecordNotFound, match="has no evidence zip"):
        MavenBaseline(f"maven:{GA}:[1.0,1.1)", repo).load()


def test_a_release_published_without_a_record_is_no_baseline(runs, tmp_path):
    """The runs fixture's approved bundle saved no baseline record: its release says so."""
    assert main(["publish", "maven", "--gav", f"{GA}:1.0.0", "--model", str(runs[2]),
                 "--bundle", str(runs[0]), "--repo", str(tmp_path)]) == 0
    with pytest.raises(RecordNotFound, match="holds no baseline record"):
        MavenBaseline(f"maven:{GA}:RELEASE", tmp_path).load()


def test_resolved_over_http(published, maven_server):
    repo, model, _ = published
    shutil.copytree(repo / "com", maven_server.root / "com")
    record = MavenBaseline(f"maven:{GA}:[1.0,2.0)", maven_server.url).load()
    assert record.model["version"] == "1.1.0"
    assert MavenBaseline(f"maven:{GA}:1.0.0", maven_server.url).load().model["version"] == \
        "1.0.0"
    assert all(ok for _, _, ok in maven_server.requests)


def test_maven_version_order():
    versions = ["1.0-alpha1", "1.0-rc1", "1.0", "1.0.1", "1.1", "1.1-sp", "1.9", "1.10", "2"]
    assert sorted(reversed(versions), key=version_key) == versions
    assert version_key("1.0") == version_key("1") == version_key("1-ga")
    assert in_range("1.9", "[1.0,2.0)") and not in_range("2.0", "[1.0,2.0)")
    assert in_range("2.0", "(,2.0]") and not in_range("1.0", "(1.0,2.0)")


def test_pytest_run_compares_with_the_published_release(published, pytester, monkeypatch):
    """End to end: the next run names the release by Maven coordinates; its regression check
    compares with 1.1.0's zipped predictions; JUnit shows which release it was; a version that
    is not there is an ERROR, never a pass; a degraded candidate fails."""
    repo = published[0]
    pytester.makepyfile(test_model=SUITE)
    monkeypatch.setenv("COMPARE", "1")
    monkeypatch.delenv("MLQA_MAVEN_REPO", raising=False)
    result = pytester.runpytest(f"--mlqa-baseline=maven:{GA}:RELEASE",
                                f"--mlqa-maven-repo={repo}", "--junitxml=report.xml", "-p",
                                "no:cacheprovider")
    result.assert_outcomes(passed=2)
    cases = {c.get("name"): c for c in ET.parse(pytester.path / "report.xml").iter("testcase")}
    props = {p.get("name"): p.get("value")
             for p in cases["test_no_regression"].iter("property")}
    assert props["mlqa.outcome"] == "pass" and props["mlqa.baseline_model"] == "churn 1.1.0"
    assert props["mlqa.baseline_alias"] == "maven RELEASE"
    assert f"{GA}:1.1.0 (gate APPROVE" in props["mlqa.baseline_reason"]

    monkeypatch.setenv("MLQA_MAVEN_REPO", str(repo))  # the repository from the environment
    missing = pytester.runpytest(f"--mlqa-baseline=maven:{GA}:[3.0,4.0)",
                                 "--junitxml=missing.xml", "-p", "no:cacheprovider")
    missing.assert_outcomes(passed=1, errors=1)
    cases = {c.get("name"): c for c in ET.parse(pytester.path / "missing.xml").iter("testcase")}
    error = cases["test_no_regression"].find("error")
    assert error is not None and "lists no release in [3.0,4.0)" in error.get("message", "")

    monkeypatch.setenv("DEGRADE", "1")
    pytester.runpytest(f"--mlqa-baseline=maven:{GA}:1.0.0").assert_outcomes(failed=1,
                                                                            passed=1)
