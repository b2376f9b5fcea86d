"""Hypothesis fuzzing of bundle lines and waiver files into ``mlqa gate``: never a traceback
(nor the command's internal-error net), never exit 0 on a line it cannot read."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import yaml
from _matrix import Ran, cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gate_cases import LINE, NODE, RESULT, folder, session

# CI runs a fixed, derandomised sample; MLQA_FUZZ_EXAMPLES=2000 searches longer (locally).
FUZZ = settings(max_examples=int(os.environ.get("MLQA_FUZZ_EXAMPLES", "60")), deadline=None,
                derandomize="MLQA_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8)


def _gate(tmp: Path, raw: bytes, sess: dict | None = None, *args: Any) -> Ran:
    ran = cli("gate", folder(tmp, raw, sess), *args)
    assert ran.code in (0, 1, 2, 3), ran
    assert "Traceback" not in ran.output and "internal error" not in ran.output, ran.output
    return ran


def _fresh(tmp_path_factory: Any) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=st.binary(min_size=1, max_size=300).filter(
    lambda b: b"\n" not in b and b.strip(b" \t\r")))
def test_random_bytes_are_never_approved(tmp_path_factory: Any, data: bytes) -> None:
    ran = _gate(_fresh(tmp_path_factory), json.dumps(LINE).encode() + b"\n" + data + b"\n")
    assert ran.code == 2 and "results.jsonl:2: " in ran.err


# Values each field must hold; anything else makes the line unreadable.
VALID = {
    ("schema",): lambda v: v == 1 and type(v) is int,
    ("attempt",): lambda v: type(v) is int and v >= 1,
    ("index",): lambda v: type(v) is int and v >= 0,
    ("nodeid",): lambda v: v == NODE,  # another id is a test the session never ran
    ("result",): lambda v: False,  # replaced wholesale by a random value: never a result
    ("result", "outcome"): lambda v: v in ("pass",),
    ("result", "type"): lambda v: v in ("CheckResult", "MetricResult", "RegressionResult",
                                        "DriftResult", "LatencyCheckResult"),
    ("result", "value"): lambda v: v is None or (type(v) in (int, float)),
    ("result", "n"): lambda v: v is None or (type(v) is int and v >= 0),
    ("result", "ci"): lambda v: v is None or (isinstance(v, list) and len(v) == 2 and all(
        c is None or type(c) in (int, float) for c in v)),
    ("result", "name"): lambda v: isinstance(v, str),
    ("result", "details"): lambda v: isinstance(v, dict),
}


@FUZZ
@given(field=st.sampled_from(sorted(VALID)), value=json_values)
def test_a_field_the_gate_cannot_read_is_exit_2(tmp_path_factory: Any, field: tuple[str, ...],
                                                value: Any) -> None:
    record = json.loads(json.dumps(LINE))
    target = record
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    ran = _gate(_fresh(tmp_path_factory), (json.dumps(record) + "\n").encode())
    if not VALID[field](value):
        assert ran.code == 2, (field, value, ran)
        assert "results.jsonl:1: " in ran.err or "session" in ran.err


@FUZZ
@given(outcome=st.sampled_from(["pass", "fail", "inconclusive", "error", "waived", "skipped"]),
       waiver=st.none() | json_values)
def test_a_waived_line_needs_its_waiver(tmp_path_factory: Any, outcome: str, waiver: Any) -> None:
    details = {} if waiver is None else {"waiver": waiver}
    record = {**LINE, "result": {**RESULT, "outcome": outcome, "details": details}}
    outcome_in_run = "passed" if outcome == "pass" else "failed"
    ran = _gate(_fresh(tmp_path_factory), (json.dumps(record) + "\n").encode(),
                session({NODE: {"outcome": outcome_in_run, "mlqa": True, "records": 1}}))
    if outcome == "waived" and not (isinstance(waiver, dict) and waiver.get("outcome") in
                                    ("fail", "inconclusive")):
        assert ran.code == 2 and "result.details.waiver" in ran.err
    if ran.code == 0:
        assert outcome in ("pass", "inconclusive", "skipped", "waived")


FAILING = (json.dumps({**LINE, "result": {**RESULT, "outcome": "fail"}}) + "\n").encode()
FAILED_RUN = {NODE: {"outcome": "failed", "mlqa": True, "records": 1}}
texts = st.none() | st.sampled_from(["", "  ", "\t", "jane", "ok", NODE, "*"]) | \
    st.text(max_size=10) | st.integers() | st.lists(st.text(max_size=3), max_size=2)
dates = st.none() | st.sampled_from(["2999-01-01", "2020-01-01", "2030-02-30", "next week",
                                     "20300101", "2030-W01-1", ""]) | st.dates().map(str) | \
    st.integers()


@FUZZ
@given(entries=st.lists(st.fixed_dictionaries(
    {"check": texts, "reason": texts, "approver": texts, "expires": dates},
    optional={"ticket": texts, "model": texts, "expiry": dates}), max_size=3))
def test_fuzzed_waivers_never_pass_what_they_cannot_vouch_for(tmp_path_factory: Any,
                                                              entries: list[dict]) -> None:
    tmp = _fresh(tmp_path_factory)
    (tmp / "w.yaml").write_text(yaml.safe_dump({"waivers": entries}))
    ran = _gate(tmp, FAILING, session(FAILED_RUN), "--waivers", tmp / "w.yaml")
    if ran.code == 0:  # a waiver carried the failure: it must have been a sound one
        sound = [e for e in entries if _sound(e)]
        assert sound, (entries, ran)


def _sound(entry: dict) -> bool:
    words = [entry.get(k) for k in ("check", "reason", "approver")]
    if not all(isinstance(w, str | int) and not isinstance(w, bool) and str(w).strip()
               for w in words):
        return False
    expires = entry.get("expires")
    try:
        day = dt.date.fromisoformat(expires) if isinstance(expires, str) and \
            len(expires) == 10 else None
    except ValueError:
        return False
    return day is not None and day >= dt.date.today() and "expiry" not in entry


@FUZZ
@given(text=st.text(max_size=200))
def test_arbitrary_waiver_text_is_read_or_refused(tmp_path_factory: Any, text: str) -> None:
    tmp = _fresh(tmp_path_factory)
    (tmp / "w.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    ran = _gate(tmp, FAILING, session(FAILED_RUN), "--waivers", tmp / "w.yaml")
    assert ran.code in (1, 2)  # nothing in 200 random characters is a sound waiver
