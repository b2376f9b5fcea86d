"""What the data-quality checks return: one QualityResult per rule, one ColumnQuality per column
it looked at, and a DataQualityResult when ``check_data`` runs several rules at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from mlqa.errors import InputError
from mlqa.result import CheckResult, FieldReader, Outcome
from mlqa.result import worst as worst_of

FAMILY = "quality"


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    """The most severe of ``outcomes`` (PASS, the least severe, when there are none)."""
    return worst_of([Outcome.PASS, *outcomes])


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

    @classmethod
    def from_fields(cls, f: FieldReader) -> ColumnQuality:
        ci = f.interval("ci")
        if ci is not None and (ci[0] is None or ci[1] is None):
            raise InputError(f"{f.where}.ci must be [low, high] with both ends, got {ci!r}")
        return cls(column=f.required_str("column"), outcome=f.outcome(),
                   value=f.opt_float("value"),
                   ci=None if ci is None else (float(ci[0]), float(ci[1])),  # type: ignore[arg-type]
                   threshold=f.opt_float("threshold"), detail=f.str_("detail"))


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
    def from_fields(cls, fields: FieldReader) -> QualityResult:
        return cls(**cls.base_fields(fields), rule=fields.str_("rule"),
                   columns=fields.keyed("columns", ColumnQuality.from_fields))

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
    def from_fields(cls, fields: FieldReader) -> DataQualityResult:
        rules = fields.results("rules")
        for name, rule in rules.items():
            if not isinstance(rule, QualityResult):
                raise InputError(f"{fields.where}.rules[{name!r}] must be a QualityResult, "
                                 f"got {type(rule).__name__}")
        return cls(**cls.base_fields(fields), rules=rules)  # type: ignore[arg-type]

    def family_properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {"quality.rules": len(self.rules)}
        for outcome in (Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.ERROR):
            names = [k for k, r in self.rules.items() if r.outcome is outcome]
            if names:
                props[f"quality.{outcome.value}"] = ",".join(names)
        return props
