"""``check_regression``: the candidate against the previous model, paired, with margins."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, TypedDict

import numpy as np

from mlqa._text import fmt_num
from mlqa._validation import (
    MIN_RESAMPLES,
    UNSET,
    as_1d,
    check_consistent_length,
    renamed,
)
from mlqa.compare import paired
from mlqa.display import Display
from mlqa.errors import InputError
from mlqa.metrics.defined import undefined_reason
from mlqa.metrics.inputs import array_facts, check_metric_inputs, check_same_index
from mlqa.metrics.registry import LABELS, REGRESSION, Metric, resolve_metric
from mlqa.options import (
    LEVEL,
    NON_NEGATIVE,
    NUMBER,
    SHARE,
    Boolean,
    Options,
    OptionTable,
    Text,
    at_least,
    param,
    seeds,
)
from mlqa.recording import observed
from mlqa.result import (
    CheckResult,
    FieldReader,
    Outcome,
    decide,
    describe,
    requirement,
)

TESTS = ("auto", "mcnemar", "delong", "bootstrap")

# check_regression's keyword options, declared once: the Python call, the engine call
# (mlqa.compare.on_engine) and the YAML schema (mlqa.suite.spec) all read this table.
OPTIONS = OptionTable("check_regression", {
    "max_drop": param(NON_NEGATIVE, None,
                      hint="use min_gain= to require an improvement"),
    "min_gain": param(NUMBER, None),
    "max_gain": param(NUMBER, None),
    "relative": param(Boolean()),
    "confidence": param(LEVEL),
    "test": param(Options(*TESTS)),
    "max_negative_flip_rate": param(SHARE, None),
    "n_resamples": param(at_least(MIN_RESAMPLES)),
    "random_state": param(*seeds(), suite=False),
    "greater_is_better": param(Boolean(), None, suite=False),
    "name": param(Text(), None, suite=False),
})


class _RegressionFields(TypedDict):
    """What every regression result of one call shares (value and baseline come later)."""

    name: str
    check: str
    metric: str | None
    n: int | None
    threshold: float | None
    comparison: str | None
    confidence: float | None
    margin_low: float | None
    margin_high: float | None
    relative: bool


@dataclasses.dataclass(frozen=True)
class RegressionResult(CheckResult):
    """A :class:`CheckResult` whose ``value`` is the difference ``candidate - baseline`` (or
    ``(candidate - baseline) / |baseline|`` when relative) and ``ci`` its paired interval.
    ``baseline`` is the previous model's metric, ``candidate`` the new one's. Flip rates are the
    shares of rows the baseline got right and the candidate wrong (negative) and the reverse
    (positive), for classification labels."""

    candidate: float | None = None
    test: str | None = None
    negative_flip_rate: float | None = None
    positive_flip_rate: float | None = None
    # margins on ``value`` (the difference), the change's kind, and the flip counts
    margin_low: float | None = None
    margin_high: float | None = None
    relative: bool = False
    negative_flips: int | None = None
    positive_flips: int | None = None

    @classmethod
    def from_fields(cls, f: FieldReader) -> RegressionResult:
        return cls(**cls.base_fields(f), candidate=f.opt_float("candidate"),
                   test=f.opt_str("test"), negative_flip_rate=f.opt_float("negative_flip_rate"),
                   positive_flip_rate=f.opt_float("positive_flip_rate"),
                   margin_low=f.opt_float("margin_low"), margin_high=f.opt_float("margin_high"),
                   relative=f.bool_("relative"), negative_flips=f.opt_int("negative_flips"),
                   positive_flips=f.opt_int("positive_flips"))

    def display(self, *, details: bool = True) -> Display:
        from mlqa.compare.display import regression_display

        return regression_display(self, details=details)

    def levels(self) -> dict[str, float | None]:
        return {"candidate": self.candidate, "baseline": self.baseline}

    def family_properties(self) -> dict[str, Any]:
        props = {"candidate": self.candidate, "test": self.test,
                 "negative_flip_rate": self.negative_flip_rate,
                 "positive_flip_rate": self.positive_flip_rate,
                 "negative_flips": self.negative_flips, "positive_flips": self.positive_flips,
                 "margin_low": self.margin_low, "margin_high": self.margin_high,
                 "relative": self.relative}
        return {k: v for k, v in props.items() if v is not None}


@observed
def check_regression(y_true: Any, candidate_pred: Any, baseline_pred: Any,
                     metric: str | Callable[..., float] = "accuracy", *,
                     max_drop: float | None = None, min_gain: float | None = None,
                     max_gain: float | None = None, relative: bool = False,
                     confidence: float = 0.95, test: str = "auto",
                     max_negative_flip_rate: float | None = None, data: Any = None,
                     X: Any = None, n_resamples: int = 2000, random_state: Any = 0,
                     greater_is_better: bool | None = None,
                     name: str | None = None, seed: Any = UNSET) -> RegressionResult:
    """Compare the candidate with the baseline on the same rows, paired, against margins.

    The difference is ``d = metric(candidate) - metric(baseline)`` (``relative=True``:
    ``d / |metric(baseline)|``), oriented by the metric: for a loss, a drop in quality is a rise.
    Margins bound the change in quality:

    - ``max_drop``: non-inferiority, quality may fall by at most this much (``max_drop=0``:
      must not get worse);
    - ``min_gain``: superiority, quality must rise by at least this much;
    - ``max_gain``: a rise above this is suspicious (leakage, a changed test set) and fails.

    The interval of ``d`` at ``confidence`` decides: PASS when it lies wholly inside the margins,
    FAIL when wholly outside, INCONCLUSIVE when it straddles a margin. ``test="auto"`` picks
    McNemar for accuracy (Newcombe's paired interval), DeLong's paired test for binary ROC AUC,
    and a paired bootstrap (``n_resamples``, seeded by ``random_state``) for any other metric.

    ``baseline_pred`` is an array, or a :class:`mlqa.baseline.PredictionSet` from a stored
    record: then the comparability guards run first (same rows, labels, label set, the
    model's input rows when ``X`` is given, metric configuration) and a mismatch is an ERROR
    saying which.
    ``max_negative_flip_rate`` also bounds the share of rows the candidate newly gets wrong
    (Wilson interval, same decision rule).

    A metric undefined on the data for either model (no positive rows, one class, a constant
    target, nothing predicted positive) is an ERROR naming which side and why; label types of
    ``y_true`` and both predictions must agree (strings vs numbers is an ``InputError``), and
    pandas inputs must share one index (rows are matched by position, as in ``check_metric``).
    ``seed=`` is the deprecated name of ``random_state=``.

    ``data=`` is the table the columns are read from, as in every check (a pandas DataFrame,
    a pyarrow Table, a DuckDB relation, a Spark DataFrame or a Parquet path/glob/folder):
    ``y_true``, ``candidate_pred`` and ``baseline_pred`` then name columns of it (a stored
    ``PredictionSet`` stays as it is). The model's input rows, which the features guard
    fingerprints, are ``X=``. Every keyword option is declared once in :data:`OPTIONS`.
    """
    random_state = renamed("seed", seed, "random_state", random_state, default=0,
                           where="check_regression")
    OPTIONS.validate(locals())
    _check_margins(max_drop, min_gain, max_gain, max_negative_flip_rate)
    from mlqa.engines import on_engine

    if data is not None and on_engine(data):  # the three name columns of an engine table
        from mlqa.compare.on_engine import check_regression_on_engine

        return check_regression_on_engine(
            y_true, candidate_pred, baseline_pred, metric, data=data, max_drop=max_drop,
            min_gain=min_gain, max_gain=max_gain, relative=relative, confidence=confidence,
            test=test, max_negative_flip_rate=max_negative_flip_rate, n_resamples=n_resamples,
            random_state=random_state, greater_is_better=greater_is_better, name=name)
    if data is not None:
        y_true, candidate_pred, baseline_pred, X = _memory_table(
            data, y_true, candidate_pred, baseline_pred, X)
    from mlqa.baseline.records import PredictionSet

    resolved = resolve_metric(metric, greater_is_better=greater_is_better)
    check_same_index(y_true=y_true, candidate_pred=candidate_pred,
                     baseline_pred=None if isinstance(baseline_pred, PredictionSet)
                     else baseline_pred, X=X)
    lower, upper = _bounds(resolved.greater_is_better, max_drop, min_gain, max_gain)
    stored = baseline_pred if isinstance(baseline_pred, PredictionSet) else None
    label = name or f"{resolved.name} vs baseline"
    n = len(as_1d("y_true", y_true))
    threshold, comparison = requirement(lower, upper)
    common: _RegressionFields = {
        "name": label, "check": "regression", "metric": resolved.name, "n": n,
        "confidence": confidence, "threshold": threshold, "comparison": comparison,
        "margin_low": lower, "margin_high": upper, "relative": relative}
    details: dict[str, Any] = {"relative": relative, "max_drop": max_drop, "min_gain": min_gain,
                               "max_gain": max_gain, "min": lower, "max": upper,
                               "greater_is_better": resolved.greater_is_better}
    from mlqa.compare.guards import different_rows, incomparable

    problem = None
    if stored is not None:  # a stored baseline of another size: the rows guard, not a length error
        details.update(baseline_evaluation=stored.name)
        if stored.source is not None:  # the stored record compared against, for the approver
            details.update(baseline_record=stored.source.to_dict())
        problem = different_rows(stored, n)
    if problem is None:
        y, cand, base = _validated(resolved, y_true, candidate_pred,
                                   stored.y_pred if stored is not None else baseline_pred)
        if stored is not None:
            problem = incomparable(stored, y, resolved, X)
    if problem is not None:
        what, why = problem
        return RegressionResult(
            outcome=Outcome.ERROR, details={**details, "incomparable": what},
            message=f"{label}: not comparable with the baseline: {why}", **common)

    undefined = _undefined(resolved, y, cand, base)
    if undefined is not None:
        return undefined_result(common, details, undefined)
    chosen = choose_test(test, resolved, binary_auc=resolved.name == "roc_auc" and
                         cand.ndim == 1 and len(np.unique(y)) == 2)
    try:
        if chosen == "mcnemar":
            diff = paired.mcnemar(cand == y, base == y, confidence, relative=relative,
                                  n_resamples=n_resamples, random_state=random_state)
        elif chosen == "delong":
            diff = paired.delong(y == _positive(y), cand, base, confidence, relative=relative)
        else:
            diff = paired.bootstrap(resolved, y, cand, base, confidence, relative=relative,
                                    n_resamples=n_resamples, random_state=random_state)
    except ValueError as exc:
        raise InputError(f"{resolved.name} could not be compared: {exc}") from None

    flips = _flip_rates(resolved, y, cand, base)
    return regression_result(common, details, diff, flips,
                             max_negative_flip_rate=max_negative_flip_rate)


def undefined_result(common: _RegressionFields, details: dict[str, Any], reason: str
                     ) -> RegressionResult:
    """The ERROR of a metric undefined for either model (``either_undefined`` says
    ``reason``): never decided, in memory or on an engine."""
    return RegressionResult(
        outcome=Outcome.ERROR, details={**details, "undefined": reason},
        message=f"{common['name']}: {common['metric']} is undefined on this data: {reason} "
                f"(n={common['n']})", **common)


def regression_result(common: _RegressionFields, details: dict[str, Any],
                      diff: paired.PairedDifference, flips: dict[str, Any], *,
                      max_negative_flip_rate: float | None) -> RegressionResult:
    """The regression check's decision and message from the paired difference ``diff`` (its
    interval against the margins in ``common``; no finite interval is an ERROR, never a
    decision on a bare point) and the flip counts (``max_negative_flip_rate`` bounds the share
    of rows newly wrong: the worse outcome wins). One definition for the in-memory check and
    the engines (``mlqa.compare.on_engine``)."""
    lower, upper, n = common["margin_low"], common["margin_high"], common["n"]
    confidence = common["confidence"]
    details.update(candidate=diff.candidate, baseline=diff.baseline, difference=diff.difference,
                   **flips)
    ci = diff.ci if all(math.isfinite(c) for c in diff.ci) else None
    outcome = decide(diff.difference, min=lower, max=upper, ci=ci)
    if ci is None and outcome is not Outcome.ERROR:
        outcome = Outcome.ERROR  # no interval: never decide on a bare point
    what = f"{common['metric']} {'relative ' if common['relative'] else ''}change"
    message = describe(what, diff.difference, min=lower, max=upper, ci=ci,
                       confidence=confidence, n=n, outcome=outcome)
    message += (f"; candidate {fmt_num(diff.candidate)} vs baseline {fmt_num(diff.baseline)} "
                f"({diff.test}")
    message += f", p={diff.p_value:.3g})" if diff.p_value is not None else ")"
    if outcome is Outcome.ERROR:
        message = f"{what} is undefined on this data (n={n}): {message}"

    if flips.get("negative_flip_rate") is not None:
        message += (f"; flips: {flips['negative_flips']} newly wrong, "
                    f"{flips['positive_flips']} newly right")
    if max_negative_flip_rate is not None:
        assert n is not None and confidence is not None
        flip_outcome, flip_message = _flip_requirement(flips, max_negative_flip_rate, confidence,
                                                       n, str(common["metric"]))
        details["flip_outcome"] = flip_outcome.value
        if flip_outcome.severity > outcome.severity:
            outcome = flip_outcome
        message += f"; {flip_message}"
    return RegressionResult(
        outcome=outcome, message=message, value=diff.difference, baseline=diff.baseline,
        ci=ci, p_value=diff.p_value, details=details, candidate=diff.candidate,
        test=diff.test, negative_flip_rate=flips.get("negative_flip_rate"),
        positive_flip_rate=flips.get("positive_flip_rate"),
        negative_flips=flips.get("negative_flips"), positive_flips=flips.get("positive_flips"),
        **common)


def _check_margins(max_drop: float | None, min_gain: float | None, max_gain: float | None,
                   max_flip: float | None) -> None:
    """The rules between the margins (each one alone is checked by :data:`OPTIONS`)."""
    if max_drop is None and min_gain is None and max_gain is None and max_flip is None:
        raise InputError("check_regression needs a requirement: pass max_drop=, min_gain=, "
                         "max_gain= and/or max_negative_flip_rate=")
    if max_drop is not None and min_gain is not None:
        raise InputError("pass max_drop= (a drop allowed) or min_gain= (a gain required), "
                         "not both")
    floor = -max_drop if max_drop is not None else min_gain
    if max_gain is not None and floor is not None and max_gain <= floor:
        raise InputError(f"max_gain ({max_gain}) must be above the lower margin ({floor})")


def _memory_table(data: Any, y_true: Any, candidate_pred: Any, baseline_pred: Any, X: Any
                  ) -> tuple[Any, Any, Any, Any]:
    """``data=`` in memory: the named columns of the table. Before ``X=`` existed, ``data=``
    beside arrays of predictions was the model's features; it still is, for one release,
    with a FutureWarning, so no call changes meaning silently."""
    from mlqa.tables import memory_columns, names_columns

    if names_columns(y_true, candidate_pred, baseline_pred):
        read = memory_columns(data, {"y_true": y_true, "candidate_pred": candidate_pred,
                                     "baseline_pred": baseline_pred})
        return read["y_true"], read["candidate_pred"], read["baseline_pred"], X
    if X is not None:
        raise InputError("check_regression: pass the model's features as X= only; data= is "
                         "the table that y_true/candidate_pred/baseline_pred name columns of")
    import warnings

    warnings.warn("check_regression: data= beside arrays of predictions is read as the "
                  "model's features; pass them as X= (data= is the table the columns are "
                  "read from, in every check, and will only mean that in the next release)",
                  FutureWarning, stacklevel=4)
    return y_true, candidate_pred, baseline_pred, data


def _bounds(greater_is_better: bool, max_drop: float | None, min_gain: float | None,
            max_gain: float | None) -> tuple[float | None, float | None]:
    """Margins on quality as bounds on ``d`` in the metric's own direction."""
    low = -max_drop if max_drop is not None else min_gain
    high = max_gain
    if greater_is_better:
        return low, high
    return (None if high is None else -high), (None if low is None else -low)


def _validated(metric: Metric, y_true: Any, candidate: Any, baseline: Any
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = as_1d("y_true", y_true)
    allow_2d = metric.input != LABELS
    cand = as_1d("candidate_pred", candidate, allow_2d=allow_2d)
    base = as_1d("baseline_pred", baseline, allow_2d=allow_2d)
    check_consistent_length(y_true=y, candidate_pred=cand, baseline_pred=base)
    # the rules every backend applies (an engine takes the same facts from one query)
    check_metric_inputs(metric, array_facts("y_true", y), array_facts("candidate_pred", cand),
                        array_facts("baseline_pred", base))
    if cand.shape[1:] != base.shape[1:]:
        raise InputError(f"candidate_pred and baseline_pred have different shapes "
                         f"{cand.shape} and {base.shape}")
    return y, cand, base


def _undefined(metric: Metric, y: np.ndarray, cand: np.ndarray, base: np.ndarray
               ) -> str | None:
    """Why the metric is undefined for either model on these rows (None: defined for both).
    A reason that comes from ``y_true`` alone is the same for both and named once."""
    labels = paired.labels_for(metric, y, cand, base)
    reasons = {side: undefined_reason(metric, y, pred, labels)
               for side, pred in (("candidate_pred", cand), ("baseline_pred", base))}
    return either_undefined(reasons)


def either_undefined(reasons: dict[str, str | None]) -> str | None:
    """One reason from each side's (``candidate_pred``/``baseline_pred``): None where both
    are defined, a reason shared by both (it comes from ``y_true``) named once."""
    found = [(side, why) for side, why in reasons.items() if why is not None]
    if not found:
        return None
    if len(found) == 2 and found[0][1] == found[1][1]:
        return found[0][1]
    return "; ".join(f"{side}: {why}" for side, why in found)


def choose_test(test: str, metric: Metric, *, binary_auc: bool) -> str:
    """The paired test ``test`` asks for (``"auto"``: McNemar for accuracy on labels, DeLong
    for a binary ROC AUC on 1-D scores — ``binary_auc``: the target has two classes and the
    scores one column —, else the paired bootstrap), in memory and on an engine."""
    accuracy = metric.name == "accuracy" and metric.input == LABELS
    binary_auc = metric.name == "roc_auc" and binary_auc
    if test == "auto":
        return "mcnemar" if accuracy else "delong" if binary_auc else "bootstrap"
    if test == "mcnemar" and not accuracy:
        raise InputError(f"test='mcnemar' compares accuracy on labels; {metric.name!r} needs "
                         f"test='bootstrap'")
    if test == "delong" and not binary_auc:
        raise InputError(f"test='delong' compares binary ROC AUC on 1-D scores; "
                         f"{metric.name!r} here needs test='bootstrap'")
    return test


def _positive(y: np.ndarray) -> Any:
    """The positive class as scikit-learn's roc_auc_score takes it: the larger label."""
    return np.unique(y)[-1]


def _flip_rates(metric: Metric, y: np.ndarray, cand: np.ndarray, base: np.ndarray
                ) -> dict[str, Any]:
    from sklearn.utils.multiclass import type_of_target

    if not has_flips(metric) or type_of_target(y) not in ("binary", "multiclass"):
        return {}
    right_c, right_b = cand == y, base == y
    return flip_counts(int(np.count_nonzero(right_b & ~right_c)),
                       int(np.count_nonzero(right_c & ~right_b)), len(y))


def has_flips(metric: Metric) -> bool:
    """Whether ``metric``'s rows are right or wrong: classification labels, a metric where
    greater is better, not of a regression target (R², explained variance, D²: "right" and
    "wrong" rows mean nothing there; a user's callable is taken at its word)."""
    return metric.input == LABELS and metric.kind != REGRESSION and metric.greater_is_better


def flip_counts(negative: int, positive: int, n: int) -> dict[str, Any]:
    """The flip fields from the rows newly wrong (``negative``) and newly right of ``n``."""
    return {"negative_flips": negative, "positive_flips": positive,
            "negative_flip_rate": negative / n, "positive_flip_rate": positive / n}


def _flip_requirement(flips: dict[str, Any], max_rate: float, confidence: float, n: int,
                      metric: str) -> tuple[Outcome, str]:
    if not flips:
        raise InputError(f"max_negative_flip_rate needs classification labels; {metric!r} "
                         f"predictions have no right or wrong rows")
    from mlqa.stats.proportion import proportion_interval

    low, high = proportion_interval(flips["negative_flips"], n, confidence)
    outcome = decide(flips["negative_flip_rate"], max=max_rate, ci=(low, high))
    return outcome, describe("negative flip rate", flips["negative_flip_rate"], max=max_rate,
                             ci=(low, high), confidence=confidence, n=n, outcome=outcome)
