"""The release report as one self-contained HTML page.

Read top-down by a gatekeeper: the verdict and why (blocking checks and waived failures named
in the banner), what needs attention, every check grouped by family (value, requirement,
baseline, interval, n, outcome), each family's interval plots (one per quantity and unit) and
each check's own tables and plots, then waivers and provenance. No script, no external
resource: a Content-Security-Policy forbids any request, plots are inline SVG. Every string
from data is escaped here; the only live link is an http(s) build URL. Families with many
checks fold their passing rows away, so a bundle of thousands of checks stays readable.

What a check shows comes from its typed result's ``display()`` (:mod:`mlqa.display`): this
module knows no family.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import urlsplit

from mlqa import __version__
from mlqa.display import Block, IntervalPlot, IntervalPoint, Section, Table
from mlqa.gate import APPROVE, REFUSE, Verdict
from mlqa.provenance import KINDS
from mlqa.report import plots
from mlqa.report.rows import (
    FAMILY_TITLES,
    FOLD_PASSING_OVER,
    Row,
    Shown,
    baselines_used,
    by_family,
    counts_text,
    label,
    name_counts,
    shown_all,
    to_row,
)

MAX_PLOT_ROWS = 60  # rows in one interval plot
MAX_TABLE_ROWS = 500  # rows of one detail table (drift columns: drifted first)
OPEN_DETAILS_UPTO = 12  # a family with at most this many checks shows every check's details

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
.verdict h3{margin:8px 0 2px;font-size:14px}.banner-lists{display:flex;gap:28px;flex-wrap:wrap}
.verdict a{color:#fff}h4{margin:8px 0 4px;font-size:13px}
table.detail{width:auto;font-size:12px}table.detail td{font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;font-size:12px;padding:4px 0}
details.check-details{background:#fafbfc}.tables{display:flex;gap:20px;flex-wrap:wrap;
align-items:flex-start}details.more{border-style:dashed}
.desc{font-size:12px;color:#57606a;font-family:system-ui,sans-serif;margin-top:2px}
"""

_VERDICT_CLASS = {APPROVE: "v-approve", REFUSE: "v-refuse"}


def render(verdict: Verdict, provenance: Mapping[str, Any] | None = None,
           title: str = "Model release report", *, checks: Sequence[Shown] | None = None,
           sections: Sequence[str] = ()) -> str:
    """The whole page for ``verdict`` (from ``mlqa.gate.evaluate``) and the run's provenance.

    Each record's result is read back into its type (``checks``: already read, by
    ``rows.shown_all``); one that does not read raises :class:`~mlqa.errors.InputError`
    naming the test and the field. ``sections``: more of the page (HTML), after the checks
    (the history of ``mlqa report --history``).
    """
    provenance = provenance or {}
    checks = shown_all(verdict) if checks is None else checks
    names = name_counts(checks)
    anchors = {id(s): f"check-{i}" for i, s in enumerate(checks)}
    described = {anchors[id(s)]: said for s in checks if (said := description(s))}
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           # Nothing on this page may reach the network: no script, no remote image or font.
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
           'style-src \'unsafe-inline\'; img-src data:">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{escape(title)}</h1>", f'<div class="sub">{_subtitle(verdict, provenance)}</div>',
           _verdict_box(verdict, checks, names)]
    attention = [s for s in checks if s.verdict.blocks or s.verdict.asks]
    if attention:
        out.append(f'<h2 id="attention">Needs attention ({len(attention)})</h2>')
        out.append(_table([to_row(s, names, anchors[id(s)]) for s in attention],
                          with_anchor=False, family_of=[s.family for s in attention],
                          described=described))
    out.append('<h2 id="checks">Checks by family</h2>')
    for name, group in by_family(checks):
        out.append(_family_section(name, group, names, anchors, described))
    out.extend(sections)
    out.append(_baselines_section(checks, names))
    out.append(_waivers_section(verdict))
    out.append(_provenance_section(provenance))
    out.append(f'<p class="sub">mlqa {escape(__version__)}; waivers judged as of '
               f'{escape(verdict.judged_as_of)}; generated '
               f'{dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}</p>')
    out.append("</body></html>\n")
    return "".join(out)


def safe_url(url: object) -> str | None:
    """``url`` when it is an absolute http(s) URL, else None: a build URL from the
    environment becomes a link only then (never ``javascript:`` or ``data:``)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _subtitle(verdict: Verdict, prov: Mapping[str, Any]) -> str:
    parts = []
    jenkins = prov.get("jenkins") or {}
    if jenkins.get("JOB_NAME"):
        build = f"{jenkins['JOB_NAME']} #{jenkins.get('BUILD_NUMBER', '?')}"
        url = safe_url(jenkins.get("BUILD_URL"))
        parts.append(f'<a href="{escape(url)}" rel="noreferrer">{escape(build)}</a>' if url
                     else escape(build))
    git = prov.get("git") or {}
    if git.get("commit"):
        parts.append(f"commit {escape(str(git['commit'])[:12])}"
                     f"{' (dirty)' if git.get('dirty') else ''}")
    for m in prov.get("models") or []:
        digest = str(m.get("sha256"))[:12]
        parts.append(f"model {escape(str(m.get('name')))} sha256:{escape(digest)}")
    parts.append(f"{len(verdict.checks)} checks: {escape(counts_text(verdict.counts))}")
    return " \u00b7 ".join(parts)


def _verdict_box(verdict: Verdict, checks: Sequence[Shown], names: Mapping[str, int]) -> str:
    """The verdict, its reasons, then what blocks the release and what was waived (what,
    approver, expiry) side by side: a waived failure is never hidden behind an approval."""
    css = _VERDICT_CLASS.get(verdict.decision, "v-decide")
    reasons = "".join(f"<li>{escape(r)}</li>" for r in verdict.reasons)
    out = [f'<div class="verdict {css}" id="verdict" data-verdict="{escape(verdict.decision)}">'
           f"<h2>Verdict: {escape(verdict.decision.upper())}</h2><ul>{reasons}</ul>"]
    blocking = [s for s in checks if s.verdict.blocks]
    waived = [s for s in checks if s.verdict.waiver is not None]
    if blocking or waived:
        out.append('<div class="banner-lists">')
        if blocking:
            out.append(f'<div id="verdict-blocking"><h3>Blocking ({len(blocking)})</h3><ul>')
            out += [f'<li data-check="{escape(s.nodeid)}"><b>{escape(s.outcome.upper())}</b> '
                    f"{escape(label(s, names))}</li>" for s in blocking[:20]]
            out.append(f"<li>\u2026 and {len(blocking) - 20} more</li>" * (len(blocking) > 20))
            out.append("</ul></div>")
        if waived:
            out.append(f'<div id="verdict-waived"><h3>Waived failures ({len(waived)})</h3><ul>')
            for s in waived[:20]:
                w = s.verdict.waiver
                assert w is not None
                out.append(
                    f'<li data-check="{escape(s.nodeid)}">{escape(label(s, names))}: waived by '
                    f'<span class="approver">{escape(w.approver)}</span> until '
                    f'<span class="expires">{escape(w.expires.isoformat())}</span> '
                    f"\u2014 {escape(w.reason)}</li>")
            out.append(f"<li>\u2026 and {len(waived) - 20} more</li>" * (len(waived) > 20))
            out.append("</ul></div>")
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def _badge(outcome: str) -> str:
    return f'<span class="badge o-{escape(outcome)}">{escape(outcome.upper())}</span>'


_HEAD = ("<tr><th>outcome</th><th>check</th><th>value</th><th>requirement</th><th>baseline</th>"
         "<th>interval</th><th>n</th><th>message</th></tr>")


def description(s: Shown) -> str:
    """The YAML ``description:`` of the check, or "" (its suite's is shown once, with the
    suite file under provenance)."""
    said = None if s.result is None else s.result.description
    return " ".join(said.split()) if said is not None else ""


def _table(rows: Sequence[Row], *, with_anchor: bool = True,
           family_of: Sequence[str] | None = None,
           described: Mapping[str, str] | None = None) -> str:
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
        said = (described or {}).get(r.anchor)
        if said:
            tag += f'<div class="desc">{escape(said)}</div>'
        out.append(
            f'<tr class="check-row {css}"{anchor} data-outcome="{escape(r.outcome)}">'
            f"<td>{_badge(r.outcome)}</td><td class=\"check\">{escape(r.check)}{tag}</td>"
            f'<td class="num" data-field="value">{escape(r.value)}</td>'
            f'<td data-field="requirement">{escape(r.requirement)}</td>'
            f'<td class="num" data-field="baseline">{escape(r.baseline)}</td>'
            f'<td data-field="interval">{escape(r.ci)}</td>'
            f'<td class="num" data-field="n">{escape(r.n)}</td>'
            f'<td class="msg">{escape(r.message)}</td></tr>')
    out.append("</table>")
    return "".join(out)


def _family_section(name: str, group: list[Shown], names: Mapping[str, int],
                    anchors: Mapping[int, str], described: Mapping[str, str]) -> str:
    counts = Counter(s.outcome for s in group)
    troubled = any(s.verdict.blocks or s.verdict.asks for s in group)
    opened = " open" if troubled or len(group) <= FOLD_PASSING_OVER else ""
    title = FAMILY_TITLES.get(name, name)
    out = [f'<details class="family" id="family-{escape(name)}"{opened}><summary>'
           f"{escape(title)} \u2014 {len(group)} check{'s' * (len(group) != 1)}: "
           f"{escape(counts_text(counts))}</summary>"]
    rows = [to_row(s, names, anchors[id(s)]) for s in group]
    if len(rows) > FOLD_PASSING_OVER:
        out.append(_table([r for r in rows if r.outcome != "pass"], described=described))
        folded = [r for r in rows if r.outcome == "pass"]
        out.append(f"<details><summary>{len(folded)} passing checks</summary>"
                   f"{_table(folded, described=described)}</details>")
    else:
        out.append(_table(rows, described=described))
    out.append(_plots_block([plots.render(p, MAX_PLOT_ROWS) for p in _interval_plots(group)]))
    detailed = group if len(group) <= FOLD_PASSING_OVER else \
        [s for s in group if s.outcome != "pass"]
    for s in detailed:
        out.append(_check_details(s, names, anchors[id(s)], opened=len(group) <= OPEN_DETAILS_UPTO
                                  or s.verdict.blocks or s.verdict.asks))
    out.append("</details>")
    return "".join(out)


def _interval_plots(group: Sequence[Shown]) -> list[IntervalPlot]:
    """One plot per quantity and unit (``Display.plot_group``): never two units on one
    axis."""
    points: dict[str, list[IntervalPoint]] = {}
    for s in group:
        if s.display.point is not None:
            points.setdefault(s.display.plot_group, []).append(s.display.point)
    return [IntervalPlot(title=f"{key}: value, interval and requirement (dashed)",
                         points=tuple(ps), name="interval") for key, ps in points.items()]


def _check_details(s: Shown, names: Mapping[str, int], anchor: str, *, opened: bool) -> str:
    sections = s.display.sections
    if not sections:
        return ""
    summary = escape(label(s, names)) + (f": {escape(s.display.summary)}"
                                         if s.display.summary else "")
    out = [f'<details class="check-details" id="{anchor}-details" data-check="'
           f'{escape(s.nodeid)}"{" open" if opened else ""}><summary>{summary}</summary>']
    for section in sections:
        out.append(_section(section))
    out.append("</details>")
    return "".join(out)


def _section(section: Section) -> str:
    tables = [_detail_table(b) for b in section.blocks if isinstance(b, Table)]
    svgs = [plots.render(b) for b in section.blocks if not isinstance(b, Table)]
    inner = (f'<div class="tables">{"".join(tables)}</div>' if tables else "") + \
        _plots_block(svgs)
    title = escape(section.title)
    if section.folded:
        return f'<details class="more"><summary>{title}</summary>{inner}</details>'
    return f'<div class="section"><h4>{title}</h4>{inner}</div>'


def _detail_table(t: Table) -> str:
    fields = t.fields or tuple("" for _ in t.headers)
    out = ['<table class="detail">']
    if t.title:
        out.append(f"<caption>{escape(t.title)}</caption>")
    out.append("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in t.headers) + "</tr>")
    for i, row in enumerate(t.rows[:MAX_TABLE_ROWS]):
        css = ' class="blocks"' if i < len(t.highlight) and t.highlight[i] else ""
        out.append(f"<tr{css}>" + "".join(
            f'<td data-field="{escape(f)}">{escape(v)}</td>'
            for f, v in zip(fields, row, strict=False)) + "</tr>")
    out.append("</table>")
    if len(t.rows) > MAX_TABLE_ROWS:
        out.append(f'<p class="sub">{len(t.rows) - MAX_TABLE_ROWS} more rows not listed</p>')
    return "".join(out)


def check_plots(s: Shown) -> list[tuple[str, str]]:
    """(name, svg) plots of one check alone: what the junit-attachments option attaches."""
    blocks: list[Block] = [b for section in s.display.sections for b in section.blocks
                           if not isinstance(b, Table) and not section.folded]
    if s.display.point is not None:
        blocks.insert(0, IntervalPlot(title=f"{s.display.plot_group}: interval and requirement",
                                      points=(s.display.point,), name=s.family))
    out = []
    for b in blocks:
        svg = plots.render(b)
        if svg:
            out.append((b.name if not isinstance(b, Table) else "table", svg))
    return out


def _plots_block(svgs: Sequence[str]) -> str:
    svgs = [s for s in svgs if s]
    return f'<div class="plots">{"".join(svgs)}</div>' if svgs else ""


# -- baselines, waivers and provenance ---------------------------------------------------------

def _baselines_section(checks: Sequence[Shown], names: Mapping[str, int]) -> str:
    """The stored baseline records this run's comparisons were judged against: what the
    approver signs off on beside the candidate."""
    used = baselines_used(checks, names)
    head = '<h2 id="baselines">Baselines compared against</h2>'
    if not used:
        return head + '<p class="sub">No check compared against a stored baseline record.</p>'
    out = [head, "<table><tr><th>record</th><th>model</th><th>promoted</th><th>by</th>"
                 "<th>when</th><th>reason</th><th>checks</th></tr>"]
    for record, checked in used:
        out.append(f'<tr class="baseline"><td class="record">{escape(record.record)}</td>'
                   f"<td>{escape(record.model_label or '')}</td>"
                   f"<td>{escape(record.alias or 'read by id')}</td>"
                   f"<td>{escape(record.promoted_by or '')}</td>"
                   f"<td>{escape(record.promoted_at or '')}</td>"
                   f"<td>{escape(record.reason or '')}</td>"
                   f'<td class="check">{escape(", ".join(checked))}</td></tr>')
    out.append("</table>")
    return "".join(out)


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


def provenance_files(prov: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(kind, name, sha256, about) of each suite, model and dataset the run registered;
    ``about``: the suite's description, the file's path, then how it was read (source, rows,
    columns, the engine that read it, size)."""
    out = []
    for key, kind in KINDS.items():
        for i in prov.get(key) or []:
            if not isinstance(i, Mapping):
                continue
            facts = [f"{k} {i[k]}" for k in ("source", "rows", "columns", "engine")
                     if i.get(k) is not None]
            if i.get("size") is not None:
                facts.append(f"{i['size']} bytes")
            about = " ".join([*([f"{i['description']} \u2014"] if i.get("description") else []),
                              *([str(i["path"])] if i.get("path") else []),
                              f"({', '.join(facts)})"])
            out.append((kind, str(i.get("name")), str(i.get("sha256")), about))
    return out


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
    items += [(f"{kind} {name}", f"sha256:{digest} {about}")
              for kind, name, digest, about in provenance_files(prov)]
    items.append(("captured", str(prov.get("captured_at", ""))))
    out.append("<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
               + "</dl>")
    return "".join(out)
