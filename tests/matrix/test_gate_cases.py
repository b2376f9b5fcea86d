"""Bad bundles, session records, waivers and options into ``mlqa gate`` and ``mlqa report``:
each is refused (exit 2) naming the file, line and field; nothing unreadable is approved."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _matrix import Case, Ran, cases, cli, exit_code, refusal, run_case

NODE = "t.py::test_auc"
RESULT = {"type": "MetricResult", "name": "roc_auc", "outcome": "pass", "check": "metric",
          "metric": "roc_auc", "value": 0.93, "threshold": 0.9, "comparison": ">=",
          "ci": [0.91, 0.95], "n": 2000, "details": {}, "message": "roc_auc 0.93 >= min 0.9"}
RUN = "0f" * 16  # the run id every line of the good bundle carries
LINE = {"schema": 1, "run_id": RUN, "nodeid": NODE, "classname": "t", "testname": "test_auc",
        "index": 0, "attempt": 1, "worker": "main", "test_outcome": "passed", "result": RESULT}
WAIVER = "waivers:\n  - check: a\n    reason: r\n    approver: x\n    expires: 2030-01-01\n"
_DROP = object()


def session(tests: dict[str, dict] | None = None, **changes: Any) -> dict[str, Any]:
    tests = {NODE: {"outcome": "passed", "mlqa": True, "records": 1}} if tests is None \
        else tests
    counts = {o: sum(t["outcome"] == o for t in tests.values())
              for o in ("passed", "failed", "error", "skipped")}
    return {"schema": 1, "finished": True, "exitstatus": 0, "ended_early": None, "run_id": RUN,
            "selected": len(tests), "collection_errors": [], "counts": counts, "tests": tests,
            **changes}


def folder(tmp: Path, raw: bytes | None = None, sess: dict | bytes | None = None) -> Path:
    """A bundle folder holding ``raw`` as results.jsonl (the good line by default) and a
    session record (a consistent one by default; ``b""`` for none)."""
    b = tmp / "b"
    b.mkdir(exist_ok=True)
    if raw is None:
        raw = (json.dumps(LINE) + "\n").encode()
    (b / "results.jsonl").write_bytes(raw)
    if sess != b"":
        data = sess if isinstance(sess, bytes) else json.dumps(sess or session()).encode()
        (b / "session.json").write_bytes(data)
    return b


def line(fields: dict | None = None, /, **changes: Any) -> bytes:
    record = {**LINE, "result": {**RESULT, **(fields or {})}, **changes}
    record = {k: v for k, v in record.items() if v is not _DROP}
    if isinstance(record.get("result"), dict):
        record["result"] = {k: v for k, v in record["result"].items() if v is not _DROP}
    return (json.dumps(record) + "\n").encode()


def gate_raw(raw: bytes, sess: dict | bytes | None = None, *args: str) -> Callable[[Path], Ran]:
    return lambda tmp: cli("gate", folder(tmp, raw, sess), *args)


def gate_result(**fields: Any) -> Callable[[Path], Ran]:
    return gate_raw(line(fields))


def gate_record(**fields: Any) -> Callable[[Path], Ran]:
    return gate_raw(line(None, **fields))


def bad_line(field: str, text: str) -> str:
    return f"results.jsonl:1: field {field!r}{text}"


def with_waivers(text: str | bytes, *args: str) -> Callable[[Path], Ran]:
    def action(tmp: Path) -> Ran:
        w = tmp / "w.yaml"
        w.write_bytes(text if isinstance(text, bytes) else text.encode())
        return cli("gate", folder(tmp), "--waivers", w, *args)
    return action


def with_policy(text: str) -> Callable[[Path], Ran]:
    def action(tmp: Path) -> Ran:
        (tmp / "p.yaml").write_text(text)
        return cli("gate", folder(tmp), "--policy", tmp / "p.yaml")
    return action


def report(*args: str, raw: bytes | None = None, sess: dict | bytes | None = None
           ) -> Callable[[Path], Ran]:
    return lambda tmp: cli("report", folder(tmp, raw, sess), "-o", tmp / "r.html",
                           *[a.replace("TMP", str(tmp)) for a in args])


GOOD = line()
FAIL = line({"outcome": "fail"})

LINES = [
    Case("gate-outcome-FAILED", gate_result(outcome="FAILED"),
         refusal(bad_line("result.outcome", " 'FAILED' is not one of"))),
    Case("gate-outcome-upper-PASS", gate_result(outcome="PASS"),
         refusal(bad_line("result.outcome", " 'PASS' is not one of"))),
    Case("gate-outcome-missing", gate_result(outcome=_DROP),
         refusal(bad_line("result.outcome", " None is not one of"))),
    Case("gate-outcome-number", gate_result(outcome=1),
         refusal(bad_line("result.outcome", " 1 is not one of"))),
    Case("gate-result-empty", gate_raw(json.dumps({**LINE, "result": {}}).encode()),
         refusal(bad_line("result.type", " None is not a result type"))),
    Case("gate-result-string", gate_record(result="pass"),
         refusal(bad_line("result", " must be an object, got str"))),
    Case("gate-result-null", gate_record(result=None),
         refusal(bad_line("result", " must be an object, got NoneType"))),
    Case("gate-result-list", gate_record(result=["pass"]),
         refusal(bad_line("result", " must be an object, got list"))),
    Case("gate-result-missing", gate_record(result=_DROP),
         refusal("results.jsonl:1: not an mlqa result record")),
    Case("gate-type-unknown", gate_result(type="EvilResult"),
         refusal(bad_line("result.type", " 'EvilResult' is not a result type"))),
    Case("gate-waived-without-waiver", gate_result(outcome="waived"),
         refusal("results.jsonl:1: a waived result needs field 'result.details.waiver'")),
    Case("gate-waived-waiver-string", gate_result(outcome="waived",
                                                  details={"waiver": "jane said ok"}),
         refusal("results.jsonl:1: a waived result needs field 'result.details.waiver'")),
    Case("gate-waived-an-error", gate_result(outcome="waived",
                                             details={"waiver": {"outcome": "error"}}),
         refusal("results.jsonl:1: a waived result needs field 'result.details.waiver'")),
    Case("gate-schema-string", gate_record(schema="1"),
         refusal(bad_line("schema", " must be an integer, got '1'"))),
    Case("gate-schema-float", gate_record(schema=1.5),
         refusal(bad_line("schema", " must be an integer, got 1.5"))),
    Case("gate-schema-bool", gate_record(schema=True),
         refusal(bad_line("schema", " must be an integer, got True"))),
    Case("gate-schema-zero", gate_record(schema=0),
         refusal(bad_line("schema", " 0 is not a bundle schema"))),
    Case("gate-schema-newer", gate_record(schema=99),
         refusal("results.jsonl:1: schema 99 is newer than this mlqa reads (1)")),
    Case("gate-schema-missing", gate_record(schema=_DROP),
         refusal(bad_line("schema", " must be an integer, got None"))),
    Case("gate-attempt-text", gate_record(attempt="x"),
         refusal(bad_line("attempt", " must be an integer >= 1, got 'x'"))),
    Case("gate-attempt-zero", gate_record(attempt=0),
         refusal(bad_line("attempt", " must be an integer >= 1, got 0"))),
    Case("gate-index-negative", gate_record(index=-1),
         refusal(bad_line("index", " must be an integer >= 0, got -1"))),
    Case("gate-nodeid-missing", gate_record(nodeid=_DROP),
         refusal(bad_line("nodeid", " must be a test id, got None"))),
    Case("gate-nodeid-number", gate_record(nodeid=42),
         refusal(bad_line("nodeid", " must be a test id, got 42"))),
    Case("gate-test-outcome-number", gate_record(test_outcome=5),
         refusal(bad_line("test_outcome", " must be text, got 5"))),
    Case("gate-value-string", gate_result(value="0.93"),
         refusal(bad_line("result.value", " must be a number or null, got '0.93'"))),
    Case("gate-value-bool", gate_result(value=True),
         refusal(bad_line("result.value", " must be a number or null, got True"))),
    Case("gate-threshold-dict", gate_result(threshold={"min": 0.9}),
         refusal(bad_line("result.threshold", " must be a number or null"))),
    Case("gate-ci-one-bound", gate_result(ci=[0.9]),
         refusal(bad_line("result.ci", " must be [low, high] or null, got [0.9]"))),
    Case("gate-n-negative", gate_result(n=-5),
         refusal(bad_line("result.n", " must be a count, got -5"))),
    Case("gate-n-text", gate_result(n="2000"),
         refusal(bad_line("result.n", " must be a count, got '2000'"))),
    Case("gate-name-number", gate_result(name=5),
         refusal(bad_line("result.name", " must be text, got 5"))),
    Case("gate-message-list", gate_result(message=["a"]),
         refusal(bad_line("result.message", " must be text"))),
    Case("gate-details-list", gate_result(details=[1]),
         refusal(bad_line("result.details", " must be an object"))),
    Case("gate-check-number", gate_result(check=3),
         refusal(bad_line("result.check", " must be text or null, got 3"))),
    Case("gate-nan-value", gate_raw(GOOD.replace(b"0.93", b"NaN")),
         refusal("results.jsonl:1: NaN is not a number a check records")),
    Case("gate-duplicate-key", gate_raw(GOOD.replace(b'"outcome": "pass"',
                                                     b'"outcome": "fail", "outcome": "pass"')),
         refusal("results.jsonl:1: duplicate key(s) ['outcome']")),
    Case("gate-invalid-utf8", gate_raw(GOOD.replace(b"roc_auc 0.93", b"roc_auc \xff\xfe")),
         refusal("results.jsonl:1: not UTF-8 text")),
    Case("gate-not-json", gate_raw(b"{not json\n"), refusal("results.jsonl:1: not a JSON line")),
    Case("gate-truncated-line", gate_raw(GOOD + GOOD[:40]),
         refusal("results.jsonl:2: not a JSON line")),
    Case("gate-json-array", gate_raw(b"[1, 2]\n"),
         refusal("results.jsonl:1: not an mlqa result record")),
    Case("gate-utf8-bom", gate_raw(b"\xef\xbb\xbf" + GOOD),
         refusal("results.jsonl:1: not a JSON line")),
    Case("gate-second-line-bad", gate_raw(GOOD + line({"outcome": "FAILED"}, index=1),
                                          session({NODE: {"outcome": "passed", "mlqa": True,
                                                          "records": 2}})),
         refusal(bad_line("result.outcome", " 'FAILED'").replace(":1:", ":2:"))),
    Case("gate-bundle-missing", lambda tmp: cli("gate", tmp / "nowhere"),
         refusal("results bundle")),
    Case("gate-bundle-empty", gate_raw(b"", session({})),
         refusal("the bundle holds no checks: nothing to approve")),
]

SESSIONS = [
    Case("session-missing", gate_raw(GOOD, b""),
         refusal("no session record (session.json): the bundle cannot show")),
    Case("session-unfinished", gate_raw(GOOD, {"schema": 1, "finished": False}),
         refusal("the run did not finish")),
    Case("session-ended-early", gate_raw(GOOD, session(ended_early="stopping after 1 failures")),
         refusal("the run ended early (stopping after 1 failures)")),
    Case("session-fewer-ran-than-selected", gate_raw(GOOD, session(selected=5)),
         refusal("the run ended early: 1 of 5 selected tests ran")),
    Case("session-collection-error", gate_raw(GOOD, session(collection_errors=["t2.py"])),
         refusal("the run had 1 collection error(s) (t2.py)")),
    Case("session-stranger-line", gate_raw(GOOD, session({})),
         refusal("the bundle holds lines for test(s) the session never ran (t.py::test_auc)")),
    Case("session-evidence-missing",
         gate_raw(GOOD, session({NODE: {"outcome": "passed", "mlqa": True, "records": 1},
                                 "t.py::test_f1": {"outcome": "failed", "mlqa": True,
                                                   "records": 1}})),
         refusal("evidence missing: 1 mlqa test(s) left no line in the bundle (t.py::test_f1)")),
    Case("session-line-deleted",
         gate_raw(GOOD, session({NODE: {"outcome": "passed", "mlqa": True, "records": 2}})),
         refusal("bundle and session disagree: t.py::test_auc wrote 2 line(s), the bundle "
                 "holds 1")),
    Case("session-failure-hidden",
         gate_raw(GOOD, session({NODE: {"outcome": "failed", "mlqa": True, "records": 1}})),
         refusal("pytest reports t.py::test_auc as failed, but its bundle lines all passed")),
    Case("session-counts-edited", gate_raw(GOOD, session(counts={"passed": 9})),
         refusal("session counts {'passed': 9} disagree with its tests")),
    Case("session-tests-malformed", gate_raw(GOOD, {**session(), "tests": {NODE: "passed"}}),
         refusal("session record field 'tests' is malformed")),
    Case("session-not-json", gate_raw(GOOD, b"{oops"),
         refusal("unreadable session record (JSONDecodeError)")),
    Case("session-schema-newer", gate_raw(GOOD, session(schema=2)),
         refusal("session schema 2 is not one this mlqa reads")),
]

REPORT = [
    Case("report-outcome-FAILED", report(raw=line({"outcome": "FAILED"})),
         refusal(bad_line("result.outcome", " 'FAILED'"))),
    Case("report-unfinished-run", report(sess={"schema": 1, "finished": False}),
         refusal("mlqa report: ")),
    Case("report-no-session", report(sess=b""), refusal("no session record")),
    Case("report-attach-outside-workspace",
         report("--attach-junit", "TMP/j.xml", "--attach-dir", "/", "--workspace", "TMP"),
         refusal("is outside the workspace")),
    Case("report-attach-junit-not-xml",
         lambda tmp: ((tmp / "j.xml").write_text("<testsuite"),
                      cli("report", folder(tmp), "-o", tmp / "r.html", "--attach-junit",
                          tmp / "j.xml", "--attach-dir", tmp / "p", "--workspace", tmp))[1],
         refusal("cannot be read as XML")),
    Case("gate-as-of-not-a-date", lambda tmp: cli("gate", folder(tmp), "--as-of", "tomorrow"),
         refusal("not a date YYYY-MM-DD: 'tomorrow'")),
    Case("policy-unknown-key", with_policy("inconclusiv: fail\n"),
         refusal("p.yaml:1: unknown policy key(s) ['inconclusiv']")),
    Case("policy-bad-inconclusive", with_policy("inconclusive: maybe\n"),
         refusal("inconclusive must be one of")),
    Case("policy-families-not-list", with_policy("advisory:\n  families: latency\n"),
         refusal("advisory families must be a list of strings")),
    Case("policy-duplicate-key", with_policy("inconclusive: fail\ninconclusive: pass\n"),
         refusal("p.yaml:2: duplicate key 'inconclusive' (first at line 1)")),
]

WAIVERS = [
    Case("waiver-blank-approver", with_waivers(WAIVER.replace("approver: x", "approver: '   '")),
         refusal("w.yaml:2: waiver lacks ['approver']")),
    Case("waiver-empty-reason", with_waivers(WAIVER.replace("reason: r", "reason: ''")),
         refusal("w.yaml:2: waiver lacks ['reason']")),
    Case("waiver-null-check", with_waivers(WAIVER.replace("check: a", "check:")),
         refusal("w.yaml:2: waiver lacks ['check']")),
    Case("waiver-duplicate-expires", with_waivers(WAIVER + "    expires: 2099-01-01\n"),
         refusal("w.yaml:6: duplicate key 'expires' (first at line 5)")),
    Case("waiver-duplicate-top-level",
         with_waivers(WAIVER + "waivers:\n  - check: b\n"),
         refusal("w.yaml:6: duplicate key 'waivers' (first at line 1)")),
    Case("waiver-date-words", with_waivers(WAIVER.replace("2030-01-01", "next week")),
         refusal("w.yaml:2: waiver expires must be a date YYYY-MM-DD, got 'next week'")),
    Case("waiver-date-impossible", with_waivers(WAIVER.replace("2030-01-01", "2030-02-30")),
         refusal("w.yaml:2: waiver expires must be a date YYYY-MM-DD, got '2030-02-30'")),
    Case("waiver-date-number", with_waivers(WAIVER.replace("2030-01-01", "20300101")),
         refusal("w.yaml:2: waiver expires must be a date YYYY-MM-DD, got 20300101")),
    Case("waiver-unknown-field", with_waivers(WAIVER + "    expiry: 2030-01-01\n"),
         refusal("w.yaml:2: unknown waiver field(s) ['expiry']")),
    Case("waiver-model-not-hash", with_waivers(WAIVER + "    model: latest\n"),
         refusal("w.yaml:2: waiver model must be a sha256 content hash")),
    Case("waiver-entry-not-mapping", with_waivers("waivers:\n  - just waive it\n"),
         refusal("each entry must be a mapping of fields")),
    Case("waiver-list-is-number", with_waivers("waivers: 5\n"),
         refusal("'waivers' must be a list of entries")),
    Case("waiver-invalid-yaml", with_waivers("waivers:\n  - check: [a\n"),
         refusal("not valid YAML")),
    Case("waiver-not-utf8", with_waivers(WAIVER.encode().replace(b"reason: r", b"reason: \xff")),
         refusal("w.yaml: not UTF-8 text")),
    Case("waiver-approver-list", with_waivers(WAIVER.replace("approver: x", "approver: [x]")),
         refusal("w.yaml:2: waiver field 'approver' must be text")),
    Case("waiver-file-missing", lambda tmp: cli("gate", folder(tmp), "--waivers", tmp / "no"),
         refusal("cannot be read")),
    Case("waiver-expired-does-nothing",
         lambda tmp: (tmp.joinpath("w.yaml").write_text(WAIVER.replace("check: a", f"check: "
                                                                       f"'{NODE}'")
                                                        .replace("2030", "2020")),
                      cli("gate", folder(tmp, FAIL, session({NODE: {
                          "outcome": "failed", "mlqa": True, "records": 1}})), "--waivers",
                          tmp / "w.yaml"))[1],
         exit_code(1, "expired")),
    Case("waiver-never-covers-an-error",
         lambda tmp: (tmp.joinpath("w.yaml").write_text(WAIVER.replace("check: a", "check: '*'")
                                                        .replace("2030", "2999")),
                      cli("gate", folder(tmp, line({"outcome": "error"}), session({NODE: {
                          "outcome": "failed", "mlqa": True, "records": 1}})), "--waivers",
                          tmp / "w.yaml"))[1],
         exit_code(1, "REFUSE: 1 blocking check could not run")),
]


@pytest.mark.parametrize("case", cases(LINES + SESSIONS + REPORT + WAIVERS))
def test_case(case: Case, tmp_path: Path, record_property: Any) -> None:
    run_case(case, tmp_path, record_property)
