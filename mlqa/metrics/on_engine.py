"""``check_metric`` where the data lives: ``y_true`` and ``y_pred`` name columns of ``data``
(a DuckDB relation, a Spark DataFrame or a Parquet path/glob/folder).

Written as validate → pick backend → summarise → decide. The engine
(:mod:`mlqa.engines.metrics`) only counts; every decision is the in-memory check's own
function, called on the summaries:

* the input rules (:func:`mlqa.metrics.inputs.check_metric_inputs`) on each column's facts;
* the interval method (:func:`mlqa.metrics.intervals.choose`, among the methods a summary
  gives: ``FROM_CELLS``, ``FROM_PLACEMENTS``, ``FROM_MOMENTS``), so ``ci="auto"`` picks what
  memory picks wherever the summary supports it, and ``ci_method`` names it alike;
* "undefined → ERROR" (:func:`mlqa.metrics.defined.confusion_undefined` on the cells), "too
  few rows of a class" (``too_few_rows``) and the loss tail rule (``tail_from_largest``);
* the intervals: Wilson/Clopper-Pearson on the cells' proportion, the Dirichlet or
  multinomial draw over the cells (same seed, same figures), Newcombe or DeLong for ROC AUC
  (DeLong's covariance from summed placements, :func:`mlqa.stats.delong.covariance_from_sums`),
  the influence interval of a mean loss from its moments (``moments_interval``). A row
  bootstrap needs the rows, so losses take the influence interval at any n.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from mlqa.engines import engine_for, kind_of
from mlqa.engines import metrics as summaries
from mlqa.engines.base import STRING, Engine, Table
from mlqa.engines.failures import stage
from mlqa.errors import InputError
from mlqa.metrics import confusion
from mlqa.metrics.check import (
    MetricResult,
    _check_bounds,
    interval_result,
    point_result,
    undefined_result,
)
from mlqa.metrics.defined import confusion_undefined, positive_index, single_class
from mlqa.metrics.inputs import NUMBERS, STRINGS, ColumnFacts, check_metric_inputs
from mlqa.metrics.intervals import (
    Interval,
    Shape,
    binary_auc_interval,
    choose,
    confusion_interval,
    moments_interval,
    proportion_cells_interval,
    refused,
    tail_from_largest,
    too_few_rows,
)
from mlqa.metrics.registry import (
    POSITIVE,
    PREDICTED_POSITIVE,
    Metric,
    resolve_metric,
)
from mlqa.result import CommonFields, requirement
from mlqa.stats.delong import covariance_from_sums
from mlqa.stats.small_sample import tail_rows

# the interval methods each engine summary gives
FROM_CELLS = frozenset({"wilson", "exact", "dirichlet", "multinomial"})
FROM_PLACEMENTS = frozenset({"newcombe", "delong"})
FROM_MOMENTS = frozenset({"influence"})
_ON_ENGINE = " on an engine"


@dataclasses.dataclass(frozen=True)
class _Found:
    """What a summary gave: the metric's value on ``n`` rows and, when an interval was asked
    for, its ``method`` and interval (``iv``), or why the metric is ``undefined``."""

    value: float = math.nan
    n: int = 0
    method: str | None = None
    iv: Interval | None = None
    undefined: str | None = None


def engine_metric(metric: Any, greater_is_better: bool | None) -> Metric:
    """The registry metric ``metric`` names; a callable needs the rows in memory."""
    if not isinstance(metric, str):
        raise InputError("a callable metric needs the rows in memory; on an engine name a "
                         "built-in metric")
    return resolve_metric(metric, greater_is_better=greater_is_better)


def open_columns(data: Any, metric: Metric, named: dict[str, Any]) -> tuple[Engine, Table]:
    """The engine and table of ``data``, its columns ``named`` (argument -> column) checked
    by the in-memory input rules on the facts one query counts (NULLs, NaN/infinities,
    min/max; the label kinds from the schema)."""
    if data is None:
        raise InputError("on an engine, pass the table as data= and name its columns in "
                         "y_true/y_pred")
    for c in named.values():
        if not isinstance(c, str):
            raise InputError(f"with data=, y_true/y_pred/baseline_pred name columns of it; "
                             f"got {type(c).__name__}")
    if kind_of(data) is None:
        raise InputError("data= must be a DuckDB relation, a Spark DataFrame or a Parquet "
                         "path/glob/folder (Parquet needs pip install 'mlqa[duckdb]'); for "
                         "in-memory data pass the arrays as y_true/y_pred")
    engine = engine_for(data, label="data")
    table = engine.table(data, "data")
    table.require(list(named.values()), "y_true/y_pred")
    n, found = summaries.column_summaries(engine, table, list(named.values()))
    if n == 0:
        raise InputError("data has no rows")
    y_true, *predictions = (_facts(arg, s) for arg, s in zip(named, found, strict=True))
    check_metric_inputs(metric, y_true, *predictions)
    return engine, table


def _facts(arg: str, s: summaries.ColumnSummary) -> ColumnFacts:
    kind = NUMBERS if s.numeric else STRINGS if s.type == STRING else None
    return ColumnFacts(f"{arg} (column {s.column!r})", kind, s.numeric, s.type, s.missing,
                       s.non_finite, s.low, s.high)


def binary_target(engine: Engine, table: Table, y: str, metric: str) -> list[Any]:
    """The two labels of a binary target column, sorted (the positive class is the larger,
    as scikit-learn takes it); a single one is returned for the caller's undefined rule."""
    present = summaries.distinct_values(engine, table, y, 3)
    if len(present) > 2:
        raise InputError(f"{metric} on an engine needs a binary target; {y!r} has more than "
                         f"2 distinct values (multiclass needs the rows in memory)")
    return present


def check_metric_on_engine(y_true: Any, y_pred: Any, metric: Any, **options: Any
                           ) -> MetricResult:
    """``check_metric`` with ``y_true``/``y_pred`` naming columns of ``data`` in an engine;
    an engine failure names this check as its stage (:mod:`mlqa.engines.failures`)."""
    with stage(f"check_metric {metric!r} on {y_true!r}/{y_pred!r}"):
        return _on_engine(y_true, y_pred, metric, **options)


def _on_engine(y_true: Any, y_pred: Any, metric: Any, *, data: Any,
               min: float | None, max: float | None,  # noqa: A002
               confidence: float = 0.95, ci: str | None = "auto", n_resamples: int = 2000,
               random_state: Any = 0, greater_is_better: bool | None = None,
               name: str | None = None, max_tail_share: float | None = None,
               **unsupported: Any) -> MetricResult:
    given = [k for k, v in unsupported.items() if v is not None]
    if given:
        raise InputError(f"{', '.join(given)} need the rows in memory; not available with "
                         f"data= on an engine")
    resolved = engine_metric(metric, greater_is_better)
    _check_bounds(resolved, min, max)  # the options were validated by check_metric's table
    engine, table = open_columns(data, resolved, {"y_true": y_true, "y_pred": y_pred})
    options = {"ci": ci, "confidence": confidence, "n_resamples": n_resamples,
               "random_state": random_state, "max_tail_share": max_tail_share}
    mname = resolved.name
    if mname in confusion.FORMULAS:
        found = _from_cells(engine, table, resolved, y_true, y_pred, **options)
    elif mname == "roc_auc":
        found = _from_placements(engine, table, resolved, y_true, y_pred, **options)
    elif mname in summaries.LOSSES:
        found = _from_moments(engine, table, resolved, y_true, y_pred, **options)
    else:
        raise InputError(f"metric {mname!r} is not available on an engine; available: "
                         f"{sorted(confusion.FORMULAS) + ['roc_auc', *summaries.LOSSES]}")
    threshold, comparison = requirement(min, max)
    fields: CommonFields = {"name": name or mname, "check": "metric", "metric": mname,
                            "threshold": threshold, "comparison": comparison, "n": found.n}
    details: dict[str, Any] = {"min": min, "max": max, "engine": engine.name,
                               "greater_is_better": resolved.greater_is_better,
                               "input": resolved.input}
    if found.undefined is not None:
        return undefined_result(fields, details, found.undefined)
    fields["value"] = found.value
    early = point_result(fields, details, min=min, max=max, method=found.method)
    if early is not None:
        return early
    assert found.method is not None and found.iv is not None
    details.update(found.iv.details)
    return interval_result(fields, details, min=min, max=max, method=found.method,
                           confidence=confidence,
                           bounds=(found.iv.low, found.iv.high) if found.iv.defined else None,
                           reason=found.iv.details.get("reason", "the interval is undefined"))


def _from_cells(engine: Engine, table: Table, metric: Metric, y_true: str, y_pred: str, *,
                ci: str | None, confidence: float, n_resamples: int, random_state: Any,
                max_tail_share: float | None) -> _Found:
    """A confusion-matrix metric from the cells ``COUNT(*) GROUP BY y_true, y_pred``."""
    name = metric.name
    labels, cm = summaries.confusion_cells(engine, table, [y_true, y_pred])
    n = int(cm.sum())
    undefined = confusion_undefined(name, cm, labels)
    if undefined is not None:  # the in-memory ERROR, naming why
        return _Found(n=n, undefined=undefined)
    pos = positive_index(labels)
    if pos is None and metric.needs_rows in (POSITIVE, PREDICTED_POSITIVE):
        # a binary metric of the positive class (label 1), which these labels lack
        raise InputError(f"{name} is the positive class's (label 1); the labels are "
                         f"{labels[:10].tolist()}")
    value = float(confusion.FORMULAS[name](cm[None].astype(float), pos)[0])
    if ci is None:
        return _Found(value, n)
    method = choose(Shape(name, True, False, n, pos, len(labels),
                          proportion=metric.proportion), ci, among=FROM_CELLS,
                    where=_ON_ENGINE)
    # the in-memory rule on too few rows of a needed class, from the cells' sums
    few = too_few_rows(metric, cm.sum(axis=1), pos,
                       predicted_positive=None if pos is None else int(cm[:, pos].sum()))
    if few is not None:
        iv = refused(method, few)
    elif method in ("wilson", "exact"):
        iv = proportion_cells_interval(metric, cm, pos, method, confidence)
    else:
        iv = confusion_interval(name, cm, labels, confidence=confidence,
                                n_resamples=n_resamples, random_state=random_state,
                                method=method)
    return _Found(value, n, method, iv)


def _from_placements(engine: Engine, table: Table, metric: Metric, y_true: str, y_pred: str,
                     *,
                     ci: str | None, confidence: float, n_resamples: int, random_state: Any,
                     max_tail_share: float | None) -> _Found:
    """Binary ROC AUC from DeLong's placements summed in the engine."""
    present = binary_target(engine, table, y_true, "roc_auc")
    if len(present) < 2:
        return _Found(n=summaries.row_count(engine, table), undefined=single_class(present))
    sums = summaries.placement_sums(engine, table, y_true, [y_pred], present[1])
    m, negatives = sums.positives, sums.negatives
    n = m + negatives
    value = float(sums.v10[0] / m)
    if ci is None:
        return _Found(value, n)
    shape = Shape("roc_auc", True, False, n, positive_index(np.asarray(present)), 2,
                  minority=min(m, negatives))
    method = choose(shape, ci, among=FROM_PLACEMENTS, where=_ON_ENGINE)
    few = too_few_rows(metric, (negatives, m), 1)
    if few is not None:
        return _Found(value, n, method, refused(method, few))
    variance = float(covariance_from_sums(m, negatives, sums.v10, sums.v10_cross,
                                          sums.v01_cross)[1][0, 0])
    return _Found(value, n, method,
                  binary_auc_interval(value, variance, m, negatives, method, confidence))


def _from_moments(engine: Engine, table: Table, metric: Metric, y_true: str, y_pred: str, *,
                  ci: str | None, confidence: float, n_resamples: int, random_state: Any,
                  max_tail_share: float | None) -> _Found:
    """A mean loss from the per-row loss's moments and its largest rows."""
    name = metric.name
    positive, positives = None, 0
    if name in summaries.CLASS_LOSSES:
        present = binary_target(engine, table, y_true, name)
        if len(present) < 2:
            raise InputError(f"{name} on an engine needs a binary target; {y_true!r} has a "
                             f"single value")
        positive = present[1]
    loss = summaries.loss_expression(engine, name, y_true, y_pred, positive)
    n, mean, variance = summaries.loss_moments(engine, table, loss)
    value = math.sqrt(mean) if name == "root_mean_squared_error" else mean
    if ci is None:
        return _Found(value, n)
    method = choose(Shape(name, True, False, n, None, None), ci, among=FROM_MOMENTS,
                    where=_ON_ENGINE)
    if positive is not None:  # log loss, Brier: both classes' rows
        positives = summaries.count_equal(engine, table, y_true, positive)
    few = None if positive is None else too_few_rows(metric, (n - positives, positives), 1)
    if few is not None:
        return _Found(value, n, method, refused(method, few))
    details: dict[str, Any] = {}
    heavy = tail_from_largest(metric, n, summaries.largest(engine, table, loss, tail_rows(n)),
                              mean, variance, max_tail_share, details)
    if heavy is not None:
        return _Found(value, n, method, refused(method, heavy, **details))
    iv = moments_interval(name, n, mean, variance, confidence)
    return _Found(value, n, method, dataclasses.replace(iv, details={**details, **iv.details}))
