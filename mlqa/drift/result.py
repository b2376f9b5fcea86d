"""What a drift check returns: one ColumnDrift per column inside a DriftResult."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mlqa._text import fmt_num
from mlqa.result import CheckResult, Outcome


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
