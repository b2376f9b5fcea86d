"""What the release report shows of each check, read from its typed result.

Every bundle record the gate judged is read back into its result type
(``CheckResult.from_dict``), and the result's own ``display()`` gives the cells of its row,
its tables and plots: the report prints only figures a check produced. Shared by the HTML page
and the Markdown summary so both say the same thing.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence

from mlqa.baseline.identity import BaselineIdentity
from mlqa.display import Cells, Display
from mlqa.gate import CheckVerdict, Verdict
from mlqa.result import SKIPPED, CheckResult, worst_first

FAMILY_ORDER = ("metric", "regression", "drift", "latency")
FAMILY_TITLES = {"metric": "Metric thresholds", "regression": "Regression vs the previous model",
                 "drift": "Data drift", "latency": "Latency", SKIPPED: "Skipped checks"}


@dataclasses.dataclass(frozen=True)
class Shown:
    """One judged check with its typed result (None for a test skipped before its check
    ran: its evidence is missing) and how that result is shown."""

    verdict: CheckVerdict
    result: CheckResult | None
    display: Display

    @property
    def nodeid(self) -> str:
        return self.verdict.nodeid

    @property
    def outcome(self) -> str:
        return self.verdict.outcome

    @property
    def family(self) -> str:
        return self.result.check if self.result is not None else SKIPPED


FOLD_PASSING_OVER = 50  # a family with more checks folds its passes and shows no details of them


def shown_all(verdict: Verdict) -> list[Shown]:
    """Every check of the verdict, worst first (the gate's order). Passing checks of a family
    with more than ``FOLD_PASSING_OVER`` checks are folded away: their row alone is made."""
    checks = [(c, c.result) for c in verdict.worst_first()]
    sizes = Counter(r.check if r is not None else SKIPPED for _, r in checks)
    out = []
    for c, r in checks:
        if r is None:
            out.append(Shown(c, None, Display(cells=Cells())))
            continue
        folded = c.outcome == "pass" and sizes[r.check] > FOLD_PASSING_OVER
        out.append(Shown(c, r, r.display(details=not folded)))
    return out


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


def label(s: Shown, names: Mapping[str, int]) -> str:
    """The node id, plus the result's name when one test recorded several results."""
    name = s.result.name if s.result is not None else ""
    return f"{s.nodeid} \u203a {name}" if names.get(s.nodeid, 0) > 1 and name else s.nodeid


def name_counts(checks: Sequence[Shown | CheckVerdict]) -> dict[str, int]:
    names: dict[str, int] = {}
    for c in checks:
        names[c.nodeid] = names.get(c.nodeid, 0) + 1
    return names


def baselines_used(checks: Sequence[Shown],
                   names: Mapping[str, int]) -> list[tuple[BaselineIdentity, list[str]]]:
    """Each stored baseline record a comparison of this run was judged against, with the
    labels of the checks that compared against it, in the order the checks are shown."""
    used: dict[BaselineIdentity, list[str]] = {}
    for s in checks:
        record = None if s.result is None else s.result.baseline_record
        if record is not None:
            used.setdefault(record, []).append(label(s, names))
    return list(used.items())


def to_row(s: Shown, names: Mapping[str, int], anchor: str) -> Row:
    c, cells = s.verdict, s.display.cells
    return Row(anchor=anchor, outcome=c.outcome, check=label(s, names), value=cells.value,
               requirement=cells.requirement, baseline=cells.baseline, ci=cells.interval,
               n=cells.n, message=c.message, blocks=c.blocks, asks=c.asks,
               advisory=c.advisory, reruns=c.record.reruns)


def by_family(checks: Sequence[Shown]) -> list[tuple[str, list[Shown]]]:
    """Families, those with blocking or asking checks first, each worst first."""
    groups: dict[str, list[Shown]] = {}
    for s in checks:
        groups.setdefault(s.family, []).append(s)

    def key(item: tuple[str, list[Shown]]) -> tuple[bool, bool, int, str]:
        name, group = item
        known = FAMILY_ORDER.index(name) if name in FAMILY_ORDER else len(FAMILY_ORDER)
        return (not any(s.verdict.blocks for s in group),
                not any(s.verdict.asks for s in group), known, name)

    return sorted(groups.items(), key=key)


def counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{counts[o]} {o}" for o in worst_first(counts) if counts.get(o))


__all__ = ["Shown", "Row", "shown_all", "label", "name_counts", "to_row", "by_family",
           "counts_text"]
