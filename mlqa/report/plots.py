"""Inline SVG plots for the release report: written as text, no plotting library, no network.

Each function renders one typed plot of :mod:`mlqa.display` as one ``<svg>`` element sized in
CSS pixels; every string from data goes through ``escape``. Numbers are rounded to one
decimal of a pixel, which keeps a report with hundreds of plots small and fast to render.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from html import escape

from mlqa._text import fmt_num
from mlqa.display import (
    Block,
    DistributionPlot,
    HistogramPlot,
    IntervalPlot,
    ScatterPlot,
    Table,
)

COLORS = {"pass": "#1a7f37", "fail": "#cf222e", "error": "#8250df", "inconclusive": "#bf8700",
          "waived": "#57606a", "skipped": "#8c959f"}
REFERENCE, CURRENT, MARK = "#8c959f", "#0969da", "#cf222e"
_FONT = 'font-family="sans-serif" font-size="11"'


def render(block: Block, max_rows: int = 60) -> str:
    """The SVG of a plot block ('' for a table: the page renders those)."""
    if isinstance(block, IntervalPlot):
        return interval_plot(block, max_rows=max_rows)
    if isinstance(block, DistributionPlot):
        return distribution_plot(block)
    if isinstance(block, HistogramPlot):
        return histogram(block)
    if isinstance(block, ScatterPlot):
        return scatter_plot(block)
    assert isinstance(block, Table)
    return ""


# A coordinate or size attribute whose number is not finite ("nan", "inf", "-inf"): a browser
# drops or misplaces such a mark silently. Text never matches: escape() turns every '"' in it
# into "&quot;".
_NOT_FINITE = re.compile(r'\s(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height)="[^"]*(?:nan|inf)',
                         re.IGNORECASE)


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    """The ``<svg>`` element; a mark whose position or size is not a finite number is left out
    and a last line says how many and why, so no ``nan`` ever reaches an attribute."""
    kept = [b for b in body if not _NOT_FINITE.search(b)]
    if len(kept) < len(body):
        left_out = len(body) - len(kept)
        height += 16
        kept.append(_text(4, height - 5, f"{left_out} mark{'s' * (left_out != 1)} left out: "
                                         f"a figure is not finite (inf or NaN)", fill=MARK))
    body = kept
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def _scale(lo: float, hi: float, x0: float, x1: float
           ) -> tuple[Callable[[float], float], tuple[float, float]]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        lo, hi = (lo - 1, lo + 1) if math.isfinite(lo) else (0.0, 1.0)
    # Near the float limits hi - lo overflows to inf and every position becomes nan: such an
    # axis is computed on halves, which cannot overflow.
    k = 1.0 if math.isfinite((hi - lo) * 1.1) else 0.5
    lo, hi = lo * k, hi * k
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    return (lambda v: x0 + (v * k - lo) / (hi - lo) * (x1 - x0)), (lo / k, hi / k)


def _text(x: float, y: float, s: str, anchor: str = "start", fill: str = "#24292f") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {_FONT}>'
            f'{escape(s)}</text>')


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def interval_plot(plot: IntervalPlot, width: int = 640, max_rows: int = 60) -> str:
    """One line per point: the value (dot), its interval (bar), the requirement's bounds
    (dashed marks), coloured by outcome. All points share one quantity and unit."""
    points = plot.points[:max_rows]
    label_w, row_h, top = 190.0, 20.0, 22.0
    height = top + row_h * len(points) + 22
    xs = [v for p in points for v in (p.value, p.low, p.high, *(p.ci or ())) if _finite(v)]
    x, (lo, hi) = _scale(min(xs, default=0.0), max(xs, default=1.0), label_w, width - 12)
    body = [_text(4, 14, plot.title)]
    for i, p in enumerate(points):
        y = top + row_h * i + row_h / 2
        color = COLORS.get(p.outcome, "#24292f")
        body.append(_text(label_w - 6, y + 4, _clip(p.label, 30), "end"))
        low, high = p.ci if p.ci is not None else (None, None)
        if low is not None and high is not None and _finite(low) and _finite(high):
            body.append(f'<line x1="{x(low):.1f}" y1="{y:.1f}" x2="{x(high):.1f}" '
                        f'y2="{y:.1f}" stroke="{color}" stroke-width="4" opacity="0.45"/>')
        for bound in (p.low, p.high):
            if bound is not None and _finite(bound):
                bx = x(bound)
                body.append(f'<line x1="{bx:.1f}" y1="{y - 8:.1f}" x2="{bx:.1f}" '
                            f'y2="{y + 8:.1f}" stroke="#24292f" stroke-dasharray="3,2"/>')
        if p.value is not None and _finite(p.value):
            body.append(f'<circle cx="{x(p.value):.1f}" cy="{y:.1f}" r="4" fill="{color}"/>')
    axis_y = top + row_h * len(points) + 4
    body.append(f'<line x1="{label_w}" y1="{axis_y:.1f}" x2="{width - 12}" y2="{axis_y:.1f}" '
                f'stroke="#d0d7de"/>')
    body.append(_text(label_w, axis_y + 14, fmt_num(lo)))
    body.append(_text(width - 12, axis_y + 14, fmt_num(hi), "end"))
    if lo < 0 < hi:  # the zero line: where "no change" sits in a difference plot
        body.append(f'<line x1="{x(0.0):.1f}" y1="{top:.1f}" x2="{x(0.0):.1f}" '
                    f'y2="{axis_y:.1f}" stroke="#d0d7de"/>')
    return _svg(width, height, body, plot.title)


def distribution_plot(plot: DistributionPlot, width: int = 420, height: int = 160) -> str:
    """Reference (grey) and current (blue) shares side by side, per bin or per category."""
    ref, cur = plot.reference, plot.current
    n = max(len(ref), len(cur), 1)
    left, bottom, top = 34.0, height - 30.0, 30.0
    peak = max([v for v in (*ref, *cur) if math.isfinite(v)] + [1e-12])
    slot = (width - left - 8) / n
    bar = max(slot / 2 - 1, 0.5)
    body = [_text(4, 13, _clip(plot.title, 70)),
            _text(4, 25, "reference", fill=REFERENCE), _text(64, 25, "current", fill=CURRENT)]
    for i in range(n):
        x0 = left + i * slot
        for j, (vals, color) in enumerate(((ref, REFERENCE), (cur, CURRENT))):
            v = vals[i] if i < len(vals) else 0.0
            h = (bottom - top) * v / peak
            body.append(f'<rect x="{x0 + j * bar:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" '
                        f'height="{h:.1f}" fill="{color}"/>')
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{width - 8}" y2="{bottom}" '
                f'stroke="#d0d7de"/>')
    body.append(_text(left - 3, top + 8, f"{peak:.0%}", "end"))
    if plot.categories:
        for i, c in enumerate(plot.categories[:n]):
            body.append(_text(left + (i + 0.5) * slot, bottom + 13, _clip(c, 8), "middle"))
    elif len(plot.edges) >= 2:
        body.append(_text(left, bottom + 13, fmt_num(plot.edges[0])))
        body.append(_text(width - 8, bottom + 13, fmt_num(plot.edges[-1]), "end"))
    return _svg(width, height, body, plot.title)


def scatter_plot(plot: ScatterPlot, width: int = 420, height: int = 300) -> str:
    """Reference (grey) then current (blue) points on shared axes, labelled with their names."""
    points = [p for p in (*plot.reference, *plot.current) if _finite(p[0]) and _finite(p[1])]
    xs, ys = [p[0] for p in points] or [0.0], [p[1] for p in points] or [0.0]
    left, bottom, top = 10.0, height - 24.0, 30.0
    sx, _ = _scale(min(xs), max(xs), left, width - 10)
    sy, _ = _scale(min(ys), max(ys), bottom, top)
    body = [_text(4, 13, _clip(plot.title, 70)),
            _text(4, 25, "reference", fill=REFERENCE), _text(64, 25, "current", fill=CURRENT),
            f'<rect x="{left}" y="{top}" width="{width - 10 - left:.1f}" '
            f'height="{bottom - top:.1f}" fill="none" stroke="#d0d7de"/>']
    for pts, color in ((plot.reference, REFERENCE), (plot.current, CURRENT)):
        body += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2" fill="{color}" '
                 f'fill-opacity="0.6"/>' for x, y in pts]
    body.append(_text(width / 2, height - 8, plot.axes[0], "middle"))
    body.append(_text(width - 12, top + 12, plot.axes[1], "end"))
    return _svg(width, height, body, plot.title)


def histogram(plot: HistogramPlot, width: int = 520, height: int = 190) -> str:
    """Counts over edges (a log axis for log-spaced bins) with labelled vertical marks; the
    labels of marks that sit close together are put on separate lines so none overlaps."""
    edges, counts = plot.edges, plot.counts
    if len(edges) < 2:
        return ""
    log = plot.log_x and edges[0] > 0
    f: Callable[[float], float] = math.log10 if log else float
    marks = [(name, v) for name, v in plot.marks if _finite(v) and (not log or v > 0)]
    left, bottom, top = 34.0, height - 30.0, 20.0 + 12.0 * max(len(marks), 1)
    x, _ = _scale(f(edges[0]), f(edges[-1]), left, width - 8)
    peak = max([c for c in counts if math.isfinite(c)] + [1e-12])
    body = [_text(4, 13, plot.title)]
    for c, a, b in zip(counts, edges[:-1], edges[1:], strict=False):
        h = (bottom - top) * c / peak
        w = max(x(f(b)) - x(f(a)), 0.5)
        body.append(f'<rect x="{x(f(a)):.1f}" y="{bottom - h:.1f}" width="{w:.1f}" '
                    f'height="{h:.1f}" fill="{CURRENT}"/>')
    for i, (name, v) in enumerate(sorted(marks, key=lambda m: m[1])):
        mx = x(f(v))
        label_y = 26.0 + 12.0 * i  # one line per mark: p50/p95/p99 never overlap
        body.append(f'<line x1="{mx:.1f}" y1="{label_y + 2:.1f}" x2="{mx:.1f}" '
                    f'y2="{bottom:.1f}" stroke="{MARK}" stroke-dasharray="3,2"/>')
        anchor = "end" if mx > width * 0.7 else "start"
        body.append(_text(mx + (-3 if anchor == "end" else 3), label_y,
                          f"{name} {fmt_num(v)}", anchor, fill=MARK))
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{width - 8}" y2="{bottom}" '
                f'stroke="#d0d7de"/>')
    body.append(_text(left, bottom + 13, fmt_num(edges[0])))
    body.append(_text(width - 8, bottom + 13, fmt_num(edges[-1]), "end"))
    if log:
        body.append(_text((left + width - 8) / 2, bottom + 13, "log scale", "middle"))
    return _svg(width, height, body, plot.title)


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "\u2026"


__all__ = ["render", "interval_plot", "distribution_plot", "histogram", "COLORS"]
