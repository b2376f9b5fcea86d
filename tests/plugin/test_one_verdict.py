"""One verdict everywhere: JUnit's failed and errored testcases are exactly the gate's blocking
checks, pytest's exit code says the same, and ``mlqa gate --junitxml`` shows the same red.

Every way an mlqa test can end is run for real in one pytest session (the cases of
tests/matrix/test_plugin_cases.py plus a swallowed failure, an unexpected check_* result and an
INCONCLUSIVE); the sets are compared from the files Jenkins and the gate read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from _verdict import gate_blocking, junit_red

from mlqa.cli import main
from mlqa.gate import gate
from mlqa.report import bundle

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "matrix"))
from test_plugin_cases import (  # noqa: E402
    ASSERT_AFTER,
    CRASH_INSIDE,
    FIXTURE_ERROR,
    HEAD,
    NO_CHECK,
    RAISES_BEFORE,
    SELF_WAIVED,
    SKIPPED,
    TEARDOWN_ERROR,
    XFAIL,
)

EXTRA = '''
@pytest.mark.mlqa
def test_swallows_its_failure():
    try:
        mlqa.expect_metric(Y, 1 - Y, "accuracy", min=0.5, ci=None)
    except AssertionError:
        pass


def test_asserts_on_an_unexpected_check():
    assert mlqa.check_metric(Y, 1 - Y, "accuracy", min=0.5, ci=None).passed


def test_inconclusive():
    mlqa.expect_metric(Y[:4], Y[:4], "accuracy", min=0.9)


def test_plain_failure_after_check():
    check()
    raise ValueError("post-processing broke")
'''
SUITE = HEAD + "".join((FIXTURE_ERROR, ASSERT_AFTER, RAISES_BEFORE, CRASH_INSIDE, NO_CHECK,
                        TEARDOWN_ERROR, SKIPPED, SELF_WAIVED, XFAIL, EXTRA))


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    import subprocess

    base = tmp_path_factory.mktemp("verdict")
    (base / "test_suite.py").write_text(SUITE)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:faker",
         "-p", "no:anyio", "-p", "no:randomly", "--junitxml=j.xml", "-o",
         "junit_family=xunit1", "--mlqa-results=b", "test_suite.py"],
        cwd=base, capture_output=True, text=True, check=False)
    assert "INTERNALERROR" not in proc.stdout, proc.stdout
    return base, proc.returncode


def test_junit_red_equals_the_gates_blocking_set(ran: tuple[Path, int]) -> None:
    base, returncode = ran
    verdict = gate(base / "b")
    blocking = gate_blocking(verdict)
    red = junit_red(base / "j.xml")
    assert blocking == red
    names = {name for _, name in blocking}
    # the cases that used to be green in Jenkins while the gate refused
    assert {"test_forgot_to_expect", "test_swallows_its_failure",
            "test_asserts_on_an_unexpected_check", "test_claims_waived",
            "test_expected_to_fail"} <= names  # xfail waives nothing: red in both
    assert "test_inconclusive" not in names and "test_ok" not in names
    assert returncode == 1 and verdict.decision == "refuse"


def test_a_check_the_test_asserted_on_is_its_evidence(ran: tuple[Path, int]) -> None:
    base, _ = ran
    lines = [r for r in bundle.read(base / "b")
             if r.testname == "test_asserts_on_an_unexpected_check"]
    assert [(r.result.check, r.result.outcome.value) for r in lines] == \
        [("metric", "fail"), ("test", "fail")]
    assert "accuracy" in lines[0].result.message


def test_the_gates_junit_shows_the_same_red(ran: tuple[Path, int], jenkins_check,
                                            capsys) -> None:
    base, _ = ran
    out = base / "gate.xml"
    assert main(["gate", str(base / "b"), "--junitxml", str(out)]) == 1
    capsys.readouterr()
    checked = jenkins_check(out)  # clean under --strict
    cases = {c["name"]: c["status"] for c in checked["cases"]}
    verdict = gate(base / "b")
    failed = {n.split(" #")[0] for n, s in cases.items() if s == "FAILED"}
    assert failed == {c.nodeid for c in verdict.checks if c.blocks} | {"verdict"}
    assert cases["test_suite.py::test_inconclusive"] == "SKIPPED"  # undecided: asks


def test_a_line_from_another_run_is_refused(ran: tuple[Path, int], tmp_path: Path,
                                            capsys) -> None:
    base, _ = ran
    copy = tmp_path / "b"
    import shutil

    shutil.copytree(base / "b", copy)
    lines = (copy / "results.jsonl").read_text().splitlines()
    stranger = json.loads(lines[0])
    stranger["run_id"] = "0" * 32
    (copy / "results.jsonl").write_text("\n".join([*lines[1:], json.dumps(stranger)]) + "\n")
    assert main(["gate", str(copy)]) == 2
    assert "line(s) of another run" in capsys.readouterr().err


def test_a_partial_run_is_refused_unless_accepted(pytester: pytest.Pytester, capsys) -> None:
    pytester.makepyfile(test_suite=HEAD + '''
def test_other():
    check()
''')
    pytester.runpytest_subprocess("--mlqa-results=b", "-p", "no:cacheprovider", "-k", "ok")
    assert main(["gate", str(pytester.path / "b")]) == 1
    assert "partial run: 1 test deselected by -k 'ok'" in capsys.readouterr().out
    assert main(["gate", str(pytester.path / "b"), "--accept-partial"]) == 0
