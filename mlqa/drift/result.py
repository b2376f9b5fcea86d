"""What a drift check returns: one ColumnDrift per column inside a DriftResult."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mlqa._text import fmt_num
from mlqa.display import Display
from mlqa.errors import InputError
from mlqa.result import CheckResult, FieldReader, Outcome


@dataclasses.dataclass(frozen=True)
class ColumnDistribution:
    """Reference and current distributions of one column, as shares, for the report's plot.

    Numerical columns: ``edges`` (one more than the bins, shared by both sides) and the share
    of each side's values in each bin. Categorical columns: ``categories`` and each side's
    share of them (the most frequent categories; ``other`` holds the rest's share of each
    side). Values that were missing (NaN, inf) are not in the shares: ``ColumnDrift`` keeps
    their share apart.
    """

    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    other: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("reference", "current", "edges"):
            set_(self, name, tuple(map(float, getattr(self, name))))
        set_(self, "categories", tuple(map(str, self.categories)))
        if self.other is not None:
            set_(self, "other", (float(self.other[0]), float(self.other[1])))

    @property
    def numerical(self) -> bool:
        return bool(self.edges)

    @classmethod
    def from_fields(cls, f: FieldReader) -> ColumnDistribution:
        other = f.interval("other")
        return cls(reference=f.floats("reference"), current=f.floats("current"),
                   edges=f.floats("edges"), categories=f.strs("categories"),
                   other=None if other is None else (other[0] or 0.0, other[1] or 0.0))


@dataclasses.dataclass(frozen=True)
class ColumnDrift:
    """One column's test.

    ``test`` is the catalogue name (``ks``, ``wasserstein``, ``psi``...), ``statistic`` its
    statistic (for a distance, the distance), ``p_value`` None for distances,
    ``adjusted_p_value`` the p-value after the correction across columns (the p-value itself
    without one), ``effect_size`` the size of the change whatever the test: the normed
    Wasserstein distance for numerical columns, the total variation distance for categorical
    ones. ``threshold`` is what the drift score (p-value or distance) was held to and
    ``min_effect`` the materiality floor (None where none applies). ``drifted`` is None when
    the column could not be tested: ``outcome`` is then ERROR and ``reason`` says why.
    ``missing_*`` are the shares of NaN/inf rows on each side (dropped before testing).
    """

    column: str
    kind: str
    test: str | None
    statistic: float | None
    p_value: float | None
    adjusted_p_value: float | None
    effect_size: float | None
    threshold: float | None
    min_effect: float | None
    drifted: bool | None
    n_reference: int
    n_current: int
    missing_reference: float
    missing_current: float
    reason: str = ""
    # tests="auto": lower confidence bound (level 1 - alpha) of the bias-corrected effect; the
    # column drifts only when it reaches min_effect. None where no test rejected (or in
    # evidently's mode).
    effect_low: float | None = None
    # every test run on the column: name -> (statistic, p-value or None)
    statistics: Mapping[str, tuple[float, float | None]] = dataclasses.field(
        default_factory=dict)
    distribution: ColumnDistribution | None = None

    @property
    def outcome(self) -> Outcome:
        if self.drifted is None:
            return Outcome.ERROR
        return Outcome.FAIL if self.drifted else Outcome.PASS

    @property
    def score(self) -> float | None:
        """The drift score evidently reports: the p-value of a p-value test, else the
        statistic."""
        return self.p_value if self.p_value is not None else self.statistic

    @property
    def missing_change(self) -> float:
        """Change in the share of missing values, current minus reference."""
        return self.missing_current - self.missing_reference

    @classmethod
    def from_fields(cls, f: FieldReader) -> ColumnDrift:
        return cls(column=f.required_str("column"), kind=f.required_str("kind"),
                   test=f.opt_str("test"), statistic=f.opt_float("statistic"),
                   p_value=f.opt_float("p_value"),
                   adjusted_p_value=f.opt_float("adjusted_p_value"),
                   effect_size=f.opt_float("effect_size"), threshold=f.opt_float("threshold"),
                   min_effect=f.opt_float("min_effect"), drifted=f.opt_bool("drifted"),
                   n_reference=f.int_("n_reference"), n_current=f.int_("n_current"),
                   missing_reference=f.float_("missing_reference"),
                   missing_current=f.float_("missing_current"), reason=f.str_("reason"),
                   effect_low=f.opt_float("effect_low"),
                   statistics={name: _statistic_pair(f, name, value)
                               for name, value in f.mapping("statistics").items()},
                   distribution=f.nested("distribution", ColumnDistribution.from_fields))

    def summary(self) -> str:
        """``x3: ks stat=0.081 p_adj=1.2e-12 effect=0.21`` (one part of the check's message)."""
        if self.drifted is None:
            return f"{self.column}: {self.reason}"
        parts = [f"{self.column}: {self.test} stat={fmt_num(self.statistic)}"]
        if self.p_value is not None:
            parts.append(f"p={fmt_num(self.p_value)}")
            if self.adjusted_p_value != self.p_value:
                parts.append(f"p_adj={fmt_num(self.adjusted_p_value)}")
        if self.effect_size is not None:
            parts.append(f"effect={fmt_num(self.effect_size)}")
        if self.effect_low is not None:
            parts.append(f"effect_low={fmt_num(self.effect_low)}")
        if abs(self.missing_change) >= 0.01:
            parts.append(f"missing {self.missing_reference:.1%}->{self.missing_current:.1%}")
        return " ".join(parts)


def _statistic_pair(f: FieldReader, test: str, value: Any) -> tuple[float, float | None]:
    """One ``statistics`` entry: ``[statistic, p-value or null]``, refused otherwise."""
    def number(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool)

    if (not isinstance(value, list | tuple) or len(value) != 2 or not number(value[0])
            or not (value[1] is None or number(value[1]))):
        raise InputError(f"{f.where}.statistics[{test!r}] must be [statistic, p-value or "
                         f"null], got {value!r}"[:200])
    return float(value[0]), None if value[1] is None else float(value[1])


@dataclasses.dataclass(frozen=True)
class DriftResult(CheckResult):
    """A data-drift check: the dataset verdict plus ``columns`` (name -> ColumnDrift).

    ``value`` is the share of tested columns that drifted; ``excluded`` maps the columns that
    were not tested (text, identifiers, datetimes) to the reason.
    """

    columns: Mapping[str, ColumnDrift] = dataclasses.field(default_factory=dict)
    excluded: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))
        object.__setattr__(self, "excluded", MappingProxyType(dict(self.excluded)))

    @classmethod
    def from_fields(cls, fields: FieldReader) -> DriftResult:
        return cls(**cls.base_fields(fields),
                   columns=fields.keyed("columns", ColumnDrift.from_fields),
                   excluded=fields.str_mapping("excluded"))

    def display(self, *, details: bool = True) -> Display:
        from mlqa.drift.display import drift_display

        return drift_display(self, details=details)

    @property
    def drifted_columns(self) -> list[str]:
        return [name for name, c in self.columns.items() if c.drifted]

    @property
    def error_columns(self) -> list[str]:
        return [name for name, c in self.columns.items() if c.drifted is None]

    def family_properties(self) -> dict[str, Any]:
        drifted = self.drifted_columns
        props: dict[str, Any] = {
            "drift.columns": len(self.columns),
            "drift.drifted_columns": len(drifted),
            "drift.drifted_share": self.value,
            "drift.dataset_drift": bool(self.details.get("dataset_drift", False)),
            "drift.error_columns": len(self.error_columns),
            "drift.tests": self.details.get("tests"),
        }
        if drifted:
            props["drift.drifted"] = ",".join(drifted)
        return props
