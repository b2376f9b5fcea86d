"""What a YAML suite judged reaches the gatekeeper: the suite file, its model file and every data
file a check read (path, size, SHA-256, the engine that read it) in provenance.json, and the
suite's ``description:`` fields in the JUnit properties, the HTML report and summary.md."""

import hashlib
import importlib.util
import json
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlqa.cli import main

skops_io = pytest.importorskip("skops.io")
pytest.importorskip("pyarrow")
# pytester forgets the modules first imported during a test, and pandas' Parquet engine may
# register its pyarrow extension types only once per process: load it before any test does.
pd.io.parquet.get_engine("pyarrow")

SUITE = """
suite: loans
description: >
  Release gate of the loan-default model: ranking quality on the holdout,
  drift of the applicants against last quarter.
data:
  holdout: {path: data/holdout.csv}
  last_quarter: {path: data/last_quarter.parquet}
  applicants: {path: data/applicants.parquet}
model: {path: models/candidate.skops}
checks:
  - id: auc
    kind: metric
    description: The candidate ranks defaulters above payers (ROC AUC at least 0.80).
    data: holdout
    target: y
    metric: roc_auc
    min: 0.8
    n_resamples: 200
  - id: drift
    kind: drift
    description: Applicants look like last quarter's <b>no markup</b> & co.
    reference: last_quarter
    current: applicants
  - id: rows
    kind: row_count
    data: holdout
    min: 100
"""

DESCRIPTIONS = {
    "auc": "The candidate ranks defaulters above payers (ROC AUC at least 0.80).",
    "drift": "Applicants look like last quarter's <b>no markup</b> & co.",
}
SUITE_DESCRIPTION = ("Release gate of the loan-default model: ranking quality on the holdout, "
                     "drift of the applicants against last quarter.")


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def project(pytester):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(800, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=800) > 0).astype(int)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    (pytester.path / "data").mkdir()
    (pytester.path / "models").mkdir()
    frame.to_csv(pytester.path / "data" / "holdout.csv", index=False)
    frame[["a", "b", "c"]].iloc[:400].to_parquet(pytester.path / "data" / "last_quarter.parquet")
    frame[["a", "b", "c"]].iloc[400:].to_parquet(pytester.path / "data" / "applicants.parquet")
    skops_io.dump(LogisticRegression().fit(frame[["a", "b", "c"]], y),
                  pytester.path / "models" / "candidate.skops")
    pytester.makeini("[pytest]\njunit_family = xunit1\n")
    pytester.path.joinpath("loans.mlqa.yaml").write_text(SUITE)
    return pytester


def test_provenance_lists_the_suite_model_and_data_files_with_their_hashes(project):
    # two xdist workers: each registers what it read, the controller merges the parts
    result = project.runpytest_subprocess("-n", "2", "--mlqa-results=results",
                                          "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    prov = json.loads((project.path / "results" / "provenance.json").read_text())
    root = project.path.resolve()

    (suite,) = prov["suites"]
    assert suite["name"] == "loans" and suite["description"] == SUITE_DESCRIPTION
    assert suite["path"] == str(root / "loans.mlqa.yaml")
    assert suite["sha256"] == sha256(root / "loans.mlqa.yaml")

    (model,) = prov["models"]
    model_file = root / "models" / "candidate.skops"
    assert model["path"] == str(model_file) and model["source"] == "file"
    assert model["sha256"] == sha256(model_file)
    assert model["size"] == model_file.stat().st_size

    parquet_engine = "duckdb" if importlib.util.find_spec("duckdb") else "memory"
    expected = {"holdout": ("holdout.csv", "memory"),
                "last_quarter": ("last_quarter.parquet", parquet_engine),
                "applicants": ("applicants.parquet", parquet_engine)}
    datasets = {d["name"]: d for d in prov["datasets"]}
    assert set(datasets) == set(expected) and len(prov["datasets"]) == 3
    for name, (file, engine) in expected.items():
        path = root / "data" / file
        d = datasets[name]
        assert (d["path"], d["sha256"], d["size"], d["engine"]) == \
            (str(path), sha256(path), path.stat().st_size, engine), name


def test_a_changed_file_changes_its_recorded_hash(project):
    """The hash is of the file as this run read it, not one remembered from an earlier run."""
    project.runpytest_subprocess("--mlqa-results=results", "-p", "no:cacheprovider")
    first = json.loads((project.path / "results" / "provenance.json").read_text())
    frame = pd.read_csv(project.path / "data" / "holdout.csv")
    frame.iloc[:300].to_csv(project.path / "data" / "holdout.csv", index=False)
    project.runpytest_subprocess("--mlqa-results=results", "-p", "no:cacheprovider")
    second = json.loads((project.path / "results" / "provenance.json").read_text())

    def holdout(doc):
        (d,) = [d for d in doc["datasets"] if d["name"] == "holdout"]
        return d

    assert holdout(first)["sha256"] != holdout(second)["sha256"]
    assert holdout(second)["sha256"] == sha256(project.path / "data" / "holdout.csv")
    assert first["models"] == second["models"]


def test_descriptions_reach_junit_the_report_and_the_summary(project, jenkins_check):
    project.runpytest_subprocess("--junitxml=junit.xml", "--mlqa-results=results",
                                 "-p", "no:cacheprovider").assert_outcomes(passed=3)
    junit = project.path / "junit.xml"
    jenkins_check(junit)
    props = {case.get("name"): {p.get("name"): p.get("value")
                                for p in case.iter("property")}
             for case in ET.parse(junit).getroot().iter("testcase")}
    for check, said in DESCRIPTIONS.items():
        assert props[check]["mlqa.description"] == said
    assert "mlqa.description" not in props["rows"]  # a check without one gets none
    assert all(p["mlqa.suite_description"] == SUITE_DESCRIPTION for p in props.values())

    results = project.path / "results"
    assert main(["report", str(results), "-o", str(project.path / "report.html"),
                 "--md", str(project.path / "summary.md")]) == 0
    page = (project.path / "report.html").read_text(encoding="utf-8")
    assert "The candidate ranks defaulters above payers (ROC AUC at least 0.80)." in page
    # text from the suite is escaped, never markup
    assert "Applicants look like last quarter&#x27;s &lt;b&gt;no markup&lt;/b&gt; &amp; co." \
        in page and "<b>no markup</b>" not in page
    assert page.count(SUITE_DESCRIPTION) == 1  # once, with the suite file
    assert page.count('<div class="desc">') == 2  # the checks that have a description
    for file in ("models/candidate.skops", "data/holdout.csv", "data/applicants.parquet"):
        assert sha256(project.path / file) in page and str(project.path.resolve() / file) in page

    summary = (project.path / "summary.md").read_text(encoding="utf-8")
    assert "ROC AUC at least 0.80" in summary and "&lt;b&gt;no markup&lt;/b&gt;" in summary
    assert "ranking quality on the holdout" in summary
    assert sha256(project.path / "models" / "candidate.skops") in summary


FIXTURE_SUITE = """
suite: from_fixtures
data:
  holdout: {fixture: holdout}
model: {fixture: candidate}
checks:
  - id: auc
    kind: metric
    data: holdout
    target: y
    metric: roc_auc
    min: 0.8
    n_resamples: 200
"""


def test_fixture_tables_and_models_are_recorded_by_content_hash(project, monkeypatch):
    """The main job's suite takes its data and model from fixtures: no file to name, but the
    approver still gets the hash of what was judged (as ``provenance.dataset``/``model`` give)."""
    from mlqa import provenance

    project.makeconftest("""
        import pandas as pd
        import pytest
        import skops.io

        @pytest.fixture(scope="session")
        def holdout():
            return pd.read_csv("data/holdout.csv")

        @pytest.fixture(scope="session")
        def candidate():
            return skops.io.load("models/candidate.skops")
    """)
    (project.path / "loans.mlqa.yaml").write_text(FIXTURE_SUITE)
    project.runpytest_subprocess("--mlqa-results=results", "-p", "no:cacheprovider"
                                 ).assert_outcomes(passed=1)
    prov = json.loads((project.path / "results" / "provenance.json").read_text())
    (data,) = prov["datasets"]
    (model,) = prov["models"]
    monkeypatch.setattr(provenance, "_registered", [])  # this process's own stay as they are
    expected_data = provenance.dataset("holdout", pd.read_csv(project.path / "data" /
                                                              "holdout.csv"))
    expected_model = provenance.model(skops_io.load(project.path / "models" / "candidate.skops"))
    assert (data["name"], data["source"], data["sha256"], data["rows"]) == \
        ("holdout", "dataframe", expected_data.sha256, 800)
    assert (model["name"], model["source"], model["sha256"]) == \
        ("candidate", "pickle", expected_model.sha256)
