"""A real pytest run of a suite with every outcome, read back the way Jenkins reads it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from mlqa.devices import cuda_unavailable_reason

SUITE = r'''
import numpy as np
import pytest

import mlqa
from mlqa.result import CheckResult, Outcome

Y = np.array([0, 1, 1, 0, 1, 0, 1, 1])


def test_pass():
    mlqa.expect_metric(Y, Y, "accuracy", min=0.9, ci=None)


def test_fail():
    mlqa.expect_metric(Y, np.zeros_like(Y), "accuracy", min=0.9, ci=None)


def test_inconclusive():
    mlqa.expect(CheckResult(name="roc_auc", outcome=Outcome.INCONCLUSIVE, check="metric",
                            metric="roc_auc", value=np.float64(0.905), threshold=0.9,
                            comparison=">=", ci=(np.float64(0.88), 0.93), n=np.int64(800),
                            message="roc_auc 0.905 >= min 0.9 (95% CI 0.88-0.93, n=800)"))


def test_bad_input_is_an_error():
    mlqa.expect_metric(Y, [0.5, np.nan, 1, 0, 1, 0, 1, 1], "roc_auc", min=0.9)


@pytest.mark.gpu
def test_needs_gpu():
    import torch

    assert torch.cuda.is_available()


def test_device_unavailable_skips():
    raise mlqa.DeviceUnavailable("asked for cuda:0 on a machine without CUDA")


def test_waived():  # a failure the reviewed waivers file covers (a self-declared WAIVED is ERROR)
    mlqa.expect_metric(Y, np.zeros_like(Y), "f1", min=0.9, ci=None)


def test_hostile_strings():
    evil = ("\x1b[31mred\x1b[0m \x00\x07\x1f\x7f\x85 \udcff\ufffe "
            + b"\xff\xfe bytes".decode("utf-8", "surrogateescape") + " " + "x" * 1_000_000)
    mlqa.expect(CheckResult(name="evil\x1b[1m", outcome=Outcome.FAIL, check="metric",
                            value=1.0, threshold=2.0, comparison=">=", n=3, message=evil))
'''

# Jenkins' view of each test, per --mlqa-inconclusive policy.
EXPECTED = {
    "test_pass": ("PASSED", "pass"),
    "test_fail": ("FAILED", "fail"),
    "test_bad_input_is_an_error": ("FAILED", "error"),
    "test_device_unavailable_skips": ("SKIPPED", None),
    "test_waived": ("SKIPPED", "waived"),
    "test_hostile_strings": ("FAILED", "fail"),
}
INCONCLUSIVE_STATUS = {"warn": "PASSED", "pass": "PASSED", "fail": "FAILED"}
GPU_STATUS = "SKIPPED" if cuda_unavailable_reason() else "PASSED"


def _cases(verdict: dict) -> dict[str, dict]:
    return {c["name"]: c for c in verdict["cases"]}


@pytest.mark.parametrize("workers", [None, 2], ids=["serial", "xdist"])
@pytest.mark.parametrize("policy", ["warn", "fail", "pass"])
def test_every_outcome_reaches_jenkins_right(pytester, jenkins_check, policy, workers):
    pytester.makepyfile(test_suite=SUITE)
    pytester.path.joinpath("waivers.yaml").write_text(
        "waivers:\n  - check: test_suite.py::test_waived\n    reason: known label noise\n"
        "    approver: Ada\n    expires: 2099-01-01\n")
    args = ["--junitxml=junit.xml", "--mlqa-results=bundle", f"--mlqa-inconclusive={policy}",
            "--mlqa-waivers=waivers.yaml",
            "-o", "junit_family=xunit1", "-p", "no:cacheprovider"]
    if workers:
        args += ["-n", str(workers)]
    result = pytester.runpytest_subprocess(*args)

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    verdict = jenkins_check(pytester.path / "junit.xml")
    cases = _cases(verdict)
    assert len(cases) == 8, sorted(cases)
    expected = {**{name: status for name, (status, _) in EXPECTED.items()},
                "test_inconclusive": INCONCLUSIVE_STATUS[policy], "test_needs_gpu": GPU_STATUS}
    assert {name: c["status"] for name, c in cases.items()} == expected
    failed = sum(s == "FAILED" for s in expected.values())
    assert verdict["counts"]["failed"] == failed
    assert verdict["counts"]["failed_with_error_element_only"] == 1
    assert verdict["predicted_build_result"] == "UNSTABLE"

    # the figures travel as plain-string properties, the outcome always says what happened
    for name, (_, outcome) in EXPECTED.items():
        assert cases[name]["properties"].get("mlqa.outcome") == outcome, name
    inconclusive = cases["test_inconclusive"]["properties"]
    assert inconclusive["mlqa.outcome"] == "inconclusive"
    assert (inconclusive["mlqa.value"], inconclusive["mlqa.ci_low"], inconclusive["mlqa.n"]) \
        == ("0.905", "0.88", "800")
    assert "roc_auc" in cases["test_bad_input_is_an_error"]["error_details"]
    fail_message = cases["test_fail"]["error_details"]
    assert "accuracy 0.375 < min 0.9" in fail_message and "n=8" in fail_message
    warnings = result.parseoutcomes().get("warnings", 0)
    if policy == "warn":
        assert warnings == 1
        result.stdout.fnmatch_lines(["*InconclusiveWarning: [[]INCONCLUSIVE[]] roc_auc 0.905*"])
    else:
        assert warnings == 0
    result.stdout.fnmatch_lines(["*mlqa: 6 checks: 1 error, 2 fail, 1 inconclusive, 1 waived, "
                                 "1 pass*"])

    # one bundle line per expected check, merged from the workers, none lost or doubled
    bundle = pytester.path / "bundle"
    assert sorted(p.name for p in bundle.iterdir()) == ["provenance.json", "results.jsonl",
                                                   "session.json", "waivers.yaml"]
    records = [json.loads(line) for line in (bundle / "results.jsonl").read_text().splitlines()]
    # the two tests that skipped for want of a device leave a "skipped" line for the report
    skips = {r["testname"] for r in records if r["result"]["outcome"] == "skipped"}
    assert skips == {"test_needs_gpu", "test_device_unavailable_skips"}
    records = [r for r in records if r["testname"] not in skips]
    by_test = {r["testname"]: r for r in records}
    assert len(records) == 6 and len(by_test) == 6
    assert by_test["test_inconclusive"]["test_outcome"] == \
        INCONCLUSIVE_STATUS[policy].lower()
    assert by_test["test_bad_input_is_an_error"]["test_outcome"] == "error"
    assert by_test["test_waived"]["test_outcome"] == "skipped"
    assert by_test["test_fail"]["result"]["value"] == 0.375
    assert {r["classname"] for r in records} == {"test_suite"}


def test_error_is_an_error_element_and_an_error_in_the_terminal(pytester):
    pytester.makepyfile(test_e=SUITE)
    result = pytester.runpytest_subprocess("--junitxml=j.xml", "-k", "bad_input or fail",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, errors=1)
    root = ET.parse(pytester.path / "j.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == "test_bad_input_is_an_error")
    assert case.find("failure") is None
    error = case.find("error")
    assert error is not None and error.get("type") == "mlqa.CheckError"
    assert "y_pred has 1 non-finite value" in error.get("message")


def test_hostile_message_is_cleaned_not_lost(pytester, jenkins_check):
    pytester.makepyfile(test_h=SUITE)
    pytester.runpytest_subprocess("--junitxml=j.xml", "-k", "hostile", "-p", "no:cacheprovider")
    raw = (pytester.path / "j.xml").read_bytes()
    raw.decode("utf-8")  # valid UTF-8
    assert b"\x1b" not in raw and b"#x1B" not in raw
    assert len(raw) < 60_000  # a 1 MB message is bounded, head and tail kept
    case = _cases(jenkins_check(pytester.path / "j.xml"))["test_hostile_strings"]
    assert case["error_details"].startswith("mlqa.QualityGateFailure: red")
    assert "chars cut" in case["properties"]["mlqa.message"]
