"""A test that kills its pytest-xdist worker (os._exit, a segfault) leaves no report of its own:
xdist only says the worker crashed. When the test belongs to the mlqa suite (marked, or it had
started an expect_* check) the bundle gets an ERROR line for it and the gate blocks, naming it."""

from __future__ import annotations

import json

from mlqa.cli import main

SUITE = r'''
import os

import numpy as np
import pytest

import mlqa

Y = np.array([0, 1, 1, 0, 1, 0, 1, 1])


def test_passes_then_kills_its_worker():
    mlqa.expect_metric(Y, Y, "accuracy", min=0.9, ci=None)
    os._exit(3)


@pytest.mark.mlqa
def test_marked_segfaults_before_any_check():
    import ctypes

    ctypes.string_at(0)  # SIGSEGV


def test_segfaults_inside_its_first_check():
    import ctypes

    def metric(y_true, y_pred):
        return float(len(ctypes.string_at(0)))  # SIGSEGV inside the check, before any result

    mlqa.expect_metric(Y, Y, metric, min=0.5, ci=None, greater_is_better=True)


def test_pass():
    mlqa.expect_metric(Y, Y, "accuracy", min=0.9, ci=None)
'''

CRASHED = ("test_passes_then_kills_its_worker", "test_marked_segfaults_before_any_check",
           "test_segfaults_inside_its_first_check")


def test_a_crashed_worker_blocks_the_gate_for_its_mlqa_test(pytester, capsys):
    pytester.makepyfile(test_crash=SUITE)
    result = pytester.runpytest_subprocess("-n", "2", "--mlqa-results=b", "-p", "no:cacheprovider",
                                           "-p", "no:faulthandler")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(["*worker 'gw*' crashed while running*"])

    folder = pytester.path / "b"
    lines = [json.loads(x) for x in (folder / "results.jsonl").read_text().splitlines()]
    by_test = {}
    for line in lines:
        by_test.setdefault(line["testname"], []).append(line["result"])
    assert [r["outcome"] for r in by_test["test_pass"]] == ["pass"]
    for name in CRASHED:
        crashed = by_test[name][-1]
        assert crashed["outcome"] == "error", name
        assert crashed["message"].startswith("check crashed: the pytest-xdist worker gw"), name
        assert "crashed while running this test" in crashed["message"], name
    # the check the first test passed before its worker died is not its whole evidence
    assert [r["outcome"] for r in by_test[CRASHED[0]]] in (["error"], ["pass", "error"])
    session = json.loads((folder / "session.json").read_text())
    assert all(session["tests"][f"test_crash.py::{n}"]["mlqa"] for n in CRASHED)
    assert sorted(p.name for p in folder.iterdir()) == ["provenance.json", "results.jsonl",
                                                    "session.json"]

    capsys.readouterr()
    assert main(["gate", str(folder)]) == 1
    out = capsys.readouterr().out
    assert all(name in out for name in CRASHED), out
