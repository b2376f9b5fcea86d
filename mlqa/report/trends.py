"""The history on the release page: each check over the last builds (``mlqa report
--history N``), as inline SVG that needs no network.

One plot per check (its current series: the builds since its configuration last changed):
the value of each build, its confidence interval as a band, the requirement as dashed lines,
builds a gatekeeper approved or released marked with a diamond and a vertical rule, the build
of this report ringed. Every point carries a ``<title>`` naming its build (Jenkins number,
commit) with its figures, which a browser shows on hover.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from mlqa._text import fmt_num
from mlqa.errors import InputError
from mlqa.history import History, Point, Series, read_history
from mlqa.report.plots import COLORS, CURRENT, MARK, _scale, _svg, _text

RELEASE = "#1a7f37"
_BAND = "#0969da"


def section(history: History, current: str | None, *, note: str | None = None) -> str:
    """The page's "History" section: a plot per check of ``history``; ``current``: the entry
    of the build this page reports (ringed), None when that build is not in the history."""
    builds = history.builds
    head = (f'<h2 id="history">History: last {len(builds)} build'
            f'{"s" * (len(builds) != 1)}</h2>'
            f'<p class="sub">from {escape(history.location)}; '
            f'{sum(b.approved or b.released for b in builds)} approved or released; '
            f'the build of this report is ringed')
    if note:
        head += f"; {escape(note)}"
    out = [head + "</p>", '<div class="plots trends">']  # .plots: the page's flex row
    for check_id in history.check_ids:
        series = history.series(check_id)
        out.append(f'<figure class="trend" style="margin:0" data-check="{escape(check_id)}">'
                   f'{trend_plot(series[-1], history, current)}')
        if series[-1].note:
            out.append(f'<figcaption class="series-note">{escape(series[-1].note)}'
                       f'</figcaption>')
        out.append("</figure>")
    out.append("</div>")
    return "".join(out)


def trend_plot(series: Series, history: History, current: str | None, width: int = 640,
               height: int = 200) -> str:
    """One check over the builds of ``history`` (x: the build's place, so a build without
    this check leaves a gap)."""
    place = {b.entry: i for i, b in enumerate(history.builds)}
    left, right, top, bottom = 44.0, width - 10.0, 40.0, height - 28.0
    x, _ = _scale(0.0, float(max(len(history.builds) - 1, 1)), left, right)
    row = series.points[-1].row
    levels = [v for p in series.points for v in (p.row.value, *(p.row.ci or ()))
              if v is not None and math.isfinite(v)]
    levels += [b for b in (row.low, row.high) if b is not None]
    lo, hi = min(levels, default=0.0), max(levels, default=1.0)
    y_of, (y_lo, y_hi) = _scale(lo, hi, bottom, top)
    body = [_text(4, 13, _title(series)), _text(4, 25, _subtitle(series), fill="#57606a")]
    for p in series.points:
        if p.build.approved or p.build.released:
            bx = x(place[p.build.entry])
            body.append(f'<line class="release-rule" x1="{bx:.1f}" y1="{top:.1f}" '
                        f'x2="{bx:.1f}" y2="{bottom:.1f}" stroke="{RELEASE}" opacity="0.35"/>')
    body.extend(_band(series.points, place, x, y_of))
    for bound, name in ((row.low, "min"), (row.high, "max")):
        if bound is not None:
            by = y_of(bound)
            body.append(f'<line class="requirement" x1="{left:.1f}" y1="{by:.1f}" '
                        f'x2="{right:.1f}" y2="{by:.1f}" stroke="{MARK}" '
                        f'stroke-dasharray="5,3"><title>{name} {escape(fmt_num(bound))}'
                        f'</title></line>')
    line = [(x(place[p.build.entry]), y_of(p.row.value)) for p in series.points
            if p.row.value is not None]
    if len(line) > 1:
        body.append('<polyline class="value-line" fill="none" stroke="#57606a" '
                    'stroke-width="1" points="'
                    + " ".join(f"{a:.1f},{b:.1f}" for a, b in line) + '"/>')
    for p in series.points:
        body.append(_point(p, x(place[p.build.entry]), y_of, bottom,
                           p.build.entry == current))
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" '
                f'stroke="#d0d7de"/>')
    body.append(_text(left - 3, top + 8, fmt_num(y_hi), "end"))
    body.append(_text(left - 3, bottom, fmt_num(y_lo), "end"))
    first, last = history.builds[0], history.builds[-1]
    body.append(_text(left, bottom + 14, first.label))
    body.append(_text(right, bottom + 14, last.label, "end"))
    return _svg(width, height, body, f"{series.label} over the last {len(history.builds)} "
                                     f"builds")


def _title(series: Series) -> str:
    row = series.points[-1].row
    what = row.metric or row.check
    label = series.label if len(series.label) <= 70 else series.label[:69] + "\u2026"
    return f"{label}: {what}"


def _subtitle(series: Series) -> str:
    row = series.points[-1].row
    requirement = " ".join(f"{n} {fmt_num(b)}" for n, b in (("min", row.low), ("max", row.high))
                           if b is not None) or "no requirement"
    level = f"{row.confidence:.0%} intervals; " if row.confidence else ""
    return f"{len(series.points)} builds; {level}{requirement}"


def _band(points: Sequence[Point], place: dict[str, int], x, y_of) -> list[str]:  # noqa: ANN001
    """The interval band: one polygon per run of consecutive points that have an interval."""
    runs: list[list[tuple[float, float, float]]] = [[]]
    for p in points:
        ci = p.row.ci
        if ci is None or ci[0] is None or ci[1] is None:
            runs.append([])
            continue
        runs[-1].append((x(place[p.build.entry]), y_of(ci[0]), y_of(ci[1])))
    out = []
    for run in runs:
        if not run:
            continue
        if len(run) == 1:  # a lone interval: a bar
            a, low, high = run[0]
            out.append(f'<line class="band" x1="{a:.1f}" y1="{low:.1f}" x2="{a:.1f}" '
                       f'y2="{high:.1f}" stroke="{_BAND}" stroke-width="6" opacity="0.2"/>')
            continue
        ring = [(a, high) for a, _, high in run] + [(a, low) for a, low, _ in reversed(run)]
        out.append(f'<polygon class="band" fill="{_BAND}" opacity="0.15" points="'
                   + " ".join(f"{a:.1f},{b:.1f}" for a, b in ring) + '"/>')
    return out


def _point(p: Point, px: float, y_of, bottom: float, current: bool) -> str:  # noqa: ANN001
    """A build's mark, linked to the build's page (Jenkins ``BUILD_URL``) when it has one."""
    from mlqa.report.html import safe_url

    row, build = p.row, p.build
    color = COLORS.get(row.outcome.value, "#24292f")
    said = [f"build {build.label}"]
    if build.commit and build.number:
        said.append(f"commit {build.commit[:10]}")
    said.append(f"{row.outcome.value}: {row.metric or row.check} {fmt_num(row.value)}")
    if row.ci is not None:
        said.append(f"CI {fmt_num(row.ci[0])}\u2013{fmt_num(row.ci[1])}")
    if row.n is not None:
        said.append(f"n={row.n}")
    marks = [m for m, on in (("approved", build.approved), ("released", build.released)) if on]
    if marks:
        said.append(" and ".join(marks))
    if current:
        said.append("this build")
    title = f"<title>{escape('; '.join(said))}</title>"
    classes = ["point", f"o-{row.outcome.value}"] + marks + (["current"] if current else [])
    cls = escape(" ".join(classes))
    build_attr = f'data-build="{escape(build.label)}"'
    if row.value is None:  # an ERROR has no value: a cross on the axis, never a made-up point
        mark = (f'<path d="M{px - 4:.1f},{bottom - 4:.1f} l8,8 m0,-8 l-8,8" stroke="{color}" '
                f'stroke-width="2"/>')
    else:
        py = y_of(row.value)
        mark = (f'<path d="M{px:.1f},{py - 6:.1f} l6,6 l-6,6 l-6,-6 z" fill="{RELEASE}"/>'
                if marks else f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{color}"/>')
        if current:
            mark += (f'<circle cx="{px:.1f}" cy="{py:.1f}" r="8" fill="none" '
                     f'stroke="{CURRENT}" stroke-width="2"/>')
    point = f'<g class="{cls}" {build_attr}>{mark}{title}</g>'
    url = safe_url(build.url)
    return point if url is None else f'<a href="{escape(url)}">{point}</a>'


def history_section(bundle_folder: Path, last: int, store: str | None = None) -> str:
    """The section for the run whose bundle is ``bundle_folder``: its store's history (or
    ``store``'s), the last ``last`` builds, this run's build ringed. No store, an empty
    history, or a missing or damaged history file: an InputError naming it, never a page
    whose trends are silently empty."""
    from mlqa.history.bundle import reference

    if isinstance(last, bool) or not isinstance(last, int) or last < 1:
        raise InputError(f"--history must be a whole number of builds >= 1, got {last!r}")
    found = reference(bundle_folder)
    location = store or (found[0] if found else None) or os.environ.get("MLQA_BASELINE")
    if not location:
        raise InputError(f"--history: the run in {bundle_folder} added to no history (no "
                         f"history.json: run pytest with --mlqa-results and --mlqa-baseline) and "
                         f"no store was named (--history-store or $MLQA_BASELINE)")
    history = read_history(location, last=last)
    current = found[1] if found else None
    note = None
    if current not in {b.entry for b in history.builds}:
        note = ("this report's build is not among them" if found else
                "this report's run added to no history")
        current = None
    return section(history, current, note=note)
