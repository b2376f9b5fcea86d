"""``check_data``: the data-quality rules that apply to a reference/current pair, at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlqa.expectations import expecting
from mlqa.quality.frames import as_frame, select
from mlqa.quality.missing import DEFAULT_MAX_CHANGE, check_missing
from mlqa.quality.result import FAMILY, DataQualityResult, QualityResult, worst
from mlqa.quality.rules import (
    check_categories,
    check_duplicates,
    check_ranges,
    check_row_count,
    check_schema,
)
from mlqa.recording import observed


@observed
def check_data(reference: Any, current: Any, *, columns: Sequence[str] | None = None,
               max_missing_change: float | None = DEFAULT_MAX_CHANGE,
               max_missing_share: float | Mapping[str, float] | None = None,
               ranges: Mapping[str, Any] | None = None,
               allowed: Mapping[str, Sequence[Any]] | None = None,
               max_new_share: float = 0.0, max_duplicate_share: float | None = None,
               min_rows: int | None = None, max_rows: int | None = None,
               extra_columns: str = "fail", confidence: float = 0.95,
               name: str = "data_quality") -> DataQualityResult:
    """Every data-quality rule that applies, on ``current`` against ``reference``.

    Always: the schema (``check_schema``), the missing share per column and its change
    (``check_missing``: ``max_missing_change``, ``max_missing_share``), new and vanished
    categories of the reference's categorical columns and ``allowed`` values
    (``check_categories``). When asked: ``ranges`` (``check_ranges``), duplicate rows
    (``max_duplicate_share``), row count (``min_rows``/``max_rows``). ``result.rules`` holds
    each rule's QualityResult; the outcome is the most severe of theirs.
    """
    ref, cur = as_frame("reference", reference), as_frame("current", current)
    if columns is not None:
        ref = ref[select("reference", ref, columns)]
        cur = cur[[c for c in ref.columns if c in cur.columns]]
    rules: dict[str, QualityResult] = {"schema": check_schema(ref, cur,
                                                               extra_columns=extra_columns)}
    rules["missing"] = check_missing(ref, cur, max_change=max_missing_change,
                                     max_share=max_missing_share, confidence=confidence)
    categorical = [c for c in ref.columns if c in cur.columns and
                   str(ref[c].dtype) in ("object", "string", "category", "bool")]
    if categorical or allowed:
        rules["categories"] = check_categories(
            cur, reference=ref[categorical] if categorical else None, allowed=allowed,
            max_new_share=max_new_share, confidence=confidence)
    if ranges:
        rules["ranges"] = check_ranges(cur, ranges, confidence=confidence)
    if max_duplicate_share is not None:
        rules["duplicates"] = check_duplicates(cur, max_share=max_duplicate_share,
                                               confidence=confidence)
    if min_rows is not None or max_rows is not None:
        rules["row_count"] = check_row_count(cur, min=min_rows, max=max_rows)
    outcome = worst(r.outcome for r in rules.values())
    flagged = [r for r in rules.values() if not r.passed]
    head = f"{name}: {len(rules) - len(flagged)} of {len(rules)} rules passed"
    message = " | ".join([head] + [str(r.message) for r in flagged])
    return DataQualityResult(name=name, outcome=outcome, message=message, check=FAMILY,
                             metric="rules_failed", value=float(len(flagged)), threshold=0.0,
                             comparison="<=", n=len(cur), rules=rules,
                             details={"rules": list(rules)})


expect_data = expecting(check_data, FAMILY)
