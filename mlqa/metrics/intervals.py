"""Confidence intervals for a metric: which method fits, and computing it.

=============  ==========================================================  ===================
method         used for (``ci="auto"`` takes the first that applies)        how
=============  ==========================================================  ===================
``wilson``     accuracy; binary precision/recall; micro precision/recall/   Wilson score
               F1 (= accuracy) -- without sample weights                    interval on k / n
``exact``      the same proportions, on request                             Clopper–Pearson
``delong``     ROC AUC: binary, and multiclass one-vs-rest (macro or        DeLong variance,
               weighted); sample weights allowed                            normal interval
``multinomial``  confusion-matrix metrics (balanced accuracy, F1, MCC,      multinomial draw
               kappa, jaccard, averaged precision/recall) -- unweighted     over the cells
``bootstrap``  everything: sums-of-rows metrics (errors, log loss, R^2...)  Poisson bootstrap,
               by matrix products, others by calling the metric per         percentile
               resample                                                     interval
=============  ==========================================================  ===================
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from statistics import NormalDist
from typing import Any

import numpy as np

from mlqa.errors import InputError
from mlqa.metrics import confusion
from mlqa.metrics.registry import METRICS, Metric, accepts_sample_weight
from mlqa.metrics.sums import SUMS
from mlqa.stats.bootstrap import (
    bootstrap,
    multinomial_counts,
    percentile_interval,
    weighted_sums,
)
from mlqa.stats.delong import auc_and_covariance, structural_components
from mlqa.stats.proportion import proportion_interval

METHODS = ("wilson", "exact", "delong", "multinomial", "bootstrap")
_AUTO_ORDER = ("wilson", "delong", "multinomial", "bootstrap")
# metrics that are one proportion k / n of the confusion matrix
_PROPORTIONS = {"accuracy", "precision", "recall", "precision_micro", "recall_micro",
                "f1_micro"}


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Validated inputs of one metric evaluation (the whole data set or one slice)."""

    metric: Metric
    y_true: np.ndarray
    y_pred: np.ndarray
    weight: np.ndarray | None
    labels: np.ndarray | None  # classes, for classification metrics

    @property
    def n(self) -> int:
        return len(self.y_true)

    def positive(self) -> int | None:
        """Index of scikit-learn's default positive label (1) among the labels, if there."""
        if self.labels is None:
            return None
        hits = np.flatnonzero(self.labels == 1) if self.labels.dtype.kind in "biuf" else []
        return int(hits[0]) if len(hits) else None


@dataclasses.dataclass(frozen=True)
class Interval:
    low: float
    high: float
    method: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    estimate: float | None = None  # the metric itself, where the method computes it exactly

    @property
    def defined(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


def applicable(ev: Evaluation) -> list[str]:
    """The interval methods that fit this metric and data, best first."""
    name = ev.metric.name
    found = []
    binary = ev.labels is not None and len(ev.labels) == 2
    if name in _PROPORTIONS and ev.weight is None and _builtin(ev) and \
            (name in ("accuracy",) or name.endswith("_micro") or ev.positive() is not None):
        found += ["wilson", "exact"]
    if name == "roc_auc" and binary and ev.y_pred.ndim == 1 and _builtin(ev):
        found.append("delong")
    if name in ("roc_auc_ovr", "roc_auc_ovr_weighted") and _builtin(ev) and \
            ev.y_pred.ndim == 2 and len(ev.labels) > 2:
        found.append("delong")
    if name in confusion.FORMULAS and ev.weight is None and _builtin(ev):
        found.append("multinomial")
    found.append("bootstrap")
    return found


def choose(ev: Evaluation, ci: str) -> str:
    """The method ``ci`` asks for (``"auto"``: the best applicable one)."""
    fits = applicable(ev)
    if ci == "auto":
        return next(m for m in _AUTO_ORDER if m in fits)
    if ci not in fits:
        raise InputError(f"ci={ci!r} does not apply to metric {ev.metric.name!r} here"
                         f"{' with sample_weight' if ev.weight is not None else ''}; "
                         f"applicable: {', '.join(fits)}")
    return ci


def interval(ev: Evaluation, method: str, confidence: float, n_resamples: int,
             seed: Any) -> Interval:
    if method in ("wilson", "exact"):
        k, n = _proportion_counts(ev)
        if n == 0:
            return Interval(math.nan, math.nan, method, {"reason": "the proportion has n=0"})
        return Interval(*proportion_interval(k, n, confidence, method), method,
                        {"successes": k, "trials": n})
    if method == "delong":
        if ev.y_pred.ndim == 2:
            auc, se = _one_vs_rest_auc(ev)
        else:
            aucs, cov = auc_and_covariance(ev.y_true == ev.labels[-1], ev.y_pred, ev.weight)
            auc, se = aucs[0], math.sqrt(max(cov[0, 0], 0.0))
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        return Interval(max(0.0, auc - z * se), min(1.0, auc + z * se), method,
                        {"std_error": se}, estimate=float(auc))
    replicates = metric_replicates(ev, method, n_resamples, seed)
    undefined = int(np.sum(~np.isfinite(replicates)))
    low, high = percentile_interval(replicates, confidence)
    details = {"n_resamples": n_resamples, "seed": seed if isinstance(seed, int) else None,
               "undefined_resamples": undefined}
    if undefined > 0.05 * len(replicates):
        # the statistic is undefined on too many resamples for the percentiles to mean much
        low = high = math.nan
        details["reason"] = (f"{ev.metric.name} was undefined on {undefined} of "
                             f"{len(replicates)} resamples")
    return Interval(low, high, method, details)


def _one_vs_rest_auc(ev: Evaluation) -> tuple[float, float]:
    """Multiclass one-vs-rest ROC AUC (macro or prevalence-weighted) and its standard error.

    Each class's AUC is a DeLong statistic whose influence on row i is
    ``w_i (V_i - AUC_k) / W_k`` (``W_k`` the weight of the row's side: class k or the rest);
    the average's influence is the same average of those, and its variance the sum of squares.
    """
    w = np.ones(ev.n) if ev.weight is None else ev.weight
    k = len(ev.labels)
    is_class = ev.y_true[None, :] == ev.labels[:, None]  # (k, n)
    if ev.metric.kwargs.get("average") == "weighted":
        share = (is_class * w).sum(axis=1) / w.sum()
    else:
        share = np.full(k, 1 / k)
    value, influence = 0.0, np.zeros(ev.n)
    for c in range(k):
        y = is_class[c]
        components, aucs = structural_components(y, ev.y_pred[None, :, c], ev.weight)
        side_weight = np.where(y, w[y].sum(), w[~y].sum())
        influence += share[c] * w * (components[0] - aucs[0]) / side_weight
        value += share[c] * aucs[0]
    return value, float(np.sqrt(np.sum(influence**2)))


def _builtin(ev: Evaluation) -> bool:
    """The metric is the registry's (a user's callable may share a name, not the formula)."""
    known = METRICS.get(ev.metric.name)
    return known is not None and ev.metric.func is known.func and ev.metric.input == known.input


def _proportion_counts(ev: Evaluation) -> tuple[int, int]:
    cm = confusion.confusion_counts(ev.y_true, ev.y_pred, ev.labels)
    name = ev.metric.name
    if name in ("accuracy", "precision_micro", "recall_micro", "f1_micro"):
        return int(np.trace(cm)), int(cm.sum())
    pos = ev.positive()
    tp = int(cm[pos, pos])
    return tp, int(cm[:, pos].sum() if name == "precision" else cm[pos].sum())


def metric_replicates(ev: Evaluation, method: str, n_resamples: int, seed: Any) -> np.ndarray:
    """The metric on ``n_resamples`` resampled evaluation sets (multinomial or bootstrap).

    Public because the paired comparison (``mlqa.compare``) replicates each metric the same way:
    one definition per metric, not a copy in each family.
    """
    name = ev.metric.name
    if name in confusion.FORMULAS and _builtin(ev):
        formula = confusion.FORMULAS[name]
        k = len(ev.labels)
        if method == "multinomial":
            counts = multinomial_counts(
                confusion.confusion_counts(ev.y_true, ev.y_pred, ev.labels), n_resamples,
                seed=seed).astype(float)
        else:
            cells = confusion.cell_index(ev.y_true, ev.y_pred, ev.labels)
            sw = 1.0 if ev.weight is None else ev.weight
            counts = bootstrap(lambda w: np.stack([
                np.bincount(cells, weights=row * sw, minlength=k * k) for row in w]),
                ev.n, n_resamples, seed=seed).reshape(-1, k, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            return formula(counts, ev.positive())
    if name in SUMS and _builtin(ev):
        columns, finish = SUMS[name]
        sums = weighted_sums(columns(ev.y_true, ev.y_pred, ev.labels), n_resamples,
                             seed=seed, sample_weight=ev.weight)
        with np.errstate(invalid="ignore", divide="ignore"):
            return finish(sums)
    return bootstrap(_per_resample(ev), ev.n, n_resamples, seed=seed)


def _per_resample(ev: Evaluation):
    """Statistic for ``bootstrap``: the metric called once per resample, with the Poisson
    weights as sample weights, or (for a metric without ``sample_weight``) as row counts."""
    weighted = accepts_sample_weight(ev.metric.func)
    rows = np.arange(ev.n)

    def one(w: np.ndarray) -> float:
        try:
            if weighted:
                return ev.metric(ev.y_true, ev.y_pred,
                                 sample_weight=w if ev.weight is None else w * ev.weight)
            index = np.repeat(rows, w.astype(np.int64))
            return ev.metric(ev.y_true[index], ev.y_pred[index])
        except (ValueError, ZeroDivisionError, FloatingPointError):
            return math.nan

    def statistic(weights: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.array([one(w) for w in weights])

    return statistic
