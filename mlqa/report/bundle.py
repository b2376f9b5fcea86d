"""The results bundle: one JSON line per expected check, in a folder a run leaves behind.

Each process writes its own part file (``results-<worker>.jsonl``: pytest-xdist workers never
share a file) and the controlling process merges the parts into ``results.jsonl`` at the end.
Lines are appended whole and flushed as checks finish, so a crashed run keeps what it recorded.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlqa._atomic import write_atomic
from mlqa._files import load_json, read_regular
from mlqa._plain import to_plain
from mlqa.errors import InputError
from mlqa.result import SKIPPED, CheckResult, FieldReader

SCHEMA = 1
RESULTS_FILE = "results.jsonl"
_PART_GLOB = "results-*.jsonl"


@dataclasses.dataclass(frozen=True)
class SkippedTest:
    """A test of the suite that skipped before its check ran (no GPU, a skip in a fixture):
    no figures, and its evidence is missing, which the gate asks a person about."""

    name: str
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "name": self.name, "outcome": SKIPPED,
                "check": SKIPPED, "message": self.message}


@dataclasses.dataclass(frozen=True)
class BundleRecord:
    """One line of the results bundle, typed: which test (and attempt) wrote it, how pytest
    ended the test, and its result. The plugin writes it; the gate, the report, the summary
    and the plot CSV read it, once, through :func:`read`."""

    nodeid: str
    result: CheckResult | SkippedTest
    run_id: str | None = None
    classname: str = ""
    testname: str = ""
    index: int = 0
    attempt: int = 1
    reruns: int = 0  # earlier attempts of the test (pytest-rerunfailures) this line replaced
    worker: str = "main"
    test_outcome: str = "passed"  # pytest's word for the test: passed, failed, error, skipped
    markers: tuple[str, ...] = ()

    @property
    def skipped(self) -> bool:
        return isinstance(self.result, SkippedTest)

    @property
    def check_result(self) -> CheckResult | None:
        """The typed check result, or None for a test skipped before its check ran."""
        return None if isinstance(self.result, SkippedTest) else self.result

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
             if f.name != "result" and not (f.name == "run_id" and self.run_id is None)}
        d["markers"] = list(self.markers)
        d["result"] = self.result.to_dict()
        return {"schema": SCHEMA, **d}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "record") -> BundleRecord:
        """The record of a line :func:`validate` accepted (every field already checked)."""
        fields = FieldReader(data, where)
        raw = fields.mapping("result")
        result: CheckResult | SkippedTest
        if raw.get("outcome") == SKIPPED:
            result = SkippedTest(name=str(raw.get("name", "")), message=str(raw.get("message", "")))
        else:
            result = CheckResult.from_dict(raw)
        return cls(nodeid=fields.required_str("nodeid"), result=result,
                   run_id=fields.opt_str("run_id"), classname=fields.str_("classname"),
                   testname=fields.str_("testname"), index=fields.opt_int("index") or 0,
                   attempt=fields.opt_int("attempt") or 1, reruns=fields.opt_int("reruns") or 0,
                   worker=fields.str_("worker", "main"),
                   test_outcome=fields.str_("test_outcome", "passed"),
                   markers=fields.strs("markers"))


def part_path(directory: Path, worker: str) -> Path:
    return Path(directory) / f"results-{worker}.jsonl"


def reset(directory: Path) -> None:
    """Start a run: create the folder and drop results a previous run left in it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in [directory / RESULTS_FILE, *directory.glob(_PART_GLOB)]:
        stale.unlink(missing_ok=True)


def append(directory: Path, worker: str, record: BundleRecord) -> None:
    """Append one record as a JSON line to this worker's part file."""
    line = dumps(record.to_dict())
    with open(part_path(directory, worker), "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()


def next_slot(directory: Path, nodeid: str) -> tuple[int, int]:
    """``(index, attempt)`` for one more line of ``nodeid`` after those its parts hold: the
    next index within the test's last attempt (a line the controller adds for a test whose
    worker died must neither replace one nor be dropped as an older attempt)."""
    try:
        mine = [r for part in sorted(Path(directory).glob(_PART_GLOB))
                for r in _read_lines(part, strict=False) if r.get("nodeid") == nodeid]
        attempt = max((int(r.get("attempt", 1)) for r in mine), default=1)
        index = 1 + max((int(r.get("index", 0)) for r in mine
                         if int(r.get("attempt", 1)) == attempt), default=-1)
    except (InputError, ValueError, TypeError):  # a torn part: the gate refuses it anyway
        return 0, 1
    return index, attempt


def dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(to_plain(record), ensure_ascii=True, allow_nan=False, sort_keys=True)


def merge(directory: Path) -> Path:
    """Merge the part files into ``results.jsonl`` (sorted by test, stable, last attempt of a
    rerun test only), remove the parts. Lines are carried over as written, not judged: the
    run must end and leave its evidence; the gate judges what it can read."""
    directory = Path(directory)
    parts = sorted(directory.glob(_PART_GLOB))
    records: list[dict[str, Any]] = []
    for part in parts:
        records.extend(_read_lines(part, strict=False))
    records = latest(records)
    target = directory / RESULTS_FILE
    write_atomic(target, "".join(dumps(r) + "\n" for r in records))
    for part in parts:
        part.unlink()
    return target


def read(path: str | os.PathLike[str]) -> list[BundleRecord]:
    """Records of a bundle folder (merged file, or its parts if the run did not finish) or
    file, each read back into its types; a line that does not read is an InputError naming
    the file and line."""
    path = Path(path)
    if path.is_dir():
        # lexists: a results.jsonl that is a symlink loop is read (and refused as one), not
        # passed over for the part files
        files = [path / RESULTS_FILE] if os.path.lexists(path / RESULTS_FILE) else \
            sorted(path.glob(_PART_GLOB))
        if not files:
            raise InputError(f"{path} holds no mlqa results ({RESULTS_FILE} or {_PART_GLOB})")
    elif os.path.lexists(path):
        files = [path]
    else:
        raise InputError(f"results bundle {path} does not exist")
    records: list[dict[str, Any]] = []
    for f in files:
        records.extend(_read_lines(f))
    return [BundleRecord.from_dict(r, f"{r['nodeid']}") for r in latest(records)]


def latest(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Last result wins: a test that ran several times (pytest-rerunfailures) keeps only its
    last attempt's records, and within it the last line per ``(nodeid, index)``. Each kept
    record carries ``reruns``, how many earlier attempts were dropped. Sorted by test, stable."""
    records = list(records)
    last: dict[str, int] = {}
    first: dict[str, int] = {}
    for r in records:
        node, attempt = str(r.get("nodeid", "")), int(r.get("attempt", 1))  # validated
        last[node] = max(last.get(node, attempt), attempt)
        first[node] = min(first.get(node, attempt), attempt)
    kept: dict[tuple[str, int], dict[str, Any]] = {}
    for r in records:
        node = str(r.get("nodeid", ""))
        if int(r.get("attempt", 1)) == last[node]:
            # A merged file already counted its reruns: reading it again keeps the count.
            reruns = max(int(r.get("reruns", 0)), last[node] - first[node])
            kept[(node, int(r.get("index", 0)))] = {**r, "reruns": reruns}
    return [kept[key] for key in sorted(kept)]


def _read_lines(path: Path, *, strict: bool = True) -> Iterable[dict[str, Any]]:
    raw = read_regular(path, "results bundle")
    for lineno, data in enumerate(raw.split(b"\n"), 1):
        where = f"{path}:{lineno}"
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{where}: not UTF-8 text") from None
        if not line.strip(_JSON_SPACE):  # only JSON's own blanks: "\x1c" is no empty line
            continue
        try:
            record = load_json(line, where, object_pairs_hook=_no_duplicates,
                               parse_constant=_no_constant, parse_float=_finite_float)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not a JSON line ({exc.msg})") from None
        except InputError:
            raise  # already names the line
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from None
        if strict:
            validate(record, where)
        elif not isinstance(record, dict):
            raise InputError(f"{where}: not an mlqa result record")
        yield record


_JSON_SPACE = " \t\r"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"duplicate key(s) {twice}: which one counts is anyone's guess")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a check records (mlqa writes none)")


def _finite_float(text: str) -> float:
    """``1e999`` is no ``Infinity`` token but reads as one: refused as the token is."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is not a finite number (mlqa writes none)")
    return value


# -- what a line must hold ------------------------------------------------------------------------

# Result types a bundle line may name; types defined by loaded modules count too (see _known).
_NUMBERS = ("value", "threshold", "baseline", "p_value", "confidence")
_WORDS = ("check", "metric", "comparison")
_RECORD_WORDS = ("classname", "testname", "worker", "test_outcome")
_COUNTS = {"attempt": 1, "index": 0, "reruns": 0}  # field -> smallest allowed


def validate(record: Any, where: str) -> None:
    """Refuse (InputError naming ``where`` and the field) a line the gate could misread."""
    if not isinstance(record, dict) or "result" not in record:
        raise InputError(f"{where}: not an mlqa result record")
    schema = record.get("schema")
    if type(schema) is not int:
        raise InputError(f"{where}: field 'schema' must be an integer, got {schema!r}")
    if schema > SCHEMA:
        raise InputError(f"{where}: schema {schema} is newer than this mlqa reads ({SCHEMA}); "
                         f"upgrade mlqa")
    if schema < 1:
        raise InputError(f"{where}: field 'schema' {schema} is not a bundle schema")
    nodeid = record.get("nodeid")
    run_id = record.get("run_id")
    if run_id is not None and (not isinstance(run_id, str) or not run_id):
        raise InputError(f"{where}: field 'run_id' must be the run's id, got {run_id!r}")
    if not isinstance(nodeid, str) or not nodeid:
        raise InputError(f"{where}: field 'nodeid' must be a test id, got {nodeid!r}")
    for key, least in _COUNTS.items():
        value = record.get(key, least)
        if type(value) is not int or value < least:
            raise InputError(f"{where}: field {key!r} must be an integer >= {least}, "
                             f"got {value!r}")
    for key in _RECORD_WORDS:
        if key in record and not isinstance(record[key], str):
            raise InputError(f"{where}: field {key!r} must be text, got {record[key]!r}")
    _validate_result(record["result"], where)
    _read_back(record["result"], where)


def _read_back(result: dict[str, Any], where: str) -> None:
    """The line reads back into its result type exactly (``CheckResult.from_dict``): a field of
    the wrong shape anywhere in it (a column, a slice, a percentile) is refused here, with the
    line, instead of surfacing later as a report that cannot show it."""
    from mlqa.result import CheckResult

    if result.get("outcome") == SKIPPED:
        return  # a test skipped before its check ran: no figures to read
    try:
        CheckResult.from_dict(result)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _validate_result(result: Any, where: str) -> None:
    from mlqa.result import Outcome

    if not isinstance(result, dict):
        raise InputError(f"{where}: field 'result' must be an object, got "
                         f"{type(result).__name__}")
    kind = result.get("type")
    if not isinstance(kind, str) or kind not in _known():
        raise InputError(f"{where}: field 'result.type' {kind!r} is not a result type this "
                         f"mlqa knows ({', '.join(sorted(_known()))})")
    outcome = result.get("outcome")
    outcomes = [o.value for o in Outcome] + [SKIPPED]
    if outcome not in outcomes:
        raise InputError(f"{where}: field 'result.outcome' {outcome!r} is not one of "
                         f"{outcomes}")
    if not isinstance(result.get("name"), str):
        raise InputError(f"{where}: field 'result.name' must be text, got "
                         f"{result.get('name')!r}")
    if not isinstance(result.get("message", ""), str):
        raise InputError(f"{where}: field 'result.message' must be text")
    for key in _WORDS:
        if result.get(key) is not None and not isinstance(result[key], str):
            raise InputError(f"{where}: field 'result.{key}' must be text or null, got "
                             f"{result[key]!r}")
    for key in _NUMBERS:
        if not _number_or_none(result.get(key)):
            raise InputError(f"{where}: field 'result.{key}' must be a number or null, got "
                             f"{result[key]!r}")
    n = result.get("n")
    if n is not None and (type(n) is not int or n < 0):
        raise InputError(f"{where}: field 'result.n' must be a count, got {n!r}")
    ci = result.get("ci")
    if ci is not None and not (isinstance(ci, list) and len(ci) == 2
                               and all(_number_or_none(c) for c in ci)):
        raise InputError(f"{where}: field 'result.ci' must be [low, high] or null, got {ci!r}")
    details = result.get("details", {})
    if not isinstance(details, dict):
        raise InputError(f"{where}: field 'result.details' must be an object")
    if outcome == Outcome.WAIVED.value:
        waiver = details.get("waiver")
        if not isinstance(waiver, dict) or waiver.get("outcome") not in ("fail", "inconclusive"):
            raise InputError(f"{where}: a waived result needs field 'result.details.waiver' "
                             f"with the waiver and the outcome it waived (fail or inconclusive)")


def _number_or_none(x: Any) -> bool:
    return x is None or (isinstance(x, int | float) and not isinstance(x, bool))


def _known() -> set[str]:
    """The result types ``CheckResult.from_dict`` reads (one registry: mlqa.result)."""
    from mlqa.result import RESULT_TYPES

    return {*RESULT_TYPES, SkippedTest.__name__}
