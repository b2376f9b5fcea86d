"""The keyword options of each data-quality rule, declared once (:mod:`mlqa.options`): the
rule validates its call with its table and :mod:`mlqa.suite.spec` generates the YAML kind's
options from it. ``ranges=`` keeps its own reading (``(min, max)`` pairs or ``{min:, max:}``
mappings per column, :func:`mlqa.quality.rules.check_ranges`)."""

from __future__ import annotations

from mlqa.options import (
    LEVEL,
    ROWS,
    SHARE,
    Anything,
    ListOf,
    MappingOf,
    Options,
    OptionTable,
    Param,
    Text,
    param,
)

_CONFIDENCE = param(LEVEL)
_COLUMNS = param(ListOf(Text()), None)


def _table(caller: str, params: dict[str, Param]) -> OptionTable:
    return OptionTable(caller, {**params, "name": param(Text(), suite=False)})


SCHEMA = _table("check_schema", {"extra_columns": param(Options("fail", "allow"))})
MISSING = _table("check_missing", {
    "columns": _COLUMNS,
    "max_change": param(SHARE, None),
    "max_share": param(SHARE, MappingOf(SHARE), None),
    "confidence": _CONFIDENCE,
})
RANGES = _table("check_ranges", {"max_share": param(SHARE), "confidence": _CONFIDENCE})
CATEGORIES = _table("check_categories", {
    "columns": _COLUMNS,
    "allowed": param(MappingOf(ListOf(Anything())), None),
    "max_new_share": param(SHARE),
    "vanished": param(Options("fail", "report")),
    "confidence": _CONFIDENCE,
})
DUPLICATES = _table("check_duplicates", {
    "columns": _COLUMNS, "max_share": param(SHARE), "confidence": _CONFIDENCE})
ROW_COUNT = _table("check_row_count", {"min": param(ROWS, None), "max": param(ROWS, None)})
DATES = _table("check_dates", {
    "columns": _COLUMNS,
    "max_age": param(Anything(), None),
    "max_future_share": param(SHARE),
    "now": param(Anything(), None, suite=False),
    "confidence": _CONFIDENCE,
})
