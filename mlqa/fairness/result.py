"""``DisparityResult``: the gaps between groups, one nested result per compared pair, and
each group's own rate; how the report shows them (per-group table, the gaps against the
margin)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mlqa import display as d
from mlqa.result import CheckResult, FieldReader, Outcome


@dataclasses.dataclass(frozen=True)
class GroupRate:
    """One group's rate (``rate``: ``true_positive_rate``...): ``k`` of ``n`` (the rate's
    denominator) on ``rows`` rows, with its Wilson interval at the simultaneous level."""

    group: str
    rate: str
    rows: int
    k: int
    n: int
    value: float | None
    ci: tuple[float | None, float | None] | None

    @classmethod
    def from_fields(cls, f: FieldReader) -> GroupRate:
        return cls(group=f.required_str("group"), rate=f.required_str("rate"),
                   rows=f.int_("rows"), k=f.int_("k"), n=f.int_("n"),
                   value=f.opt_float("value"), ci=f.interval("ci"))


@dataclasses.dataclass(frozen=True)
class DisparityResult(CheckResult):
    """A disparity check's result: ``pairs`` maps each compared pair (``"B vs overall"``) to
    its own result (value: the gap, ci: its simultaneous interval, threshold: the margin);
    ``groups`` holds each group's rate. The outcome is the worst pair's."""

    reference: str = "overall"
    pairs: Mapping[str, CheckResult] = dataclasses.field(default_factory=dict)
    groups: tuple[GroupRate, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "pairs", MappingProxyType(dict(self.pairs)))
        object.__setattr__(self, "groups", tuple(self.groups))

    @classmethod
    def from_fields(cls, fields: FieldReader) -> DisparityResult:
        return cls(**cls.base_fields(fields), reference=fields.str_("reference", "overall"),
                   pairs=fields.results("pairs"),
                   groups=fields.each("groups", GroupRate.from_fields))

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["groups"] = [dataclasses.asdict(g) for g in self.groups]
        return out

    def family_properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {"reference": self.reference, "pairs": len(self.pairs)}
        for outcome in (Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.ERROR):
            names = [k for k, r in self.pairs.items() if r.outcome is outcome]
            if names:
                props[f"pairs_{outcome.value}"] = ", ".join(names)
        return props

    def display(self, *, details: bool = True) -> d.Display:
        base = CheckResult.display(self)
        sections: list[d.Section] = []
        if details and self.groups:
            sections.append(d.Section("groups", (d.Table(
                headers=("group", "rate", "value", "interval", "k / n", "rows"),
                fields=("group", "rate", "value", "interval", "counts", "rows"),
                rows=tuple((g.group, g.rate, d.num(g.value), d.interval_text(g.ci),
                            f"{g.k} / {g.n}", str(g.rows)) for g in self.groups),
                title="each group's own rate (Wilson, simultaneous over the groups)"),)))
        if details and self.pairs:
            rows, points = [], []
            for pair, r in self.pairs.items():
                cells = r.display().cells
                rows.append((pair, r.outcome.value, cells.value, cells.interval,
                             cells.requirement, r.message))
                low, high = r.bounds()
                if r.value is not None:
                    points.append(d.IntervalPoint(pair, r.value, r.ci, low, high,
                                                  r.outcome.value))
            blocks: list[d.Block] = [d.Table(
                headers=("pair", "outcome", "gap", "simultaneous interval", "margin",
                         "message"),
                fields=("pair", "outcome", "gap", "interval", "margin", "message"),
                rows=tuple(rows),
                highlight=tuple(r.outcome is not Outcome.PASS for r in self.pairs.values()))]
            if points:
                blocks.append(d.IntervalPlot(f"{self.metric} gaps against the margin",
                                             tuple(points), name="disparity"))
            sections.append(d.Section("pairs", tuple(blocks)))
        return dataclasses.replace(base, sections=tuple(sections),
                                   summary=f"{self.metric} disparity: {base.cells.value}",
                                   plot_group=f"disparity: {self.metric}")
