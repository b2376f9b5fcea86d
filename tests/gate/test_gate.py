"""``mlqa gate``: exit 0 / 1 / 2 for each case, and the verdict it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlqa.cli import main
from mlqa.gate import APPROVE, DECIDE, REFUSE, evaluate
from mlqa.report import bundle, evidence
from mlqa.result import CheckResult, Outcome
from mlqa.waivers import parse, waive

MODEL = "ab12cd34" * 8
RUN = "ab" * 16


def result(outcome: str, name: str = "roc_auc", family: str = "metric") -> CheckResult:
    return CheckResult(name=name, outcome=Outcome(outcome), check=family, value=0.8,
                       threshold=0.9, comparison=">=", message=f"{name} is {outcome}")


def write_bundle(folder: Path, checks: dict[str, CheckResult | dict], models=()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for nodeid, r in checks.items():
        typed = bundle.SkippedTest(r["name"], r.get("message", "")) if isinstance(r, dict) \
            else r
        bundle.append(folder, "main", bundle.BundleRecord(nodeid, typed, run_id=RUN))
    bundle.merge(folder)
    session_of(folder)
    if models:
        (folder / "provenance.json").write_text(json.dumps(
            {"models": [{"kind": "model", "name": "m", "sha256": m} for m in models]}))
    return folder


def session_of(folder: Path) -> None:
    """The session record a real run would have left for these lines (pytest's outcome
    follows the worst line)."""
    tests: dict[str, dict] = {}
    for r in bundle.read(folder):
        t = tests.setdefault(r.nodeid, {"outcome": "passed", "mlqa": True, "records": 0})
        t["records"] += 1
        outcome = "skipped" if r.check_result is None else r.check_result.outcome.value
        if outcome in ("fail", "error"):
            t["outcome"] = "failed"
        elif outcome in ("skipped", "waived") and t["outcome"] == "passed":
            t["outcome"] = "skipped"
    evidence.finish(folder, run_id=RUN, tests=tests, selected=len(tests), ended_early=None,
                    exitstatus=1 if any(t["outcome"] == "failed" for t in tests.values())
                    else 0)


def waivers_file(folder: Path, check: str, expires: str = "2999-01-01", model: str = "") -> Path:
    path = folder / "w.yaml"
    path.write_text(f'- check: "{check}"\n  reason: known\n  approver: jane\n'
                    f"  expires: {expires}\n" + (f"  model: {model}\n" if model else ""))
    return path


def gate(*args: str | Path) -> int:
    return main(["gate", *map(str, args)])


def test_all_pass_approves(tmp_path: Path, capsys) -> None:
    b = write_bundle(tmp_path / "b", {"t.py::a": result("pass"), "t.py::b": result("pass")})
    assert gate(b) == 0
    assert capsys.readouterr().out.startswith("mlqa gate: APPROVE: all 2 checks passed")


def test_a_failure_refuses_and_is_printed(tmp_path: Path, capsys) -> None:
    b = write_bundle(tmp_path / "b", {"t.py::a": result("pass"), "t.py::b": result("fail")})
    assert gate(b) == 1
    out = capsys.readouterr().out
    assert "REFUSE: 1 blocking check failed" in out and "t.py::b: roc_auc is fail" in out


def test_valid_waiver_lets_a_failure_pass_expired_or_other_model_does_not(tmp_path: Path,
                                                                         capsys) -> None:
    b = write_bundle(tmp_path / "b", {"t.py::b": result("fail")}, models=[MODEL])
    assert gate(b, "--waivers", waivers_file(tmp_path, "t.py::*")) == 0
    assert "APPROVE: all 1 check passed (1 waived)" in capsys.readouterr().out
    assert gate(b, "--waivers", waivers_file(tmp_path, "t.py::b", expires="2020-01-01")) == 1
    assert "expired" in capsys.readouterr().out
    assert gate(b, "--waivers", waivers_file(tmp_path, "t.py::b", model="ffff0000")) == 1
    assert "other model" in capsys.readouterr().out
    assert gate(b, "--waivers", waivers_file(tmp_path, "t.py::b", model=MODEL[:12])) == 0


def test_a_waiver_never_passes_an_error(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "b", {"t.py::e": result("error")})
    assert gate(b, "--waivers", waivers_file(tmp_path, "t.py::e")) == 1


def test_a_run_time_waiver_is_rechecked_at_gate_time(tmp_path: Path) -> None:
    w = parse('- check: "t.py::b"\n  reason: r\n  approver: jane\n  expires: 2030-01-01\n')
    b = write_bundle(tmp_path / "b", {"t.py::b": waive(result("fail"), w.entries[0])})
    text = '- check: "t.py::b"\n  reason: r\n  approver: jane\n  expires: 2030-01-01\n'
    (tmp_path / "w.yaml").write_text(text)
    assert gate(b, "--waivers", tmp_path / "w.yaml", "--as-of", "2029-12-31") == 0
    # expired since the run: the failure is back
    assert gate(b, "--waivers", tmp_path / "w.yaml", "--as-of", "2030-01-02") == 1
    # the copy in the bundle is written by the run's own process: never trusted by itself
    (b / "waivers.yaml").write_text(text.replace("t.py::b", "*"))
    assert gate(b, "--as-of", "2029-12-31") == 1


def test_inconclusive_follows_the_policy(tmp_path: Path, capsys) -> None:
    b = write_bundle(tmp_path / "b", {"t.py::a": result("pass"),
                                      "t.py::i": result("inconclusive")})
    assert gate(b) == 3
    assert "NEEDS A DECISION: 1 inconclusive" in capsys.readouterr().out
    assert gate(b, "--inconclusive", "approve") == 0
    assert gate(b, "--inconclusive", "refuse") == 1
    strict = tmp_path / "strict.yaml"
    strict.write_text("inconclusive: fail\n")
    assert gate(b, "--policy", strict) == 1
    assert gate(b, "--policy", strict, "--waivers", waivers_file(tmp_path, "t.py::i")) == 0
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("inconclusive: pass\n")
    capsys.readouterr()
    assert gate(b, "--policy", lenient) == 0
    assert capsys.readouterr().out.startswith("mlqa gate: APPROVE: all 2 checks passed\n")


def test_advisory_checks_and_families_do_not_block(tmp_path: Path, capsys) -> None:
    b = write_bundle(tmp_path / "b", {"t.py::lat": result("fail", "p99", "latency"),
                                      "explore.py::x": result("error")})
    assert gate(b) == 1
    policy = tmp_path / "p.yaml"
    policy.write_text("advisory:\n  families: [latency]\n  checks: ['explore.py::*']\n")
    capsys.readouterr()
    assert gate(b, "--policy", policy) == 3
    out = capsys.readouterr().out
    assert "NEEDS A DECISION: 2 advisory, failed or could not run" in out
    assert "(advisory)" in out


def test_skipped_checks_ask_for_a_decision(tmp_path: Path) -> None:
    skipped = {"type": "CheckResult", "name": "test_gpu", "outcome": "skipped",
               "check": "skipped", "message": "no CUDA device"}
    b = write_bundle(tmp_path / "b", {"t.py::gpu": skipped, "t.py::a": result("pass")})
    verdict = evaluate(bundle.read(b))
    assert verdict.decision == DECIDE and verdict.exit_code == 3
    assert gate(b) == 3  # NEEDS A DECISION: `mlqa gate && deploy` must not deploy
    assert gate(b, "--inconclusive", "approve") == 3  # a skip is no INCONCLUSIVE


@pytest.mark.parametrize("case", ["missing", "empty", "bad-waivers", "bad-policy", "bad-json"])
def test_unusable_input_exits_2(tmp_path: Path, capsys, case: str) -> None:
    b = write_bundle(tmp_path / "b", {"t.py::a": result("pass")})
    args: list = [b]
    if case == "missing":
        args = [tmp_path / "nowhere"]
    elif case == "empty":
        (b / "results.jsonl").write_text("")
    elif case == "bad-waivers":
        (tmp_path / "w.yaml").write_text("- check: a\n  reason: r\n  approver: x\n")
        args += ["--waivers", tmp_path / "w.yaml"]
    elif case == "bad-policy":
        (tmp_path / "p.yaml").write_text("inconclusive: maybe\n")
        args += ["--policy", tmp_path / "p.yaml"]
    else:
        (b / "results.jsonl").write_text("{not json\n")
    assert gate(*args) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlqa gate: ")
    if case == "bad-waivers":
        assert "w.yaml:1" in err and "expires" in err


def test_verdict_words() -> None:
    rec = [bundle.BundleRecord("a", result("pass"))]
    assert evaluate(rec).decision == APPROVE
    rec.append(bundle.BundleRecord("b", result("error")))
    assert evaluate(rec).decision == REFUSE
    assert evaluate(rec[:1], partial="1 test deselected by -k 'x'").decision == REFUSE


def test_a_closed_pipe_ends_quietly_with_the_verdict(tmp_path: Path) -> None:
    """``mlqa gate | head -1``: the reader goes away after one line; no BrokenPipe traceback,
    and the exit code is still the verdict's."""
    import subprocess
    import sys

    checks = {f"t.py::test_{i:04d}": result("fail", name="x" * 100) for i in range(1500)}
    b = write_bundle(tmp_path / "b", checks)
    proc = subprocess.Popen([sys.executable, "-m", "mlqa.cli", "gate", str(b)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert first.startswith(b"mlqa gate: REFUSE: 1500 blocking checks failed")
    assert err == ""


def test_an_unexpected_error_is_exit_2_without_a_traceback(tmp_path: Path, capsys,
                                                           monkeypatch) -> None:
    b = write_bundle(tmp_path / "b", {"t.py::a": result("pass")})

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr("mlqa.gate.evaluate", broken)
    assert gate(b) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlqa gate: internal error, nothing was approved: KeyError: "
                          "'surprise'") and "Traceback" not in err
