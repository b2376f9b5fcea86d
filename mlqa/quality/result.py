"""What the data-quality checks return: one QualityResult per rule, one ColumnQuality per column
it looked at, and a DataQualityResult when ``check_data`` runs several rules at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mlqa.result import CheckResult, Outcome

FAMILY = "quality"
# Which outcome speaks for several (the same order as the JUnit enrichment's).
SEVERITY = {Outcome.PASS: 0, Outcome.INCONCLUSIVE: 1, Outcome.WAIVED: 2, Outcome.FAIL: 3,
            Outcome.ERROR: 4}


def _base_fields(d: Mapping[str, Any]) -> dict[str, Any]:
    """The CheckResult fields of a ``to_dict()`` (``type`` and the subclass's own dropped)."""
    names = {f.name for f in dataclasses.fields(CheckResult)}
    out = {k: v for k, v in d.items() if k in names}
    if out.get("ci") is not None:
        out["ci"] = tuple(out["ci"])
    return out


def worst(outcomes: Any) -> Outcome:
    """The most severe of ``outcomes`` (PASS when there are none)."""
    return max(outcomes, key=SEVERITY.__getitem__, default=Outcome.PASS)


@dataclasses.dataclass(frozen=True)
class ColumnQuality:
    """One column under one rule: ``value`` is the figure held to ``threshold`` (a share, a
    change of share, a count), ``ci`` its interval when it is an estimate, ``detail`` one
    phrase saying what was seen (``"31.5% missing, was 2.6%"``)."""

    column: str
    outcome: Outcome
    value: float | None = None
    ci: tuple[float, float] | None = None
    threshold: float | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        if self.value is not None:
            object.__setattr__(self, "value", float(self.value))
        if self.ci is not None:
            object.__setattr__(self, "ci", (float(self.ci[0]), float(self.ci[1])))


@dataclasses.dataclass(frozen=True)
class QualityResult(CheckResult):
    """One data-quality rule (``rule``: ``schema``, ``missing``, ``ranges``, ``categories``,
    ``duplicates``, ``row_count``) with its per-column findings in ``columns``."""

    rule: str = ""
    columns: Mapping[str, ColumnQuality] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QualityResult:
        """The inverse of ``to_dict()`` (a results-bundle line's ``result``)."""
        columns = {name: ColumnQuality(**{**c, "ci": None if c.get("ci") is None
                                          else tuple(c["ci"])})
                   for name, c in (d.get("columns") or {}).items()}
        return cls(**_base_fields(d), rule=str(d.get("rule", "")), columns=columns)

    def columns_with(self, outcome: Outcome) -> list[str]:
        return [name for name, c in self.columns.items() if c.outcome is outcome]

    def family_properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {"quality.rule": self.rule, "quality.columns": len(self.columns)}
        for outcome in (Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.ERROR):
            names = self.columns_with(outcome)
            if names:
                props[f"quality.{outcome.value}"] = ",".join(names)
        return props


@dataclasses.dataclass(frozen=True)
class DataQualityResult(CheckResult):
    """Several rules at once (``check_data``): ``rules`` maps each rule to its QualityResult;
    the outcome is the most severe of theirs."""

    rules: Mapping[str, QualityResult] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "rules", MappingProxyType(dict(self.rules)))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DataQualityResult:
        """The inverse of ``to_dict()``."""
        rules = {k: QualityResult.from_dict(r) for k, r in (d.get("rules") or {}).items()}
        return cls(**_base_fields(d), rules=rules)

    def family_properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {"quality.rules": len(self.rules)}
        for outcome in (Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.ERROR):
            names = [k for k, r in self.rules.items() if r.outcome is outcome]
            if names:
                props[f"quality.{outcome.value}"] = ",".join(names)
        return props
