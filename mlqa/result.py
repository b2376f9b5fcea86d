"""CheckResult and Outcome: the one currency every check returns."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from mlqa._plain import to_plain
from mlqa._text import fmt_num, one_line
from mlqa.errors import InputError

__all__ = ["Outcome", "CheckResult", "decide", "requirement", "describe", "SEVERITY_ORDER",
           "SKIPPED", "severity", "worst", "worst_first"]

# The one order of outcomes in the project, worst first: what stops a release comes first.
# "skipped" is not an outcome a check returns: it is the gate's word for a test whose evidence
# is missing (skipped before its check ran). It asks for a human decision, so it ranks below
# INCONCLUSIVE (the check ran and could not decide) and above WAIVED (a reviewed failure that
# a gatekeeper accepted), which ranks above PASS because someone had to accept it.
SKIPPED = "skipped"
SEVERITY_ORDER: tuple[str, ...] = ("error", "fail", "inconclusive", SKIPPED, "waived", "pass")
_RANK = {word: len(SEVERITY_ORDER) - 1 - i for i, word in enumerate(SEVERITY_ORDER)}


class Outcome(str, enum.Enum):
    """How a check came out. The value is the lower-case word written to JUnit and the bundle."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"
    WAIVED = "waived"

    def __str__(self) -> str:
        return self.value

    @property
    def severity(self) -> int:
        """How bad the outcome is, higher is worse: PASS 0 < WAIVED < INCONCLUSIVE < FAIL <
        ERROR (the order of :data:`SEVERITY_ORDER`)."""
        return _RANK[self.value]


def severity(status: str) -> int:
    """The severity of an outcome or of the gate's ``"skipped"``; higher is worse.

    A word outside :data:`SEVERITY_ORDER` ranks above ERROR: a status nobody can read must
    never sort among the passes.
    """
    return _RANK.get(str(status), len(SEVERITY_ORDER))


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    """The most severe of ``outcomes`` (which speaks for a test or check with several)."""
    return max(outcomes, key=severity)


def worst_first(statuses: Iterable[str]) -> list[str]:
    """``statuses`` (outcomes or ``"skipped"``) sorted worst first, each once."""
    return sorted(set(map(str, statuses)), key=lambda s: (-severity(s), s))


def _optional_float(name: str, x: Any) -> float | None:
    if x is None:
        return None
    try:
        return float(x)
    except (TypeError, ValueError):
        raise InputError(f"CheckResult.{name} must be a number or None, got {x!r}") from None


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one check, with the figures it was decided on.

    ``value`` is the measured figure, ``threshold`` the requirement it was held to (``comparison``
    says which way: ``">="``, ``"<="`` or ``"within"``), ``baseline`` the previous model's figure
    when there is one, ``ci`` the confidence interval of ``value`` and ``n`` the number of rows
    (or queries) it rests on. ``check`` names the family (``metric``, ``drift``, ``regression``,
    ``latency``) and ``metric`` the figure measured. ``message`` is one human line.
    """

    name: str
    outcome: Outcome
    message: str = ""
    check: str = "custom"
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    comparison: str | None = None
    baseline: float | None = None
    ci: tuple[float, float] | None = None
    confidence: float | None = None
    p_value: float | None = None
    n: int | None = None
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        # Results cross process boundaries (xdist) and land in JSON: keep every field plain.
        set_ = object.__setattr__
        try:
            set_(self, "outcome", Outcome(self.outcome))
        except ValueError:
            raise InputError(
                f"CheckResult.outcome must be one of {[o.value for o in Outcome]}, "
                f"got {self.outcome!r}") from None
        set_(self, "name", one_line(self.name, 200))
        set_(self, "message", one_line(self.message))
        for f in ("value", "threshold", "baseline", "p_value", "confidence"):
            set_(self, f, _optional_float(f, getattr(self, f)))
        if self.n is not None:
            set_(self, "n", int(self.n))
        if self.ci is not None:
            low, high = (_optional_float("ci", c) for c in self.ci)
            if low is not None and high is not None and low > high:
                raise InputError(f"CheckResult.ci must be (low, high) with low <= high, "
                                 f"got {self.ci!r}")
            set_(self, "ci", (low, high))
        set_(self, "details", MappingProxyType(dict(self.details)))

    @property
    def passed(self) -> bool:
        """True only for PASS: INCONCLUSIVE, WAIVED and ERROR are not passes by themselves."""
        return self.outcome is Outcome.PASS

    def replace(self, **changes: Any) -> CheckResult:
        """A copy with fields changed (results are frozen)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (numpy values unwrapped, non-finite floats as None)."""
        d = to_plain(self)
        d["type"] = type(self).__name__
        return d

    def family_properties(self) -> dict[str, Any]:
        """Extra ``mlqa.<key>`` JUnit properties a check family adds (scalars only)."""
        return {}

    def __str__(self) -> str:
        return f"[{self.outcome.value.upper()}] {self.message}"


def decide(value: float, *, min: float | None = None, max: float | None = None,  # noqa: A002
           ci: tuple[float, float] | None = None) -> Outcome:
    """PASS / FAIL / INCONCLUSIVE for a figure against ``min``/``max``.

    With an interval: PASS when the whole interval meets the requirement, FAIL when it lies
    wholly on the wrong side, INCONCLUSIVE when it straddles. Without one: the point decides.
    A NaN figure cannot be decided and is an ERROR.
    """
    if value is None or not math.isfinite(value):
        return Outcome.ERROR
    low, high = ci if ci is not None else (value, value)
    if (min is not None and high < min) or (max is not None and low > max):
        return Outcome.FAIL
    if (min is not None and low < min) or (max is not None and high > max):
        return Outcome.INCONCLUSIVE
    return Outcome.PASS


def requirement(min: float | None, max: float | None) -> tuple[float | None, str | None]:  # noqa: A002
    """The (threshold, comparison) pair a result records for ``min``/``max``."""
    if min is not None and max is not None:
        return None, "within"
    if min is not None:
        return min, ">="
    if max is not None:
        return max, "<="
    return None, None


def describe(name: str, value: float | None, *, min: float | None = None,  # noqa: A002
             max: float | None = None, ci: tuple[float, float] | None = None,  # noqa: A002
             confidence: float | None = None, n: int | None = None,
             outcome: Outcome | None = None) -> str:
    """The one-line message: measured vs required, with CI and n.

    ``roc_auc 0.874 < min 0.9 (95% CI 0.861–0.887, n=2000)``
    """
    parts = [f"{name} {fmt_num(value)}"]
    if min is not None and max is not None:
        inside = value is not None and min <= value <= max
        parts.append(f"{'within' if inside else 'outside'} [{fmt_num(min)}, {fmt_num(max)}]")
    elif min is not None:
        ok = value is not None and value >= min
        parts.append(f"{'>=' if ok else '<'} min {fmt_num(min)}")
    elif max is not None:
        ok = value is not None and value <= max
        parts.append(f"{'<=' if ok else '>'} max {fmt_num(max)}")
    extra = []
    if ci is not None:
        level = f"{confidence:.0%} " if confidence is not None else ""
        extra.append(f"{level}CI {fmt_num(ci[0])}\u2013{fmt_num(ci[1])}")
    if n is not None:
        extra.append(f"n={n}")
    text = " ".join(parts) + (f" ({', '.join(extra)})" if extra else "")
    if outcome is Outcome.INCONCLUSIVE:
        text += ": interval straddles the requirement"
    return text
