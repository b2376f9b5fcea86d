"""Evidence completeness: every test of an mlqa suite leaves a bundle line whatever happens to it,
the run writes down its own account (session.json), and the gate refuses when they disagree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlqa.cli import main

SUITE = r'''
import numpy as np
import pytest

import mlqa

Y = np.array([0, 1, 1, 0, 1, 0, 1, 1])


@pytest.fixture
def model_file():
    raise FileNotFoundError("model.skops")


@pytest.mark.mlqa
def test_fixture_error(model_file):
    mlqa.expect_metric(Y, Y, "accuracy", min=0.9, ci=None)


@pytest.mark.mlqa
def test_raises_before_check():
    features = {}
    features["age"]


def test_model_raises_inside_the_check():
    def model(x):
        raise RuntimeError("CUDA out of memory")

    mlqa.measure_latency(model, np.zeros(3, dtype="float32"), device="cpu", warmup_iters=1,
                         min_iters=5, max_time_s=1.0)


def test_assert_after_a_passing_check():
    mlqa.expect_metric(Y, Y, "accuracy", min=0.9, ci=None)
    assert Y.sum() == 99, "calibration is off"


@pytest.mark.mlqa
def test_passes_without_any_check():
    assert Y.size == 8


@pytest.fixture
def broken_teardown():
    yield
    raise OSError("could not release the GPU")


def test_teardown_error_after_a_check(broken_teardown):
    mlqa.expect_metric(Y, Y, "accuracy", min=0.9, ci=None)


def test_unrelated_failure():
    assert 1 == 2


def test_pass():
    mlqa.expect_metric(Y, Y, "accuracy", min=0.9, ci=None)
'''


def _lines(folder: Path) -> dict[str, list[dict]]:
    by_test: dict[str, list[dict]] = {}
    for line in (folder / "results.jsonl").read_text().splitlines():
        record = json.loads(line)
        by_test.setdefault(record["testname"], []).append(record["result"])
    return by_test


def _gate(folder: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()  # drop what the pytest run printed
    code = main(["gate", str(folder)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("workers", [None, 2], ids=["serial", "xdist"])
def test_every_suite_test_leaves_a_line_whatever_happens(pytester, jenkins_check, capsys,
                                                          workers):
    pytester.makepyfile(test_suite=SUITE)
    args = ["--junitxml=j.xml", "--mlqa-results=b", "-p", "no:cacheprovider"]
    if workers:
        args += ["-n", str(workers)]
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=3, failed=2, errors=5)  # no check: error at teardown
    lines = _lines(pytester.path / "b")
    assert "test_unrelated_failure" not in lines  # not an mlqa test: owes nothing

    (fixture,) = lines["test_fixture_error"]
    assert fixture["outcome"] == "error" and fixture["check"] == "evidence"
    assert fixture["message"].startswith("evidence missing: a fixture (setup) raised "
                                         "FileNotFoundError: model.skops at ")
    assert "test_suite.py:" in fixture["message"]
    (before,) = lines["test_raises_before_check"]
    assert before["outcome"] == "error"
    assert "evidence missing: the test raised KeyError: 'age' at test_suite.py:" \
        in before["message"]
    (crash,) = lines["test_model_raises_inside_the_check"]
    assert (crash["outcome"], crash["check"]) == ("error", "crashed")
    assert crash["message"].startswith("check crashed in mlqa.latency.")
    assert "RuntimeError: CUDA out of memory (raised at test_suite.py:" in crash["message"]
    passed, after = lines["test_assert_after_a_passing_check"]
    assert passed["outcome"] == "pass" and (after["outcome"], after["check"]) == ("fail", "test")
    assert after["message"].startswith("the test failed after its checks: AssertionError: "
                                       "calibration is off")
    (nothing,) = lines["test_passes_without_any_check"]
    assert nothing["outcome"] == "error"
    assert nothing["message"].startswith("evidence missing: the test passed without recording")
    check, teardown = lines["test_teardown_error_after_a_check"]
    assert check["outcome"] == "pass" and teardown["outcome"] == "error"
    assert "teardown raised OSError: could not release the GPU" in teardown["message"]

    session = json.loads((pytester.path / "b" / "session.json").read_text())
    assert session["finished"] is True and session["ended_early"] is None
    assert session["selected"] == 8
    assert session["counts"] == {"passed": 1, "failed": 4, "error": 3, "skipped": 0}
    assert session["tests"]["test_suite.py::test_passes_without_any_check"] == \
        {"outcome": "error", "mlqa": True, "records": 1}  # pytest, JUnit and gate agree
    assert session["tests"]["test_suite.py::test_unrelated_failure"] == \
        {"outcome": "failed", "mlqa": False, "records": 0}
    assert session["tests"]["test_suite.py::test_assert_after_a_passing_check"] == \
        {"outcome": "failed", "mlqa": True, "records": 2}

    code, out = _gate(pytester.path / "b", capsys)
    assert code == 1 and "REFUSE" in out and "could not run" in out

    # Jenkins: the crash and the missing evidence are errors, the plain assertion a failure
    cases = {c["name"]: c for c in jenkins_check(pytester.path / "j.xml")["cases"]}
    assert cases["test_model_raises_inside_the_check"]["status"] == "FAILED"
    assert cases["test_model_raises_inside_the_check"]["properties"]["mlqa.check"] == "crashed"
    assert cases["test_assert_after_a_passing_check"]["properties"]["mlqa.outcome"] == "fail"
    assert cases["test_passes_without_any_check"]["status"] == "FAILED"  # <error>, not SUCCESS


PASSING = '''
import mlqa

def test_a():
    mlqa.expect_metric([0, 1, 1, 0], [0, 1, 1, 0], "accuracy", min=0.5, ci=None)

def test_b():
    mlqa.expect_metric([0, 1, 1, 0], [0, 1, 0, 0], "accuracy", min=0.5, ci=None)
    mlqa.expect_metric([0, 1, 1, 0], [0, 1, 1, 0], "recall", min=0.5, ci=None)
'''


def _passing_run(pytester, *args: str) -> Path:
    pytester.makepyfile(test_ok=PASSING)
    pytester.runpytest_subprocess("--mlqa-results=b", "-p", "no:cacheprovider", *args)
    return pytester.path / "b"


def test_a_complete_passing_run_is_approved(pytester, capsys):
    folder = _passing_run(pytester, "-n", "2")
    assert _gate(folder, capsys) == (0, "mlqa gate: APPROVE: all 3 checks passed\n")


def test_a_deleted_line_is_refused(pytester, capsys):
    folder = _passing_run(pytester)
    results = folder / "results.jsonl"
    results.write_text("".join(results.read_text().splitlines(keepends=True)[:-1]))
    code, out = _gate(folder, capsys)
    assert code == 2
    assert "bundle and session disagree: test_ok.py::test_b wrote 2 line(s), the bundle " \
           "holds 1" in out


def test_a_failure_rewritten_as_a_pass_is_refused(pytester, capsys):
    pytester.makepyfile(test_f='''
import mlqa

def test_f():
    mlqa.expect_metric([0, 1, 1, 0], [1, 0, 0, 1], "accuracy", min=0.5, ci=None)
''')
    pytester.runpytest_subprocess("--mlqa-results=b", "-p", "no:cacheprovider")
    results = pytester.path / "b" / "results.jsonl"
    results.write_text(results.read_text().replace('"outcome": "fail"', '"outcome": "pass"'))
    code, out = _gate(pytester.path / "b", capsys)
    assert code == 2 and "pytest reports test_f.py::test_f as failed, but its bundle lines " \
                         "all passed" in out


def test_a_stopped_run_is_refused(pytester, capsys):
    pytester.makepyfile(test_x='''
import mlqa

def test_1():
    mlqa.expect_metric([0, 1, 1, 0], [1, 0, 0, 1], "accuracy", min=0.5, ci=None)

def test_2():
    mlqa.expect_metric([0, 1, 1, 0], [0, 1, 1, 0], "accuracy", min=0.5, ci=None)
''')
    pytester.runpytest_subprocess("--mlqa-results=b", "-p", "no:cacheprovider", "-x")
    code, out = _gate(pytester.path / "b", capsys)
    assert code == 2 and "the run ended early (stopping after 1 failures): 1 of 2 selected " \
                         "tests ran" in out
    capsys.readouterr()
    code, out = (main(["report", str(pytester.path / "b")]), capsys.readouterr().err)
    assert code == 2 and "ended early" in out


def test_a_collection_error_is_refused(pytester, capsys):
    folder = _passing_run(pytester)
    pytester.makepyfile(test_broken="import no_such_module_here\n")
    pytester.runpytest_subprocess("--mlqa-results=b", "-p", "no:cacheprovider",
                                  "--continue-on-collection-errors")
    code, out = _gate(folder, capsys)
    assert code == 2 and "1 collection error(s) (test_broken.py)" in out


def test_a_run_that_never_finished_is_refused(pytester, capsys):
    folder = _passing_run(pytester)
    (folder / "session.json").write_text('{"schema": 1, "finished": false}')
    code, out = _gate(folder, capsys)
    assert code == 2 and "the run did not finish" in out
    (folder / "session.json").unlink()
    code, out = _gate(folder, capsys)
    assert code == 2 and "no session record (session.json)" in out


def test_a_rerun_that_passed_is_complete_evidence(pytester, capsys, monkeypatch):
    """pytest-rerunfailures: the session keeps the last attempt, as the bundle does."""
    monkeypatch.setenv("FLAKY_MARKER", str(pytester.path / "flaky.marker"))
    pytester.makepyfile(test_flaky='''
import os
from pathlib import Path

import mlqa


def test_flaky():
    marker = Path(os.environ["FLAKY_MARKER"])
    first = not marker.exists()
    marker.touch()
    mlqa.expect_metric([0, 1, 1, 0], [1, 0, 0, 1] if first else [0, 1, 1, 0], "accuracy",
                       min=0.5, ci=None)
''')
    pytester.runpytest_subprocess("--mlqa-results=b", "-p", "no:cacheprovider", "--reruns=1")
    session = json.loads((pytester.path / "b" / "session.json").read_text())
    assert session["tests"]["test_flaky.py::test_flaky"] == \
        {"outcome": "passed", "mlqa": True, "records": 1}
    assert _gate(pytester.path / "b", capsys) == (0, "mlqa gate: APPROVE: all 1 check passed\n"
                                                  "  RERUN   test_flaky.py::test_flaky: this line "
                                                  "is from attempt 2; 1 earlier attempt failed "
                                                  "(pytest-rerunfailures)\n")
