"""Disparity and shadow in a pytest run: one JUnit testcase per compared pair (the
mlqa_pairs marker in Python, ``pair:`` in YAML), YAML kinds ``disparity`` and ``shadow``, their
properties and bundle lines, and a JUnit file Jenkins reads cleanly."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

# loaded here, outside the in-process runs: a C extension first imported inside one is dropped
# after it and cannot be imported again (tests/conftest.py says more)
duckdb = pytest.importorskip("duckdb")

CONFTEST = """
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression


@pytest.fixture(scope="session")
def holdout():
    rng = np.random.default_rng(0)
    n = 4000
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["region"] = rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2])
    frame["y"] = (frame["a"] + rng.normal(0, 0.7, n) > 0).astype(int)
    # the east's positives are missed far more often: a true recall gap
    frame["p"] = np.where((frame["region"] == "east") & (rng.random(n) < 0.5), 0,
                          (frame["a"] > 0).astype(int))
    return frame


@pytest.fixture(scope="session")
def traffic(holdout):
    frame = holdout.drop(columns=["y"]).sample(2000, random_state=1).reset_index(drop=True)
    frame["champion"] = (frame["a"] > 0).astype(int)
    return frame


@pytest.fixture(scope="session")
def model(holdout):
    return LogisticRegression().fit(holdout[["a", "b"]], holdout["y"])
"""

SUITE = """
suite: fair
data:
  holdout: {fixture: holdout}
  traffic: {fixture: traffic}
  scored_eval: {path: eval.parquet}
  scored_traffic: {path: traffic.parquet}
model: {fixture: model}
checks:
  - id: recall_gap
    kind: disparity
    data: holdout
    target: y
    prediction: p
    groups: region
    metric: recall
    max_difference: 0.05
    reference_group: north
  - id: odds_gap_south
    kind: disparity
    data: holdout
    target: y
    prediction: p
    groups: region
    metric: equalized_odds
    max_difference: 0.1
    reference_group: north
    pair: south vs north
  - id: shadow
    kind: shadow
    data: traffic
    champion: champion
    max_disagreement: 0.05
    evaluation: holdout
    target: y
  - id: recall_gap_lake
    kind: disparity
    data: scored_eval
    target: y
    prediction: p
    groups: region
    metric: recall
    max_difference: 0.2
    reference_group: best
  - id: shadow_lake
    kind: shadow
    data: scored_traffic
    champion: champion
    prediction: cand
    evaluation: scored_eval
    max_score_shift: 0.05
"""

TESTS = """
import mlqa
import pytest

GROUPS = ["north", "south", "east"]


@pytest.mark.mlqa
@pytest.mark.mlqa_pairs(GROUPS, reference="north")
def test_recall(holdout, mlqa_pair):
    mlqa.expect_disparity(holdout["y"], holdout["p"], holdout["region"], metric="recall",
                          max_difference=0.05, reference="north", pair=mlqa_pair)
"""


@pytest.fixture
def project(pytester):
    rng = np.random.default_rng(5)  # scored tables as Parquet files: DuckDB reads them
    y = rng.integers(0, 2, 3000)
    # written by pyarrow itself: pandas' Parquet writer registers Arrow extension types, which
    # an in-process pytest run before this one may have imported and dropped
    pq.write_table(pa.table({"y": y, "p": np.where(rng.random(3000) < 0.9, y, 1 - y),
                             "region": rng.choice(["n", "s"], 3000),
                             "cand": rng.random(3000)}), pytester.path / "eval.parquet")
    champion = rng.random(2000)
    pq.write_table(pa.table({"cand": np.clip(champion + rng.normal(0, 0.01, 2000), 0, 1),
                             "champion": champion}), pytester.path / "traffic.parquet")
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\njunit_family = xunit1\n")
    pytester.path.joinpath("fair.mlqa.yaml").write_text(SUITE)
    pytester.makepyfile(test_fair=TESTS)
    return pytester


def test_one_testcase_per_pair_and_yaml_kinds(project, request):
    result = project.runpytest("--junitxml=j.xml", "--mlqa-results=b", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, failed=2)
    import xml.etree.ElementTree as ET

    cases = {c.get("name"): c for c in ET.parse(project.path / "j.xml").getroot()
             .iter("testcase")}
    assert set(cases) == {"recall_gap", "odds_gap_south", "shadow", "recall_gap_lake",
                          "shadow_lake",
                          "test_recall[east vs north]", "test_recall[south vs north]"}

    def props(name):
        return {p.get("name"): p.get("value") for p in cases[name].iter("property")}

    east, south = props("test_recall[east vs north]"), props("test_recall[south vs north]")
    assert east["mlqa.outcome"] == "fail" and cases["test_recall[east vs north]"].find(
        "failure") is not None
    assert south["mlqa.outcome"] == "pass" and south["mlqa.check"] == "disparity"
    assert south["mlqa.pairs"] == "1" and float(south["mlqa.ci_low"]) >= -0.05
    whole = props("recall_gap")
    assert whole["mlqa.outcome"] == "fail" and whole["mlqa.pairs_fail"] == "east vs north"
    assert props("odds_gap_south")["mlqa.outcome"] == "pass"
    shadow = props("shadow")
    assert shadow["mlqa.check"] == "shadow" and shadow["mlqa.outcome"] == "pass"
    assert shadow["mlqa.prediction_drift"] == "pass"
    lines = [json.loads(x) for x in (project.path / "b" / "results.jsonl").read_text()
             .splitlines()]
    kinds = {r["result"]["type"] for r in lines}
    assert kinds == {"DisparityResult", "ShadowResult"}
    by_id = {r["nodeid"].rsplit("::", 1)[-1]: r["result"] for r in lines}
    assert by_id["recall_gap_lake"]["details"]["engine"] == "duckdb"
    assert by_id["recall_gap_lake"]["outcome"] == "pass"
    lake = by_id["shadow_lake"]
    assert lake["outcome"] == "pass" and lake["mode"] == "scores"
    assert lake["components"]["prediction_drift"]["outcome"] == "pass"
    verdict = request.getfixturevalue("jenkins_check")(project.path / "j.xml")
    assert verdict["counts"]["total"] == 7 and verdict["predicted_build_result"] == "UNSTABLE"


def test_report_shows_pairs_groups_margin_and_shadow_figures(project, monkeypatch):
    from mlqa.cli import main

    project.runpytest("--mlqa-results=b", "-p", "no:cacheprovider")
    monkeypatch.chdir(project.path)
    assert main(["report", "b", "-o", "r.html", "--md", "s.md"]) == 0
    page = (project.path / "r.html").read_text()
    md = (project.path / "s.md").read_text()
    assert md.startswith("## Model release: REFUSE\n")
    assert "recall_gap" in md and "east vs north" in md
    for field in ("pair", "gap", "margin", "group", "rate", "figure"):
        assert f'data-field="{field}"' in page, field
    assert page.count("<svg") >= 2  # the gaps against the margin, per disparity check
    assert "disagreement" in page and "prediction_drift" in page
    assert "true_positive_rate gap east vs north" in page
