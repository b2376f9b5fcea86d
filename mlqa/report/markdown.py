"""The release report as a Markdown summary for a pull request or an e-mail: the same verdict
and table as the HTML page, problems listed in full and passing checks folded away.

Every string from data (check names, messages, waiver fields, provenance) is escaped: Markdown
renderers pass raw HTML through, so a column named ``<img src=x onerror=...>`` must arrive as
text. The only link is an http(s) build URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from mlqa.gate import Verdict
from mlqa.report.html import description, provenance_files, safe_url
from mlqa.report.rows import (
    Row,
    Shown,
    baselines_used,
    counts_text,
    label,
    name_counts,
    shown_all,
    to_row,
)

MAX_ROWS = 300  # GitHub comments stop at 65 536 characters
# Inline punctuation Markdown acts on anywhere in a line; ``<``, ``>`` and ``&`` become entities.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()|~!])")
# What starts a block when it opens a line (or a list item's text): heading, list, quote, rule.
_LINE_START = re.compile(r"^(?:([#+=-])(?=\s|$)|(\d+)([.)])(?=\s|$))")


def text(value: object) -> str:
    """Plain text safe in Markdown: HTML characters as entities, Markdown punctuation
    backslash-escaped, one line."""
    s = _SPECIAL.sub(r"\\\1", escape(" ".join(str(value).split()), quote=False))
    return _LINE_START.sub(lambda m: f"\\{m.group(1)}" if m.group(1)
                           else f"{m.group(2)}\\{m.group(3)}", s)


def code(value: object) -> str:
    """An inline code span holding ``value`` literally (HTML is not interpreted inside one);
    the fence is longer than any run of backticks inside, and ``|`` is escaped for tables."""
    s = " ".join(str(value).split())
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s else ""
    return f"{fence}{pad}{s.replace('|', chr(92) + '|')}{pad}{fence}"


def link(label_text: str, url: object) -> str:
    """``[label](url)`` for an http(s) URL, else the escaped label alone."""
    safe = safe_url(url)
    if safe is None:
        return text(label_text)
    return f"[{text(label_text)}]({quote(safe, safe=':/?#@!$&*+,;=%~-._')})"


def _table(rows: list[Row]) -> list[str]:
    lines = ["| outcome | check | value | requirement | baseline | interval | n | message |",
             "|---|---|---:|---|---:|---|---:|---|"]
    for r in rows[:MAX_ROWS]:
        tags = " (advisory)" if r.advisory else ""
        tags += f" (rerun {r.reruns}\u00d7)" if r.reruns else ""
        outcome = text(r.outcome.upper())
        lines.append("| " + " | ".join((
            f"**{outcome}**" if r.blocks else outcome, f"{code(r.check)}{tags}",
            *(text(x) for x in (r.value, r.requirement, r.baseline, r.ci, r.n, r.message))))
            + " |")
    if len(rows) > MAX_ROWS:
        lines.append(f"\n_{len(rows) - MAX_ROWS} more rows in the HTML report._")
    return lines


def render(verdict: Verdict, provenance: Mapping[str, Any] | None = None, *,
           checks: Sequence[Shown] | None = None) -> str:
    prov = provenance or {}
    checks = shown_all(verdict) if checks is None else checks
    names = name_counts(checks)
    rows = [to_row(s, names, f"check-{i}") for i, s in enumerate(checks)]
    lines = [f"## Model release: {text(verdict.decision.upper())}", ""]
    lines += [f"- {text(reason)}" for reason in verdict.reasons]
    blocking = [s for s in checks if s.verdict.blocks]
    waived = [s for s in checks if s.verdict.waiver is not None]
    if blocking:
        lines += ["", "**Blocking:** " + ", ".join(
            f"{code(label(s, names))} ({text(s.outcome)})" for s in blocking[:30])]
    if waived:
        parts = []
        for s in waived[:30]:
            w = s.verdict.waiver
            assert w is not None
            parts.append(f"{code(label(s, names))} by {text(w.approver)} until "
                         f"{w.expires.isoformat()}")
        lines += ["", "**Waived failures:** " + "; ".join(parts)]
    lines += ["", f"{len(rows)} checks: {text(counts_text(verdict.counts))}", ""]
    problems = [r for r in rows if r.outcome != "pass"]
    passing = [r for r in rows if r.outcome == "pass"]
    if problems:
        lines += _table(problems) + [""]
        notes = [f"- {code(label(s, names))}: {text(s.display.summary)}" for s in checks
                 if s.outcome != "pass" and s.display.summary][:MAX_ROWS]
        if notes:
            lines += notes + [""]
    said = [f"- {code(label(s, names))}: {text(d)}" for s in checks if (d := description(s))]
    if said:
        lines += ["### Descriptions", "", *said[:MAX_ROWS], ""]
    if passing:
        lines += [f"<details><summary>{len(passing)} passing checks</summary>", "",
                  *_table(passing), "", "</details>", ""]
    used = baselines_used(checks, names)
    if used:
        lines += ["### Baselines compared against", ""]
        lines += [f"- {text(record.describe())} \u2014 "
                  f"{text(', '.join(checked))}" for record, checked in used[:MAX_ROWS]]
        lines.append("")
    if verdict.waivers:
        lines += ["### Waivers", "", f"Judged as of {text(verdict.judged_as_of)}.", ""]
        for u in verdict.waivers:
            w = u.waiver
            status = u.status if u.status != "valid" or u.used_by else "valid, unused"
            ticket = f" \\[{text(w.ticket)}\\]" if w.ticket else ""
            lines.append(f"- {code(w.check)}: {text(status)}; {text(w.approver)} until "
                         f"{w.expires.isoformat()}: {text(w.reason)}{ticket}")
        lines.append("")
    lines += _provenance_lines(prov)
    return "\n".join(lines).rstrip() + "\n"


def _provenance_lines(prov: Mapping[str, Any]) -> list[str]:
    if not prov:
        return []
    facts = []
    jenkins = prov.get("jenkins") or {}
    if jenkins.get("JOB_NAME"):
        build = f"{jenkins['JOB_NAME']} #{jenkins.get('BUILD_NUMBER', '?')}"
        facts.append(link(build, jenkins.get("BUILD_URL")))
    git = prov.get("git") or {}
    if git.get("commit"):
        facts.append(f"commit {code(str(git['commit'])[:12])}"
                     f"{' (dirty)' if git.get('dirty') else ''}")
    lines = ["### Provenance", "", "; ".join(facts), ""] if facts else []
    files = [f"- {text(kind)} {text(name)} {code('sha256:' + digest)} {text(about)}"
             for kind, name, digest, about in provenance_files(prov)]
    if files:
        lines += (["### Provenance", ""] if not lines else []) + files[:MAX_ROWS] + [""]
    return lines
