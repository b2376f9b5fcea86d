"""CheckResult and Outcome: the one currency every check returns."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import math
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from mlqa._plain import to_plain
from mlqa._text import fmt_num, one_line
from mlqa.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.baseline.identity import BaselineIdentity
    from mlqa.display import Display

__all__ = ["Outcome", "CheckResult", "decide", "requirement", "describe", "SEVERITY_ORDER",
           "SKIPPED", "severity", "worst", "worst_first", "FieldReader", "BaseFields",
           "RESULT_TYPES"]

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
    """A float, or None for a missing figure. NaN and +-inf are missing figures too: the
    bundle (strict JSON) cannot hold them, and a result holds exactly what the bundle holds."""
    if x is None:
        return None
    try:
        number = float(x)
    except (TypeError, ValueError):
        raise InputError(f"CheckResult.{name} must be a number or None, got {x!r}") from None
    return number if math.isfinite(number) else None


# -- reading a result back from the bundle ------------------------------------------------------

# Result types by the ``type`` word ``to_dict`` writes, and the module that defines each: a
# bundle is read without importing every family up front.
RESULT_TYPES: dict[str, str] = {
    "CheckResult": "mlqa.result",
    "MetricResult": "mlqa.metrics.check",
    "RegressionResult": "mlqa.compare.check",
    "DriftResult": "mlqa.drift.result",
    "LatencyCheckResult": "mlqa.latency.checks",
    "EndpointLatencyResult": "mlqa.latency.endpoint_checks",
    "QualityResult": "mlqa.quality.result",
    "DataQualityResult": "mlqa.quality.result",
    "TrendResult": "mlqa.trend.check",
    "DisparityResult": "mlqa.fairness.result",
    "ShadowResult": "mlqa.shadow.check",
}

T = TypeVar("T")
_NUMBER_TYPES = {int, float}  # exactly: a bool is not a number here
_R = TypeVar("_R", bound="CheckResult")


class FieldReader:
    """Typed, strict access to the fields of one result dict.

    Every accessor raises :class:`~mlqa.errors.InputError` naming the field (with its path
    inside nested results, ``slices['a'].value``) when it is missing or of the wrong type, so
    a bundle line is either read exactly or refused; never guessed.
    """

    def __init__(self, data: Any, where: str = "result") -> None:
        if not isinstance(data, Mapping):
            raise InputError(f"{where} must be a mapping of fields, got {type(data).__name__}")
        self.data = data
        self.where = where

    def _bad(self, name: str, wanted: str) -> InputError:
        got = self.data[name] if name in self.data else None
        shown = repr(got) if len(repr(got)) <= 80 else repr(got)[:77] + "..."
        return InputError(f"{self.where}.{name} must be {wanted}, got {shown}")

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def required_str(self, name: str) -> str:
        if name not in self.data:
            raise InputError(f"{self.where}.{name} is missing")
        value = self.data[name]
        if not isinstance(value, str):
            raise self._bad(name, "a string")
        return value

    def str_(self, name: str, default: str = "") -> str:
        return default if name not in self.data else self.required_str(name)

    def opt_str(self, name: str) -> str | None:
        return None if self.data.get(name) is None else self.required_str(name)

    def opt_float(self, name: str) -> float | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._bad(name, "a number or null")
        return float(value)

    def float_(self, name: str) -> float:
        value = self.opt_float(name)
        if value is None:
            raise self._bad(name, "a number")
        return value

    def opt_int(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(name, "an integer or null")
        return value

    def int_(self, name: str) -> int:
        value = self.opt_int(name)
        if value is None:
            raise self._bad(name, "an integer")
        return value

    def bool_(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self._bad(name, "true or false")
        return value

    def opt_bool(self, name: str) -> bool | None:
        return None if self.data.get(name) is None else self.bool_(name)

    def outcome(self, name: str = "outcome") -> Outcome:
        word = self.required_str(name)
        try:
            return Outcome(word)
        except ValueError:
            raise self._bad(name, f"one of {[o.value for o in Outcome]}") from None

    def interval(self, name: str) -> tuple[float | None, float | None] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list | tuple) or len(value) != 2 or not all(
                v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                for v in value):
            raise self._bad(name, "[low, high] or null")
        low, high = value
        return (None if low is None else float(low), None if high is None else float(high))

    def floats(self, name: str) -> tuple[float, ...]:
        value = self.data.get(name, [])
        # set(map(type, ...)) runs in C: a drift check carries thousands of these numbers
        if not isinstance(value, list | tuple) or not set(map(type, value)) <= _NUMBER_TYPES:
            raise self._bad(name, "a list of numbers")
        return tuple(map(float, value))

    def strs(self, name: str) -> tuple[str, ...]:
        value = self.data.get(name, [])
        if not isinstance(value, list | tuple) or not set(map(type, value)) <= {str}:
            raise self._bad(name, "a list of strings")
        return tuple(value)

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise self._bad(name, "a mapping")
        return {str(k): v for k, v in value.items()}

    def str_mapping(self, name: str) -> dict[str, str]:
        value = self.mapping(name)
        if not all(isinstance(v, str) for v in value.values()):
            raise self._bad(name, "a mapping of strings")
        return value

    def nested(self, name: str, read: Callable[[FieldReader], T]) -> T | None:
        """A nested typed value (a dataclass the result holds), or None."""
        if self.data.get(name) is None:
            return None
        return read(FieldReader(self.data[name], f"{self.where}.{name}"))

    def each(self, name: str, read: Callable[[FieldReader], T]) -> tuple[T, ...]:
        """A list of nested typed values."""
        value = self.data.get(name, [])
        if not isinstance(value, list | tuple):
            raise self._bad(name, "a list")
        return tuple(read(FieldReader(v, f"{self.where}.{name}[{i}]"))
                     for i, v in enumerate(value))

    def keyed(self, name: str, read: Callable[[FieldReader], T]) -> dict[str, T]:
        """A mapping of nested typed values, keyed by name."""
        return {k: read(FieldReader(v, f"{self.where}.{name}[{k!r}]"))
                for k, v in self.mapping(name).items()}

    def results(self, name: str) -> dict[str, CheckResult]:
        """A mapping of nested results (each with its own ``type``)."""
        return self.keyed(name, CheckResult.read)


class BaseFields(TypedDict):
    """The fields every result has, as read from a bundle (typed, so ``cls(**fields, ...)``
    hides nothing from the type checker)."""

    name: str
    outcome: Outcome
    message: str
    check: str
    metric: str | None
    value: float | None
    threshold: float | None
    comparison: str | None
    baseline: float | None
    ci: tuple[float | None, float | None] | None
    confidence: float | None
    p_value: float | None
    n: int | None
    details: Mapping[str, Any]


class CommonFields(TypedDict, total=False):
    """Figures a check gathers before it knows its outcome and message; typed, so building a
    result with ``cls(outcome=..., message=..., **fields)`` hides nothing from the checker."""

    name: str
    check: str
    metric: str | None
    value: float | None
    threshold: float | None
    comparison: str | None
    baseline: float | None
    n: int | None


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
    ci: tuple[float | None, float | None] | None = None
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
        # details are plain JSON values (str keys, lists, no numpy, no NaN) from the start, so
        # the result read back from the bundle equals the one the check returned.
        if not isinstance(self.details, Mapping):
            raise InputError(f"CheckResult.details must be a mapping, got {self.details!r}")
        set_(self, "details", MappingProxyType(to_plain(dict(self.details))))

    @property
    def passed(self) -> bool:
        """True only for PASS: INCONCLUSIVE, WAIVED and ERROR are not passes by themselves."""
        return self.outcome is Outcome.PASS

    def replace(self: _R, **changes: Any) -> _R:
        """A copy with fields changed (results are frozen), of the same type."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (numpy values unwrapped, non-finite floats as None), with the
        result's ``type``: ``CheckResult.from_dict`` reads it back exactly."""
        d: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping) and value and all(
                    isinstance(v, CheckResult) for v in value.values()):
                d[f.name] = {str(k): v.to_dict() for k, v in value.items()}  # nested results
            else:
                d[f.name] = to_plain(value)
        d["type"] = type(self).__name__
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """The result ``to_dict`` wrote: ``CheckResult.from_dict(r.to_dict()) == r``.

        Dispatches on ``data["type"]`` to the family's result class. An unknown type or
        outcome, a missing required field (``type``, ``name``, ``outcome``) or a field of the
        wrong type raises :class:`~mlqa.errors.InputError` naming the field; fields a result
        does not carry take their defaults.
        """
        return cls.read(FieldReader(data))

    @classmethod
    def read(cls, fields: FieldReader) -> CheckResult:
        """``from_dict`` on a :class:`FieldReader` (nested results name their path)."""
        word = fields.required_str("type")
        module = RESULT_TYPES.get(word)
        if module is None:
            raise InputError(f"{fields.where}.type {word!r} is not a result type this mlqa "
                             f"reads ({', '.join(RESULT_TYPES)})")
        klass = getattr(importlib.import_module(module), word)
        if not issubclass(klass, cls):
            raise InputError(f"{fields.where}.type {word!r} is not a {cls.__name__}")
        result: CheckResult = klass.from_fields(fields)
        return result

    @classmethod
    def from_fields(cls, fields: FieldReader) -> CheckResult:
        """This class's own reader; a family's result type overrides it to add its fields."""
        return cls(**cls.base_fields(fields))

    @staticmethod
    def base_fields(fields: FieldReader) -> BaseFields:
        return BaseFields(
            name=fields.required_str("name"), outcome=fields.outcome(),
            message=fields.str_("message"), check=fields.str_("check", "custom"),
            metric=fields.opt_str("metric"), value=fields.opt_float("value"),
            threshold=fields.opt_float("threshold"), comparison=fields.opt_str("comparison"),
            baseline=fields.opt_float("baseline"), ci=fields.interval("ci"),
            confidence=fields.opt_float("confidence"), p_value=fields.opt_float("p_value"),
            n=fields.opt_int("n"), details=fields.mapping("details"))

    def family_properties(self) -> dict[str, Any]:
        """Extra ``mlqa.<key>`` JUnit properties a check family adds (scalars only)."""
        return {}

    @property
    def description(self) -> str | None:
        """The YAML ``description:`` of the check that made this result, if it has one."""
        return self._text_detail("description")

    @property
    def suite_description(self) -> str | None:
        """The YAML ``description:`` of the suite the check belongs to, if it has one."""
        return self._text_detail("suite_description")

    def _text_detail(self, key: str) -> str | None:
        said = self.details.get(key)
        return said if isinstance(said, str) and said.strip() else None

    @property
    def baseline_record(self) -> BaselineIdentity | None:
        """The stored baseline record a comparison was judged against (a regression or a
        latency comparison with a baseline read from a store), else None."""
        said = self.details.get("baseline_record")
        if said is None:
            return None
        from mlqa.baseline.identity import BaselineIdentity

        return BaselineIdentity.from_details(said, f"{self.name}: details.baseline_record")

    def levels(self) -> dict[str, float | None]:
        """The levels the decision's figure was computed from, when they are in another unit
        than ``value`` (a regression's candidate and baseline accuracy beside its
        difference); plotted apart from it."""
        return {"baseline": self.baseline}

    def plot_series(self) -> dict[str, dict[str, float]]:
        """Series for Jenkins' Plot plugin, one unit per series: ``""`` holds the decision's
        figure with its requirement and interval, ``"levels"`` the levels (see
        :meth:`levels`). Missing figures are left out; no value, no series."""
        if self.value is None:
            return {}
        low, high = self.ci or (None, None)
        series = {"": {"value": self.value, "threshold": self.threshold, "ci_low": low,
                       "ci_high": high}, "levels": self.levels()}
        kept = {k: {f: float(v) for f, v in s.items() if v is not None}
                for k, s in series.items()}
        return {k: s for k, s in kept.items() if s}

    def bounds(self) -> tuple[float | None, float | None]:
        """The requirement as (low, high) bounds on ``value`` (None where open)."""
        if self.comparison in (">=", ">"):
            return self.threshold, None
        if self.comparison in ("<=", "<"):
            return None, self.threshold
        if self.comparison == "within":
            low, high = self.details.get("min"), self.details.get("max")
            return (low if isinstance(low, int | float) else None,
                    high if isinstance(high, int | float) else None)
        return None, None

    def display(self, *, details: bool = True) -> Display:
        """How the report shows this result: its row, its details, its plot point. A family's
        result type overrides it (``mlqa/<family>/display.py``). ``details=False``: the row
        and plot point alone (for checks the report folds away)."""
        from mlqa import display as d

        low, high = self.bounds()
        requirement_text = d.bounds_text(low, high)
        if self.comparison in ("<", ">") and self.threshold is not None:
            requirement_text = f"{self.comparison} {d.num(self.threshold)}"
        point = None
        if self.value is not None:
            label = str(self.details.get("slice") or self.name)
            point = d.IntervalPoint(label, self.value, self.ci, low, high, self.outcome.value)
        return d.Display(
            cells=d.Cells(value=d.num(self.value), requirement=requirement_text,
                          baseline=d.num(self.baseline),
                          interval=d.interval_text(self.ci, self.confidence), n=d.num(self.n)),
            point=point, plot_group=f"{self.check}: {self.metric or self.name}")

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
             max: float | None = None,  # noqa: A002
             ci: tuple[float | None, float | None] | None = None,
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
