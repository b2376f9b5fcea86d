"""Missing values as a signal: the share of missing values per column, and its change.

``check_missing`` is the data-quality rule; ``missing_in_drift`` is what ``check_drift`` calls
so that a column going from 2.6% to 31.5% missing fails the drift check even when the values
that remain did not move.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlqa._text import fmt_num
from mlqa.errors import InputError
from mlqa.quality import options
from mlqa.quality.frames import as_frame, select
from mlqa.quality.result import FAMILY, ColumnQuality, QualityResult, worst
from mlqa.quality.shares import (
    decide_change,
    decide_share,
    pct,
    per_column_confidence,
    pp,
)
from mlqa.recording import observed
from mlqa.result import Outcome

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.drift.result import DriftResult

DEFAULT_MAX_CHANGE = 0.05  # five percentage points of rows


def column_changes(counts: Mapping[str, tuple[int, int, int, int]], max_change: float,
                   confidence: float) -> dict[str, ColumnQuality]:
    """Per column ``(k_ref, n_ref, k_cur, n_cur)`` -> its verdict on the change of its missing
    share, all columns at the Bonferroni-adjusted level."""
    if not counts:
        return {}
    names = list(counts)
    k_ref, n_ref, k_cur, n_cur = (np.array([counts[c][i] for c in names], dtype=float)
                                  for i in range(4))
    level = per_column_confidence(confidence, len(names))
    outcomes, d, low, high = decide_change(k_cur, n_cur, k_ref, n_ref, max_change, level)
    out = {}
    for i, c in enumerate(names):
        was, now = k_ref[i] / n_ref[i], k_cur[i] / n_cur[i]
        out[c] = ColumnQuality(
            column=c, outcome=outcomes[i], value=float(d[i]), ci=(float(low[i]), float(high[i])),
            threshold=max_change,
            detail=f"{pct(now)} missing, was {pct(was)} ({pp(d[i])}, CI {pp(low[i])} to "
                   f"{pp(high[i])})")
    return out


@observed
def check_missing(reference: Any = None, current: Any = None, columns: Any = None, *,
                  max_change: float | None = DEFAULT_MAX_CHANGE,
                  max_share: float | Mapping[str, float] | None = None,
                  confidence: float = 0.95, name: str = "missing") -> QualityResult:
    """Hold each column's share of missing values (None, NaN, NaT) to bounds.

    * ``max_change`` (needs ``reference``): ``|share_current - share_reference| <=
      max_change``, decided on Newcombe's interval of the difference of the two shares;
    * ``max_share`` (a number, or a mapping column -> number): ``share_current <= max_share``,
      decided on the Wilson interval of the current share (``0``: no missing value at all).

    PASS when every interval lies within its bound, FAIL when one lies wholly beyond it,
    INCONCLUSIVE when one straddles; the ``m`` columns are decided at ``1 - (1 - confidence)
    / m`` each (Bonferroni), so the rule's false-alarm rate stays at most ``1 - confidence``.
    A compared column that ``current`` lacks is an ERROR entry. ``value`` is the largest change
    (or share) seen, with its interval.
    """
    options.MISSING.validate(locals())
    cur = as_frame("current", current)
    shares = None if max_share is None else \
        {str(c): v for c, v in max_share.items()} if isinstance(max_share, Mapping) else max_share
    ref = None if reference is None else as_frame("reference", reference)
    if ref is None and shares is None:
        raise InputError("check_missing needs reference= (for max_change) or max_share=")
    if max_change is None and shares is None:
        raise InputError("check_missing needs max_change= or max_share=: with neither it "
                         "checks nothing")
    names = select("reference" if ref is not None else "current",
                   ref if ref is not None else cur, columns)
    if isinstance(shares, dict):
        unknown = sorted(set(shares) - set(names))
        if unknown:
            raise InputError(f"max_share names columns that are not checked: {unknown}")
    if len(cur) == 0:
        raise InputError("current has no rows")
    present = [c for c in names if c in cur.columns]
    entries: dict[str, ColumnQuality] = {
        c: ColumnQuality(c, Outcome.ERROR, detail="absent from current")
        for c in names if c not in cur.columns}
    k_cur = {c: int(pd.isna(cur[c]).sum()) for c in present}
    verdicts: list[dict[str, ColumnQuality]] = []
    if ref is not None and max_change is not None:
        if len(ref) == 0:
            raise InputError("reference has no rows")
        counts = {c: (int(pd.isna(ref[c]).sum()), len(ref), k_cur[c], len(cur)) for c in present}
        verdicts.append(column_changes(counts, max_change, confidence))
    if shares is not None:
        verdicts.append(_share_verdicts(k_cur, len(cur), shares, confidence))
    for c in present:
        found = [v[c] for v in verdicts if c in v]
        entries[c] = max(found, key=lambda q: _rank(q)) if found else \
            ColumnQuality(c, Outcome.PASS, detail=f"{pct(k_cur[c] / len(cur))} missing")
    return _result(name, "missing", entries, len(cur), confidence,
                   {"max_change": max_change, "max_share": shares})


def _share_verdicts(k_cur: Mapping[str, int], n: int, shares: float | dict[str, float],
                    confidence: float) -> dict[str, ColumnQuality]:
    names = [c for c in k_cur if not isinstance(shares, dict) or c in shares]
    if not names:
        return {}
    level = per_column_confidence(confidence, len(names))
    out = {}
    for c in names:
        bound = shares[c] if isinstance(shares, dict) else shares
        (outcome,), low, high = decide_share(np.array([k_cur[c]]), np.array([n]), bound, level)
        out[c] = ColumnQuality(c, outcome, value=k_cur[c] / n, ci=(low[0], high[0]),
                               threshold=bound,
                               detail=f"{pct(k_cur[c] / n)} missing (CI {pct(low[0])} to "
                                      f"{pct(high[0])}), max {pct(bound)}")
    return out


def _rank(q: ColumnQuality) -> tuple[int, float]:
    return q.outcome.severity, abs(q.value or 0.0)


def _result(name: str, rule: str, entries: Mapping[str, ColumnQuality], n: int,
            confidence: float, options: Mapping[str, Any]) -> QualityResult:
    """The rule's result: its outcome is its worst column's; its figures are that column's."""
    outcome = worst(e.outcome for e in entries.values())
    lead = max(entries.values(), key=_rank, default=None)
    flagged = [e for e in entries.values() if e.outcome is not Outcome.PASS]
    head = f"{name}: {len(flagged)} of {len(entries)} columns out of bounds" if flagged else \
        f"{name}: all {len(entries)} columns within bounds"
    parts = [f"{head} (n={n})"] + [f"{e.column}: {e.detail} [{e.outcome.value}]"
                                    for e in flagged[:5]]
    if len(flagged) > 5:
        parts.append(f"... and {len(flagged) - 5} more")
    return QualityResult(
        name=name, outcome=outcome, message="; ".join(parts), check=FAMILY, metric=rule,
        value=None if lead is None else lead.value, ci=None if lead is None else lead.ci,
        threshold=None if lead is None else lead.threshold,
        comparison=None if lead is None or lead.threshold is None else "<=",
        confidence=confidence, n=n, rule=rule, columns=entries, details=dict(options))


def missing_in_drift(result: DriftResult, max_change: float | None, *, alpha: float,
                     enforce: bool) -> DriftResult:
    """``result`` with every column's missing-share change in ``details["missing"]``; when
    ``enforce``, a change established beyond ``max_change`` (Newcombe interval at ``1 - alpha``
    over the columns, Bonferroni) fails the check and the message names the column."""
    bound = DEFAULT_MAX_CHANGE if max_change is None else max_change
    counts = {name: (round(c.missing_reference * c.n_reference), c.n_reference,
                     round(c.missing_current * c.n_current), c.n_current)
              for name, c in result.columns.items() if c.n_reference and c.n_current}
    verdicts = column_changes(counts, bound, 1 - alpha)
    changed = [v for v in verdicts.values() if v.outcome is Outcome.FAIL]
    details = dict(result.details)
    details["missing"] = {c: {"reference": result.columns[c].missing_reference,
                              "current": result.columns[c].missing_current,
                              "change": v.value, "ci": list(v.ci or ()),
                              "outcome": v.outcome.value} for c, v in verdicts.items()}
    details["max_missing_change"] = bound
    details["missing_changed"] = [v.column for v in changed]
    if not changed:
        return dataclasses.replace(result, details=details)
    note = (f"missing share changed beyond {fmt_num(bound)}"
            f"{'' if enforce else ' (reported only)'}: "
            + "; ".join(f"{v.column}: {v.detail}" for v in changed))
    outcome = Outcome.FAIL if enforce else result.outcome
    return dataclasses.replace(result, outcome=outcome, message=f"{result.message} | {note}",
                               details=details)
