"""Faults inside a pytest run, followed to the gate; bad results and plugin options.

A run case runs pytest in a fresh process with ``--mlqa-results`` and then ``mlqa gate`` on
what it left: what pytest saw must reach the gate's exit code, never an approval."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _matrix import (
    Case,
    Ran,
    cases,
    cli,
    error_outcome,
    exit_code,
    input_error,
    pytest_run,
    refusal,
    run_case,
)

import mlqa
from mlqa.result import CheckResult, Outcome

ROOT = Path(__file__).resolve().parents[2]
CHECKER = Path(os.environ.get("MLQA_JENKINS_CHECKER") or
               ROOT.parent / "shared" / "jenkins" / "jenkins_junit_check.py")

HEAD = '''
import numpy as np
import pytest

import mlqa

Y = np.array([0, 1, 1, 0, 1, 0, 1, 1])


def check():
    mlqa.expect_metric(Y, Y, "accuracy", min=0.5, ci=None)


def test_ok():
    check()

'''


def run_then_gate(body: str, *args: str) -> Callable[[Path], Ran]:
    def action(tmp: Path) -> Ran:
        ran = pytest_run(tmp, {"test_suite.py": HEAD + body}, "--mlqa-results=b", *args)
        assert "INTERNALERROR" not in ran.output, ran.output
        return cli("gate", tmp / "b")
    return action


def plugin_option(*args: str, files: dict[str, str] | None = None) -> Callable[[Path], Ran]:
    return lambda tmp: pytest_run(tmp, files or {"test_a.py": HEAD}, *args)


def junit_checked(body: str) -> Callable[[Path], Ran]:
    """The Jenkins checker (--strict) on the JUnit file of a run with ``body``."""
    def action(tmp: Path) -> Ran:
        if not CHECKER.exists():
            if os.environ.get("MLQA_REQUIRE_SHARED") == "1":
                pytest.fail(f"MLQA_REQUIRE_SHARED=1 but the Jenkins checker is missing: "
                            f"{CHECKER}")
            pytest.skip(f"Jenkins checker not found at {CHECKER}")
        pytest_run(tmp, {"test_suite.py": HEAD + body}, "--junitxml=j.xml",
                   "--mlqa-results=b")
        proc = subprocess.run([sys.executable, str(CHECKER), "--strict", str(tmp / "j.xml")],
                              capture_output=True, text=True, check=False)
        return Ran(proc.returncode, proc.stdout, proc.stderr)
    return action


FIXTURE_ERROR = '''
@pytest.fixture
def model():
    raise FileNotFoundError("model.skops")


@pytest.mark.mlqa
def test_uses_model(model):
    check()
'''
ASSERT_AFTER = '''
def test_then_asserts():
    check()
    assert Y.sum() == 99
'''
RAISES_BEFORE = '''
@pytest.mark.mlqa
def test_raises_first():
    {}["age"]
'''
CRASH_INSIDE = '''
def test_model_crashes():
    def model(x):
        raise RuntimeError("CUDA out of memory")
    mlqa.measure_latency(model, np.zeros(3, dtype="float32"), device="cpu", warmup_iters=1,
                         min_iters=5, max_time_s=1.0)
'''
NO_CHECK = '''
@pytest.mark.mlqa
def test_forgot_to_expect():
    mlqa.check_metric(Y, Y, "accuracy", min=0.5, ci=None)
'''
TEARDOWN_ERROR = '''
@pytest.fixture
def gpu():
    yield
    raise OSError("could not release the GPU")


def test_with_gpu(gpu):
    check()
'''
FAILING_FIRST = '''
def test_a_fails():
    mlqa.expect_metric(Y, 1 - Y, "accuracy", min=0.5, ci=None)


def test_b_never_runs():
    check()
'''
INTERRUPT = '''
def test_interrupted():
    check()
    raise KeyboardInterrupt


def test_after():
    check()
'''
EXIT = '''
def test_exits():
    pytest.exit("abandoning the run")


def test_after():
    check()
'''
SKIPPED = '''
@pytest.mark.mlqa
def test_skipped():
    pytest.skip("no evaluation data this week")
'''
XFAIL = '''
@pytest.mark.mlqa
@pytest.mark.xfail(reason="known", strict=False)
def test_expected_to_fail():
    mlqa.expect_metric(Y, 1 - Y, "accuracy", min=0.5, ci=None)
'''
SELF_WAIVED = '''
def test_claims_waived():
    from mlqa.result import CheckResult, Outcome
    mlqa.expect(CheckResult(name="f1", outcome=Outcome.WAIVED, check="metric",
                            message="waived by nobody"))
'''
WAIVERS = "waivers:\n  - check: a\n    reason: r\n    approver: '  '\n    expires: 2030-01-01\n"

RUNS = [
    Case("run-fixture-error", run_then_gate(FIXTURE_ERROR),
         exit_code(1, "REFUSE: 1 blocking check could not run")),
    Case("run-assert-after-passing-check", run_then_gate(ASSERT_AFTER),
         exit_code(1, "REFUSE: 1 blocking check failed")),
    Case("run-raises-before-check", run_then_gate(RAISES_BEFORE),
         exit_code(1, "evidence missing: the test raised KeyError")),
    Case("run-crash-inside-check", run_then_gate(CRASH_INSIDE),
         exit_code(1, "check crashed in mlqa.latency")),
    Case("run-marked-test-without-expect", run_then_gate(NO_CHECK),
         exit_code(1, "evidence missing: the test passed without recording any mlqa check")),
    Case("run-teardown-error", run_then_gate(TEARDOWN_ERROR),
         exit_code(1, "teardown raised OSError: could not release the GPU")),
    Case("run-stopped-by-x", run_then_gate(FAILING_FIRST, "-x"),
         refusal("the run ended early (stopping after 1 failures)")),
    Case("run-maxfail", run_then_gate(FAILING_FIRST, "--maxfail=1"),
         refusal("the run ended early")),
    Case("run-keyboard-interrupt", run_then_gate(INTERRUPT), refusal("the run ended early")),
    Case("run-pytest-exit", run_then_gate(EXIT), refusal("the run ended early")),
    Case("run-collection-error",
         lambda tmp: (pytest_run(tmp, {"test_a.py": HEAD, "test_b.py": "import no_such_mod\n"},
                                 "--mlqa-results=b", "--continue-on-collection-errors"),
                      cli("gate", tmp / "b"))[1],
         refusal("collection error(s) (test_b.py)")),
    Case("run-result-claims-waived-without-waiver", run_then_gate(SELF_WAIVED),
         exit_code(1, "already WAIVED")),  # ERROR at expect time, so the gate blocks
    Case("run-skipped-marked-test", run_then_gate(SKIPPED),
         exit_code(3, "NEEDS A DECISION: 1 skipped: evidence missing")),
    Case("run-xfail-marked-test", run_then_gate(XFAIL), exit_code(1, "REFUSE")),
    Case("junit-teardown-error-is-clean", junit_checked(TEARDOWN_ERROR + CRASH_INSIDE),
         exit_code(0)),
    Case("plugin-waivers-blank-approver",
         lambda tmp: (tmp.joinpath("w.yaml").write_text(WAIVERS),
                      pytest_run(tmp, {"test_a.py": HEAD}, "--mlqa-waivers=w.yaml"))[1],
         exit_code(4, "--mlqa-waivers: ")),
    Case("plugin-waivers-missing-file", plugin_option("--mlqa-waivers=nope.yaml"),
         exit_code(4, "--mlqa-waivers: waivers file")),
    Case("plugin-inconclusive-choice", plugin_option("--mlqa-inconclusive=maybe"),
         exit_code(4, "invalid choice: 'maybe'")),
]

RESULTS = [
    Case("result-outcome-unknown", lambda tmp: CheckResult(name="a", outcome="FAILED"),
         input_error("CheckResult.outcome must be one of")),
    Case("result-value-text", lambda tmp: CheckResult(name="a", outcome="pass", value="high"),
         input_error("CheckResult.value must be a number or None, got 'high'")),
    Case("result-ci-reversed", lambda tmp: CheckResult(name="a", outcome="pass", ci=(0.9, 0.1)),
         input_error("CheckResult.ci must be (low, high) with low <= high")),
    Case("result-threshold-list", lambda tmp: CheckResult(name="a", outcome="pass",
                                                          threshold=[0.9]),
         input_error("CheckResult.threshold must be a number or None")),
    Case("expect-not-a-result", lambda tmp: mlqa.expect("pass"),
         input_error("expect() takes a CheckResult, got str")),
    Case("result-nan-decides-error",
         lambda tmp: CheckResult(name="m", outcome=mlqa.result.decide(float("nan"), min=0.5),
                                 message="m could not be decided on NaN"),
         error_outcome("could not be decided on NaN")),
]


@pytest.mark.parametrize("case", cases(RUNS + RESULTS))
def test_case(case: Case, tmp_path: Path, record_property: Any) -> None:
    run_case(case, tmp_path, record_property)


def test_outcome_words_are_the_bundle_vocabulary() -> None:
    """The gate's reader accepts exactly the outcome words results can carry (+ skipped)."""
    from mlqa.report import bundle

    assert {o.value for o in Outcome} == {"pass", "fail", "inconclusive", "error", "waived"}
    assert bundle.SKIPPED == "skipped"
