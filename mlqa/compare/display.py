"""How a regression check is shown: candidate, baseline, their difference with its paired
interval, the margin, the paired test and its p-value, flip counts; one interval plot per
metric (and per absolute/relative change) with the margins drawn, so units never mix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlqa import display as d
from mlqa._text import fmt_num

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.compare.check import RegressionResult


def _signed(x: float | None, relative: bool) -> str:
    if x is None:
        return ""
    return f"{x:+.2%}" if relative else ("+" if x > 0 else "") + fmt_num(x)


def regression_display(r: RegressionResult, *, details: bool = True) -> d.Display:
    rel = r.relative
    diff = _signed(r.value, rel)
    margin = d.bounds_text(r.margin_low, r.margin_high, fmt=lambda x: _signed(x, rel))
    ci = "" if r.ci is None or None in r.ci else \
        f"{r.confidence:.0%} " * (r.confidence is not None) + \
        f"{_signed(r.ci[0], rel)}\u2013{_signed(r.ci[1], rel)}"
    what = "relative change" if rel else "difference"
    flips = ""
    if r.negative_flips is not None and r.positive_flips is not None:
        flips = (f"{r.negative_flips} newly wrong ({d.share(r.negative_flip_rate)}), "
                 f"{r.positive_flips} newly right ({d.share(r.positive_flip_rate)})")
    p_value = "" if r.p_value is None else (f"{r.p_value:.2e}" if 0 < r.p_value < 1e-3
                                            else fmt_num(r.p_value))
    rows = ((r.metric or r.name, d.num(r.candidate), d.num(r.baseline), diff, ci,
             f"{what} {margin}" if margin else "", r.test or "", p_value, flips),)
    table = d.Table(
        headers=("metric", "candidate", "baseline", f"{what} (candidate \u2212 baseline)",
                 f"{what} interval", "margin", "paired test", "p-value", "flips"),
        fields=("metric", "candidate", "baseline", "difference", "difference_ci", "margin",
                "test", "p_value", "flips"),
        rows=rows, highlight=(r.outcome.value in ("fail", "error"),))
    point = None
    if r.value is not None:
        point = d.IntervalPoint(r.name, r.value, r.ci, r.margin_low, r.margin_high,
                                r.outcome.value)
    cells = d.Cells(value=f"\u0394 {diff} (candidate {d.num(r.candidate)})" if diff else "",
                    requirement=f"\u0394 {margin}" if margin else "",
                    baseline=d.num(r.baseline), interval=ci, n=d.num(r.n))
    return d.Display(
        cells=cells, summary=f"{r.metric}: candidate {d.num(r.candidate)} vs baseline "
                             f"{d.num(r.baseline)}, {what} {diff}",
        sections=(d.Section("candidate vs baseline", (table,)),) if details else (),
        point=point,
        plot_group=f"regression: {r.metric} {'relative ' if rel else ''}change "
                   f"(candidate \u2212 baseline), margins dashed")
