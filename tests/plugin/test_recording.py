"""How results reach the test report when they do not come through expect_* alone."""

import json

SUITE = """
import mlqa
from mlqa.result import CheckResult, Outcome


def test_raised_directly():
    raise mlqa.QualityGateFailure(CheckResult(name="f1", outcome="fail", value=0.5,
                                              message="f1 0.5 < min 0.8 (n=10)"))


def test_bad_input_without_expect():
    mlqa.check_metric([0, 1], [0, 1, 1], "accuracy", min=0.5, ci=None)


def test_two_checks_in_one_test():
    mlqa.expect_metric([0, 1, 1, 0], [0, 1, 1, 0], "accuracy", min=0.5, ci=None)
    mlqa.expect_metric([0, 1, 1, 0], [0, 1, 0, 0], "recall", min=0.9, ci=None)


def test_unrelated_failure_records_nothing():
    assert 1 == 2
"""


def test_results_from_any_path_are_recorded(pytester, jenkins_check):
    pytester.makepyfile(test_paths=SUITE)
    result = pytester.runpytest("--junitxml=j.xml", "--mlqa-results=b", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=3, errors=1)
    cases = {c["name"]: c for c in jenkins_check(pytester.path / "j.xml")["cases"]}

    assert cases["test_raised_directly"]["properties"]["mlqa.value"] == "0.5"
    bad = cases["test_bad_input_without_expect"]
    assert bad["properties"]["mlqa.outcome"] == "error"
    assert bad["properties"]["mlqa.check"] == "input"
    assert "inconsistent numbers of samples" in bad["properties"]["mlqa.message"]
    two = cases["test_two_checks_in_one_test"]["properties"]
    assert (two["mlqa.outcome"], two["mlqa.checks"]) == ("fail", "2")
    assert (two["mlqa.1.metric"], two["mlqa.1.outcome"]) == ("accuracy", "pass")
    assert (two["mlqa.2.metric"], two["mlqa.2.outcome"]) == ("recall", "fail")
    assert not any(k.startswith("mlqa.") for k in
                   cases["test_unrelated_failure_records_nothing"]["properties"])

    lines = (pytester.path / "b" / "results.jsonl").read_text().splitlines()
    records = [(r["testname"], r["index"], r["result"]["outcome"]) for r in map(json.loads, lines)]
    assert records == [("test_bad_input_without_expect", 0, "error"),
                       ("test_raised_directly", 0, "fail"),
                       ("test_two_checks_in_one_test", 0, "pass"),
                       ("test_two_checks_in_one_test", 1, "fail")]
