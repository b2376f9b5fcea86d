"""Inline SVG plots for the release report: written as text, no plotting library, no network.

Each function returns one ``<svg>`` element sized in CSS pixels. Numbers are rounded to one
decimal of a pixel, which keeps a report with hundreds of plots small and fast to render.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from mlqa._text import fmt_num

COLORS = {"pass": "#1a7f37", "fail": "#cf222e", "error": "#8250df", "inconclusive": "#bf8700",
          "waived": "#57606a", "skipped": "#8c959f"}
REFERENCE, CURRENT = "#8c959f", "#0969da"
_FONT = 'font-family="sans-serif" font-size="11"'


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def _scale(lo: float, hi: float, x0: float, x1: float):
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        lo, hi = (lo - 1, lo + 1) if math.isfinite(lo) else (0.0, 1.0)
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    return lambda v: x0 + (v - lo) / (hi - lo) * (x1 - x0), (lo, hi)


def _text(x: float, y: float, s: str, anchor: str = "start", fill: str = "#24292f") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {_FONT}>'
            f'{escape(s)}</text>')


def interval_plot(rows: Sequence[dict], title: str, width: int = 640) -> str:
    """One line per row: the point ``value``, its interval ``ci`` (low, high) as a bar and the
    requirement ``threshold`` as a dashed mark, coloured by ``outcome``. Rows: dicts with
    ``label``, ``value``, ``ci``, ``threshold``, ``outcome``."""
    label_w, row_h, top = 190.0, 20.0, 22.0
    height = top + row_h * len(rows) + 22
    points = [v for r in rows for v in (r.get("value"), r.get("threshold"), *(r.get("ci") or ()))
              if v is not None and math.isfinite(v)]
    if not points:
        points = [0.0, 1.0]
    x, (lo, hi) = _scale(min(points), max(points), label_w, width - 12)
    body = [_text(4, 14, title)]
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        color = COLORS.get(str(r.get("outcome")), "#24292f")
        body.append(_text(label_w - 6, y + 4, _clip(str(r.get("label", "")), 30), "end"))
        ci = r.get("ci")
        if ci and None not in ci:
            body.append(f'<line x1="{x(ci[0]):.1f}" y1="{y:.1f}" x2="{x(ci[1]):.1f}" '
                        f'y2="{y:.1f}" stroke="{color}" stroke-width="4" opacity="0.45"/>')
        if r.get("threshold") is not None:
            tx = x(r["threshold"])
            body.append(f'<line x1="{tx:.1f}" y1="{y - 8:.1f}" x2="{tx:.1f}" y2="{y + 8:.1f}" '
                        f'stroke="#24292f" stroke-dasharray="3,2"/>')
        if r.get("value") is not None and math.isfinite(r["value"]):
            body.append(f'<circle cx="{x(r["value"]):.1f}" cy="{y:.1f}" r="4" fill="{color}"/>')
    axis_y = top + row_h * len(rows) + 4
    body.append(f'<line x1="{label_w}" y1="{axis_y:.1f}" x2="{width - 12}" y2="{axis_y:.1f}" '
                f'stroke="#d0d7de"/>')
    body.append(_text(label_w, axis_y + 14, fmt_num(lo)))
    body.append(_text(width - 12, axis_y + 14, fmt_num(hi), "end"))
    return _svg(width, height, body, title)


def distribution_plot(title: str, reference: Sequence[float], current: Sequence[float], *,
                      edges: Sequence[float] | None = None,
                      categories: Sequence[str] | None = None, width: int = 420,
                      height: int = 150) -> str:
    """Reference (grey) and current (blue) as proportions side by side, per histogram bin
    (``edges``, one more than the counts) or per category."""
    ref = _proportions(reference)
    cur = _proportions(current)
    n = max(len(ref), len(cur), 1)
    left, bottom, top = 34.0, height - 30.0, 20.0
    peak = max([*ref, *cur, 1e-12])
    slot = (width - left - 8) / n
    bar = max(slot / 2 - 1, 0.5)
    body = [_text(4, 13, title)]
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
    if categories is not None and n <= 12:
        for i, c in enumerate(categories[:n]):
            body.append(_text(left + (i + 0.5) * slot, bottom + 13, _clip(str(c), 8), "middle"))
    elif edges is not None and len(edges) >= 2:
        body.append(_text(left, bottom + 13, fmt_num(edges[0])))
        body.append(_text(width - 8, bottom + 13, fmt_num(edges[-1]), "end"))
    body.append(_text(width - 8, 13, "reference", "end", REFERENCE))
    body.append(_text(width - 74, 13, "current", "end", CURRENT))
    return _svg(width, height, body, title)


def histogram(title: str, counts: Sequence[float], edges: Sequence[float], *,
              marks: dict[str, float] | None = None, width: int = 420, height: int = 150) -> str:
    """A histogram of ``counts`` over ``edges`` with labelled vertical ``marks``
    (e.g. p50/p99 of a latency distribution)."""
    left, bottom, top = 34.0, height - 30.0, 20.0
    x, _ = _scale(edges[0], edges[-1], left, width - 8)
    peak = max([*counts, 1e-12])
    body = [_text(4, 13, title)]
    for c, a, b in zip(counts, edges[:-1], edges[1:], strict=False):
        h = (bottom - top) * c / peak
        w = max(x(b) - x(a), 0.5)
        body.append(f'<rect x="{x(a):.1f}" y="{bottom - h:.1f}" width="{w:.1f}" '
                    f'height="{h:.1f}" fill="{CURRENT}"/>')
    for name, v in (marks or {}).items():
        if v is None or not math.isfinite(v):
            continue
        body.append(f'<line x1="{x(v):.1f}" y1="{top:.1f}" x2="{x(v):.1f}" y2="{bottom:.1f}" '
                    f'stroke="#cf222e" stroke-dasharray="3,2"/>')
        body.append(_text(x(v) + 2, top + 9, name, fill="#cf222e"))
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{width - 8}" y2="{bottom}" '
                f'stroke="#d0d7de"/>')
    body.append(_text(left, bottom + 13, fmt_num(edges[0])))
    body.append(_text(width - 8, bottom + 13, fmt_num(edges[-1]), "end"))
    return _svg(width, height, body, title)


def samples_histogram(title: str, samples: Sequence[float], bins: int = 40,
                      marks: dict[str, float] | None = None) -> str:
    """``histogram`` of raw samples, bins spread between the smallest and largest."""
    finite = sorted(v for v in samples if v is not None and math.isfinite(v))
    if not finite:
        return ""
    lo, hi = finite[0], finite[-1]
    if hi <= lo:
        hi = lo + 1e-9
    counts = [0] * bins
    for v in finite:
        counts[min(int((v - lo) / (hi - lo) * bins), bins - 1)] += 1
    edges = [lo + (hi - lo) * i / bins for i in range(bins + 1)]
    return histogram(title, counts, edges, marks=marks)


def _proportions(values: Sequence[float]) -> list[float]:
    vals = [float(v) if v is not None and math.isfinite(float(v)) else 0.0 for v in values]
    total = sum(vals)
    return [v / total for v in vals] if total > 0 else vals


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "\u2026"
