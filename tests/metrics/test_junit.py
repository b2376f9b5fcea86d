"""Metric checks in real pytest runs: one JUnit testcase per slice, failures that read clearly,
and reports the Jenkins checker passes under --strict."""

from __future__ import annotations

import xml.etree.ElementTree as ET

SUITE = """
import numpy as np
import pandas as pd
import pytest

import mlqa

rng = np.random.default_rng(0)
N = 1500
REGION = pd.Series(np.array(["north", "south", "west"])[rng.integers(0, 3, N)], name="region")
REGION[:12] = "tiny"
Y = rng.integers(0, 2, N)
# the model is good in the north and west, poor in the south
NOISE = np.where(REGION == "south", 3.0, 0.6)
SCORE = Y + rng.normal(size=N) * NOISE


@pytest.mark.mlqa_slices(REGION)
def test_auc_per_region(mlqa_slice):
    mlqa.expect_metric(Y, SCORE, "roc_auc", min=0.75, slices=mlqa_slice)


def test_auc_overall_and_sliced():
    mlqa.expect_metric(Y, SCORE, "roc_auc", min=0.7, slices=REGION)


def test_accuracy_fails():
    mlqa.expect_metric(Y, (SCORE > 0.5).astype(int), "accuracy", min=0.95)
"""


def _cases(path):
    root = ET.parse(path).getroot()
    return {c.get("name"): c for c in root.iter("testcase")}


def _props(case):
    return {p.get("name"): p.get("value") for p in case.iter("property")}


def test_slices_become_testcases_and_failures_read_clearly(pytester, jenkins_check):
    pytester.makepyfile(test_quality=SUITE)
    xml = pytester.path / "report.xml"
    result = pytester.runpytest("-p", "no:cacheprovider", f"--junitxml={xml}",
                                "-o", "junit_family=xunit1")
    result.assert_outcomes(passed=3, failed=3)
    cases = _cases(xml)
    assert sorted(cases) == sorted([
        "test_auc_per_region[region=north]", "test_auc_per_region[region=south]",
        "test_auc_per_region[region=tiny]", "test_auc_per_region[region=west]",
        "test_auc_overall_and_sliced", "test_accuracy_fails"])

    south = cases["test_auc_per_region[region=south]"]
    failure = south.find("failure")
    assert failure is not None
    assert failure.get("message").startswith("mlqa.QualityGateFailure: roc_auc[region=south] ")
    assert "< min 0.75 (95% CI " in failure.get("message")
    props = _props(south)
    assert props["mlqa.outcome"] == "fail" and props["mlqa.ci_method"] == "delong"
    assert float(props["mlqa.ci_high"]) < 0.75 and props["mlqa.metric"] == "roc_auc"

    tiny = _props(cases["test_auc_per_region[region=tiny]"])
    assert tiny["mlqa.outcome"] == "inconclusive" and tiny["mlqa.n"] == "12"
    assert "12 rows < min_slice_size 30" in tiny["mlqa.message"]
    assert _props(cases["test_auc_per_region[region=north]"])["mlqa.outcome"] == "pass"

    sliced = cases["test_auc_overall_and_sliced"]
    props = _props(sliced)
    assert props["mlqa.slices"] == "4" and props["mlqa.slices_fail"] == "region=south"
    assert sliced.find("failure") is not None

    acc = cases["test_accuracy_fails"].find("failure").get("message")
    assert "accuracy" in acc and "< min 0.95 (95% CI" in acc and "n=1500" in acc

    verdict = jenkins_check(xml)
    assert verdict["ok"]
