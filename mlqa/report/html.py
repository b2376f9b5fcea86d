"""The release report as one self-contained HTML page.

Read top-down by a gatekeeper: the verdict and why, what needs attention, every check grouped
by family (value, requirement, baseline, interval, n, outcome) with the family's plots, then
waivers and provenance. No script, no external resource: a Content-Security-Policy forbids any
request, plots are inline SVG. Families with many checks fold their passing rows away, so a
bundle of thousands of checks stays readable.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from mlqa import __version__
from mlqa._text import fmt_num
from mlqa.gate import APPROVE, REFUSE, CheckVerdict, Verdict
from mlqa.report import plots
from mlqa.report.rows import (
    FAMILY_TITLES,
    Row,
    by_family,
    counts_text,
    family,
    label,
    name_counts,
    to_row,
)

FOLD_PASSING_OVER = 50  # a family with more rows shows its problems and folds the passes
MAX_PLOT_ROWS = 60  # rows in one interval plot
MAX_DRIFT_PLOTS = 24  # distribution plots per drift check (drifted columns first)
MAX_COLUMN_ROWS = 500  # per-column table rows per drift check

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;color:#24292f;margin:0 auto;max-width:1200px;padding:16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:24px 0 8px}
.sub{color:#57606a;margin-bottom:12px}
.verdict{border-radius:8px;padding:14px 18px;margin:12px 0;color:#fff}
.verdict h2{margin:0;font-size:26px;letter-spacing:.5px}.verdict ul{margin:6px 0 0 18px;padding:0}
.v-approve{background:#1a7f37}.v-refuse{background:#cf222e}.v-decide{background:#9a6700}
table{border-collapse:collapse;width:100%;margin:6px 0 10px}
th,td{border-bottom:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.check{font-family:ui-monospace,monospace;font-size:12px;min-width:240px;overflow-wrap:anywhere}
td.msg{font-size:12px;color:#57606a}
.badge{display:inline-block;border-radius:10px;padding:0 8px;color:#fff;font-size:12px;
font-weight:600;white-space:nowrap}
.o-pass{background:#1a7f37}.o-fail{background:#cf222e}.o-error{background:#8250df}
.o-inconclusive{background:#bf8700}.o-waived{background:#57606a}.o-skipped{background:#8c959f}
tr.blocks td{background:#ffebe9}tr.asks td{background:#fff8c5}
details{border:1px solid #d0d7de;border-radius:6px;padding:6px 10px;margin:8px 0}
summary{cursor:pointer;font-weight:600}.plots{display:flex;flex-wrap:wrap;gap:10px}
.tag{font-size:11px;color:#57606a;margin-left:4px}dl{display:grid;grid-template-columns:200px 1fr;
gap:2px 10px}dt{color:#57606a}dd{margin:0;font-family:ui-monospace,monospace;font-size:12px}
"""

_VERDICT_CLASS = {APPROVE: "v-approve", REFUSE: "v-refuse"}


def render(verdict: Verdict, provenance: Mapping[str, Any] | None = None,
           title: str = "Model release report") -> str:
    """The whole page for ``verdict`` (from ``mlqa.gate.evaluate``) and the run's provenance."""
    provenance = provenance or {}
    checks = list(verdict.checks)
    names = name_counts(checks)
    anchors = {id(c): f"check-{i}" for i, c in enumerate(verdict.worst_first())}
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           # Nothing on this page may reach the network: no script, no remote image or font.
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
           'style-src \'unsafe-inline\'; img-src data:">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{escape(title)}</h1>", f'<div class="sub">{_subtitle(verdict, provenance)}</div>',
           _verdict_box(verdict)]
    attention = [c for c in verdict.worst_first() if c.blocks or c.asks]
    if attention:
        out.append(f'<h2 id="attention">Needs attention ({len(attention)})</h2>')
        out.append(_table([to_row(c, names, anchors[id(c)]) for c in attention],
                          with_anchor=False, family_of=[family(c) for c in attention]))
    out.append('<h2 id="checks">Checks by family</h2>')
    for name, group in by_family(verdict):
        out.append(_family_section(name, group, names, anchors))
    out.append(_waivers_section(verdict))
    out.append(_provenance_section(provenance))
    out.append(f'<p class="sub">mlqa {escape(__version__)}; waivers judged as of '
               f'{verdict.as_of.isoformat()}; generated '
               f'{dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}</p>')
    out.append("</body></html>\n")
    return "".join(out)


def _subtitle(verdict: Verdict, prov: Mapping[str, Any]) -> str:
    parts = []
    jenkins = prov.get("jenkins") or {}
    if jenkins.get("JOB_NAME"):
        build = f"{jenkins['JOB_NAME']} #{jenkins.get('BUILD_NUMBER', '?')}"
        url = jenkins.get("BUILD_URL")
        parts.append(f'<a href="{escape(url)}">{escape(build)}</a>' if url else escape(build))
    git = prov.get("git") or {}
    if git.get("commit"):
        parts.append(f"commit {escape(git['commit'][:12])}{' (dirty)' if git.get('dirty') else ''}")
    for m in prov.get("models") or []:
        digest = str(m.get("sha256"))[:12]
        parts.append(f"model {escape(str(m.get('name')))} sha256:{escape(digest)}")
    parts.append(f"{len(verdict.checks)} checks: {escape(counts_text(verdict.counts))}")
    return " \u00b7 ".join(parts)


def _verdict_box(verdict: Verdict) -> str:
    css = _VERDICT_CLASS.get(verdict.decision, "v-decide")
    reasons = "".join(f"<li>{escape(r)}</li>" for r in verdict.reasons)
    return (f'<div class="verdict {css}" id="verdict" data-verdict="{escape(verdict.decision)}">'
            f"<h2>Verdict: {escape(verdict.decision.upper())}</h2><ul>{reasons}</ul></div>")


def _badge(outcome: str) -> str:
    return f'<span class="badge o-{escape(outcome)}">{escape(outcome.upper())}</span>'


_HEAD = ("<tr><th>outcome</th><th>check</th><th>value</th><th>requirement</th><th>baseline</th>"
         "<th>interval</th><th>n</th><th>message</th></tr>")


def _table(rows: Sequence[Row], *, with_anchor: bool = True,
           family_of: Sequence[str] | None = None) -> str:
    out = ["<table>", _HEAD]
    for i, r in enumerate(rows):
        css = "blocks" if r.blocks else "asks" if r.asks else ""
        anchor = f' id="{r.anchor}"' if with_anchor else ""
        tags = []
        if r.advisory:
            tags.append("advisory")
        if r.reruns:
            tags.append(f"rerun {r.reruns}\u00d7")
        if family_of is not None:
            tags.append(family_of[i])
        tag = "".join(f'<span class="tag">{escape(t)}</span>' for t in tags)
        out.append(
            f'<tr class="check-row {css}"{anchor} data-outcome="{escape(r.outcome)}">'
            f"<td>{_badge(r.outcome)}</td><td class=\"check\">{escape(r.check)}{tag}</td>"
            f'<td class="num">{escape(r.value)}</td><td>{escape(r.requirement)}</td>'
            f'<td class="num">{escape(r.baseline)}</td><td>{escape(r.ci)}</td>'
            f'<td class="num">{escape(r.n)}</td><td class="msg">{escape(r.message)}</td></tr>')
    out.append("</table>")
    return "".join(out)


def _family_section(name: str, group: list[CheckVerdict], names: Mapping[str, int],
                    anchors: Mapping[int, str]) -> str:
    counts = Counter(c.outcome for c in group)
    troubled = any(c.blocks or c.asks for c in group)
    opened = " open" if troubled or len(group) <= FOLD_PASSING_OVER else ""
    title = FAMILY_TITLES.get(name, name)
    out = [f'<details class="family" id="family-{escape(name)}"{opened}><summary>'
           f"{escape(title)} \u2014 {len(group)} check{'s' * (len(group) != 1)}: "
           f"{escape(counts_text(counts))}</summary>"]
    rows = [to_row(c, names, anchors[id(c)]) for c in group]
    if len(rows) > FOLD_PASSING_OVER:
        shown = [r for r in rows if r.outcome != "pass"]
        folded = [r for r in rows if r.outcome == "pass"]
        out.append(_table(shown))
        out.append(f"<details><summary>{len(folded)} passing checks</summary>"
                   f"{_table(folded)}</details>")
    else:
        out.append(_table(rows))
    extra = _FAMILY_EXTRAS.get(name)
    if extra is not None:
        out.append(extra(group, names))
    out.append("</details>")
    return "".join(out)


# -- family extras -----------------------------------------------------------------------------

def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def _interval_row(c: CheckVerdict, names: Mapping[str, int], **over: Any) -> dict[str, Any]:
    r, details = c.result, c.result.get("details") or {}
    slice_name = details.get("slice")
    row = {"label": f"{slice_name}" if slice_name is not None else label(c, names).split("::")[-1],
           "value": _finite(r.get("value")), "ci": r.get("ci"),
           "threshold": _finite(r.get("threshold")), "outcome": c.outcome}
    row.update(over)
    return row


def _metric_extra(group: list[CheckVerdict], names: Mapping[str, int]) -> str:
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for c in group:
        if _finite(c.result.get("value")) is not None:
            metric = str(c.result.get("metric") or c.result.get("name"))
            by_metric.setdefault(metric, []).append(_interval_row(c, names))
    svgs = [plots.interval_plot(rows[:MAX_PLOT_ROWS],
                                f"{metric}: value, interval and threshold (dashed)")
            for metric, rows in by_metric.items()]
    return _plots_block(svgs)


def _regression_extra(group: list[CheckVerdict], names: Mapping[str, int]) -> str:
    rows, table = [], []
    for c in group:
        details = c.result.get("details") or {}
        diff, diff_ci = _finite(details.get("difference")), details.get("difference_ci")
        if diff is not None:
            rows.append(_interval_row(c, names, value=diff, ci=diff_ci,
                                      threshold=_finite(details.get("margin"))))
        flips = {k: v for k, v in details.items() if "flip" in k and _finite(v) is not None}
        table.append(
            f"<tr><td class=\"check\">{escape(label(c, names))}</td>"
            f"<td class=\"num\">{escape(_fmt(c.result.get('value')))}</td>"
            f"<td class=\"num\">{escape(_fmt(c.result.get('baseline')))}</td>"
            f"<td class=\"num\">{escape(_fmt(diff))}</td>"
            f"<td>{escape(_ci(diff_ci))}</td>"
            f"<td>{escape(', '.join(f'{k} {fmt_num(v)}' for k, v in flips.items()))}</td></tr>")
    out = ["<table><tr><th>check</th><th>candidate</th><th>baseline</th><th>difference</th>"
           "<th>difference interval</th><th>flip rates</th></tr>", *table, "</table>"]
    if rows:
        out.append(_plots_block([plots.interval_plot(
            rows[:MAX_PLOT_ROWS], "candidate \u2212 baseline: interval and margin (dashed)")]))
    return "".join(out)


def _columns(result: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Per-column drift, from ``DriftResult.columns`` or ``details["columns"]`` (a mapping of
    column -> fields, or a list of dicts with a ``column`` key)."""
    cols = result.get("columns") or (result.get("details") or {}).get("columns") or {}
    if isinstance(cols, list):
        cols = {str(c.get("column", c.get("name", i))): c for i, c in enumerate(cols)
                if isinstance(c, Mapping)}
    return {str(k): v for k, v in cols.items() if isinstance(v, Mapping)}


def _drift_extra(group: list[CheckVerdict], names: Mapping[str, int]) -> str:
    out = []
    for c in group:
        cols = _columns(c.result)
        if not cols:
            continue
        ordered = sorted(cols.items(), key=lambda kv: (not kv[1].get("drifted"), kv[0]))
        n_drifted = sum(bool(v.get("drifted")) for v in cols.values())
        opened = " open" if n_drifted and len(cols) <= FOLD_PASSING_OVER else ""
        out.append(f"<details{opened}><summary>{escape(label(c, names))}: {n_drifted} of "
                   f"{len(cols)} columns drifted</summary><table><tr><th>column</th><th>test</th>"
                   "<th>statistic</th><th>p-value</th><th>adjusted p</th><th>effect size</th>"
                   "<th>drifted</th></tr>")
        for col, v in ordered[:MAX_COLUMN_ROWS]:
            drifted = bool(v.get("drifted"))
            out.append(
                f'<tr class="{"blocks" if drifted else ""}"><td class="check">{escape(col)}</td>'
                f"<td>{escape(str(v.get('test', '')))}</td>"
                f'<td class="num">{escape(_fmt(v.get("statistic")))}</td>'
                f'<td class="num">{escape(_fmt(v.get("p_value")))}</td>'
                f'<td class="num">{escape(_fmt(v.get("adjusted_p_value")))}</td>'
                f'<td class="num">{escape(_fmt(v.get("effect_size")))}</td>'
                f"<td>{'yes' if drifted else 'no'}</td></tr>")
        out.append("</table>")
        if len(ordered) > MAX_COLUMN_ROWS:
            out.append(f"<p class=\"sub\">{len(ordered) - MAX_COLUMN_ROWS} more columns not "
                       f"listed (drifted columns come first)</p>")
        svgs = [svg for _, svg in drift_plots(c)]
        out.append(_plots_block(svgs))
        out.append("</details>")
    return "".join(out)


def drift_plots(c: CheckVerdict) -> list[tuple[str, str]]:
    """(column, svg) distribution plots of the drifted columns that carry histograms."""
    svgs = []
    for col, v in sorted(_columns(c.result).items()):
        if not v.get("drifted") or len(svgs) >= MAX_DRIFT_PLOTS:
            continue
        hist = v.get("histogram") or {}
        if hist.get("reference") is not None and hist.get("current") is not None:
            svgs.append((col, plots.distribution_plot(
                f"{col} ({v.get('test', '')})", hist["reference"], hist["current"],
                edges=hist.get("edges"), categories=hist.get("categories"))))
    return svgs


def latency_plot(c: CheckVerdict, names: Mapping[str, int]) -> str:
    """The latency histogram with p50/p95/p99 marks, from binned counts or raw samples."""
    details = c.result.get("details") or {}
    marks = {k: _finite(details.get(k)) for k in ("p50", "p95", "p99")}
    hist = details.get("histogram") or {}
    title = f"{label(c, names).split('::')[-1]}: latency (ms)"
    if hist.get("counts") and hist.get("edges"):
        return plots.histogram(title, hist["counts"], hist["edges"], marks=marks)
    if details.get("samples_ms"):
        return plots.samples_histogram(title, details["samples_ms"], marks=marks)
    return ""


def check_plots(c: CheckVerdict, names: Mapping[str, int]) -> list[tuple[str, str]]:
    """(suffix, svg) plots of one check alone: what the junit-attachments option attaches."""
    name = family(c)
    if name == "drift":
        return drift_plots(c)
    if name == "latency":
        svg = latency_plot(c, names)
        return [("latency", svg)] if svg else []
    if name in ("metric", "regression") and _finite(c.result.get("value")) is not None:
        return [(name, plots.interval_plot([_interval_row(c, names)],
                                           f"{c.result.get('name')}: interval and threshold"))]
    return []


def _latency_extra(group: list[CheckVerdict], names: Mapping[str, int]) -> str:
    out = []
    for c in group:
        details = c.result.get("details") or {}
        batches = details.get("percentiles_by_batch") or details.get("batches") or {}
        if isinstance(batches, Mapping) and batches:
            keys = sorted({k for v in batches.values() if isinstance(v, Mapping) for k in v},
                          key=_percentile_order)
            out.append(f"<table><tr><th>{escape(label(c, names))}: batch size</th>"
                       + "".join(f"<th>{escape(k)} (ms)</th>" for k in keys) + "</tr>")
            for size, v in sorted(batches.items(), key=lambda kv: _as_int(kv[0])):
                out.append(f"<tr><td>{escape(str(size))}</td>" + "".join(
                    f'<td class="num">{escape(_fmt(v.get(k)))}</td>' for k in keys) + "</tr>")
            out.append("</table>")
        out.append(_plots_block([latency_plot(c, names)]))
    return "".join(out)


_FAMILY_EXTRAS = {"metric": _metric_extra, "regression": _regression_extra,
                  "drift": _drift_extra, "latency": _latency_extra}


def _percentile_order(k: str) -> tuple:
    return (0, float(k[1:])) if k[:1] == "p" and k[1:].replace(".", "").isdigit() else (1, k)


def _as_int(x: Any) -> tuple:
    try:
        return (0, int(x))
    except (TypeError, ValueError):
        return (1, str(x))


def _fmt(x: Any) -> str:
    return fmt_num(x) if isinstance(x, int | float) and not isinstance(x, bool) else \
        ("" if x is None else str(x))


def _ci(ci: Any) -> str:
    if not ci or len(ci) != 2 or None in ci:
        return ""
    return f"{fmt_num(ci[0])}\u2013{fmt_num(ci[1])}"


def _plots_block(svgs: Sequence[str]) -> str:
    svgs = [s for s in svgs if s]
    return f'<div class="plots">{"".join(svgs)}</div>' if svgs else ""


# -- waivers and provenance --------------------------------------------------------------------

def _waivers_section(verdict: Verdict) -> str:
    if not verdict.waivers:
        return '<h2 id="waivers">Waivers</h2><p class="sub">No waivers file.</p>'
    out = ['<h2 id="waivers">Waivers</h2><table><tr><th>status</th><th>check</th>'
           "<th>approver</th><th>expires</th><th>reason</th><th>ticket</th><th>model</th>"
           "<th>waived in this run</th></tr>"]
    for use in verdict.waivers:
        w = use.waiver
        status = use.status if use.status != "valid" or use.used_by else "valid, unused"
        css = "asks" if use.status != "valid" else ""
        out.append(
            f'<tr class="waiver {css}"><td>{escape(status)}</td>'
            f'<td class="check">{escape(w.check)}</td><td>{escape(w.approver)}</td>'
            f"<td>{w.expires.isoformat()}</td><td>{escape(w.reason)}</td>"
            f"<td>{escape(w.ticket or '')}</td><td>{escape((w.model or '')[:12])}</td>"
            f'<td class="check">{escape(", ".join(use.used_by))}</td></tr>')
    out.append("</table>")
    return "".join(out)


def _provenance_section(prov: Mapping[str, Any]) -> str:
    out = ['<h2 id="provenance">Provenance</h2>']
    if not prov:
        return out[0] + '<p class="sub">The run recorded no provenance.</p>'
    items: list[tuple[str, str]] = []
    git = prov.get("git") or {}
    if git:
        items.append(("git commit", f"{git.get('commit')}"
                      f"{' (dirty: uncommitted changes)' if git.get('dirty') else ''}"
                      f"{' on ' + git['branch'] if git.get('branch') else ''}"))
    for key, value in (prov.get("jenkins") or {}).items():
        items.append((key, str(value)))
    items.append(("python", str(prov.get("python", ""))))
    items.append(("packages", ", ".join(f"{k} {v}" for k, v in
                                        (prov.get("packages") or {}).items())))
    plat = prov.get("platform") or {}
    items.append(("platform", " ".join(str(plat.get(k, "")) for k in
                                       ("system", "release", "machine")) +
                  f", {plat.get('cpus')} CPUs, host {plat.get('node', '')}"))
    gpus = prov.get("gpu") or []
    items.append(("GPU", "; ".join(", ".join(str(v) for v in g.values()) for g in gpus)
                  or "none"))
    for kind in ("models", "datasets"):
        for i in prov.get(kind) or []:
            shape = "".join(f", {k} {i[k]}" for k in ("rows", "columns", "size")
                            if i.get(k) is not None)
            items.append((f"{kind[:-1]} {i.get('name')}",
                          f"sha256:{i.get('sha256')} ({i.get('source')}{shape})"))
    items.append(("captured", str(prov.get("captured_at", ""))))
    out.append("<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
               + "</dl>")
    return "".join(out)
