"""One check of one build, as the history keeps it: the typed row a trend is drawn from.

A row is made from the run's typed results (:class:`mlqa.report.bundle.BundleRecord`), never
from loose figures, and read back into the same type; a row that does not read is refused
naming the history file and the field.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from mlqa.errors import InputError
from mlqa.result import CheckResult, FieldReader, Outcome

# Marks a gatekeeper sets on a build after it ran: ``mlqa baseline promote`` (approved) and
# ``mlqa publish maven`` (released).
APPROVED, RELEASED = "approved", "released"
FLAGS = (APPROVED, RELEASED)


@dataclasses.dataclass(frozen=True)
class Build:
    """One run in the history: where it came from (Jenkins, git) and what it judged.

    ``entry``: the history entry's id (time-ordered, so sorting ids sorts builds).
    ``approved``/``released``: set later by promote/publish, filled in when the history is
    read."""

    entry: str
    at: str
    number: str | None = None
    url: str | None = None
    commit: str | None = None
    job: str | None = None
    model: str | None = None  # "name sha256[:12]" of each model the run registered
    data: str | None = None  # "name sha256[:12]" of each dataset the run registered
    approved: bool = False
    released: bool = False

    @property
    def label(self) -> str:
        """How a point names its build: ``#42`` (Jenkins), else the commit, else the entry."""
        if self.number:
            return f"#{self.number}"
        return self.commit[:10] if self.commit else self.entry

    def to_dict(self) -> dict[str, Any]:
        return {f.name: v for f in dataclasses.fields(self)
                if f.name not in FLAGS and (v := getattr(self, f.name)) is not None}

    @classmethod
    def read(cls, fields: FieldReader) -> Build:
        return cls(entry=fields.required_str("entry"), at=fields.required_str("at"),
                   number=fields.opt_str("number"), url=fields.opt_str("url"),
                   commit=fields.opt_str("commit"), job=fields.opt_str("job"),
                   model=fields.opt_str("model"), data=fields.opt_str("data"))


# What must stay the same for two rows to be points of one series: the fields from ``check``
# to ``confidence`` (kept together so that a row's configuration is one tuple slice).
CONFIG = ("check", "metric", "slice", "comparison", "threshold", "low", "high", "confidence")
CONFIG_FIELDS = slice(2, 2 + len(CONFIG))  # where they sit in a HistoryRow


class HistoryRow(NamedTuple):
    """One check's figures in one build (immutable; a named tuple because a history holds
    tens of thousands of them and a frozen dataclass takes 5x longer to build).

    ``check_id``: the series key, stable across renames of the check's display label (see
    :func:`check_id`). ``config``: what the figures mean (family, metric, slice, requirement,
    confidence); a row whose config differs from the one before starts a new series.
    ``low``/``high``: the requirement as bounds on ``value`` (a regression's margins)."""

    check_id: str
    label: str
    check: str
    metric: str | None
    slice: str | None
    comparison: str | None
    threshold: float | None
    low: float | None
    high: float | None
    confidence: float | None
    outcome: Outcome
    value: float | None
    ci: tuple[float | None, float | None] | None
    n: int | None
    baseline: float | None

    @classmethod
    def from_result(cls, check_id: str, label: str, result: CheckResult) -> HistoryRow:
        low, high = result.bounds()
        slice_ = result.details.get("slice")
        ci = None if result.ci is None else (_float(result.ci[0]), _float(result.ci[1]))
        return cls(check_id=check_id, label=label, outcome=result.outcome, check=result.check,
                   metric=result.metric, slice=None if slice_ is None else str(slice_),
                   value=_float(result.value), ci=ci, confidence=_float(result.confidence),
                   n=result.n, threshold=_float(result.threshold),
                   comparison=result.comparison, low=_float(low), high=_float(high),
                   baseline=_float(result.baseline))

    @property
    def config(self) -> tuple[Any, ...]:
        """The values of :data:`CONFIG`, in that order."""
        return cast(tuple[Any, ...], self[CONFIG_FIELDS])  # a slice of a tuple is a tuple

    @property
    def settings(self) -> dict[str, Any]:
        """:attr:`config` by name."""
        return dict(zip(CONFIG, self.config, strict=True))


def _float(x: Any) -> float | None:
    """A figure as the history keeps it: a finite float, or None (JSON has no NaN)."""
    if x is None or isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return float(x)


# The rows of a run are stored by column: a reader checks each column's types in one pass
# (set(map(type, ...)) runs in C) instead of field by field, so 1,000 builds x 50 checks read
# in well under a second (benchmarks/history_read.py).
_NONE: type = type(None)
_STR: set[type] = {str}
_OPT_STR: set[type] = {str, _NONE}
_OPT_FLOAT: set[type] = {float, int, _NONE}
_OPT_INT: set[type] = {int, _NONE}
_COLUMNS: dict[str, set[type]] = {
    "check_id": _STR, "label": _STR, "outcome": _STR, "check": _STR, "metric": _OPT_STR,
    "slice": _OPT_STR, "value": _OPT_FLOAT, "confidence": _OPT_FLOAT, "n": _OPT_INT,
    "threshold": _OPT_FLOAT, "comparison": _OPT_STR, "low": _OPT_FLOAT, "high": _OPT_FLOAT,
    "baseline": _OPT_FLOAT, "ci_low": _OPT_FLOAT, "ci_high": _OPT_FLOAT}
_OUTCOMES = {o.value: o for o in Outcome}
_CI = ("ci_low", "ci_high")
_NO_CI = (None, None)


def to_columns(rows: Sequence[HistoryRow]) -> dict[str, list[Any]]:
    """``rows`` as one list per field (the stored form; the interval as two columns)."""
    columns: dict[str, list[Any]] = {name: [getattr(r, name) for r in rows]
                                     for name in _COLUMNS if name not in _CI}
    columns["outcome"] = [r.outcome.value for r in rows]
    columns["ci_low"] = [None if r.ci is None else r.ci[0] for r in rows]
    columns["ci_high"] = [None if r.ci is None else r.ci[1] for r in rows]
    return columns


def from_columns(columns: Any, where: str) -> list[HistoryRow]:
    """The rows of a stored run; a column missing, of another length or holding a value of
    the wrong type is an InputError naming the file and the column."""
    if not isinstance(columns, Mapping):
        raise InputError(f"{where}: 'columns' must be a mapping of lists")
    lists = {}
    length = None
    for name, kinds in _COLUMNS.items():
        values = columns.get(name)
        if not isinstance(values, list):
            raise InputError(f"{where}: column {name!r} is missing or not a list")
        if length is not None and len(values) != length:
            raise InputError(f"{where}: column {name!r} has {len(values)} rows, not {length}")
        length = len(values)
        types = set(map(type, values))
        if not types <= kinds:
            raise InputError(f"{where}: column {name!r} holds a value of the wrong type")
        if int in types and float in kinds:
            values = [None if v is None else float(v) for v in values]
        lists[name] = values
    if not set(lists["outcome"]) <= _OUTCOMES.keys():
        raise InputError(f"{where}: column 'outcome' holds a word that is not an outcome")
    lists["outcome"] = list(map(_OUTCOMES.__getitem__, lists["outcome"]))
    low, high = lists.pop("ci_low"), lists.pop("ci_high")
    lists["ci"] = list(zip(low, high, strict=True))
    if None in low or None in high:  # no interval: None, not (None, None)
        lists["ci"] = [None if ci == _NO_CI else ci for ci in lists["ci"]]
    order = [lists[name] for name in HistoryRow._fields]
    return list(map(HistoryRow._make, zip(*order, strict=True)))


def check_id(nodeid: str, result: CheckResult, *, several: bool,
             occurrence: int | None = None) -> str:
    """The stable key of a check: its test's node id (a YAML check's id is part of it), plus,
    when the test recorded several results, what the result measures (family, metric, slice)
    rather than its display name, so renaming a check's label keeps its history; results
    alike in all of that are told apart by their order (``#0``, ``#1``)."""
    if not several:
        return nodeid
    part = result.metric or result.check
    slice_ = result.details.get("slice")
    if slice_ is not None:
        part += f"[{slice_}]"
    return f"{nodeid}::{part}" + ("" if occurrence is None else f"#{occurrence}")


def check_ids(keyed: Sequence[tuple[str, CheckResult]]) -> list[str]:
    """:func:`check_id` of each ``(nodeid, result)`` in a run, in order: one id each."""
    per_node: dict[str, int] = {}
    for nodeid, _ in keyed:
        per_node[nodeid] = per_node.get(nodeid, 0) + 1
    plain = [check_id(n, r, several=per_node[n] > 1) for n, r in keyed]
    seen: dict[str, int] = {}
    total: dict[str, int] = {}
    for key in plain:
        total[key] = total.get(key, 0) + 1
    out = []
    for (nodeid, result), key in zip(keyed, plain, strict=True):
        if total[key] > 1:
            seen[key] = seen.get(key, -1) + 1
            key = check_id(nodeid, result, several=True, occurrence=seen[key])
        out.append(key)
    return out


def build_of(entry: str, at: str, provenance: Mapping[str, Any]) -> Build:
    """The run's :class:`Build` from its provenance (Jenkins ``BUILD_URL``/``BUILD_NUMBER``,
    git commit, registered models and datasets)."""
    jenkins = provenance.get("jenkins") or {}
    git = provenance.get("git") or {}

    def hashes(key: str) -> str | None:
        said = [f"{i.get('name')} {str(i.get('sha256'))[:12]}" for i in provenance.get(key) or []
                if isinstance(i, Mapping) and i.get("sha256")]
        return ", ".join(said) or None

    return Build(entry=entry, at=at, number=_text(jenkins.get("BUILD_NUMBER")),
                 url=_text(jenkins.get("BUILD_URL")),
                 commit=_text(jenkins.get("GIT_COMMIT")) or _text(git.get("commit")),
                 job=_text(jenkins.get("JOB_NAME")), model=hashes("models"),
                 data=hashes("datasets"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
