"""How a trend check is shown: its headline shift in the row, and one table of every change
point found (build, means either side, shift, p-value, direction), failing ones highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlqa import display as d
from mlqa._text import fmt_num

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.trend.check import TrendResult


def _signed(x: float | None) -> str:
    return "" if x is None else ("+" if x > 0 else "") + fmt_num(x)


def trend_display(r: TrendResult, *, details: bool = True) -> d.Display:
    worse = "drop" if r.greater_is_better else "rise"
    requirement = "" if r.min_magnitude is None else \
        f"no {worse} \u2265 {fmt_num(r.min_magnitude)} (alpha {fmt_num(r.alpha)})"
    headline = next((c for c in r.change_points if c.shift == r.value),
                    None)
    value = "" if headline is None else \
        f"\u0394 {_signed(headline.shift)} from build {headline.build}"
    table = d.Table(
        title=f"change points in {r.n} builds",
        headers=("from build", "mean before", "mean after", "shift", "p-value", "direction"),
        fields=("build", "mean_before", "mean_after", "shift", "p_value", "direction"),
        rows=tuple((c.build, d.num(c.mean_before), d.num(c.mean_after),
                    _signed(c.shift), d.num(c.p_value), "worse" if c.worse else "better")
                   for c in r.change_points),
        highlight=tuple(c.fails for c in r.change_points))
    low, high = r.bounds()
    point = None if r.value is None else \
        d.IntervalPoint(r.name, r.value, None, low, high, r.outcome.value)
    return d.Display(
        cells=d.Cells(value=value, requirement=requirement, baseline=d.num(r.baseline),
                      n=d.num(r.n)),
        summary=f"{len(r.change_points)} change point(s) in {r.n} builds",
        sections=(d.Section("change points", (table,)),) if details and r.change_points else (),
        point=point, plot_group=f"trend: {r.metric or r.name} shift at a change point")
