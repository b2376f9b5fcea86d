"""Waiver files: validation with line numbers, scope, expiry, and what a waiver may change."""

from __future__ import annotations

import datetime as dt

import pytest

from mlqa import expect, policy, recording
from mlqa.errors import CheckError, CheckWaived, InputError, QualityGateFailure
from mlqa.result import CheckResult, Outcome
from mlqa.waivers import EXPIRED, OTHER_MODEL, VALID, parse, waive

GOOD = """\
waivers:
  - check: "tests/test_q.py::test_auc[segment-b]"
    reason: relabelled
    approver: jane
    expires: 2030-01-31
  - check: "tests/test_q.py::test_latency_*"
    reason: new hardware
    approver: joe
    expires: "2030-02-01"
    ticket: OPS-7
    model: sha256:ABCDEF0123
"""
TODAY = dt.date(2030, 1, 15)


def failing(name: str = "roc_auc") -> CheckResult:
    return CheckResult(name=name, outcome=Outcome.FAIL, check="metric", value=0.8,
                       threshold=0.9, comparison=">=", message=f"{name} 0.8 < min 0.9")


def test_parse_reads_entries_with_their_lines() -> None:
    w = parse(GOOD, source="w.yaml")
    assert [(x.check, x.line, x.expires) for x in w] == [
        ("tests/test_q.py::test_auc[segment-b]", 2, dt.date(2030, 1, 31)),
        ("tests/test_q.py::test_latency_*", 6, dt.date(2030, 2, 1))]
    assert w.entries[1].model == "abcdef0123" and w.entries[1].ticket == "OPS-7"


def test_exact_node_ids_with_brackets_and_globs_match() -> None:
    w = parse(GOOD)
    # fnmatch alone would read [segment-b] as a character set and miss the exact id
    assert w.find("tests/test_q.py::test_auc[segment-b]", TODAY) is w.entries[0]
    assert w.find("tests/test_q.py::test_auc[segment-c]", TODAY) is None
    assert w.find("tests/test_q.py::test_latency_p99", TODAY, ["abcdef0123" + "0" * 54]) \
        is w.entries[1]


def test_expiry_is_inclusive_and_model_scope_is_checked() -> None:
    first, second = parse(GOOD)
    assert first.status(dt.date(2030, 1, 31)) == VALID
    assert first.status(dt.date(2030, 2, 1)) == EXPIRED
    assert second.status(TODAY, ["ffff" * 16]) == OTHER_MODEL
    assert second.status(TODAY, []) == OTHER_MODEL
    assert second.status(TODAY, ["sha256:abcdef0123" + "0" * 54]) == VALID


@pytest.mark.parametrize(("text", "line", "words"), [
    ("waivers:\n  - check: a\n    reason: r\n    approver: x\n", 2, "lacks ['expires']"),
    ("waivers:\n  - check: a\n    reason: r\n    approver: x\n    expires: 2030-13-01\n",
     2, "YYYY-MM-DD"),
    ("waivers:\n  - check: a\n    reason: r\n    approver: x\n    expires: 2030-01-01\n"
     "  - check: b\n    reason: r\n    approver: x\n    expiry: 2030-01-01\n", 6, "unknown"),
    ("waivers:\n  - check: a\n    reason: [r\n", 4, "not valid YAML"),
    ("waivers:\n  - check: a\n    reason: r\n    approver: x\n    expires: 2030-01-01\n"
     "    model: not-a-hash\n", 2, "sha256"),
    ("waiver:\n  - check: a\n", 1, "unknown top-level"),
    ("waivers:\n  - check: a\n    reason: r\n    approver: '   '\n    expires: 2030-01-01\n",
     2, "lacks ['approver']"),
    ("waivers:\n  - check: a\n    reason: r\n    approver: x\n    expires: 2020-01-01\n"
     "    expires: 2099-01-01\n", 6, "duplicate key 'expires' (first at line 5)"),
    ("waivers:\n  - check: a\n    reason: r\n    approver: x\n    expires: next week\n",
     2, "waiver expires must be a date YYYY-MM-DD, got 'next week'"),
])
def test_malformed_files_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(InputError) as exc:
        parse(text, source="w.yaml")
    assert f"w.yaml:{line}" in str(exc.value) and words in str(exc.value)


def test_waive_keeps_the_original_and_refuses_errors() -> None:
    w = parse(GOOD).entries[0]
    waived = waive(failing(), w)
    assert waived.outcome is Outcome.WAIVED
    assert waived.message.startswith("waived by jane until 2030-01-31: relabelled")
    assert waived.details["waiver"]["outcome"] == "fail"
    error = CheckResult(name="x", outcome=Outcome.ERROR, message="could not run")
    with pytest.raises(InputError):
        waive(error, w)


def test_expect_waives_only_failures_covered_for_the_running_test() -> None:
    w = parse(GOOD.replace("2030-01-31", "2999-01-31"))
    with policy.using(waivers=w), recording.capture() as seen:
        with recording.running_test("tests/test_q.py::test_auc[segment-b]"):
            with pytest.raises(CheckWaived) as exc:
                expect(failing())
            assert "waived by jane" in str(exc.value)
            with pytest.raises(CheckError):  # a waiver never turns an ERROR into a pass
                expect(CheckResult(name="x", outcome=Outcome.ERROR, message="no data"))
        with recording.running_test("tests/test_q.py::test_other"):
            with pytest.raises(QualityGateFailure):
                expect(failing())
    assert [r.outcome for r in seen] == [Outcome.WAIVED, Outcome.ERROR, Outcome.FAIL]
