"""``check_trend``: a shift in a metric's history across builds, by E-Divisive means.

Each build's checks compare the candidate with the previous model only, so a model that loses
a little per release passes every one of them. This check looks at the whole history at once
and asks whether its level shifted for the worse, and from which build.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from mlqa._text import fmt_num
from mlqa._validation import (
    as_1d,
    check_finite,
    check_n_resamples,
    check_number,
    check_probability,
    check_random_state,
    missing_mask,
    refuse_missing,
)
from mlqa.display import Display
from mlqa.errors import InputError
from mlqa.options import (
    LEVEL,
    NON_NEGATIVE,
    Boolean,
    OptionTable,
    Text,
    at_least,
    param,
    seeds,
)
from mlqa.recording import observed
from mlqa.result import CheckResult, FieldReader, Outcome
from mlqa.trend.edivisive import Divisions, e_divisive

# The keyword options of check_trend, declared once (mlqa.options). Rules between options
# (enough permutations for alpha to reject, min_history >= 2 * min_size) stay in the check.
OPTIONS = OptionTable("check_trend", {
    "greater_is_better": param(Boolean(), doc="False for a loss, a latency, an error rate"),
    "min_magnitude": param(NON_NEGATIVE, doc="smallest worse shift that fails, in the "
                                             "metric's units"),
    "alpha": param(LEVEL, doc="significance level of each split"),
    "n_permutations": param(at_least(1), doc="shuffles per split (at least 1/alpha - 1)"),
    "min_history": param(at_least(2), doc="fewer builds are INCONCLUSIVE"),
    "min_size": param(at_least(1), doc="fewest builds on either side of a split"),
    "random_state": param(*seeds(), suite=False),
    "metric": param(Text(), None, suite=False),
    "name": param(Text(), None, suite=False),
})


@dataclasses.dataclass(frozen=True)
class ChangePoint:
    """A shift found in the history: from ``build`` (position ``index``, the first point of the
    new level) the mean moves from ``mean_before`` to ``mean_after`` (the means of the segments
    either side, between the neighbouring change points); ``shift = mean_after - mean_before``.
    ``worse`` says the shift goes against ``greater_is_better``; ``fails`` that it is worse by
    at least ``min_magnitude``."""

    build: str
    index: int
    mean_before: float
    mean_after: float
    shift: float
    p_value: float
    qhat: float
    worse: bool
    fails: bool

    @classmethod
    def read(cls, f: FieldReader) -> ChangePoint:
        return cls(build=f.required_str("build"), index=f.int_("index"),
                   mean_before=f.float_("mean_before"), mean_after=f.float_("mean_after"),
                   shift=f.float_("shift"), p_value=f.float_("p_value"), qhat=f.float_("qhat"),
                   worse=f.bool_("worse"), fails=f.bool_("fails"))

    def describe(self) -> str:
        return (f"from build {self.build}: mean {fmt_num(self.mean_before)} \u2192 "
                f"{fmt_num(self.mean_after)} ({'+' if self.shift > 0 else ''}"
                f"{fmt_num(self.shift)}, p={fmt_num(self.p_value)})")


@dataclasses.dataclass(frozen=True)
class TrendResult(CheckResult):
    """A :class:`CheckResult` over a metric's history. ``value`` is the shift of the headline
    change point (the largest failing one, else the largest found), ``baseline`` the mean before
    it, ``p_value`` its permutation p-value and ``n`` the number of builds. ``change_points``
    holds every shift found, oldest first; ``history`` and ``builds`` the series judged.
    ``refused_p_value`` is the p-value of the first split that was not significant."""

    change_points: tuple[ChangePoint, ...] = ()
    history: tuple[float, ...] = ()
    builds: tuple[str, ...] = ()
    mean_after: float | None = None
    alpha: float | None = None
    n_permutations: int | None = None
    min_magnitude: float | None = None
    min_history: int | None = None
    greater_is_better: bool = True
    refused_p_value: float | None = None

    @classmethod
    def from_fields(cls, f: FieldReader) -> TrendResult:
        return cls(**cls.base_fields(f), change_points=f.each("change_points", ChangePoint.read),
                   history=f.floats("history"), builds=f.strs("builds"),
                   mean_after=f.opt_float("mean_after"), alpha=f.opt_float("alpha"),
                   n_permutations=f.opt_int("n_permutations"),
                   min_magnitude=f.opt_float("min_magnitude"),
                   min_history=f.opt_int("min_history"),
                   greater_is_better=f.bool_("greater_is_better", True),
                   refused_p_value=f.opt_float("refused_p_value"))

    def levels(self) -> dict[str, float | None]:
        return {"before": self.baseline, "after": self.mean_after}

    def family_properties(self) -> dict[str, Any]:
        first = next((c for c in self.change_points if c.fails), None)
        props = {"change_points": len(self.change_points),
                 "change_build": None if first is None else first.build,
                 "mean_after": self.mean_after, "min_magnitude": self.min_magnitude,
                 "alpha": self.alpha, "n_permutations": self.n_permutations}
        return {k: v for k, v in props.items() if v is not None}

    def display(self, *, details: bool = True) -> Display:
        from mlqa.trend.display import trend_display

        return trend_display(self, details=details)


def _builds(builds: Any, n: int) -> tuple[str, ...]:
    if builds is None:
        return tuple(str(i + 1) for i in range(n))  # 1-based, as build numbers are
    labels = as_1d("builds", builds)
    if len(labels) != n:
        raise InputError(f"builds has {len(labels)} labels but values has {n}: one build per "
                         f"value, oldest first")
    text = tuple(str(b) for b in labels.tolist())
    if any(b is None for b in labels.tolist()) or any(not t.strip() for t in text):
        raise InputError("builds has a missing or blank label")
    seen: dict[str, int] = {}
    for i, b in enumerate(text):
        if b in seen:
            raise InputError(f"builds has {b!r} twice (positions {seen[b]} and {i}): a history "
                             f"holds each build once")
        seen[b] = i
    return text


def _numbers(values: Any) -> np.ndarray:
    raw = as_1d("values", values)
    if raw.dtype.kind not in "iufO":  # bools, strings, dates are no metric history
        raise InputError(f"values must be numbers, got dtype {raw.dtype}")
    missing = missing_mask(raw)
    if missing is not None and missing.any():
        refuse_missing("values", int(missing.sum()), int(np.argwhere(missing)[0][0]))
    try:
        z = raw.astype(float)
    except (TypeError, ValueError):
        raise InputError("values must be numbers, got an object that is not") from None
    check_finite("values", z)
    return z


def _change_points(z: np.ndarray, found: Divisions, labels: Sequence[str], *,
                   greater_is_better: bool, min_magnitude: float) -> tuple[ChangePoint, ...]:
    edges = [0, *(s.index for s in found.splits), len(z)]
    out = []
    for k, split in enumerate(found.splits):
        before = float(z[edges[k]:split.index].mean())
        after = float(z[split.index:edges[k + 2]].mean())
        shift = after - before
        worse = shift < 0 if greater_is_better else shift > 0
        out.append(ChangePoint(build=labels[split.index], index=split.index,
                               mean_before=before, mean_after=after, shift=shift,
                               p_value=split.p_value, qhat=split.qhat, worse=worse,
                               fails=worse and abs(shift) >= min_magnitude))
    return tuple(out)


@observed
def check_trend(values: Any, *, builds: Any = None, greater_is_better: bool = True,
                min_magnitude: float = 0.0, alpha: float = 0.05, n_permutations: int = 199,
                min_history: int = 10, min_size: int = 2, random_state: Any = 0,
                metric: str | None = None, name: str | None = None) -> TrendResult:
    """Whether a metric's history across builds shifted for the worse, and from which build.

    ``values`` are one figure per build, oldest first (the current build last); ``builds``
    their labels (build numbers or ids; default 1..N). Change points come from E-Divisive
    means (Matteson & James 2014, the method of Apache Otava's ``--orig-edivisive``): the
    history is split recursively where its two sides differ most (energy statistic), each split
    kept while a permutation test (``n_permutations`` shuffles within the current segments,
    seeded by ``random_state``) gives it a p-value of at most ``alpha``. Each segment holds at
    least ``min_size`` builds.

    - FAIL: a change point in the worse direction (a drop when ``greater_is_better``, a rise
      otherwise) whose shift between the segment means either side is at least
      ``min_magnitude`` (in the metric's units, unlike Otava's relative magnitude). The message
      names the build where it starts, the means before and after and its p-value.
    - PASS: at least ``min_history`` builds and no such change point. Shifts for the better,
      or worse ones smaller than ``min_magnitude``, are reported in ``change_points`` only.
    - INCONCLUSIVE: fewer than ``min_history`` builds: not enough history, never a PASS.

    On a history with no shift, a FAIL comes at most at rate ``alpha`` (the first split's
    permutation test is exact, and half of its false alarms point the better way).

    Bad input raises :class:`~mlqa.errors.InputError`: non-finite or missing values, no
    values, ``builds`` of another length or with a label twice, options out of range (each
    option is declared once in :data:`OPTIONS`).
    """
    OPTIONS.validate(locals())
    z = _numbers(values)
    labels = _builds(builds, len(z))
    if not isinstance(greater_is_better, bool | np.bool_):
        raise InputError(f"greater_is_better must be True or False, got {greater_is_better!r}")
    magnitude = check_number("min_magnitude", min_magnitude, low=0.0)
    assert magnitude is not None
    level = check_probability("alpha", alpha)
    smallest = check_n_resamples(min_size, "min_size", minimum=1)
    # with R permutations the smallest p-value is 1/(R+1): fewer than 1/alpha - 1 can never
    # reject, and the check would pass every history
    needed = int(np.ceil(1.0 / level - 1.0 - 1e-9))
    permutations = check_n_resamples(n_permutations, "n_permutations", minimum=max(needed, 1))
    history_needed = check_n_resamples(min_history, "min_history", minimum=2 * smallest)
    check_random_state(random_state)
    if metric is not None and not isinstance(metric, str):
        raise InputError(f"metric must be a name (str) or None, got {metric!r}")
    label = name or f"{metric or 'metric'} trend"
    gib = bool(greater_is_better)
    common: dict[str, Any] = dict(
        name=label, check="trend", metric=metric, n=len(z), history=tuple(z.tolist()),
        builds=labels, alpha=level, n_permutations=permutations, min_magnitude=magnitude,
        min_history=history_needed, greater_is_better=gib,
        details={"min_size": smallest})
    what = metric or "metric"
    if len(z) < history_needed:
        return TrendResult(
            outcome=Outcome.INCONCLUSIVE, **common,
            message=f"{label}: {len(z)} build(s) of {what} history, min_history={history_needed}:"
                    f" not enough history to judge a trend")
    found = e_divisive(z, alpha=level, n_permutations=permutations, min_size=smallest,
                       rng=np.random.default_rng(random_state))
    points = _change_points(z, found, labels, greater_is_better=gib, min_magnitude=magnitude)
    failing = [c for c in points if c.fails]
    headline = max(failing or points, key=lambda c: abs(c.shift), default=None)
    threshold, comparison = (0.0 - magnitude, ">") if gib else (magnitude, "<")
    figures: dict[str, Any] = {"refused_p_value": found.refused_p_value}
    if headline is not None:
        figures.update(value=headline.shift, baseline=headline.mean_before,
                       mean_after=headline.mean_after, p_value=headline.p_value,
                       threshold=threshold, comparison=comparison)
    where = f"in {len(z)} builds ({labels[0]}\u2013{labels[-1]})"
    if failing:
        others = len(failing) - 1
        return TrendResult(
            outcome=Outcome.FAIL, change_points=points, **common, **figures,
            message=f"{label}: {what} shifted {'down' if gib else 'up'} "
                    f"{headline.describe() if headline else ''}"
                    f"{f', and {others} more worse shift(s)' if others else ''} {where}; "
                    f"min_magnitude {fmt_num(magnitude)}, alpha {fmt_num(level)}")
    if points:
        said = "; ".join(c.describe() + ("" if c.worse else " better") for c in points)
        why = f"below min_magnitude {fmt_num(magnitude)} or for the better"
        text = f"no worse shift of at least {fmt_num(magnitude)} {where}: {said} ({why})"
    else:
        refused = found.refused_p_value
        text = (f"no change point {where} (alpha {fmt_num(level)}"
                + ("" if refused is None else f"; best split p={fmt_num(refused)}") + ")")
    return TrendResult(outcome=Outcome.PASS, change_points=points, **common, **figures,
                       message=f"{label}: {text}")
