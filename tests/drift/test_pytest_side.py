"""The pytest side: a real pytest run with drift failures, through the Jenkins checker."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import mlqa
import mlqa.drift

SUITE = '''
import numpy as np
import pandas as pd
import mlqa
import mlqa.drift

rng = np.random.default_rng(0)
ref = pd.DataFrame({"age": rng.normal(40, 10, 3000), "plan": rng.choice(list("abc"), 3000)})
cur = pd.DataFrame({"age": rng.normal(44, 10, 3000),
                    "plan": rng.choice(list("abc"), 3000, p=[0.2, 0.4, 0.4])})

def test_drifted():
    mlqa.expect_drift(ref, cur)

def test_calm():
    mlqa.expect_drift(ref.iloc[:1500], ref.iloc[1500:])

def test_schema():
    mlqa.expect_drift(ref, cur.drop(columns=["plan"]))
'''


def test_failing_expect_drift_in_junit(pytester, jenkins_check):
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("--junitxml=junit.xml", "-o", "junit_family=xunit1")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    xml = pytester.path / "junit.xml"
    verdict = jenkins_check(xml)
    assert verdict["ok"]
    cases = {c.get("name"): c for c in ET.parse(xml).iter("testcase")}
    failure = cases["test_drifted"].find("failure")
    message = failure.get("message")
    for part in ("2 of 2 columns drifted", "age: ks stat=", "p_adj=", "effect=",
                 "plan: chi2_homogeneity"):
        assert part in message, message
    props = {p.get("name"): p.get("value") for p in cases["test_drifted"].iter("property")}
    assert props["mlqa.drift.drifted_columns"] == "2"
    assert props["mlqa.drift.drifted_share"] == "1.0"
    assert props["mlqa.drift.dataset_drift"] == "true"
    assert props["mlqa.drift.drifted"] == "age,plan"
    assert props["mlqa.outcome"] == "fail" and props["mlqa.check"] == "drift"
    calm = {p.get("name"): p.get("value") for p in cases["test_calm"].iter("property")}
    assert calm["mlqa.drift.drifted_columns"] == "0" and calm["mlqa.outcome"] == "pass"
    assert cases["test_schema"].find("error") is not None


def test_html_report_written_by_evidently(tmp_path):
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(list("ab"), 300)})
    cur = pd.DataFrame({"x": rng.normal(1, 1, 300), "c": rng.choice(list("ab"), 300)})
    path = tmp_path / "drift.html"
    r = mlqa.check_drift(ref, cur, html=path)
    assert r.outcome is mlqa.Outcome.FAIL
    text = path.read_text(encoding="utf-8")
    assert "<html" in text.lower() and len(text) > 100_000
    with pytest.raises(mlqa.InputError, match="profile"):
        mlqa.check_drift(mlqa.drift.profile(ref), cur, html=tmp_path / "x.html")


def test_import_mlqa_drift_does_not_import_evidently():
    import subprocess
    import sys

    code = ("import sys, mlqa, numpy as np, pandas as pd\n"
            "r = mlqa.check_drift(pd.DataFrame({'x': np.arange(3000.) % 97}),"
            " pd.DataFrame({'x': np.arange(3000.) % 89}), tests='evidently')\n"
            "print(sorted(m for m in ('evidently', 'sklearn', 'scipy.stats', 'torch')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
