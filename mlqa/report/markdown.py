"""The release report as a Markdown summary for a pull request or an e-mail: the same verdict
and table as the HTML page, problems listed in full and passing checks folded away."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlqa.gate import Verdict
from mlqa.report.rows import Row, counts_text, name_counts, to_row

MAX_ROWS = 300  # GitHub comments stop at 65 536 characters


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(rows: list[Row]) -> list[str]:
    lines = ["| outcome | check | value | requirement | baseline | interval | n | message |",
             "|---|---|---:|---|---:|---|---:|---|"]
    for r in rows[:MAX_ROWS]:
        tags = " (advisory)" if r.advisory else ""
        tags += f" (rerun {r.reruns}\u00d7)" if r.reruns else ""
        lines.append("| " + " | ".join(_cell(x) for x in (
            f"**{r.outcome.upper()}**" if r.blocks else r.outcome.upper(), f"`{r.check}`{tags}",
            r.value, r.requirement, r.baseline, r.ci, r.n, r.message)) + " |")
    if len(rows) > MAX_ROWS:
        lines.append(f"\n_{len(rows) - MAX_ROWS} more rows in the HTML report._")
    return lines


def render(verdict: Verdict, provenance: Mapping[str, Any] | None = None) -> str:
    prov = provenance or {}
    checks = verdict.worst_first()
    names = name_counts(checks)
    rows = [to_row(c, names, f"check-{i}") for i, c in enumerate(checks)]
    lines = [f"## Model release: {verdict.decision.upper()}", ""]
    lines += [f"- {reason}" for reason in verdict.reasons]
    lines += ["", f"{len(rows)} checks: {counts_text(verdict.counts)}", ""]
    problems = [r for r in rows if r.outcome != "pass"]
    passing = [r for r in rows if r.outcome == "pass"]
    if problems:
        lines += _table(problems) + [""]
    if passing:
        lines += [f"<details><summary>{len(passing)} passing checks</summary>", "",
                  *_table(passing), "", "</details>", ""]
    if verdict.waivers:
        lines += ["### Waivers", ""]
        for u in verdict.waivers:
            w = u.waiver
            status = u.status if u.status != "valid" or u.used_by else "valid, unused"
            lines.append(f"- `{w.check}`: {status}; {w.approver} until {w.expires.isoformat()}: "
                         f"{w.reason}{f' [{w.ticket}]' if w.ticket else ''}")
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
        facts.append(f"[{build}]({jenkins['BUILD_URL']})" if jenkins.get("BUILD_URL") else build)
    git = prov.get("git") or {}
    if git.get("commit"):
        facts.append(f"commit `{git['commit'][:12]}`{' (dirty)' if git.get('dirty') else ''}")
    for kind in ("models", "datasets"):
        for i in prov.get(kind) or []:
            facts.append(f"{kind[:-1]} {i.get('name')} `sha256:{str(i.get('sha256'))[:12]}`")
    return ["### Provenance", "", "; ".join(facts), ""] if facts else []
