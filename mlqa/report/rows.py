"""What the release report shows of each check: the cells of its row, its family, its label.

Shared by the HTML page and the Markdown summary so both say the same thing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mlqa._text import fmt_num
from mlqa.gate import SEVERITY, CheckVerdict, Verdict

FAMILY_ORDER = ("metric", "regression", "drift", "latency")
FAMILY_TITLES = {"metric": "Metric thresholds", "regression": "Regression vs the previous model",
                 "drift": "Data drift", "latency": "Latency", "skipped": "Skipped checks"}
COMPARISONS = {">=": "\u2265", "<=": "\u2264"}


@dataclasses.dataclass(frozen=True)
class Row:
    anchor: str
    outcome: str
    check: str  # the test node id (and the result's name when a test has several)
    value: str
    requirement: str
    baseline: str
    ci: str
    n: str
    message: str
    blocks: bool
    asks: bool
    advisory: bool
    reruns: int


def family(c: CheckVerdict) -> str:
    return str(c.result.get("check") or "custom")


def label(c: CheckVerdict, names: Mapping[str, int]) -> str:
    """The node id, plus the result's name when one test recorded several results."""
    name = str(c.result.get("name", ""))
    return f"{c.nodeid} \u203a {name}" if names.get(c.nodeid, 0) > 1 and name else c.nodeid


def requirement(result: Mapping[str, Any]) -> str:
    comparison, threshold = result.get("comparison"), result.get("threshold")
    details = result.get("details") or {}
    if comparison == "within" and details.get("min") is not None:
        return f"within [{fmt_num(details['min'])}, {fmt_num(details.get('max'))}]"
    if threshold is None:
        return ""
    return f"{COMPARISONS.get(comparison, comparison or '')} {fmt_num(threshold)}".strip()


def ci_text(result: Mapping[str, Any]) -> str:
    ci = result.get("ci")
    if not ci or None in ci:
        return ""
    level = result.get("confidence")
    prefix = f"{level:.0%} " if isinstance(level, int | float) else ""
    return f"{prefix}{fmt_num(ci[0])}\u2013{fmt_num(ci[1])}"


def _num(x: Any) -> str:
    return "" if x is None else fmt_num(x)


def name_counts(checks: list[CheckVerdict]) -> dict[str, int]:
    names: dict[str, int] = {}
    for c in checks:
        names[c.nodeid] = names.get(c.nodeid, 0) + 1
    return names


def to_row(c: CheckVerdict, names: Mapping[str, int], anchor: str) -> Row:
    r = c.result
    return Row(anchor=anchor, outcome=c.outcome, check=label(c, names),
               value=_num(r.get("value")), requirement=requirement(r),
               baseline=_num(r.get("baseline")), ci=ci_text(r), n=_num(r.get("n")),
               message=c.message, blocks=c.blocks, asks=c.asks, advisory=c.advisory,
               reruns=int(c.record.get("reruns") or 0))


def by_family(verdict: Verdict) -> list[tuple[str, list[CheckVerdict]]]:
    """Families, those with blocking or asking checks first, each worst first."""
    groups: dict[str, list[CheckVerdict]] = {}
    for c in verdict.worst_first():
        groups.setdefault(family(c), []).append(c)

    def key(item: tuple[str, list[CheckVerdict]]) -> tuple:
        name, checks = item
        known = FAMILY_ORDER.index(name) if name in FAMILY_ORDER else len(FAMILY_ORDER)
        return (not any(c.blocks for c in checks), not any(c.asks for c in checks), known, name)

    return sorted(groups.items(), key=key)


def counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{counts[o]} {o}" for o in SEVERITY if counts.get(o))
