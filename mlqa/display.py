"""How a result is shown: the typed vocabulary result types describe their report rows,
tables and plots in.

Each result type owns its ``display()`` (the generic one is in :mod:`mlqa.result`, a family's
beside its result class: ``mlqa/<family>/display.py``), so the report prints only figures a
check really produced, from typed fields. Nothing here is markup: the report's renderers
(HTML, Markdown) turn it into text and escape every string in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from mlqa._text import fmt_num

COMPARISONS = {">=": "\u2265", "<=": "\u2264", "<": "<", ">": ">"}


@dataclasses.dataclass(frozen=True)
class Cells:
    """The cells of a check's row in the report's tables (text, not yet escaped)."""

    value: str = ""
    requirement: str = ""
    baseline: str = ""
    interval: str = ""
    n: str = ""


@dataclasses.dataclass(frozen=True)
class Table:
    """A small table: ``fields`` names each column for machines (the HTML writes it as
    ``data-field``), ``highlight`` marks rows that need the reader's eye."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    fields: tuple[str, ...] = ()
    highlight: tuple[bool, ...] = ()
    title: str = ""


@dataclasses.dataclass(frozen=True)
class IntervalPoint:
    """One line of an interval plot: the point, its interval, the requirement's bounds."""

    label: str
    value: float | None
    ci: tuple[float | None, float | None] | None
    low: float | None
    high: float | None
    outcome: str


@dataclasses.dataclass(frozen=True)
class IntervalPlot:
    """Points of one quantity in one unit (``unit``): never two units on one axis."""

    title: str
    points: tuple[IntervalPoint, ...]
    name: str = "interval"  # names the plot's file when it is attached on its own


@dataclasses.dataclass(frozen=True)
class DistributionPlot:
    """Reference vs current shares per bin (``edges``) or per category (``categories``)."""

    title: str
    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    name: str = "distribution"


@dataclasses.dataclass(frozen=True)
class HistogramPlot:
    """Counts over ``edges`` with labelled marks; ``log_x`` for log-spaced bins."""

    title: str
    counts: tuple[float, ...]
    edges: tuple[float, ...]
    marks: tuple[tuple[str, float], ...] = ()
    log_x: bool = False
    name: str = "histogram"


@dataclasses.dataclass(frozen=True)
class ScatterPlot:
    """Reference (grey) and current (blue) points in two dimensions (a projection)."""

    title: str
    reference: tuple[tuple[float, float], ...]
    current: tuple[tuple[float, float], ...]
    axes: tuple[str, str] = ("x", "y")
    name: str = "scatter"


Block = Table | IntervalPlot | DistributionPlot | HistogramPlot | ScatterPlot


@dataclasses.dataclass(frozen=True)
class Section:
    """A titled group of blocks under a check; ``folded`` ones open on demand."""

    title: str
    blocks: tuple[Block, ...]
    folded: bool = False


@dataclasses.dataclass(frozen=True)
class Display:
    """Everything the report shows of one result.

    ``cells``: its row. ``summary``: the one line heading its details. ``sections``: its own
    tables and plots. ``point``: its line in the family's interval plot of ``plot_group``
    (one plot per quantity and unit).
    """

    cells: Cells
    summary: str = ""
    sections: tuple[Section, ...] = ()
    point: IntervalPoint | None = None
    plot_group: str = ""


def num(x: float | int | None) -> str:
    """A figure in a cell: empty when missing."""
    return "" if x is None else fmt_num(x)


def interval_text(ci: Sequence[float | None] | None, confidence: float | None = None) -> str:
    if ci is None or len(ci) != 2 or ci[0] is None or ci[1] is None:
        return ""
    level = f"{confidence:.0%} " if confidence is not None else ""
    return f"{level}{fmt_num(ci[0])}\u2013{fmt_num(ci[1])}"


def bounds_text(low: float | None, high: float | None, *, unit: str = "",
                fmt: Callable[[float], str] = fmt_num) -> str:
    """``≥ 0.9``, ``≤ 20 ms``, ``within [-0.01, 0.05]`` (numbers written by ``fmt``)."""
    if low is not None and high is not None:
        return f"within [{fmt(low)}, {fmt(high)}]{unit}"
    if low is not None:
        return f"\u2265 {fmt(low)}{unit}"
    if high is not None:
        return f"\u2264 {fmt(high)}{unit}"
    return ""


def share(x: float | None) -> str:
    return "" if x is None else f"{x:.1%}"
