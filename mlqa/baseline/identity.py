"""Which baseline record a comparison was judged against, as the approver needs to see it.

A regression or latency comparison against a stored baseline is only as good as the baseline:
the approver must be able to tell which record it was (its id), which model it holds (name and
version), and who approved it as the baseline, when and why (the alias it was read through
keeps that: ``mlqa baseline promote --by --reason``). The comparison carries this identity in
its result (``details["baseline_record"]``); the report, summary.md and the JUnit properties
show it from there.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mlqa.result import FieldReader


@dataclasses.dataclass(frozen=True)
class BaselineIdentity:
    """A baseline record as the gate's readers name it.

    ``record``: the record id. ``alias``: the alias the run read it through (``approved``),
    when it was read through one; ``promoted_by``/``promoted_at``/``reason`` are that alias's
    (who pointed it at this record, when, why). ``model``/``model_version``: the model the
    record holds, as it was saved.
    """

    record: str
    alias: str | None = None
    model: str | None = None
    model_version: str | None = None
    promoted_by: str | None = None
    promoted_at: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The fields that are known (a result's details hold this)."""
        return {f.name: v for f in dataclasses.fields(self)
                if (v := getattr(self, f.name)) is not None}

    @classmethod
    def read(cls, fields: FieldReader) -> BaselineIdentity:
        return cls(record=fields.required_str("record"), alias=fields.opt_str("alias"),
                   model=fields.opt_str("model"), model_version=fields.opt_str("model_version"),
                   promoted_by=fields.opt_str("promoted_by"),
                   promoted_at=fields.opt_str("promoted_at"), reason=fields.opt_str("reason"))

    @classmethod
    def from_details(cls, value: Any, where: str = "baseline_record") -> BaselineIdentity:
        """What a result's ``details["baseline_record"]`` holds: this mapping, or the bare
        record id that results before this type wrote."""
        if isinstance(value, str):
            return cls(record=value)
        return cls.read(FieldReader(value, where))

    @property
    def model_label(self) -> str | None:
        """``churn 1.4.0``: the model's name and version, as far as the record names them."""
        said = " ".join(p for p in (self.model, self.model_version) if p)
        return said or None

    @property
    def promotion(self) -> str | None:
        """``approved by alice on 2026-12-01T09:00:00+00:00: why``, or None when the record was
        not read through an alias."""
        if self.alias is None:
            return None
        said = f"{self.alias} by {self.promoted_by or 'an unnamed approver'}"
        if self.promoted_at:
            said += f" on {self.promoted_at}"
        return said + (f": {self.reason}" if self.reason else " (no reason given)")

    def describe(self) -> str:
        """One line: ``record R (model churn 1.4.0; approved by alice on DATE: why)``."""
        parts = [f"model {label}" for label in (self.model_label,) if label]
        parts += [p for p in (self.promotion,) if p]
        return f"record {self.record}" + (f" ({'; '.join(parts)})" if parts else "")

    def properties(self) -> dict[str, str]:
        """JUnit properties (``mlqa.baseline_record``, ``mlqa.baseline_model``, ...), one per
        known fact (``mlqa.baseline`` is already the baseline's figure)."""
        facts = {"record": self.record, "model": self.model_label, "alias": self.alias,
                 "promoted_by": self.promoted_by, "promoted_at": self.promoted_at,
                 "reason": self.reason}
        return {f"baseline_{k}": v for k, v in facts.items() if v is not None}
