"""How a drift check is shown: "k of n columns drifted", the per-column table (statistic,
adjusted p-value, effect size, missing shares) and reference-vs-current distributions.

Also makes the distributions a ``ColumnDrift`` carries, from the two prepared sides of a
column (sorted values or category counts), so the report plots what the test saw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mlqa import display as d
from mlqa._text import fmt_num
from mlqa.drift.result import ColumnDistribution

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.drift.columns import Sample
    from mlqa.drift.result import ColumnDrift, DriftResult

BINS = 20
MAX_CATEGORIES = 12  # the most frequent ones; the rest's share is kept as "other"
TAIL = 0.005  # bins span the 0.5th..99.5th percentiles of both sides: one outlier cannot
#               squeeze every other value into one bar; the end bins take the tails
MISSING_CHANGE = 0.01  # a change in the missing share this large is flagged in the table


def column_distribution(ref: Sample, cur: Sample) -> ColumnDistribution | None:
    """Both sides' shares over shared bins (numerical) or categories; None if a side is
    empty."""
    if ref.n == 0 or cur.n == 0:
        return None
    if ref.values is not None and cur.values is not None and \
            ref.distinct_upto(MAX_CATEGORIES) > MAX_CATEGORIES:
        return _binned(ref.values, cur.values)
    from mlqa.drift.columns import aligned_counts

    keys, ref_counts, cur_counts = aligned_counts(ref, cur)
    ref_share, cur_share = ref_counts / ref.n, cur_counts / cur.n
    order = np.argsort(-np.maximum(ref_share, cur_share), kind="stable")
    top, rest = np.sort(order[:MAX_CATEGORIES]), order[MAX_CATEGORIES:]  # kept in key order
    other = (float(ref_share[rest].sum()), float(cur_share[rest].sum())) if len(rest) else None
    return ColumnDistribution(reference=tuple(ref_share[top].tolist()),
                              current=tuple(cur_share[top].tolist()),
                              categories=tuple(str(k) for k in keys[top].tolist()), other=other)


def _binned(ref: np.ndarray, cur: np.ndarray) -> ColumnDistribution:
    """``ref`` and ``cur`` are sorted: a bin's count is a difference of two binary searches."""
    def at(v: np.ndarray, q: float) -> float:
        return float(v[min(int(q * len(v)), len(v) - 1)])

    low, high = min(at(ref, TAIL), at(cur, TAIL)), max(at(ref, 1 - TAIL), at(cur, 1 - TAIL))
    if not high > low:
        low, high = min(ref[0], cur[0]), max(ref[-1], cur[-1])
    if not high > low:
        high = low + 1.0
    edges = np.linspace(low, high, BINS + 1)

    def shares(v: np.ndarray) -> tuple[float, ...]:
        cuts = np.searchsorted(v, edges[1:-1], side="left")
        counts = np.diff(np.r_[0, cuts, len(v)])  # the end bins take the tails
        return tuple((counts / len(v)).tolist())

    return ColumnDistribution(reference=shares(ref), current=shares(cur),
                              edges=tuple(edges.tolist()))


def _p(x: float | None) -> str:
    return "" if x is None else (f"{x:.2e}" if 0 < x < 1e-3 else fmt_num(x))


def _column_row(c: ColumnDrift) -> tuple[str, ...]:
    missing = f"{d.share(c.missing_reference)} \u2192 {d.share(c.missing_current)}"
    if abs(c.missing_change) >= MISSING_CHANGE:
        missing += f" ({c.missing_change:+.1%})"
    verdict = "not tested: " + c.reason if c.drifted is None else "yes" if c.drifted else "no"
    return (c.column, c.kind, c.test or "", _p(c.statistic), _p(c.p_value),
            _p(c.adjusted_p_value), _p(c.effect_size), _p(c.threshold),
            d.num(c.min_effect), missing, verdict)


COLUMN_HEADERS = ("column", "type", "test", "statistic", "p-value", "adjusted p-value",
                  "effect size", "threshold", "min effect", "missing (reference \u2192 current)",
                  "drifted")
COLUMN_FIELDS = ("column", "type", "test", "statistic", "p_value", "adjusted_p_value",
                 "effect_size", "threshold", "min_effect", "missing", "drifted")


def column_plot(c: ColumnDrift) -> d.DistributionPlot | None:
    dist = c.distribution
    if dist is None:
        return None
    parts = [f"{c.column}: {c.test}" if c.test else c.column]
    if c.statistic is not None:
        parts.append(f"stat {_p(c.statistic)}")
    if c.adjusted_p_value is not None:
        parts.append(f"p_adj {_p(c.adjusted_p_value)}")
    if c.effect_size is not None:
        parts.append(f"effect {_p(c.effect_size)}")
    categories, reference, current = dist.categories, dist.reference, dist.current
    if dist.other is not None:
        categories = (*categories, "other")
        reference, current = (*reference, dist.other[0]), (*current, dist.other[1])
    return d.DistributionPlot(title=", ".join(parts), reference=reference, current=current,
                              edges=dist.edges, categories=categories, name=c.column)


def drift_display(r: DriftResult, max_plots: int = 24, max_other_plots: int = 12, *,
                  details: bool = True) -> d.Display:
    """Cells: "k of n columns drifted" against the rule; then the per-column table (drifted
    first) and the distributions of the drifted columns, the others' folded."""
    cols = sorted(r.columns.values(), key=lambda c: (not c.drifted, c.drifted is not None,
                                                     c.column))
    drifted = [c for c in cols if c.drifted]
    summary = f"{len(drifted)} of {len(cols)} columns drifted"
    if r.excluded:
        summary += f" ({len(r.excluded)} not tested: {', '.join(r.excluded)})"
    if r.details.get("tests") == "evidently":
        rule = f"share of drifted columns < {fmt_num(r.details.get('drift_share'))}"
    else:
        correction = r.details.get("correction") or "uncorrected"
        rule = (f"no column drifts ({correction}, alpha {fmt_num(r.details.get('alpha'))}, "
                f"material effect)")
    cells = d.Cells(value=f"{len(drifted)} of {len(cols)} columns drifted", requirement=rule,
                    interval="", n=d.num(r.n))
    if not details:
        return d.Display(cells=cells, summary=summary)
    table = d.Table(headers=COLUMN_HEADERS, fields=COLUMN_FIELDS,
                    rows=tuple(_column_row(c) for c in cols),
                    highlight=tuple(bool(c.drifted) for c in cols))
    sections = [d.Section("columns", (table,))]
    shown = [p for p in map(column_plot, drifted[:max_plots]) if p is not None]
    if shown:
        sections.append(d.Section("drifted columns: reference (grey) vs current (blue)",
                                  tuple(shown)))
    others = [p for p in map(column_plot, [c for c in cols if not c.drifted][:max_other_plots])
              if p is not None]
    if others:
        sections.append(d.Section(f"other columns ({len(others)}): reference vs current",
                                  tuple(others), folded=True))
    from mlqa.drift.rows_display import rows_sections

    sections += rows_sections(r)
    changed = [c for c in cols if abs(c.missing_change) >= MISSING_CHANGE]
    if changed:
        summary += "; missing share changed: " + ", ".join(
            f"{c.column} {d.share(c.missing_reference)} \u2192 {d.share(c.missing_current)}"
            for c in changed)
    return d.Display(cells=cells, summary=summary, sections=tuple(sections))
