"""``check_metric``: a metric against a threshold, decided on its confidence interval."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from mlqa._validation import (
    MIN_RESAMPLES,
    UNSET,
    as_1d,
    check_bound_in_range,
    check_consistent_length,
    check_finite,
    renamed,
)
from mlqa.display import Display
from mlqa.errors import InputError
from mlqa.metrics import confusion
from mlqa.metrics.defined import undefined_reason
from mlqa.metrics.display import ConfusionMatrix, metric_display, with_confusion
from mlqa.metrics.inputs import array_facts, check_metric_inputs, check_same_index
from mlqa.metrics.intervals import ANALYTIC, METHODS, Evaluation, choose, interval
from mlqa.metrics.registry import LABELS, PROBA, SCORES, Metric, metric_range, resolve_metric
from mlqa.metrics.scoring import model_predictions, with_labels
from mlqa.metrics.slices import Slice, make_slices
from mlqa.options import (
    LEVEL,
    NUMBER,
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
    CommonFields,
    FieldReader,
    Outcome,
    decide,
    describe,
    requirement,
    worst,
)

DEFAULT_MIN_SLICE_SIZE = 30

# check_metric's keyword options, declared once: the Python call, the engine call
# (mlqa.metrics.on_engine) and the YAML schema (mlqa.suite.spec) all read this table.
OPTIONS = OptionTable("check_metric", {
    "min": param(NUMBER, None),
    "max": param(NUMBER, None),
    "confidence": param(LEVEL),
    "ci": param(Options("auto", *METHODS), None),
    "n_resamples": param(at_least(MIN_RESAMPLES)),
    "min_slice_size": param(at_least(1)),
    "max_tail_share": param(LEVEL, None),
    "random_state": param(*seeds(), suite=False),
    "greater_is_better": param(Boolean(), None, suite=False),
    "name": param(Text(), None, suite=False),
})


@dataclasses.dataclass(frozen=True)
class MetricResult(CheckResult):
    """A metric check's result. ``ci_method`` names how the interval was made (``wilson``,
    ``exact``, ``delong``, ``multinomial``, ``bootstrap``; None for a point decision).
    ``slices`` maps each slice name to its own result when ``slices=`` was given; the outcome
    is then the worst of the overall result and every slice's."""

    ci_method: str | None = None
    slices: Mapping[str, CheckResult] = dataclasses.field(default_factory=dict)
    confusion: ConfusionMatrix | None = None  # classification on labels: for the report

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "slices", MappingProxyType(dict(self.slices)))

    @classmethod
    def from_fields(cls, fields: FieldReader) -> MetricResult:
        return cls(**cls.base_fields(fields), ci_method=fields.opt_str("ci_method"),
                   slices=fields.results("slices"),
                   confusion=fields.nested("confusion", ConfusionMatrix.from_fields))

    def display(self, *, details: bool = True) -> Display:
        return metric_display(self, details=details)

    def family_properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        if self.ci_method is not None:
            props["ci_method"] = self.ci_method
        if self.slices:
            props["slices"] = len(self.slices)
            for outcome in (Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.ERROR):
                names = [k for k, r in self.slices.items() if r.outcome is outcome]
                if names:
                    props[f"slices_{outcome.value}"] = ", ".join(names)
        return props


@observed
def check_metric(y_true: Any, y_pred: Any = None,
                 metric: str | Callable[..., float] = "accuracy", *,
                 min: float | None = None, max: float | None = None,  # noqa: A002
                 confidence: float = 0.95, ci: str | None = "auto", n_resamples: int = 2000,
                 random_state: Any = 0, sample_weight: Any = None, slices: Any = None,
                 min_slice_size: int = DEFAULT_MIN_SLICE_SIZE, model: Any = None, X: Any = None,
                 greater_is_better: bool | None = None, name: str | None = None,
                 data: Any = None, max_tail_share: float | None = None,
                 seed: Any = UNSET) -> MetricResult:
    """Score ``y_pred`` against ``y_true`` with ``metric`` and hold it to ``min`` and/or ``max``.

    ``metric`` is a scikit-learn scorer name (``"roc_auc"``, ``"f1_macro"``, ``"neg_log_loss"``
    or its plain ``"log_loss"``, aliases ``mae``/``mse``/``rmse``/``mape``) or a callable
    ``f(y_true, y_pred) -> float`` (``greater_is_better`` given or inferred from its name).
    Score metrics (``roc_auc``, ``average_precision``) take a score or probability per row;
    ``log_loss``/``brier_score``/``roc_auc_ovr`` take probabilities. With ``model=`` and
    ``X=`` instead of ``y_pred``, the model's ``predict``/``predict_proba`` supplies them.

    The decision is made on a ``confidence`` interval of the metric: PASS when the whole
    interval meets the requirement, FAIL when it lies wholly on the wrong side, INCONCLUSIVE
    when it straddles. ``ci="auto"`` lets the data choose the interval (Wilson for
    proportions, DeLong or Newcombe's score interval for ROC AUC, a Jeffreys-Dirichlet draw of
    the confusion cells, BCa bootstrap for losses; docs/metrics.md and
    :mod:`mlqa.metrics.intervals` give each formula); ``ci`` may also name one of
    ``"wilson"``, ``"exact"``, ``"delong"``, ``"newcombe"``, ``"dirichlet"``,
    ``"multinomial"``, ``"bootstrap"``, ``"bca"``, or be None for a decision on the point
    estimate. Bootstraps draw ``n_resamples`` resamples seeded by ``random_state`` (``seed=``
    is its deprecated name). For losses, a tail diagnostic refuses to decide (INCONCLUSIVE,
    naming why) when the top 1% of rows carry more than ``max_tail_share`` (default 0.8) of
    the loss or its Hill tail index is below 3 (2.5 under 300 rows): no interval of a mean is
    trustworthy on such tails.

    A metric undefined on the data (no positive rows for recall, F1 or average precision,
    nothing predicted positive for precision, one class for ROC AUC, a constant ``y_true``
    for R^2; :mod:`mlqa.metrics.defined`) is an ERROR naming why, as is a NaN. pandas inputs
    must share one index: rows are matched by position and differently indexed inputs are
    refused (:mod:`mlqa.metrics.inputs`).

    ``slices`` (labels per row, the name of a column of ``X``, a dict of boolean masks, or one
    :class:`~mlqa.metrics.Slice`) adds one result per slice to ``result.slices``; slices with
    fewer than ``min_slice_size`` rows are INCONCLUSIVE with the reason, never dropped.

    ``data=`` is the table the columns are read from (a pandas DataFrame, a pyarrow Table, a
    DuckDB relation, a Spark DataFrame or a Parquet path/glob/folder): ``y_true``/``y_pred``
    (and ``sample_weight``, ``slices``) then name columns of it. An engine table is
    summarised where it lives (``mlqa.metrics.on_engine`` decides from the summaries
    ``mlqa.engines.metrics`` computes there); an in-memory one is read here.

    Every keyword option is declared once in :data:`OPTIONS` (the YAML schema is generated
    from it); a value it refuses is an InputError before any data is read, on every backend.
    """
    random_state = renamed("seed", seed, "random_state", random_state, default=0,
                           where="check_metric")
    OPTIONS.validate(locals())
    from mlqa.engines import on_engine

    if data is not None and on_engine(data):
        from mlqa.metrics.on_engine import check_metric_on_engine

        return check_metric_on_engine(
            y_true, y_pred, metric, data=data, min=min, max=max, confidence=confidence, ci=ci,
            n_resamples=n_resamples, random_state=random_state,
            greater_is_better=greater_is_better, name=name, max_tail_share=max_tail_share,
            sample_weight=sample_weight, slices=slices, model=model, X=X)
    if data is not None:  # an in-memory table: the named columns become the arrays
        from mlqa.tables import memory_columns

        named = {"y_true": y_true, "y_pred": y_pred, "sample_weight": sample_weight,
                 **({"slices": slices} if X is None else {})}
        read = memory_columns(data, named)
        y_true, y_pred, sample_weight = read["y_true"], read["y_pred"], read["sample_weight"]
        slices = read.get("slices", slices)
    resolved = resolve_metric(metric, greater_is_better=greater_is_better)
    _check_bounds(resolved, min, max)
    check_same_index(y_true=y_true, y_pred=y_pred, sample_weight=sample_weight,
                     slices=None if isinstance(slices, str | dict) else slices, X=X)
    classes = None
    if model is not None or X is not None:
        if y_pred is not None:
            raise InputError("pass either y_pred or model= and X=, not both")
        y_pred, classes = model_predictions(resolved, model, X)
        resolved = with_labels(resolved, classes)
    elif y_pred is None:
        raise InputError("y_pred is required (or pass model= and X=)")
    arrays = _validated(resolved, y_true, y_pred, sample_weight)
    ev = _evaluation(resolved, *arrays, classes)
    label = name or resolved.name
    options = {"min": min, "max": max, "confidence": confidence, "ci": ci,
               "n_resamples": n_resamples, "random_state": random_state,
               "max_tail_share": max_tail_share}
    if slices is None:
        return with_confusion(_check(ev, label, **options), ev)
    parts = {s.name: _check_slice(resolved, arrays, classes, s, label, min_slice_size, options)
             for s in make_slices(slices, ev.n, X)}
    if isinstance(slices, Slice):
        return parts[slices.name]
    return _with_slices(with_confusion(_check(ev, label, **options), ev), parts)


def _check(ev: Evaluation, label: str, *, min: float | None, max: float | None,  # noqa: A002
           confidence: float, ci: str | None, n_resamples: int, random_state: Any,
           max_tail_share: float | None) -> MetricResult:
    threshold, comparison = requirement(min, max)
    fields: CommonFields = {"name": label, "check": "metric", "metric": ev.metric.name,
                            "threshold": threshold, "comparison": comparison, "n": ev.n}
    details = {"min": min, "max": max, "greater_is_better": ev.metric.greater_is_better,
               "input": ev.metric.input}
    reason = undefined_reason(ev.metric, ev.y_true, ev.y_pred, ev.labels, ev.weight)
    if reason is not None:
        return undefined_result(fields, details, reason)
    method = None if ci is None else choose(ev, ci)
    # DeLong's AUC is scikit-learn's to 1e-12 (tested): no second sort for the point estimate
    iv = interval(ev, method, confidence, n_resamples, random_state,
                  max_tail_share=max_tail_share) if method in ANALYTIC else None
    if iv is not None and iv.estimate is not None:
        value = iv.estimate
    elif _counts_decide(ev):
        # the formula on the confusion counts is scikit-learn's figure (tests/metrics/
        # test_formulas.py) at a fraction of the cost: one bincount instead of its checks
        assert ev.labels is not None
        cm = confusion.confusion_counts(ev.y_true, ev.y_pred, ev.labels).astype(float)
        value = float(confusion.FORMULAS[ev.metric.name](cm[None], ev.positive())[0])
    else:
        try:
            value = ev.metric(ev.y_true, ev.y_pred, sample_weight=ev.weight)
        except (ValueError, TypeError) as exc:
            raise InputError(f"metric {ev.metric.name!r} could not be computed: {exc}") from None
    fields["value"] = value
    early = point_result(fields, details, min=min, max=max, method=method)
    if early is not None:
        return early
    assert method is not None
    iv = iv or interval(ev, method, confidence, n_resamples, random_state,
                        max_tail_share=max_tail_share)
    details.update(iv.details)
    return interval_result(fields, details, min=min, max=max, method=method,
                           confidence=confidence, bounds=(iv.low, iv.high) if iv.defined
                           else None,
                           reason=iv.details.get("reason", "the interval is undefined"))


def undefined_result(fields: CommonFields, details: dict[str, Any], reason: str
                     ) -> MetricResult:
    """The ERROR of a metric undefined on the data (``mlqa.metrics.defined`` says ``reason``):
    never decided, in memory or on an engine."""
    return MetricResult(outcome=Outcome.ERROR, details={**details, "undefined": reason},
                        message=f"{fields['name']} is undefined on this data: {reason} "
                                f"(n={fields['n']})", **fields)


def point_result(fields: CommonFields, details: dict[str, Any], *, min: float | None,  # noqa: A002
                 max: float | None, method: str | None) -> MetricResult | None:  # noqa: A002
    """The result when no interval decides: ERROR for a metric value that is not finite (an
    undefined metric is never decided), the point decision when ``method`` is None (no
    interval asked for); None when an interval is to decide. One definition for the in-memory
    check and the engines (``mlqa.metrics.on_engine``)."""
    label, value, n = fields["name"], fields["value"], fields["n"]
    assert value is not None
    if not math.isfinite(value):
        return MetricResult(outcome=Outcome.ERROR, details=details,
                            message=f"{label} is undefined on this data (n={n})", **fields)
    if method is None:
        outcome = decide(value, min=min, max=max)
        return MetricResult(outcome=outcome, details=details, **fields, message=describe(
            label, value, min=min, max=max, n=n, outcome=outcome))
    return None


def interval_result(fields: CommonFields, details: dict[str, Any], *,
                    min: float | None, max: float | None,  # noqa: A002
                    method: str, confidence: float, bounds: tuple[float, float] | None,
                    reason: str | None) -> MetricResult:
    """The result decided on the interval ``bounds`` of ``method`` (``decide``: PASS when it
    clears the requirement, FAIL when it misses it, else INCONCLUSIVE); without a finite
    interval INCONCLUSIVE, naming ``reason`` when known. Shared with the engines."""
    label, value, n = fields["name"], fields["value"], fields["n"]
    assert value is not None
    if bounds is None or not (math.isfinite(bounds[0]) and math.isfinite(bounds[1])):
        why = f" ({reason})" if reason is not None else ""
        return MetricResult(
            outcome=Outcome.INCONCLUSIVE, details=details, ci_method=method,
            confidence=confidence, **fields,
            message=f"{describe(label, value, min=min, max=max, n=n)}: no {method} "
                    f"interval{why}, not decided")
    outcome = decide(value, min=min, max=max, ci=bounds)
    return MetricResult(outcome=outcome, details=details, ci=bounds, confidence=confidence,
                        ci_method=method, **fields, message=describe(
                            label, value, min=min, max=max, ci=bounds, confidence=confidence,
                            n=n, outcome=outcome))


def _counts_decide(ev: Evaluation) -> bool:
    from mlqa.metrics.registry import METRICS

    known = METRICS.get(ev.metric.name)
    return ev.metric.name in confusion.FORMULAS and known is not None and \
        known.func is ev.metric.func and ev.weight is None and ev.labels is not None and \
        ("_" in ev.metric.name or ev.metric.name == "accuracy" or
         (ev.positive() is not None and len(ev.labels) <= 2))  # else scikit-learn's own error


def _check_slice(metric: Metric, arrays: tuple, classes: np.ndarray | None, part: Slice,
                 label: str, min_slice_size: int, options: dict[str, Any]) -> MetricResult:
    name = f"{label}[{part.name}]"
    rows = int(part.mask.sum())
    y_true, y_pred, weight = arrays
    sub = (y_true[part.mask], y_pred[part.mask], None if weight is None else weight[part.mask])
    try:
        ev = _evaluation(metric, *sub, classes) if rows else None
        undefined = ev is not None and \
            undefined_reason(metric, ev.y_true, ev.y_pred, ev.labels, ev.weight) is not None
        if rows < min_slice_size and not undefined:
            # too few rows to decide; a slice lacking the class it needs is an ERROR whatever
            # its size (below), never a quiet INCONCLUSIVE
            value = _point_or_none(metric, sub)
            threshold, comparison = requirement(options["min"], options["max"])
            return MetricResult(
                name=name, outcome=Outcome.INCONCLUSIVE, check="metric", metric=metric.name,
                value=value, threshold=threshold, comparison=comparison, n=rows,
                details={"slice": part.name, "min_slice_size": min_slice_size},
                message=f"{describe(name, value, min=options['min'], max=options['max'], n=rows)}"
                        f": slice has {rows} rows < min_slice_size {min_slice_size}, not decided")
        assert ev is not None
        result = _check(ev, name, **options)
        return result.replace(details={**result.details, "slice": part.name})
    except InputError as exc:
        return MetricResult(name=name, outcome=Outcome.ERROR, check="metric", metric=metric.name,
                            n=rows, details={"slice": part.name},
                            message=f"{name} could not be evaluated: {exc}")


def _point_or_none(metric: Metric, arrays: tuple) -> float | None:
    y_true, y_pred, weight = arrays
    if len(y_true) == 0:
        return None
    try:
        value = metric(y_true, y_pred, sample_weight=weight)
    except (ValueError, TypeError):
        return None
    return value if math.isfinite(value) else None


def _with_slices(overall: MetricResult, parts: dict[str, MetricResult]) -> MetricResult:
    outcome = worst([overall.outcome, *(r.outcome for r in parts.values())])
    counts = {o: sum(r.outcome is o for r in parts.values()) for o in Outcome}
    tally = ", ".join(f"{c} {o.value}" for o, c in counts.items() if c)
    bad = [r.message for r in parts.values() if r.outcome is not Outcome.PASS]
    text = f"{overall.message}; slices: {tally}"
    if bad:
        text += " - " + "; ".join(bad)
    return dataclasses.replace(overall, outcome=outcome, message=text, slices=parts)


def _check_bounds(metric: Metric, min: Any, max: Any) -> None:  # noqa: A002
    if min is None and max is None:
        raise InputError("check_metric needs a requirement: pass min= and/or max=")
    low, high = metric_range(metric)
    what = f"{metric.name}"
    for label, bound in (("min", min), ("max", max)):
        check_bound_in_range(label, bound, low=low, high=high, what=what)
    if min is not None and max is not None and min > max:
        raise InputError(f"min ({min}) is greater than max ({max})")


def _validated(metric: Metric, y_true: Any, y_pred: Any, sample_weight: Any
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    y_true_arr = as_1d("y_true", y_true)
    y_pred_arr = as_1d("y_pred", y_pred, allow_2d=metric.input != LABELS)
    weight = None if sample_weight is None else as_1d("sample_weight", sample_weight)
    check_consistent_length(y_true=y_true_arr, y_pred=y_pred_arr, sample_weight=weight)
    # the rules every backend applies (an engine takes the same facts from one query)
    check_metric_inputs(metric, array_facts("y_true", y_true_arr),
                        array_facts("y_pred", y_pred_arr))
    if weight is not None:
        if weight.dtype.kind not in "biuf":
            raise InputError(f"sample_weight must be numeric, got dtype {weight.dtype}")
        weight = weight.astype(float)
        check_finite("sample_weight", weight)
        if (weight < 0).any():
            raise InputError("sample_weight has negative values")
    return y_true_arr, y_pred_arr, weight


def _evaluation(metric: Metric, y_true: np.ndarray, y_pred: np.ndarray,
                weight: np.ndarray | None, classes: np.ndarray | None) -> Evaluation:
    """Validated arrays plus the checks that depend on the kind of metric."""
    labels = classes
    if metric.input in (SCORES, PROBA):
        present = _unique("y_true", y_true)
        if classes is not None:
            unseen = np.setdiff1d(present, classes)
            if len(unseen):
                raise InputError(f"y_true has label(s) {unseen[:5].tolist()} the model never "
                                 f"saw in training (model classes: {classes[:10].tolist()})")
        else:
            labels = present
            if y_pred.ndim == 1 and present.dtype.kind in "biuf" and \
                    bool(np.isin(present, (0, 1)).all()):
                # one probability per row is class 1's: the classes are 0 and 1 even where a
                # sample holds only one of them (log loss and Brier stay defined there)
                labels = np.array([0, 1], dtype=present.dtype)
                if metric.input == PROBA:
                    metric = with_labels(metric, labels)
        _check_scores(metric, y_true, y_pred, present,
                      present if labels is None else labels)
    elif classes is None and metric.name in confusion.FORMULAS:
        labels = _unique("y_true and y_pred", np.concatenate([y_true, y_pred]))
    elif classes is not None:
        unseen = np.setdiff1d(_unique("y_true", y_true), classes)
        if len(unseen):
            raise InputError(f"y_true has label(s) {unseen[:5].tolist()} the model never "
                             f"saw in training (model classes: {classes[:10].tolist()})")
    return Evaluation(metric, y_true, y_pred, weight, labels)


def _check_scores(metric: Metric, y_true: np.ndarray, y_pred: np.ndarray, present: np.ndarray,
                  labels: np.ndarray) -> None:
    if metric.name.startswith("roc_auc") and len(present) < 2:
        return  # undefined, not malformed: the check reports it as an ERROR (metrics.defined)
    if y_pred.ndim == 1:
        if len(present) > 2 and metric.input == SCORES:
            raise InputError(f"y_true has {len(present)} classes but y_pred one score per row; "
                             f"for multiclass pass class probabilities to {metric.name}_ovr")
        return
    if y_pred.shape[1] != len(labels):
        raise InputError(f"y_pred has {y_pred.shape[1]} probability columns but there are "
                         f"{len(labels)} classes ({labels[:10].tolist()})")
    if metric.input == PROBA:
        sums = y_pred.sum(axis=1)
        off = np.abs(sums - 1) > 1e-5
        if off.any():
            first = int(np.argmax(off))
            raise InputError(f"y_pred rows must be probabilities summing to 1 for "
                             f"{metric.name}; {int(off.sum())} row(s) do not, first at row "
                             f"{first} (sum {sums[first]:.6g})")


def _unique(label: str, values: np.ndarray) -> np.ndarray:
    try:
        return np.unique(values)
    except TypeError:
        raise InputError(f"{label} mixes label types that cannot be compared "
                         f"(e.g. strings and numbers)") from None
