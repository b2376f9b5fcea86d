"""``check_metric`` and ``check_regression`` where the data lives: ``y_true``, ``y_pred``
(and ``baseline_pred``) name columns of ``data`` (a DuckDB relation, a Spark DataFrame or a
Parquet path/glob/folder).

Only mergeable state leaves the engine:

* confusion-matrix metrics: the cells ``COUNT(*) GROUP BY y_true, y_pred``; the value is the
  metric's formula on them and the interval is the in-memory one (Wilson/Clopper-Pearson on
  k / n, or the multinomial draw over the cells with the same seed), so both equal the
  in-memory result;
* binary ROC AUC: DeLong's placements per distinct score (one ``GROUP BY`` and one window):
  ``V10`` of a score is (negatives below + half the tied ones) / negatives, ``V01`` (positives
  above + half the tied) / positives; the AUC is ``sum pos V10 / m`` and its variance
  ``sum pos (V10 - AUC)^2 / (m (m-1)) + sum neg (V01 - AUC)^2 / (n (n-1))``;
* mean losses (MAE, MSE, RMSE, log loss, Brier): ``n``, ``sum loss``, ``sum loss^2``; the value
  is the in-memory one and the interval the in-memory ``influence`` one (the normal interval
  on the mean; RMSE by the delta method), because a row bootstrap needs the rows; the
  in-memory tail rule runs on the largest ``tail_rows(n)`` losses and the moments, and the
  in-memory "too few rows of a class" rule on the class or cell counts, each refusing with
  the same reason;
* the paired regression: the joint cells (y, candidate, baseline) for confusion metrics (the
  in-memory paired multinomial draw), McNemar's table for accuracy, the mean and variance of
  the paired loss differences for losses, and DeLong's paired covariance from both models'
  placements joined back to the rows for ROC AUC.
"""

from __future__ import annotations

import builtins
import math
from statistics import NormalDist
from typing import Any

import numpy as np

from mlqa.engines import engine_for
from mlqa.engines.base import BOOLEAN, DOUBLE, INTEGER, STRING, Engine, Table, literal
from mlqa.engines.failures import stage
from mlqa.errors import InputError
from mlqa.metrics import confusion
from mlqa.metrics.inputs import NUMBERS, STRINGS, ColumnFacts, check_metric_inputs
from mlqa.metrics.registry import LABELS, Metric, resolve_metric
from mlqa.result import CommonFields, Outcome, requirement

PROPORTIONS = {"accuracy", "precision", "recall", "precision_micro", "recall_micro",
               "f1_micro"}
_EPS = float(np.finfo(np.float64).eps)
LOSSES = ("mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "log_loss",
          "brier_score")


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _open(data: Any, metric: Metric, named: dict[str, Any]) -> tuple[Engine, Table]:
    """The engine and table of ``data``, its columns ``named`` (argument -> column) checked
    by the in-memory input rules (:func:`mlqa.metrics.inputs.check_metric_inputs`) on facts
    one query counts: NULLs, NaN/infinities, min/max, and the label kinds from the schema."""
    if data is None:
        raise InputError("on an engine, pass the table as data= and name its columns in "
                         "y_true/y_pred")
    for c in named.values():
        if not isinstance(c, str):
            raise InputError(f"with data=, y_true/y_pred/baseline_pred name columns of it; "
                             f"got {type(c).__name__}")
    from mlqa.engines import kind_of

    if kind_of(data) is None:
        raise InputError("data= must be a DuckDB relation, a Spark DataFrame or a Parquet "
                         "path/glob/folder (Parquet needs pip install 'mlqa[duckdb]'); for "
                         "in-memory data pass the arrays as y_true/y_pred")
    engine = engine_for(data, label="data")
    table = engine.table(data, "data")
    table.require(list(named.values()), "y_true/y_pred")
    n, facts = column_facts(engine, table, named)
    if n == 0:
        raise InputError("data has no rows")
    y_true, *predictions = facts
    check_metric_inputs(metric, y_true, *predictions)
    return engine, table


def column_facts(engine: Engine, table: Table, named: dict[str, str]
                 ) -> tuple[int, list[ColumnFacts]]:
    """(rows, the :class:`ColumnFacts` of each named column), from one scan."""
    parts, layout = ["COUNT(*)"], []
    for column in named.values():
        c, t = engine.quote(column), table.types[column]
        parts.append(f"SUM(CASE WHEN {c} IS NULL THEN 1 ELSE 0 END)")
        if t == DOUBLE:
            # NaN equals NaN in both engines' SQL (and sorts above +inf), so IN finds it
            bad = ", ".join(literal(v) for v in (math.nan, math.inf, -math.inf))
            parts.append(f"SUM(CASE WHEN {c} IN ({bad}) THEN 1 ELSE 0 END)")
            finite = f"CASE WHEN {c} NOT IN ({bad}) THEN {c} END"
            parts += [f"MIN({finite})", f"MAX({finite})"]
        elif t in (INTEGER, BOOLEAN):
            number = f"CAST({c} AS DOUBLE)"
            parts += ["0", f"MIN({number})", f"MAX({number})"]
        else:
            parts += ["0", "NULL", "NULL"]
        layout.append(t)
    row = engine.one(f"SELECT {', '.join(parts)} FROM {table.source}")
    facts = []
    for k, ((arg, column), t) in enumerate(zip(named.items(), layout, strict=True)):
        missing, non_finite, low, high = row[1 + 4 * k: 5 + 4 * k]
        numeric = t in (DOUBLE, INTEGER, BOOLEAN)
        facts.append(ColumnFacts(
            f"{arg} (column {column!r})", NUMBERS if numeric else STRINGS if t == STRING
            else None, numeric, t, int(missing or 0), int(non_finite or 0),
            None if low is None else float(low), None if high is None else float(high)))
    return int(row[0]), facts


def _metric(metric: Any, **kw: Any) -> Metric:
    if not isinstance(metric, str):
        raise InputError("a callable metric needs the rows in memory; on an engine name a "
                         "built-in metric")
    return resolve_metric(metric, **kw)


def _cells(engine: Engine, table: Table, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(labels, counts over the label grid of ``columns``): the confusion cells."""
    q = [engine.quote(c) for c in columns]
    got = engine.rows(f"SELECT {', '.join(q)}, COUNT(*) FROM {table.source} "
                      f"GROUP BY {', '.join(q)}")
    try:
        labels = np.unique(np.array([v for r in got for v in r[:-1]]))
    except TypeError:
        raise InputError("the label columns mix label types that cannot be compared") \
            from None
    k = len(labels)
    cells = np.zeros((k,) * len(columns), dtype=np.int64)
    for r in got:
        cells[tuple(int(np.searchsorted(labels, v)) for v in r[:-1])] += int(r[-1])
    return labels, cells


def _positive(labels: np.ndarray) -> int | None:
    hits: Any = np.flatnonzero(labels == 1) if labels.dtype.kind in "biuf" else []
    return int(hits[0]) if len(hits) else None


def _binary(engine: Engine, table: Table, y: str) -> tuple[Any, Any]:
    got = sorted(r[0] for r in engine.rows(
        f"SELECT DISTINCT {engine.quote(y)} FROM {table.source}"))
    if len(got) != 2:
        raise InputError(f"roc_auc on an engine needs a binary target; {y!r} has "
                         f"{len(got)} distinct values")
    return got[0], got[1]


def _placements(engine: Engine, table: Table, y: str, score: str, positive: Any) -> str:
    """SQL of the per-distinct-score DeLong components (s, pos, neg, v10, v01)."""
    ys, sc = engine.quote(y), engine.quote(score)
    order = "ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    return f"""
SELECT s, pos, neg,
  (SUM(neg) OVER ({order}) - neg / 2) / SUM(neg) OVER () AS v10,
  (SUM(pos) OVER () - SUM(pos) OVER ({order}) + pos / 2) / SUM(pos) OVER () AS v01
FROM (SELECT CAST({sc} AS DOUBLE) AS s,
        CAST(SUM(CASE WHEN {ys} = {literal(positive)} THEN 1 ELSE 0 END) AS DOUBLE) AS pos,
        CAST(SUM(CASE WHEN {ys} = {literal(positive)} THEN 0 ELSE 1 END) AS DOUBLE) AS neg
      FROM {table.source} GROUP BY CAST({sc} AS DOUBLE)) g"""


def delong_auc(engine: Engine, table: Table, y: str, score: str
               ) -> tuple[float, float, int, int]:
    """(AUC, DeLong variance, rows, positive rows) from placements computed in the engine."""
    _, positive = _binary(engine, table, y)
    placements = _placements(engine, table, y, score, positive)
    row = engine.one(f"SELECT SUM(pos), SUM(neg), SUM(pos * v10), SUM(pos * v10 * v10), "
                     f"SUM(neg * v01 * v01) FROM ({placements}) p")
    m, n, s1, s2, t2 = (float(v) for v in row)
    auc = s1 / m
    var = (s2 - m * auc * auc) / (m * (m - 1)) + (t2 - n * auc * auc) / (n * (n - 1))
    return auc, builtins.max(var, 0.0), int(m + n), int(m)


def _loss_sql(engine: Engine, name: str, y: str, p: str, positive: Any) -> str:
    ys, ps = engine.quote(y), f"CAST({engine.quote(p)} AS DOUBLE)"
    if name == "mean_absolute_error":
        return f"ABS(CAST({ys} AS DOUBLE) - {ps})"
    if name in ("mean_squared_error", "root_mean_squared_error"):
        return f"POWER(CAST({ys} AS DOUBLE) - {ps}, 2)"
    hit = f"(CASE WHEN {ys} = {literal(positive)} THEN 1.0 ELSE 0.0 END)"
    if name == "brier_score":
        return f"POWER({hit} - {ps}, 2)"
    # log loss: minus the log of the probability of the true class, clipped to [eps, 1-eps]
    prob = f"(CASE WHEN {ys} = {literal(positive)} THEN {ps} ELSE 1.0 - {ps} END)"
    clipped = (f"LEAST(GREATEST({prob}, {literal(_EPS)}), {literal(1 - _EPS)})")
    return f"-LN({clipped})"


def _loss_moments(engine: Engine, table: Table, loss: str) -> tuple[int, float, float]:
    row = engine.one(f"SELECT COUNT(*), AVG({loss}), VAR_SAMP({loss}) FROM {table.source}")
    return int(row[0]), float(row[1]), float(row[2] or 0.0)


def _loss_tail(engine: Engine, table: Table, name: str, loss: str,
               moments: tuple[int, float, float], details: dict[str, Any]) -> str | None:
    """``intervals.tail_reason`` on the engine: the largest ``tail_rows(n)`` per-row losses
    (one ``ORDER BY … LIMIT``) give the top-1% share and Hill's index, the moments the spread
    ``mean(l²)/mean(l)² = ((n-1)/n var + mean²) / mean²``."""
    from mlqa.metrics.intervals import BOUNDED_LOSSES, tail_reason
    from mlqa.stats.small_sample import hill_of_largest, share_of_largest, tail_rows

    n, mean, var = moments
    largest = np.array([float(r[0]) for r in engine.rows(
        f"SELECT l FROM (SELECT {loss} AS l FROM {table.source}) t ORDER BY l DESC "
        f"LIMIT {tail_rows(n)}")])
    index = math.inf if name in BOUNDED_LOSSES else hill_of_largest(largest, n)
    mean_square = var * (n - 1) / n + mean * mean
    return tail_reason(name, n, share_of_largest(largest, n, mean * n), index,
                       lambda: mean_square / (mean * mean) if mean > 0 else math.inf, None,
                       details)


def check_metric_on_engine(y_true: Any, y_pred: Any, metric: Any, **options: Any) -> Any:
    """``check_metric`` with ``y_true``/``y_pred`` naming columns of ``data`` in an engine;
    an engine failure names this check as its stage (:mod:`mlqa.engines.failures`)."""
    with stage(f"check_metric {metric!r} on {y_true!r}/{y_pred!r}"):
        return _metric_on_engine(y_true, y_pred, metric, **options)


def _metric_on_engine(y_true: Any, y_pred: Any, metric: Any, *, data: Any,
                      min: float | None, max: float | None,  # noqa: A002
                      confidence: float = 0.95, ci: str | None = "auto",
                      n_resamples: int = 2000, seed: Any = 0,
                      greater_is_better: bool | None = None, name: str | None = None,
                      **unsupported: Any) -> Any:
    from mlqa.metrics.check import (
        MetricResult,
        _check_bounds,
        _check_options,
        interval_result,
        point_result,
    )
    from mlqa.metrics.defined import confusion_undefined
    from mlqa.metrics.intervals import NEWCOMBE_BELOW, confusion_interval, too_few_rows
    from mlqa.stats.proportion import proportion_interval
    from mlqa.stats.small_sample import newcombe_auc_interval

    given = [k for k, v in unsupported.items() if v is not None]
    if given:
        raise InputError(f"{', '.join(given)} need the rows in memory; not available with "
                         f"data= on an engine")
    resolved = _metric(metric, greater_is_better=greater_is_better)
    _check_bounds(resolved, min, max)
    _check_options(confidence, ci, n_resamples, 30, seed, None)
    engine, table = _open(data, resolved, {"y_true": y_true, "y_pred": y_pred})
    label, mname = name or resolved.name, resolved.name
    details: dict[str, Any] = {"min": min, "max": max, "engine": engine.name,
                               "greater_is_better": resolved.greater_is_better,
                               "input": resolved.input}
    low: float | None = None
    high: float | None = None
    refusal: str | None = None  # why the data cannot support an interval, where known
    if mname in confusion.FORMULAS:
        labels, cm = _cells(engine, table, [y_true, y_pred])
        n, pos = int(cm.sum()), _positive(labels)
        undefined = confusion_undefined(mname, cm, labels)
        if undefined is not None:  # the same ERROR, naming why, as the in-memory check
            threshold, comparison = requirement(min, max)
            return MetricResult(name=label, check="metric", metric=mname, n=n,
                                threshold=threshold, comparison=comparison,
                                outcome=Outcome.ERROR, details=details,
                                message=f"{label} is undefined on this data: {undefined}")
        binary_metric = "_" not in mname.replace("balanced_", "").replace(
            "matthews_", "").replace("cohen_", "")
        if binary_metric and mname not in ("accuracy",) and pos is None:
            raise InputError(f"{mname} is the positive class's (label 1); the labels are "
                             f"{labels[:10].tolist()}")
        formula = confusion.FORMULAS[mname]
        value = float(formula(cm[None].astype(float), pos)[0])
        proportion = mname in PROPORTIONS
        method = None if ci is None else ("wilson" if proportion else "dirichlet") \
            if ci == "auto" else ci
        # the in-memory rule on too few rows of a needed class, from the cells' sums
        refusal = None if method is None else too_few_rows(
            mname, cm.sum(axis=1), pos,
            predicted_positive=None if pos is None else int(cm[:, pos].sum()))
        if refusal is not None:
            details["reason"] = refusal
        elif method in ("wilson", "exact") and proportion:
            if mname in ("accuracy", "precision_micro", "recall_micro", "f1_micro"):
                k, trials = int(np.trace(cm)), n
            else:
                k = int(cm[pos, pos])
                trials = int(cm[:, pos].sum() if mname == "precision" else cm[pos].sum())
            details.update(successes=k, trials=trials)
            if trials:
                low, high = proportion_interval(k, trials, confidence, method)
        elif method in ("dirichlet", "multinomial"):
            # the in-memory check's own interval, from the cells alone (mlqa.metrics.intervals)
            iv = confusion_interval(mname, cm, labels, confidence=confidence,
                                    n_resamples=n_resamples, random_state=seed, method=method)
            details.update(iv.details)
            if iv.defined:
                low, high = iv.low, iv.high
        elif method is not None:
            raise InputError(f"ci={ci!r} does not apply to {mname!r} on an engine; use "
                             f"'auto', 'wilson'/'exact' (proportions) or 'multinomial'")
    elif mname == "roc_auc":
        value, var, n, m = delong_auc(engine, table, y_true, y_pred)
        if ci not in (None, "auto", "delong", "newcombe"):
            raise InputError(f"ci={ci!r}: roc_auc on an engine takes 'auto', 'delong' or "
                             f"'newcombe'")
        # as in memory: Newcombe's score interval where a class is small, DeLong's otherwise
        method = None if ci is None else ci if ci != "auto" else \
            "newcombe" if builtins.min(m, n - m) < NEWCOMBE_BELOW else "delong"
        refusal = None if method is None else too_few_rows(mname, (n - m, m), 1)
        if refusal is not None:
            details["reason"] = refusal
        elif method == "newcombe":
            low, high = (float(b) for b in newcombe_auc_interval(value, m, n - m, confidence))
            details.update(positives=m, negatives=n - m)
        elif method:
            half = _z(confidence) * math.sqrt(var)
            low, high = builtins.max(0.0, value - half), builtins.min(1.0, value + half)
            details["std_error"] = math.sqrt(var)
    elif mname in LOSSES:
        positive = _binary(engine, table, y_true)[1] if mname in ("log_loss", "brier_score") \
            else None
        loss = _loss_sql(engine, mname, y_true, y_pred, positive)
        n, mean, var = _loss_moments(engine, table, loss)
        root = mname == "root_mean_squared_error"
        value = math.sqrt(mean) if root else mean
        # the in-memory "influence" interval (delta method on the mean loss: the one
        # check_metric's ci= names and picks at large n), from the moments alone
        method = None if ci is None else "influence"
        if ci not in (None, "auto", "influence"):
            raise InputError(f"ci={ci!r}: {mname} on an engine takes 'auto' or 'influence' "
                             f"(the delta-method normal interval on the mean loss)")
        if method and positive is not None:  # log loss, Brier: both classes' rows
            m = int(engine.one(f"SELECT SUM(CASE WHEN {engine.quote(y_true)} = "
                               f"{literal(positive)} THEN 1 ELSE 0 END) FROM "
                               f"{table.source}")[0] or 0)
            refusal = too_few_rows(mname, (n - m, m), 1)
        if method and refusal is None:  # the in-memory tail rule, from the largest rows
            refusal = _loss_tail(engine, table, mname, loss, (n, mean, var), details)
        if refusal is not None:
            details["reason"] = refusal
        elif method:
            # sqrt(sum (l_i - mean)^2) / n: the influence values' spread, as in memory
            se = math.sqrt(var * (n - 1) / n / n)
            if root:  # delta method: d sqrt(m) = dm / (2 sqrt(m))
                se = se / (2 * value) if value > 0 else math.inf
            half = _z(confidence) * se
            low, high = value - half, value + half
            details["std_error"] = se
    else:
        raise InputError(f"metric {mname!r} is not available on an engine; available: "
                         f"{sorted(confusion.FORMULAS) + ['roc_auc', *LOSSES]}")
    threshold, comparison = requirement(min, max)
    fields: CommonFields = {"name": label, "check": "metric", "metric": mname, "value": value,
                            "threshold": threshold, "comparison": comparison, "n": n}
    early = point_result(fields, details, min=min, max=max, method=method)
    if early is not None:
        return early
    assert method is not None
    bounds = None if low is None or high is None else (float(low), float(high))
    return interval_result(fields, details, min=min, max=max, method=method,
                           confidence=confidence, bounds=bounds, reason=refusal)


def paired_delong(engine: Engine, table: Table, y: str, cand: str, base: str
                  ) -> tuple[float, float, np.ndarray]:
    """(AUC candidate, AUC baseline, 2x2 DeLong covariance): each model's placements joined
    back to the rows so that the cross terms sum_pos V10_c V10_b pair the same rows."""
    _, positive = _binary(engine, table, y)
    ys = engine.quote(y)
    pc, pb = (_placements(engine, table, y, s, positive) for s in (cand, base))
    row = engine.one(f"""
SELECT SUM(CASE WHEN t.yy = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN t.yy = 1 THEN 0 ELSE 1 END),
  SUM(CASE WHEN t.yy = 1 THEN a.v10 END), SUM(CASE WHEN t.yy = 1 THEN b.v10 END),
  SUM(CASE WHEN t.yy = 1 THEN a.v10 * a.v10 END), SUM(CASE WHEN t.yy = 1 THEN b.v10 * b.v10 END),
  SUM(CASE WHEN t.yy = 1 THEN a.v10 * b.v10 END),
  SUM(CASE WHEN t.yy = 0 THEN a.v01 * a.v01 END), SUM(CASE WHEN t.yy = 0 THEN b.v01 * b.v01 END),
  SUM(CASE WHEN t.yy = 0 THEN a.v01 * b.v01 END)
FROM (SELECT CASE WHEN {ys} = {literal(positive)} THEN 1 ELSE 0 END AS yy,
             CAST({engine.quote(cand)} AS DOUBLE) AS sc, CAST({engine.quote(base)} AS DOUBLE) AS sb
      FROM {table.source}) t
JOIN ({pc}) a ON t.sc = a.s JOIN ({pb}) b ON t.sb = b.s""")
    m, n, s_c, s_b, cc, bb, cb, ncc, nbb, ncb = (float(v) for v in row)
    auc_c, auc_b = s_c / m, s_b / m
    def part(sq: float, mean_a: float, mean_b: float, k: float) -> float:
        return (sq - k * mean_a * mean_b) / (k * (k - 1))
    cov = np.array([[part(cc, auc_c, auc_c, m) + part(ncc, auc_c, auc_c, n),
                     part(cb, auc_c, auc_b, m) + part(ncb, auc_c, auc_b, n)],
                    [0.0, part(bb, auc_b, auc_b, m) + part(nbb, auc_b, auc_b, n)]])
    cov[1, 0] = cov[0, 1]
    return auc_c, auc_b, cov


def check_regression_on_engine(y_true: Any, candidate_pred: Any, baseline_pred: Any,
                               metric: Any, **options: Any) -> Any:
    """``check_regression`` with the three arguments naming columns of ``data``; an engine
    failure names this check as its stage."""
    with stage(f"check_regression {metric!r} on {candidate_pred!r} vs {baseline_pred!r}"):
        return _regression_on_engine(y_true, candidate_pred, baseline_pred, metric, **options)


def _regression_on_engine(y_true: Any, candidate_pred: Any, baseline_pred: Any,
                          metric: Any, *, data: Any, max_drop: float | None = None,
                          min_gain: float | None = None, max_gain: float | None = None,
                          relative: bool = False, confidence: float = 0.95,
                          test: str = "auto", max_negative_flip_rate: float | None = None,
                          n_resamples: int = 2000, random_state: Any = 0,
                          greater_is_better: bool | None = None,
                          name: str | None = None) -> Any:
    from scipy import stats

    from mlqa.compare import paired
    from mlqa.compare.check import (
        _bounds,
        _check_options,
        _RegressionFields,
        regression_result,
    )
    from mlqa.stats.bootstrap import multinomial_counts, percentile_interval

    resolved = _metric(metric, greater_is_better=greater_is_better)
    _check_options(max_drop, min_gain, max_gain, max_negative_flip_rate, confidence, test)
    lower, upper = _bounds(resolved.greater_is_better, max_drop, min_gain, max_gain)
    engine, table = _open(data, resolved, {"y_true": y_true, "candidate_pred": candidate_pred,
                                           "baseline_pred": baseline_pred})
    mname = resolved.name
    label = name or f"{mname} vs baseline"
    q = {c: engine.quote(c) for c in (y_true, candidate_pred, baseline_pred)}
    flips: dict[str, Any] = {}
    if resolved.input == LABELS:
        a, b, c, d = (int(v or 0) for v in engine.one(
            f"SELECT SUM(CASE WHEN rc AND rb THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN rb AND NOT rc THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN rc AND NOT rb THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN NOT rc AND NOT rb THEN 1 ELSE 0 END) FROM ("
            f"SELECT {q[candidate_pred]} = {q[y_true]} AS rc, {q[baseline_pred]} = {q[y_true]} "
            f"AS rb FROM {table.source}) t"))
        n = a + b + c + d
        if resolved.greater_is_better and mname in confusion.FORMULAS:
            flips = {"negative_flips": b, "positive_flips": c, "negative_flip_rate": b / n,
                     "positive_flip_rate": c / n}
    if mname == "accuracy" and test in ("auto", "mcnemar"):
        cand_v, base_v = (a + c) / n, (a + b) / n
        if relative:
            cells = multinomial_counts(np.array([a, b, c, d]), n_resamples, seed=random_state)
            with np.errstate(divide="ignore", invalid="ignore"):
                reps = (cells[:, 0] + cells[:, 2]) / (cells[:, 0] + cells[:, 1]) - 1
            span = percentile_interval(reps, confidence)
            diff_v = (cand_v - base_v) / abs(base_v) if base_v else math.nan
        else:
            span, diff_v = paired.newcombe_interval(a, b, c, d, confidence), cand_v - base_v
        diff = paired.PairedDifference(cand_v, base_v, diff_v, span, paired.mcnemar_p_value(b, c),
                                       "mcnemar_exact" if b + c < paired.EXACT_BELOW
                                       else "mcnemar")
    elif mname in confusion.FORMULAS and test in ("auto", "bootstrap"):
        labels, cells = _cells(engine, table, [y_true, candidate_pred, baseline_pred])
        pos = _positive(labels)
        formula = confusion.FORMULAS[mname]
        cand_v = float(formula(cells.sum(axis=2)[None].astype(float), pos)[0])
        base_v = float(formula(cells.sum(axis=1)[None].astype(float), pos)[0])
        draws = multinomial_counts(cells, n_resamples,
                                   seed=paired._int_seed(random_state)).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            rep_c, rep_b = formula(draws.sum(axis=3), pos), formula(draws.sum(axis=2), pos)
        diff = _from_replicates(cand_v, base_v, rep_c, rep_b, relative, confidence)
    elif mname == "roc_auc" and test in ("auto", "delong"):
        auc_c, auc_b, cov = paired_delong(engine, table, y_true, candidate_pred, baseline_pred)
        if relative:
            grad = np.array([1 / auc_b, -auc_c / auc_b ** 2])
            diff_v = (auc_c - auc_b) / abs(auc_b)
        else:
            grad, diff_v = np.array([1.0, -1.0]), auc_c - auc_b
        se = math.sqrt(max(0.0, float(grad @ cov @ grad)))
        half = _z(confidence) * se
        p = float(2 * stats.norm.sf(abs(diff_v) / se)) if se > 0 else \
            (1.0 if diff_v == 0 else 0.0)
        diff = paired.PairedDifference(auc_c, auc_b, diff_v, (diff_v - half, diff_v + half), p,
                                       "delong")
        n = int(engine.one(f"SELECT COUNT(*) FROM {table.source}")[0])
    elif mname in LOSSES and test in ("auto", "normal") and not relative:
        positive = _binary(engine, table, y_true)[1] if mname in ("log_loss", "brier_score") \
            else None
        lc = _loss_sql(engine, mname, y_true, candidate_pred, positive)
        lb = _loss_sql(engine, mname, y_true, baseline_pred, positive)
        row = engine.one(f"SELECT COUNT(*), AVG({lc}), AVG({lb}), AVG(({lc}) - ({lb})), "
                         f"VAR_SAMP(({lc}) - ({lb})) FROM {table.source}")
        n, mc, mb, md, vd = int(row[0]), float(row[1]), float(row[2]), float(row[3]), \
            float(row[4] or 0.0)
        se = math.sqrt(vd / n)
        if mname == "root_mean_squared_error":  # delta method on sqrt(mc) - sqrt(mb)
            cand_v, base_v = math.sqrt(mc), math.sqrt(mb)
            # var(d sqrt) ~ var of the mean difference / (2 sqrt(m))^2 with m their average
            se = se / (2 * math.sqrt((mc + mb) / 2)) if mc + mb > 0 else math.inf
            diff_v = cand_v - base_v
        else:
            cand_v, base_v, diff_v = mc, mb, md
        half = _z(confidence) * se
        p = float(2 * stats.norm.sf(abs(diff_v) / se)) if se > 0 else \
            (1.0 if diff_v == 0 else 0.0)
        diff = paired.PairedDifference(cand_v, base_v, diff_v, (diff_v - half, diff_v + half),
                                       p, "paired_normal")
    else:
        raise InputError(f"metric {mname!r} with test={test!r}"
                         f"{' relative' if relative else ''} is not available on an engine")
    details: dict[str, Any] = {"relative": relative, "max_drop": max_drop, "min_gain": min_gain,
                               "max_gain": max_gain, "min": lower, "max": upper,
                               "greater_is_better": resolved.greater_is_better,
                               "engine": engine.name}
    threshold, comparison = requirement(lower, upper)
    common: _RegressionFields = {
        "name": label, "check": "regression", "metric": mname, "n": n,
        "confidence": confidence, "threshold": threshold, "comparison": comparison,
        "margin_low": lower, "margin_high": upper, "relative": relative}
    return regression_result(common, details, diff, flips,
                             max_negative_flip_rate=max_negative_flip_rate)


def _from_replicates(cand: float, base: float, rep_c: np.ndarray, rep_b: np.ndarray,
                     relative: bool, confidence: float) -> Any:
    """The paired bootstrap's difference, interval and p-value (``compare.paired.bootstrap``)
    from replicates drawn over the joint cells."""
    from mlqa.compare import paired
    from mlqa.stats.bootstrap import percentile_interval

    diff = ((cand - base) / abs(base) if base else math.nan) if relative else cand - base
    with np.errstate(divide="ignore", invalid="ignore"):
        replicated = (rep_c - rep_b) / np.abs(rep_b) if relative else rep_c - rep_b
    finite = replicated[np.isfinite(replicated)]
    low, high = percentile_interval(replicated, confidence) \
        if finite.size >= paired.MIN_DEFINED * len(replicated) else (math.nan, math.nan)
    p = None if finite.size == 0 else \
        float(min(1.0, 2 * min(np.mean(finite <= 0), np.mean(finite >= 0))))
    return paired.PairedDifference(cand, base, diff, (low, high), p, "paired_bootstrap")
