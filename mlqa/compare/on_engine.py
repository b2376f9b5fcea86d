"""``check_regression`` where the data lives: ``y_true``, ``candidate_pred`` and
``baseline_pred`` name columns of ``data`` (a DuckDB relation, a Spark DataFrame or a Parquet
path/glob/folder).

Validate → pick backend → summarise → decide, as :mod:`mlqa.metrics.on_engine`. The engine
(:mod:`mlqa.engines.metrics`) sends the paired table (McNemar), the joint confusion cells
(true, candidate, baseline), both scorers' summed DeLong placements, or the paired loss
moments; the decision is the in-memory check's: the test choice (``choose_test``), "undefined
→ ERROR" on each model's cells, McNemar from the table (``mcnemar_from_table``), the paired
multinomial draw over the joint cells (``joint_replicates``, ``from_replicates``), DeLong's
test from the covariance (``delong_from_covariance``), the flip counts (``flip_counts``) and
the result (``regression_result``).

Where memory resamples rows (the paired bootstrap of a loss), an engine has no rows to
resample: the mean loss difference takes its normal interval (``paired_normal``) under
``test="auto"``, and an explicit ``test="bootstrap"`` is refused.
"""

from __future__ import annotations

import math
from typing import Any

from mlqa.compare import paired
from mlqa.compare.check import (
    RegressionResult,
    _bounds,
    _RegressionFields,
    choose_test,
    either_undefined,
    flip_counts,
    has_flips,
    regression_result,
    undefined_result,
)
from mlqa.engines import metrics as summaries
from mlqa.engines.base import Engine, Table
from mlqa.engines.failures import stage
from mlqa.errors import InputError
from mlqa.metrics import confusion
from mlqa.metrics.defined import confusion_undefined, single_class
from mlqa.metrics.on_engine import binary_target, engine_metric, open_columns
from mlqa.metrics.registry import POSITIVE, PREDICTED_POSITIVE, Metric
from mlqa.result import requirement
from mlqa.stats.delong import covariance_from_sums


def check_regression_on_engine(y_true: Any, candidate_pred: Any, baseline_pred: Any,
                               metric: Any, **options: Any) -> RegressionResult:
    """``check_regression`` with the three arguments naming columns of ``data``; an engine
    failure names this check as its stage."""
    with stage(f"check_regression {metric!r} on {candidate_pred!r} vs {baseline_pred!r}"):
        return _on_engine(y_true, candidate_pred, baseline_pred, metric, **options)


def _on_engine(y_true: Any, candidate_pred: Any, baseline_pred: Any, metric: Any, *,
               data: Any, max_drop: float | None = None, min_gain: float | None = None,
               max_gain: float | None = None, relative: bool = False,
               confidence: float = 0.95, test: str = "auto",
               max_negative_flip_rate: float | None = None, n_resamples: int = 2000,
               random_state: Any = 0, greater_is_better: bool | None = None,
               name: str | None = None) -> RegressionResult:
    resolved = engine_metric(metric, greater_is_better)
    # the options were validated by check_regression's table before it chose this backend
    lower, upper = _bounds(resolved.greater_is_better, max_drop, min_gain, max_gain)
    engine, table = open_columns(data, resolved, {"y_true": y_true,
                                                  "candidate_pred": candidate_pred,
                                                  "baseline_pred": baseline_pred})
    columns = (y_true, candidate_pred, baseline_pred)
    threshold, comparison = requirement(lower, upper)
    common: _RegressionFields = {
        "name": name or f"{resolved.name} vs baseline", "check": "regression",
        "metric": resolved.name, "n": None,
        "confidence": confidence, "threshold": threshold, "comparison": comparison,
        "margin_low": lower, "margin_high": upper, "relative": relative}
    details: dict[str, Any] = {"relative": relative, "max_drop": max_drop, "min_gain": min_gain,
                               "max_gain": max_gain, "min": lower, "max": upper,
                               "greater_is_better": resolved.greater_is_better,
                               "engine": engine.name}
    present = binary_target(engine, table, y_true, resolved.name) \
        if resolved.name in ("roc_auc", *summaries.CLASS_LOSSES) else None
    if present is not None and len(present) < 2:
        if resolved.name != "roc_auc":
            raise InputError(f"{resolved.name} on an engine needs a binary target; "
                             f"{y_true!r} has a single value")
        common["n"] = summaries.row_count(engine, table)
        return undefined_result(common, details, single_class(present))
    chosen = choose_test(test, resolved, binary_auc=present is not None and len(present) == 2)
    options = {"confidence": confidence, "relative": relative, "n_resamples": n_resamples,
               "random_state": random_state}
    # the paired table: McNemar's test and the flip counts
    both = summaries.paired_table(engine, table, *columns) \
        if chosen == "mcnemar" or has_flips(resolved) else None
    common["n"] = sum(both) if both is not None else summaries.row_count(engine, table)
    if chosen == "mcnemar":
        assert both is not None
        diff = paired.mcnemar_from_table(*both, **options)
    elif chosen == "delong":
        assert present is not None
        sums = summaries.placement_sums(engine, table, y_true, [candidate_pred, baseline_pred],
                                        present[1])
        aucs, cov = covariance_from_sums(sums.positives, sums.negatives, sums.v10,
                                         sums.v10_cross, sums.v01_cross)
        diff = paired.delong_from_covariance(aucs, cov, confidence, relative=relative)
    elif resolved.name in confusion.FORMULAS:
        found = _joint_bootstrap(engine, table, resolved, columns, **options)
        if isinstance(found, str):
            return undefined_result(common, details, found)
        diff = found
    elif resolved.name in summaries.LOSSES and test == "auto" and not relative:
        diff = _paired_normal(engine, table, resolved.name, columns,
                              None if present is None else present[-1], confidence)
    else:
        raise InputError(f"metric {resolved.name!r} with test={test!r}"
                         f"{' relative' if relative else ''} is not available on an engine "
                         f"(a paired bootstrap of {resolved.name} needs the rows in memory)")
    flips = {} if both is None or not has_flips(resolved) else \
        flip_counts(both[1], both[2], sum(both))
    return regression_result(common, details, diff, flips,
                             max_negative_flip_rate=max_negative_flip_rate)


def _joint_bootstrap(engine: Engine, table: Table, metric: Metric, columns: tuple[str, ...],
                     *, confidence: float, relative: bool, n_resamples: int,
                     random_state: Any) -> paired.PairedDifference | str:
    """The paired bootstrap of a confusion-matrix metric from the joint cells (true,
    candidate, baseline), or why the metric is undefined for either model."""
    labels, cells = summaries.confusion_cells(engine, table, list(columns))
    undefined = either_undefined({
        "candidate_pred": confusion_undefined(metric.name, cells.sum(axis=2), labels),
        "baseline_pred": confusion_undefined(metric.name, cells.sum(axis=1), labels)})
    if undefined is not None:
        return undefined
    replicates = paired.joint_replicates(metric.name, cells, labels, n_resamples,
                                         paired._int_seed(random_state))
    if replicates is None:
        # labels without 1: a binary metric has no positive class; the in-memory path
        # resamples rows for the others, which an engine does not send
        why = f"{metric.name} is the positive class's (label 1)" \
            if metric.needs_rows in (POSITIVE, PREDICTED_POSITIVE) else \
            f"the paired bootstrap of {metric.name} on these labels needs the rows in memory"
        raise InputError(f"{why}; the labels are {labels[:10].tolist()}")
    candidate, baseline = paired.joint_values(metric.name, cells, labels)
    return paired.from_replicates(candidate, baseline, *replicates, confidence,
                                  relative=relative)


def _paired_normal(engine: Engine, table: Table, name: str, columns: tuple[str, ...],
                   positive: Any, confidence: float) -> paired.PairedDifference:
    """The mean loss difference's normal interval from the paired loss moments (RMSE by the
    delta method on ``sqrt``)."""
    y, candidate, baseline = columns
    lc, lb = (summaries.loss_expression(engine, name, y, p, positive)
              for p in (candidate, baseline))
    n, mc, mb, md, vd = summaries.paired_loss_moments(engine, table, lc, lb)
    se = math.sqrt(vd / n)
    if name == "root_mean_squared_error":
        cand, base = math.sqrt(mc), math.sqrt(mb)
        # var(d sqrt) ~ var of the mean difference / (2 sqrt(m))^2 with m their average
        se = se / (2 * math.sqrt((mc + mb) / 2)) if mc + mb > 0 else math.inf
        return paired.normal_difference(cand, base, cand - base, se, confidence,
                                        "paired_normal")
    return paired.normal_difference(mc, mb, md, se, confidence, "paired_normal")
