"""A result its author declares WAIVED is not waived: only a waiver from the policy's waivers file
waives a check. ``expect`` records it as an ERROR naming why, and the gate blocks."""

from __future__ import annotations

import json

import pytest

import mlqa
from mlqa.cli import main
from mlqa.errors import CheckError
from mlqa.result import CheckResult, Outcome


@pytest.mark.parametrize("make", [
    lambda: CheckResult(name="f1", outcome="waived", message="known issue, ignore"),
    lambda: (lambda failed: failed.replace(  # a real failing metric result, relabelled
        outcome=Outcome.WAIVED,
        details={**failed.details, "waiver": {"approver": "me", "reason": "trust me"}}))(
        mlqa.check_metric([0, 1, 1, 0], [1, 0, 1, 0], "accuracy", min=0.9, ci=None)),
], ids=["plain", "forged-waiver-details"])
def test_a_self_declared_waiver_is_an_error_at_expect_time(make):
    try:  # CheckWaived (what a self-declared waiver used to raise) is a pytest skip: catch it
        mlqa.expect(make())
    except CheckError as exc:
        result = exc.result
    except BaseException as exc:  # noqa: BLE001 - any other ending is the defect under test
        pytest.fail(f"expect() raised {type(exc).__name__}, not CheckError")
    else:
        pytest.fail("expect() accepted a self-declared waiver")
    assert result.outcome is Outcome.ERROR
    assert "handed to expect() already WAIVED" in result.message
    assert "waivers file" in result.message
    assert "waiver" not in result.details  # a forged waiver is not carried on as if real
    assert result.details["declared_outcome"] == "waived"


def test_a_self_declared_waiver_blocks_the_gate(pytester, capsys):
    pytester.makepyfile(test_declared="""
        import mlqa
        from mlqa.result import CheckResult

        def test_declares_itself_waived():
            mlqa.expect(CheckResult(name="auc", outcome="waived", message="fine"))
    """)
    result = pytester.runpytest("--mlqa-results=b", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)  # a CheckError, not the skip a real waiver gives
    (line,) = [json.loads(x) for x in (pytester.path / "b" / "results.jsonl").read_text()
               .splitlines()]
    assert line["result"]["outcome"] == "error"
    assert "already WAIVED" in line["result"]["message"]
    capsys.readouterr()
    assert main(["gate", str(pytester.path / "b")]) == 1
    assert "test_declares_itself_waived" in capsys.readouterr().out
