"""The data-quality rules besides missing values: schema, ranges, categories, duplicate rows and
row count. Each returns a QualityResult; shares are decided as ``mlqa.quality.shares`` says."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlqa._text import fmt_num
from mlqa._validation import check_number
from mlqa.errors import InputError
from mlqa.quality import options
from mlqa.quality.frames import KINDS, as_frame, kind_of, select
from mlqa.quality.missing import _result
from mlqa.quality.result import FAMILY, ColumnQuality, QualityResult
from mlqa.quality.shares import (
    decide_share,
    pct,
    per_column_confidence,
)
from mlqa.result import Outcome


def check_schema(reference: Any, current: Any, *, extra_columns: str = "fail",
                 name: str = "schema") -> QualityResult:
    """Same columns, same kinds of values.

    ``reference`` is a table, or a mapping column -> kind (``number``, ``bool``, ``string``,
    ``datetime``, ``category``, ``other``; integers and floats are both ``number``). A column
    of the reference that ``current`` lacks, or whose kind changed, FAILs; a column ``current``
    adds FAILs unless ``extra_columns="allow"``.
    """
    options.SCHEMA.validate(locals())
    expected = _expected_kinds(reference)
    cur = as_frame("current", current)
    entries: dict[str, ColumnQuality] = {}
    for c, kind in expected.items():
        if c not in cur.columns:
            entries[c] = ColumnQuality(c, Outcome.FAIL, detail=f"missing (expected {kind})")
            continue
        got = kind_of(cur[c])
        entries[c] = ColumnQuality(
            c, Outcome.PASS if got == kind else Outcome.FAIL,
            detail=f"{got} ({cur[c].dtype})" if got == kind else
            f"{got} ({cur[c].dtype}), expected {kind}")
    for c in cur.columns:
        if c not in expected:
            entries[c] = ColumnQuality(
                c, Outcome.FAIL if extra_columns == "fail" else Outcome.PASS,
                detail="not in the reference schema")
    result = _result(name, "schema", entries, len(cur), 1.0, {"extra_columns": extra_columns})
    failed = sum(e.outcome is Outcome.FAIL for e in entries.values())
    return dataclasses.replace(result, value=float(failed), ci=None, threshold=0.0, comparison="<=",
                          confidence=None, metric="schema")


def _expected_kinds(reference: Any) -> dict[str, str]:
    if isinstance(reference, Mapping):
        bad = {str(c): k for c, k in reference.items() if k not in KINDS}
        if bad:
            raise InputError(f"schema kinds must be one of {list(KINDS)}, got {bad}")
        return {str(c): str(k) for c, k in reference.items()}
    ref = as_frame("reference", reference)
    return {c: kind_of(ref[c]) for c in ref.columns}


def check_ranges(current: Any, ranges: Mapping[str, Any], *, max_share: float = 0.0,
                 confidence: float = 0.95, name: str = "ranges") -> QualityResult:
    """Numeric values within ``ranges``: ``{column: (min, max)}`` or ``{column: {"min": ...,
    "max": ...}}`` (either end may be None). ``max_share`` bounds the share of non-missing
    values outside (0: none at all); missing values are the missing rule's business."""
    options.RANGES.validate(locals())
    cur = as_frame("current", current)
    bounds = _bounds(ranges)
    select("current", cur, list(bounds))
    counts: dict[str, tuple[int, int, str]] = {}
    for c, (lo, hi) in bounds.items():
        try:
            values = pd.to_numeric(cur[c], errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            raise InputError(f"ranges[{c!r}]: column {c!r} is not numeric "
                             f"(dtype {cur[c].dtype})") from None
        values = values[~np.isnan(values)]
        outside = (values < lo if lo is not None else np.zeros(len(values), bool)) | \
            (values > hi if hi is not None else np.zeros(len(values), bool))
        seen = f"seen {fmt_num(values.min())}..{fmt_num(values.max())}" if len(values) else \
            "no values"
        counts[c] = (int(outside.sum()), len(values),
                     f"[{fmt_num(lo)}, {fmt_num(hi)}], {seen}")
    entries = _share_entries(counts, max_share, confidence, "outside")
    return _result(name, "ranges", entries, len(cur), confidence, {"max_share": max_share})


def _bounds(ranges: Any) -> dict[str, tuple[float | None, float | None]]:
    if not isinstance(ranges, Mapping) or not ranges:
        raise InputError("ranges must be a non-empty mapping column -> (min, max)")
    out = {}
    for c, spec in ranges.items():
        if isinstance(spec, Mapping):
            unknown = sorted(set(spec) - {"min", "max"})
            if unknown:
                raise InputError(f"ranges[{c!r}] takes min and max, got {unknown}")
            lo, hi = spec.get("min"), spec.get("max")
        elif isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) == 2:
            lo, hi = spec
        else:
            raise InputError(f"ranges[{c!r}] must be (min, max) or {{min:, max:}}, got {spec!r}")
        lo = check_number(f"ranges[{c!r}] min", lo, allow_none=True)
        hi = check_number(f"ranges[{c!r}] max", hi, allow_none=True)
        if lo is None and hi is None:
            raise InputError(f"ranges[{c!r}] needs min or max")
        if lo is not None and hi is not None and lo > hi:
            raise InputError(f"ranges[{c!r}]: min {lo} > max {hi}")
        out[str(c)] = (lo, hi)
    return out


def _share_entries(counts: Mapping[str, tuple[int, int, str]], max_share: float,
                   confidence: float, what: str) -> dict[str, ColumnQuality]:
    """Per column (k bad values, n values, what was seen) -> its verdict on ``k/n <= max_share``."""
    names = [c for c, (_, n, _) in counts.items() if n > 0]
    entries = {c: ColumnQuality(c, Outcome.ERROR, detail=f"no values to check ({info})")
               for c, (_, n, info) in counts.items() if n == 0}
    if names:
        k = np.array([counts[c][0] for c in names])
        n = np.array([counts[c][1] for c in names])
        outcomes, low, high = decide_share(k, n, max_share,
                                           per_column_confidence(confidence, len(names)))
        for i, c in enumerate(names):
            entries[c] = ColumnQuality(
                c, outcomes[i], value=k[i] / n[i], ci=(low[i], high[i]), threshold=max_share,
                detail=f"{k[i]} of {n[i]} {what} ({pct(k[i] / n[i])}), {counts[c][2]}")
    return entries


def check_categories(current: Any, *, reference: Any = None,
                     allowed: Mapping[str, Sequence[Any]] | None = None,
                     columns: Sequence[str] | None = None, max_new_share: float = 0.0,
                     vanished: str = "fail", confidence: float = 0.95,
                     name: str = "categories") -> QualityResult:
    """Categories that are not allowed, new, or vanished.

    ``allowed`` maps columns to their allowed values; with ``reference``, the categories the
    reference holds are the allowed ones (for ``columns``, default: its string, bool and
    category columns). ``max_new_share`` bounds the share of rows holding a value outside them
    (0: none at all). A reference category that no current row holds has *vanished* when that
    is established: Newcombe's interval of (reference share - current share) lies above 0;
    ``vanished="fail"`` fails it, ``"report"`` only names it.
    """
    options.CATEGORIES.validate(locals())
    cur = as_frame("current", current)
    ref = None if reference is None else as_frame("reference", reference)
    sets, ref_counts = _allowed_sets(ref, allowed, columns)
    select("current", cur, list(sets))
    counts = {}
    for c, values in sets.items():
        present = cur[c].dropna()
        new = present[~present.isin(values)]
        shown = ", ".join(map(repr, sorted(new.astype(str).unique())[:5]))
        counts[c] = (len(new), len(present), f"new: {shown}" if len(new) else "none new")
    entries = _share_entries(counts, max_new_share, confidence, "rows with a new value")
    gone: dict[str, list[str]] = {}
    if ref_counts:
        gone = _vanished(ref_counts, cur, confidence)
        for c, cats in gone.items():
            e = entries[c]
            worse = Outcome.FAIL if vanished == "fail" else e.outcome
            entries[c] = ColumnQuality(c, worse if e.outcome is not Outcome.ERROR else e.outcome,
                                       e.value, e.ci, e.threshold,
                                       f"{e.detail}; vanished: {', '.join(cats)}")
    return _result(name, "categories", entries, len(cur), confidence,
                   {"max_new_share": max_new_share, "vanished": gone})


def _allowed_sets(ref: pd.DataFrame | None, allowed: Mapping[str, Sequence[Any]] | None,
                  columns: Sequence[str] | None
                  ) -> tuple[dict[str, set[Any]], dict[str, pd.Series]]:
    sets: dict[str, set[Any]] = {}
    ref_counts: dict[str, pd.Series] = {}
    if ref is not None:
        names = select("reference", ref, columns) if columns is not None else \
            [c for c in ref.columns if kind_of(ref[c]) in ("string", "bool", "category")]
        for c in names:
            counts = ref[c].value_counts(dropna=True)
            ref_counts[c] = counts
            sets[c] = set(counts.index)
    for c, values in (allowed or {}).items():
        if isinstance(values, str) or not isinstance(values, Sequence | set | frozenset):
            raise InputError(f"allowed[{c!r}] must be a list of values, got {values!r}")
        sets[str(c)] = sets.get(str(c), set()) | set(values)
    if not sets:
        raise InputError("check_categories needs allowed= or a reference with categorical "
                         "columns")
    return sets, ref_counts


def _vanished(ref_counts: Mapping[str, pd.Series], cur: pd.DataFrame, confidence: float
              ) -> dict[str, list[str]]:
    from mlqa.stats.two_proportions import newcombe_difference

    cases = [(c, cat, int(k), int(counts.sum())) for c, counts in ref_counts.items()
             for cat, k in counts.items() if not (cur[c] == cat).any()]
    if not cases:
        return {}
    n_cur = np.array([max(int(cur[c].notna().sum()), 1) for c, _, _, _ in cases])
    _, low, _ = newcombe_difference([k for _, _, k, _ in cases], [n for _, _, _, n in cases],
                                    np.zeros(len(cases)), n_cur,
                                    per_column_confidence(confidence, len(cases)))
    out: dict[str, list[str]] = {}
    for (c, cat, _, _), lo in zip(cases, low, strict=True):
        if lo > 0:
            out.setdefault(c, []).append(repr(cat))
    return out


def check_duplicates(current: Any, *, columns: Sequence[str] | None = None,
                     max_share: float = 0.0, confidence: float = 0.95,
                     name: str = "duplicates") -> QualityResult:
    """Rows that repeat an earlier row (on ``columns``, default all): their share is held to
    ``max_share`` (0: none at all)."""
    options.DUPLICATES.validate(locals())
    cur = as_frame("current", current)
    names = select("current", cur, columns)
    if len(cur) == 0:
        raise InputError("current has no rows")
    k = int(cur.duplicated(subset=names).sum())
    entries = _share_entries({"rows": (k, len(cur), f"on {len(names)} columns")}, max_share,
                             confidence, "duplicated")
    return _result(name, "duplicates", entries, len(cur), confidence,
                   {"max_share": max_share, "columns": names})


def check_row_count(current: Any, *, min: int | None = None, max: int | None = None,  # noqa: A002
                    name: str = "row_count") -> QualityResult:
    """The batch holds between ``min`` and ``max`` rows (a count, decided as it is)."""
    options.ROW_COUNT.validate(locals())
    cur = as_frame("current", current)
    lo, hi = min, max
    if lo is None and hi is None:
        raise InputError("check_row_count needs min= or max=")
    if lo is not None and hi is not None and lo > hi:
        raise InputError(f"min={min!r} is above max={max!r}")
    n = len(cur)
    ok = (lo is None or n >= lo) and (hi is None or n <= hi)
    from mlqa.result import describe, requirement

    threshold, comparison = requirement(lo, hi)
    return QualityResult(
        name=name, outcome=Outcome.PASS if ok else Outcome.FAIL, check=FAMILY,
        metric="row_count", value=n, threshold=threshold, comparison=comparison, n=n,
        message=describe(f"{name}: rows", n, min=lo, max=hi), rule="row_count",
        details={"min": lo, "max": hi})
