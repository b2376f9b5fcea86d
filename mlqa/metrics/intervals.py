"""Confidence intervals for a metric: which method fits the metric *and the data*, and
computing it.

=============  ==========================================================  ====================
method         used for (``ci="auto"`` takes the first that applies)        how
=============  ==========================================================  ====================
``wilson``     accuracy; binary precision/recall; micro precision/recall/   Wilson score
               F1 (= accuracy) -- without sample weights                    interval on k / n
``exact``      the same proportions, on request                             Clopper–Pearson
``newcombe``   binary ROC AUC with fewer than ``NEWCOMBE_BELOW`` positive   Newcombe's (2006)
               or negative rows, unweighted                                 score interval,
                                                                            Hanley–McNeil var.
``delong``     ROC AUC: binary, multiclass one-vs-rest and one-vs-one       DeLong variance
               (Hand & Till), macro or weighted; sample weights allowed     (influence), normal
``influence``  average precision, unweighted                                logit Wald interval
                                                                            from its influence
                                                                            function
``dirichlet``  confusion-matrix metrics (balanced accuracy, F1, MCC,        Jeffreys–Dirichlet
               kappa, jaccard, averaged precision/recall) -- unweighted     (cells + ½) draws
``multinomial``  the same, on request: rows resampled as a multinomial      multinomial draw
               over the observed cells                                      over the cells
``bca``        metrics that are smooth functions of row sums (mean          BCa bootstrap +
               losses, RMSE, R², log loss, Brier, D²)                       tail diagnostic
``bootstrap``  everything else, by calling the metric per resample          Poisson bootstrap,
                                                                            percentile interval
=============  ==========================================================  ====================

Resamples on which a metric is undefined (0/0: no positives drawn) are counted, never turned
into 0: above ``MAX_UNDEFINED`` of them the interval is refused (INCONCLUSIVE, naming the
count). Data too thin for any of these to keep its coverage is refused the same way: fewer than
``MIN_CLASS_ROWS`` rows of a class a metric needs, or a loss whose top 1% of rows carry more
than ``max_tail_share`` of it. Formulas and references: :mod:`mlqa.stats.small_sample`,
:mod:`mlqa.stats.delong`, :mod:`mlqa.stats.proportion`, docs/metrics.md.

Functions an engine (Spark, DuckDB) can call with summaries only:
``confusion_interval(name, counts, labels, ...)`` (confusion cell counts in, interval out),
``mlqa.stats.small_sample.newcombe_auc_interval(auc, m, n)``, and
``mlqa.stats.delong.auc_and_covariance`` on placements.
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
from mlqa.metrics.defined import positive_index, undefined_cells
from mlqa.metrics.registry import (
    ALL,
    BOTH,
    BOTH_IF_BINARY,
    METRICS,
    POSITIVE,
    PREDICTED_POSITIVE,
    Metric,
    accepts_sample_weight,
)
from mlqa.metrics.sums import SUMS
from mlqa.stats.bootstrap import (
    bootstrap,
    multinomial_counts,
    percentile_interval,
    weighted_sums,
)
from mlqa.stats.delong import auc_and_covariance, structural_components
from mlqa.stats.proportion import proportion_interval
from mlqa.stats.small_sample import (
    average_precision_influence,
    average_precision_replicates,
    bca_interval,
    dirichlet_draws,
    newcombe_auc_interval,
    tail_index,
    tail_share,
)

METHODS = ("wilson", "exact", "newcombe", "delong", "influence", "order", "dirichlet",
           "multinomial", "bca", "bootstrap")
ANALYTIC = frozenset({"wilson", "exact", "newcombe", "delong", "influence", "order"})
# methods ``ci="auto"`` may pick; ``applicable`` lists the methods best first for the data
_AUTO = frozenset({"wilson", "newcombe", "delong", "influence", "order", "dirichlet", "bca",
                   "bootstrap"})
NEWCOMBE_BELOW = 100  # DeLong's Wald interval undercovers below this many rows of a class
MIN_CLASS_ROWS = 5  # fewer rows of a needed class: no interval keeps its coverage
MAX_UNDEFINED = 0.05  # share of resamples on which the metric may be undefined
LARGE_ROWS = 100_000  # sums-of-rows metrics: influence-function interval above, BCa below
MAX_ONE_HOT_CELLS = 64  # confusion cells written as columns of row sums, at most
AP_BOOTSTRAP_ROWS = 2_000  # average precision: BCa bootstrap up to here, influence above
DEFAULT_MAX_TAIL_SHARE = 0.8  # share of a loss the top 1% of rows may carry (a few rows dominate)


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

    @property
    def classes(self) -> np.ndarray:
        """The labels, for code paths that only classification metrics reach."""
        if self.labels is None:
            raise InputError(f"metric {self.metric.name!r} needs class labels here")
        return self.labels

    def positive(self) -> int | None:
        """Index of scikit-learn's default positive label (1) among the labels, if there."""
        return positive_index(self.labels)


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


def refused(method: str, reason: str, **details: Any) -> Interval:
    return Interval(math.nan, math.nan, method, {**details, "reason": reason})


@dataclasses.dataclass(frozen=True)
class Shape:
    """What choosing an interval method needs to know of an evaluation, from the rows in
    memory (:meth:`Evaluation.shape`) or from an engine's summaries alike: the metric's
    ``name`` and whether it is the registry's (``builtin``), sample weights, the rows, the
    index of label 1 among the labels (``positive``), the number of labels, the dimensions of
    ``y_pred``, and for a binary ROC AUC the rows of its smaller class (``minority``)."""

    name: str
    builtin: bool
    weighted: bool
    n: int
    positive: int | None
    n_labels: int | None
    pred_ndim: int = 1
    minority: int | None = None
    proportion: str | None = None  # the metric's (``Metric.proportion``)


def _binary_auc(ev: Evaluation) -> bool:
    return ev.metric.name == "roc_auc" and ev.labels is not None and len(ev.labels) == 2 \
        and ev.y_pred.ndim == 1


def _shape(ev: Evaluation) -> Shape:
    minority = None
    if _binary_auc(ev):
        m = int(np.count_nonzero(ev.y_true == ev.classes[-1]))
        minority = min(m, ev.n - m)
    return Shape(ev.metric.name, _builtin(ev), ev.weight is not None, ev.n, ev.positive(),
                 None if ev.labels is None else len(ev.labels), ev.y_pred.ndim, minority,
                 ev.metric.proportion)


def applicable(ev: Evaluation | Shape) -> list[str]:
    """The interval methods that fit this metric and data, best first."""
    shape = ev if isinstance(ev, Shape) else _shape(ev)
    name, unweighted = shape.name, not shape.weighted
    found = []
    if not shape.builtin:
        return ["bootstrap"]
    if shape.proportion and unweighted and \
            (name in ("accuracy",) or name.endswith("_micro") or shape.positive is not None):
        found += ["wilson", "exact"]
    if shape.minority is not None:  # binary ROC AUC
        if unweighted and shape.minority < NEWCOMBE_BELOW:
            found.append("newcombe")
        found.append("delong")
        if unweighted and "newcombe" not in found:
            found.append("newcombe")
    if name.startswith(("roc_auc_ovr", "roc_auc_ovo")) and shape.pred_ndim == 2 and \
            shape.n_labels is not None and shape.n_labels > 2:
        found.append("delong")
    if name == "average_precision" and unweighted and shape.pred_ndim == 1:
        # the bootstrap's bias correction matters where positives are few; its cost grows with
        # the rows, so large data take the influence-function interval (same asymptotics)
        found += ["bca", "influence"] if shape.n <= AP_BOOTSTRAP_ROWS else ["influence", "bca"]
    if name == "median_absolute_error" and unweighted and shape.pred_ndim == 1:
        found.append("order")
    if name in confusion.FORMULAS and unweighted:
        found += ["dirichlet", "multinomial"]
    if _row_sums_fit(shape):
        # smooth functions of row sums: BCa, or at large n the influence-function (delta
        # method) interval, which needs no resampling (the two agree there)
        found += ["influence", "bca"] if shape.n > LARGE_ROWS else ["bca", "influence"]
    found.append("bootstrap")
    return found


def choose(ev: Evaluation | Shape, ci: str, *, among: Any = None, where: str = "") -> str:
    """The method ``ci`` asks for (``"auto"``: the best applicable one). ``among``: the
    methods a backend can compute from its summaries (an engine, ``where`` naming it);
    None: every method (the rows are in memory)."""
    fits = applicable(ev)
    if among is not None:
        fits = [m for m in fits if m in among]
    if ci == "auto" and any(m in _AUTO for m in fits):
        return next(m for m in fits if m in _AUTO)
    if ci not in fits:
        name = ev.name if isinstance(ev, Shape) else ev.metric.name
        weighted = ev.weighted if isinstance(ev, Shape) else ev.weight is not None
        raise InputError(f"ci={ci!r} does not apply to metric {name!r} here"
                         f"{' with sample_weight' if weighted else ''}{where}; "
                         f"applicable: {', '.join(fits) or 'none'}")
    return ci


def interval(ev: Evaluation, method: str, confidence: float, n_resamples: int,
             random_state: Any, *, max_tail_share: float | None = None) -> Interval:
    """The ``method`` interval of ``ev``'s metric at ``confidence`` (NaN bounds with a
    ``reason`` in ``details`` when the data cannot support one)."""
    few = _too_few(ev)
    if few is not None:
        return refused(method, few)
    if method in ("wilson", "exact"):
        cm = confusion.confusion_counts(ev.y_true, ev.y_pred, ev.classes)
        return proportion_cells_interval(ev.metric, cm, ev.positive(), method, confidence)
    if method in ("delong", "newcombe"):
        return _auc_interval(ev, method, confidence)
    if method == "order":
        return _median_interval(np.abs(ev.y_true - ev.y_pred), confidence)
    if method == "influence" and ev.metric.name != "average_precision":
        return _sums_influence(ev, confidence, max_tail_share)
    if method == "influence":
        ap, influence = average_precision_influence(ev.y_true == 1, ev.y_pred.astype(float))
        se = float(np.sqrt(np.sum(influence**2))) / ev.n
        return Interval(*_logit_interval(ap, se, confidence), method,
                        {"std_error": se}, estimate=ap)
    details: dict[str, Any] = {"n_resamples": n_resamples,
                               "random_state": random_state
                               if isinstance(random_state, int) else None}
    if method == "dirichlet":
        cm = confusion.confusion_counts(ev.y_true, ev.y_pred, ev.classes)
        return confusion_interval(ev.metric.name, cm, ev.labels, confidence=confidence,
                                  n_resamples=n_resamples, random_state=random_state)
    if method == "bca" and ev.metric.name == "average_precision":
        return _ap_bca(ev, confidence, n_resamples, random_state, details)
    if method == "bca":
        return _bca(ev, confidence, n_resamples, random_state, details, max_tail_share)
    replicates = metric_replicates(ev, method, n_resamples, random_state)
    return _percentile(ev.metric.name, replicates, confidence, method, details)


def _percentile(name: str, replicates: np.ndarray, confidence: float, method: str,
                details: dict[str, Any]) -> Interval:
    undefined = int(np.sum(~np.isfinite(replicates)))
    details = {**details, "undefined_resamples": undefined}
    if undefined > MAX_UNDEFINED * len(replicates):
        # the statistic is undefined on too many resamples for the percentiles to mean much
        return refused(method, f"{name} was undefined on {undefined} of {len(replicates)} "
                                f"resamples", **details)
    low, high = percentile_interval(replicates, confidence)
    return Interval(low, high, method, details)


def confusion_interval(name: str, counts: Any, labels: Any, *, confidence: float = 0.95,
                       n_resamples: int = 2000, random_state: Any = 0,
                       method: str = "dirichlet") -> Interval:
    """Interval of confusion-matrix metric ``name`` from the ``(K, K)`` cell counts alone (rows
    true, columns predicted, over ``labels``): what an engine that summarises rows into counts
    calls. ``dirichlet``: equal-tailed quantiles of the metric over Jeffreys–Dirichlet draws of
    the cell probabilities; ``multinomial``: over multinomial resamples of the cells, with
    undefined resamples counted (refused above ``MAX_UNDEFINED``)."""
    cm = np.asarray(counts)
    labels = np.asarray(labels)
    formula = confusion.FORMULAS[name]
    pos = positive_index(labels)
    details: dict[str, Any] = {"n_resamples": n_resamples, "random_state":
                               random_state if isinstance(random_state, int) else None}
    if method == "dirichlet":
        draws = dirichlet_draws(cm, n_resamples, random_state=random_state)
    else:
        draws = multinomial_counts(cm.astype(np.int64), n_resamples,
                                   seed=random_state).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        replicates = np.where(undefined_cells(name, draws, pos), np.nan, formula(draws, pos))
    return _percentile(name, replicates, confidence, method, details)


def _too_few(ev: Evaluation) -> str | None:
    """Why the data are too thin for any interval of this metric to keep its coverage."""
    if not _builtin(ev) or ev.labels is None or ev.weight is not None:
        return None
    true_counts = [int(np.count_nonzero(ev.y_true == c)) for c in ev.labels]
    pos = ev.positive()
    predicted = None if pos is None or ev.metric.name != "precision" else \
        int(np.count_nonzero(ev.y_pred == ev.labels[pos]))
    return too_few_rows(ev.metric, true_counts, pos, predicted_positive=predicted)


def too_few_rows(metric: Metric, true_counts: Any, positive: int | None, *,
                 predicted_positive: int | None = None) -> str | None:
    """Why rows this few leave no interval of built-in metric ``name`` its coverage (None: they
    do), from counts alone, so that an engine decides as the in-memory check does:
    ``true_counts`` are the rows of each label in ``y_true`` (over all labels, those only
    predicted included: a confusion matrix's row sums), ``positive`` the index of label 1
    among them, ``predicted_positive`` the rows predicted positive (``precision`` only: a
    confusion matrix's positive column sum).

    A rare class with fewer than ``MIN_CLASS_ROWS`` rows: its share of the metric (or of a
    loss) rests on those few rows, and no interval recovers what they did not show. Metrics of
    the positive class (recall, F1, Jaccard, average precision) need its rows; binary
    metrics of both classes (ROC AUC, balanced accuracy, MCC, kappa, log loss, Brier) need
    both; precision needs rows predicted positive."""
    counts = [int(c) for c in true_counts]
    name, needs = metric.name, metric.needs_rows
    positive_only = needs == POSITIVE
    both = needs == BOTH or (needs == BOTH_IF_BINARY and len(counts) == 2)
    if positive_only or both:
        needed = ([counts[positive]] if positive is not None else []) if positive_only \
            else counts
        least = min(needed) if needed else None
        if least is not None and least < MIN_CLASS_ROWS:
            return (f"y_true has only {least} row(s) of a class {name} needs "
                    f"(fewer than {MIN_CLASS_ROWS}): no interval keeps its coverage")
    if needs == PREDICTED_POSITIVE and positive is not None and \
            predicted_positive is not None and \
            predicted_positive < MIN_CLASS_ROWS:
        return (f"only {predicted_positive} row(s) are predicted positive (fewer than "
                f"{MIN_CLASS_ROWS}): no interval keeps its coverage")
    return None


def _auc_interval(ev: Evaluation, method: str, confidence: float) -> Interval:
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    if ev.y_pred.ndim == 2:
        auc, se = _multiclass_auc(ev)
        return Interval(max(0.0, auc - z * se), min(1.0, auc + z * se), method,
                        {"std_error": se}, estimate=float(auc))
    y = ev.y_true == ev.classes[-1]
    m = int(np.count_nonzero(y))
    if method == "newcombe":
        components, aucs = structural_components(y, ev.y_pred[None, :].astype(float), None)
        return binary_auc_interval(float(aucs[0]), None, m, ev.n - m, method, confidence)
    if min(m, ev.n - m) < 2:
        return refused(method, "DeLong's variance needs at least 2 rows of each class")
    aucs, cov = auc_and_covariance(y, ev.y_pred, ev.weight)
    return binary_auc_interval(float(aucs[0]), float(cov[0, 0]), m, ev.n - m, method,
                               confidence)


def binary_auc_interval(auc: float, variance: float | None, positives: int, negatives: int,
                        method: str, confidence: float) -> Interval:
    """Binary ROC AUC's ``newcombe`` interval (from the class sizes) or ``delong`` one (from
    DeLong's ``variance``), in memory and on an engine alike."""
    if method == "newcombe":
        low, high = newcombe_auc_interval(auc, positives, negatives, confidence)
        return Interval(float(low), float(high), method, {"positives": positives,
                                                          "negatives": negatives},
                        estimate=auc)
    if variance is None or min(positives, negatives) < 2:
        return refused(method, "DeLong's variance needs at least 2 rows of each class")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    se = math.sqrt(max(variance, 0.0))
    return Interval(max(0.0, auc - z * se), min(1.0, auc + z * se), method,
                    {"std_error": se}, estimate=auc)


def _median_interval(values: np.ndarray, confidence: float) -> Interval:
    """Distribution-free interval for a median from order statistics: the ``l``-th and
    ``u``-th smallest values, with ``l``, ``u`` the binomial(n, ½) quantiles at the two tails
    (exact coverage >= ``confidence``; no resampling, one partial sort)."""
    from scipy.stats import binom

    n = len(values)
    tail = (1 - confidence) / 2
    low_rank = int(binom.ppf(tail, n, 0.5))  # 0-based index of the lower order statistic
    high_rank = n - 1 - low_rank
    if low_rank < 1 or high_rank >= n:
        return refused("order", f"{n} rows are too few for a {confidence:.0%} interval of "
                                 f"a median")
    ordered = np.partition(values, (low_rank - 1, high_rank))
    return Interval(float(ordered[low_rank - 1]), float(ordered[high_rank]), "order",
                    {"ranks": (low_rank, high_rank + 1)})


def _row_sums_apply(ev: Evaluation) -> bool:
    return _row_sums_fit(_shape(ev))


def _row_sums_fit(shape: Shape) -> bool:
    name = shape.name
    if name == "d2_absolute_error_score" and shape.weighted:
        return False  # scikit-learn takes a weighted median there
    return name in SUMS or (name in confusion.FORMULAS and shape.n_labels is not None
                            and shape.n_labels ** 2 <= MAX_ONE_HOT_CELLS)


def _row_sums(ev: Evaluation) -> tuple[np.ndarray, Any]:
    """Per-row columns (already times the sample weight) whose sums determine the metric, and
    the metric as a function of those sums: SUMS' losses, or a confusion formula of one-hot
    cell columns (undefined cells as NaN)."""
    name = ev.metric.name
    if name in SUMS:
        columns_of, finish = SUMS[name]
        columns = columns_of(ev.y_true, ev.y_pred, ev.labels)
    else:
        k = len(ev.classes)
        columns = np.zeros((ev.n, 1 + k * k))
        columns[:, 0] = 1.0
        columns[np.arange(ev.n), 1 + confusion.cell_index(ev.y_true, ev.y_pred, ev.classes)] = 1
        formula, pos = confusion.FORMULAS[name], ev.positive()

        def finish(sums: np.ndarray) -> np.ndarray:
            cells = sums[:, 1:].reshape(-1, k, k)
            return np.where(undefined_cells(name, cells, pos), np.nan, formula(cells, pos))

    if ev.weight is not None:
        columns = columns * ev.weight[:, None]
    return columns, finish


MIN_TAIL_INDEX = 3.0  # a finite third moment of the per-row loss, which BCa's skewness needs
GAUSSIAN_SPREAD_LEVEL = 0.8  # Gaussian-error samples whose spread the tail rule lets through


def min_tail_index(n: int) -> float:
    """The smallest Hill tail index a loss may show: 3, a finite third moment (BCa's skewness
    correction rests on it). At any n; below a few hundred rows Hill's estimate of even a
    Gaussian tail falls under 3, and there the spread test (``_tail_refusal``) keeps clean
    data from being refused."""
    return MIN_TAIL_INDEX


def _tail_refusal(ev: Evaluation, columns: np.ndarray, max_tail_share: float | None,
                  method: str, details: dict[str, Any]) -> Interval | None:
    """INCONCLUSIVE when a loss's tail is too heavy for any bootstrap or normal interval of its
    mean: the top 1% of rows carry more than ``max_tail_share`` of it, or both

    * its Hill tail index (largest ``max(10, 1%)`` rows) is below ``MIN_TAIL_INDEX`` (3), and
    * its spread ``K = mean(l²)/mean(l)²`` is above the ``GAUSSIAN_SPREAD_LEVEL`` (80%)
      quantile of ``K`` for Gaussian errors at this n (``gaussian_spread_quantile``, the loss
      taken as ``|e|`` or ``e²``).

    Hill's index is the right question at large n (is a third moment finite?) but at 100 rows
    it reads a Gaussian tail as heavy half the time; ``K`` uses every row and tells squared
    t(3) errors from Gaussian ones there. A sample that merely missed the tail cannot be told
    from a light one, so some false approvals on t(3) errors remain possible; the level is
    the trade-off: at 100 rows 20% of clean Gaussian samples are refused and squared t(3)
    errors approve at the truth within the one-sided promise (validation grid; at the 90%
    level, 10% and 4.3%, above it)."""
    if ev.metric.name not in SUMS:
        return None
    from mlqa.stats.small_sample import spread_ratio

    loss = np.abs(columns[:, TAIL_COLUMN.get(ev.metric.name, 1)])
    # log loss (clipped at eps by scikit-learn) and Brier are bounded per row: every moment is
    # finite, and Hill's estimate on their bulk-plus-misclassified mixture means nothing
    index = math.inf if ev.metric.bounded_rows else tail_index(loss)
    why = tail_reason(ev.metric, ev.n, tail_share(loss), index, lambda: spread_ratio(loss),
                      max_tail_share, details)
    return None if why is None else refused(method, why, **details)


def tail_from_largest(metric: Metric, n: int, largest: np.ndarray, mean: float, variance: float,
                      max_tail_share: float | None, details: dict[str, Any]) -> str | None:
    """``tail_reason`` from what an engine sends: the largest ``tail_rows(n)`` per-row losses
    (largest first) give the top-1% share and Hill's index, the moments the spread
    ``mean(l²)/mean(l)² = ((n-1)/n var + mean²) / mean²``."""
    from mlqa.stats.small_sample import hill_of_largest, share_of_largest

    index = math.inf if metric.bounded_rows else hill_of_largest(largest, n)
    mean_square = variance * (n - 1) / n + mean * mean
    return tail_reason(metric, n, share_of_largest(largest, n, mean * n), index,
                       lambda: mean_square / (mean * mean) if mean > 0 else math.inf,
                       max_tail_share, details)


def tail_reason(metric: Metric, n: int, share: float, index: float, spread: Any,
                max_tail_share: float | None, details: dict[str, Any]) -> str | None:
    """The tail rule of ``_tail_refusal`` on its figures (None: the tail is light enough):
    ``share`` (``tail_share``), Hill's ``index`` (``tail_index``; ``inf`` for a bounded loss)
    and ``spread()``, called only where the index is below the floor, giving ``K`` of the
    per-row loss. An engine computes them from the largest ``tail_rows(n)`` losses and the
    loss's moments (``share_of_largest``, ``hill_of_largest``). Records the figures in
    ``details``."""
    from mlqa.stats.small_sample import gaussian_spread_quantile

    name = metric.name
    bound = DEFAULT_MAX_TAIL_SHARE if max_tail_share is None else max_tail_share
    least = min_tail_index(n)
    details.update(tail_share=share, max_tail_share=bound, tail_index=index,
                   min_tail_index=least)
    heavy = index < least
    if heavy:
        power = metric.loss_power
        details.update(spread_ratio=spread(),
                       gaussian_spread=gaussian_spread_quantile(n, power, GAUSSIAN_SPREAD_LEVEL))
        heavy = details["spread_ratio"] > details["gaussian_spread"]
    if share > bound:
        why = f"the top 1% of rows carry {share:.0%} of the {name} (more than " \
              f"max_tail_share {bound:.0%})"
    elif heavy:
        why = f"the {name}'s per-row tail index is {index:.2g} (Hill, < {least:g}: " \
              f"{'no finite variance' if index < 2 else 'no finite skewness'}) and its " \
              f"spread mean(l²)/mean(l)² is {details['spread_ratio']:.3g}, above what " \
              f"Gaussian errors show in {GAUSSIAN_SPREAD_LEVEL:.0%} of samples of {n} " \
              f"rows ({details['gaussian_spread']:.3g}); the top 1% of rows carry {share:.0%}"
    else:
        return None
    return f"{why}: no interval is trustworthy on tails this heavy"


def _sums_influence(ev: Evaluation, confidence: float, max_tail_share: float | None
                    ) -> Interval:
    """Normal interval ``f(S) ± z sqrt(Σ U_i²)/n`` from the rows' influence values: the delta
    method, exact to first order and the BCa interval's limit at large n; no resampling."""
    columns, finish = _row_sums(ev)
    details: dict[str, Any] = {}
    heavy = _tail_refusal(ev, columns, max_tail_share, "influence", details)
    if heavy is not None:
        return heavy
    total = columns.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = float(finish(total[None, :])[0])
    if not math.isfinite(estimate):
        return refused("influence", f"{ev.metric.name} is undefined on these rows", **details)
    se = float(np.sqrt(np.sum(_influence(finish, columns, total) ** 2))) / ev.n
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    details["std_error"] = se
    return Interval(estimate - z * se, estimate + z * se, "influence", details)


def sums_interval(name: str, total: Any, cross: Any, n: int, confidence: float = 0.95
                  ) -> Interval:
    """The ``influence`` interval of sums-of-rows metric ``name`` (a loss in ``SUMS``) from
    mergeable state only: the column sums ``total = Σ c_i`` (p,) and their cross-products
    ``cross = Σ c_i c_iᵀ`` (p, p) over the ``n`` rows, with ``c_i`` the metric's per-row
    columns (``SUMS[name][0]``). ``Σ U_i² = ∇fᵀ (cross - total totalᵀ / n) ∇f``, so an engine
    that sums columns and their products gets the in-memory interval exactly. (The tail
    diagnostic needs the largest rows as well: ``mlqa.stats.small_sample.tail_share`` and
    ``tail_index`` on the top ``max(11, 1% of n)`` per-row losses.)"""
    total = np.asarray(total, dtype=float)
    cross = np.asarray(cross, dtype=float)
    return _spread_interval(name, total, cross - np.outer(total, total) / n, n, confidence)


def moments_interval(name: str, n: int, mean: float, variance: float,
                     confidence: float = 0.95) -> Interval:
    """The ``influence`` interval of mean loss ``name`` (a one-column loss in ``SUMS``: MAE,
    MSE, RMSE, log loss, Brier) from the per-row loss's ``n``, ``mean`` and sample
    ``variance`` alone (``sums_interval`` with the centred products ``(n-1) variance``, free
    of the cancellation raw sums of squares suffer)."""
    spread = np.zeros((2, 2))
    spread[1, 1] = variance * (n - 1)
    return _spread_interval(name, np.array([float(n), mean * n]), spread, n, confidence)


def _spread_interval(name: str, total: np.ndarray, spread: np.ndarray, n: int,
                     confidence: float) -> Interval:
    """``f(S) ± z sqrt(∇fᵀ spread ∇f) / n``: the influence interval from the column sums
    ``total`` and their centred cross-products ``spread = Σ (c_i - c̄)(c_i - c̄)ᵀ``."""
    _, finish = SUMS[name]
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = float(finish(total[None, :])[0])
    if not math.isfinite(estimate):
        return refused("influence", f"{name} is undefined on these rows")
    grad = _gradient(finish, total / n)
    se = math.sqrt(max(float(grad @ spread @ grad), 0.0)) / n
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return Interval(estimate - z * se, estimate + z * se, "influence", {"std_error": se})


def _bca(ev: Evaluation, confidence: float, n_resamples: int, random_state: Any,
         details: dict[str, Any], max_tail_share: float | None) -> Interval:
    columns, finish = _row_sums(ev)
    details = dict(details)
    heavy = _tail_refusal(ev, columns, max_tail_share, "bca", details)
    if heavy is not None:
        return heavy
    total = columns.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = float(finish(total[None, :])[0])
        replicates = finish(weighted_sums(columns, n_resamples, seed=random_state))
    undefined = int(np.sum(~np.isfinite(replicates)))
    details["undefined_resamples"] = undefined
    if undefined > MAX_UNDEFINED * len(replicates) or not math.isfinite(estimate):
        return refused("bca", f"{ev.metric.name} was undefined on {undefined} of "
                               f"{len(replicates)} resamples", **details)
    influence = _influence(finish, columns, total)
    low, high, extra = bca_interval(replicates, estimate, influence, confidence)
    details.update(extra)
    if not (math.isfinite(low) and math.isfinite(high)):
        return refused("bca", "every resample fell on one side of the estimate", **details)
    return Interval(low, high, "bca", details)


def _ap_bca(ev: Evaluation, confidence: float, n_resamples: int, random_state: Any,
            details: dict[str, Any]) -> Interval:
    """BCa interval of average precision: vectorised Poisson-bootstrap replicates, the
    acceleration from AP's influence function."""
    y, s = ev.y_true == 1, ev.y_pred.astype(float)
    estimate, influence = average_precision_influence(y, s)
    replicates = average_precision_replicates(y, s, n_resamples, random_state=random_state)
    undefined = int(np.sum(~np.isfinite(replicates)))
    details = {**details, "undefined_resamples": undefined}
    if undefined > MAX_UNDEFINED * len(replicates):
        return refused("bca", f"average_precision was undefined on {undefined} of "
                               f"{len(replicates)} resamples", **details)
    low, high, extra = bca_interval(replicates, estimate, influence, confidence)
    details.update(extra)
    if not (math.isfinite(low) and math.isfinite(high)):
        return refused("bca", "every resample fell on one side of the estimate", **details)
    # Where AP is high its bootstrap and influence standard errors fall as the estimate rises
    # (correlation -0.9 at 50 positives, AP 0.85): a sample that overshoots also claims a
    # narrow interval, and BCa's lower bound clears the truth too often (4.2% against 2.5%).
    # Boyd, Eng & Page (2013) model AP's variance as a proportion's over the m positives,
    # AP (1 - AP) / m; its score (Wilson) interval evaluates that variance at the candidate
    # value, not at the estimate, so it does not narrow as the estimate nears 1 (0.9% false
    # PASS there) and, unlike their logit Wald form, does not balloon at AP ~ 1 either. Alone
    # it approves too often at a low AP with few positives (7.6% at 10 positives, AP 0.19),
    # where BCa holds: the interval is the hull of the two.
    m = int(np.count_nonzero(y))
    score = proportion_interval(estimate * m, m, confidence, "wilson")
    details["std_error"] = math.sqrt(estimate * (1 - estimate) / m)  # the model's, at AP
    return Interval(min(low, score[0]), max(high, score[1]), "bca", details, estimate=estimate)


def _logit_interval(estimate: float, se: float, confidence: float) -> tuple[float, float]:
    """Wald interval on the logit scale from a standard error (for a figure in (0, 1])."""
    if estimate >= 1:
        return 1.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    centre, half = math.log(estimate / (1 - estimate)), z * se / (estimate * (1 - estimate))
    return (1 / (1 + math.exp(-(centre - half))), 1 / (1 + math.exp(-(centre + half))))


# the column of SUMS' per-row columns that is the loss itself (default 1)
TAIL_COLUMN = {"explained_variance": 2}


def _influence(finish: Any, columns: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Empirical influence ``∇f(S̄)·(c_i - S̄)`` of each row on ``f`` of the column sums."""
    mean = total / len(columns)
    return (columns - mean) @ _gradient(finish, mean)


def _gradient(finish: Any, mean: np.ndarray) -> np.ndarray:
    """∇f at the column means, by central differences (every finish is scale-free:
    f(S) = f(S/n)); a direction ``f`` does not depend on gets 0."""
    p = len(mean)
    step = 1e-6 * np.maximum(np.abs(mean), 1e-12)
    probes = np.vstack([mean + np.diag(step), mean - np.diag(step)])
    with np.errstate(invalid="ignore", divide="ignore"):
        values = finish(probes)
    grad = (values[:p] - values[p:]) / (2 * step)
    return np.where(np.isfinite(grad), grad, 0.0)


def _multiclass_auc(ev: Evaluation) -> tuple[float, float]:
    """Multiclass ROC AUC, one-vs-rest or one-vs-one (Hand & Till), macro or weighted, and its
    standard error.

    Each binary AUC ``A`` entering the average is a DeLong statistic over its rows, whose
    influence on row i is ``w_i (V_i - A) / W`` (``V_i`` the row's structural component, ``W``
    the weight of the row's side); the average's influence is the same average of those, and
    its variance the sum of their squares. One-vs-rest: class k against all other rows;
    one-vs-one: for each pair (j, k), the mean of A(j | k) scored by column j and A(k | j) by
    column k, over the rows of the two classes, weighted by the pair's share of rows when
    ``average="weighted"`` (scikit-learn's definitions).
    """
    w = np.ones(ev.n) if ev.weight is None else ev.weight
    k = len(ev.classes)
    is_class = ev.y_true[None, :] == ev.classes[:, None]  # (k, n)
    weighted = ev.metric.kwargs.get("average") == "weighted"
    terms: list[tuple[float, np.ndarray, np.ndarray, int]] = []  # (share, rows, positives, col)
    share: np.ndarray
    if ev.metric.kwargs.get("multi_class") == "ovo":
        pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
        pair_rows = [is_class[a] | is_class[b] for a, b in pairs]
        prevalence = np.array([r.mean() for r in pair_rows])
        share = prevalence / prevalence.sum() if weighted else np.full(len(pairs), 1 / len(pairs))
        for (a, b), r, sh in zip(pairs, pair_rows, share, strict=True):
            terms.append((sh / 2, r, is_class[a], a))
            terms.append((sh / 2, r, is_class[b], b))
    else:
        everything = np.ones(ev.n, dtype=bool)
        share = (is_class * w).sum(axis=1) / w.sum() if weighted else np.full(k, 1 / k)
        terms = [(share[c], everything, is_class[c], c) for c in range(k)]
    value, influence = 0.0, np.zeros(ev.n)
    for sh, rows, positive, column in terms:
        y = positive[rows]
        sub_w = None if ev.weight is None else ev.weight[rows]
        components, aucs = structural_components(y, ev.y_pred[rows, column][None, :], sub_w)
        wr = w[rows]
        side_weight = np.where(y, wr[y].sum(), wr[~y].sum())
        influence[rows] += sh * wr * (components[0] - aucs[0]) / side_weight
        value += sh * aucs[0]
    return value, float(np.sqrt(np.sum(influence**2)))


def _builtin(ev: Evaluation) -> bool:
    """The metric is the registry's (a user's callable may share a name, not the formula)."""
    known = METRICS.get(ev.metric.name)
    return known is not None and ev.metric.func is known.func and ev.metric.input == known.input


def proportion_counts(metric: Metric, cm: np.ndarray, pos: int | None) -> tuple[int, int]:
    """(successes, trials) of proportion metric ``metric`` (its ``proportion`` says of which
    rows) from its confusion cells ``cm`` (rows true, columns predicted; ``pos`` the index
    of label 1)."""
    of = metric.proportion
    if of == ALL:
        return int(np.trace(cm)), int(cm.sum())
    assert pos is not None
    tp = int(cm[pos, pos])
    return tp, int(cm[:, pos].sum() if of == PREDICTED_POSITIVE else cm[pos].sum())


def proportion_cells_interval(metric: Metric, cm: np.ndarray, pos: int | None, method: str,
                              confidence: float) -> Interval:
    """The ``wilson`` or ``exact`` interval of proportion metric ``name`` from its confusion
    cells alone: in memory and on an engine."""
    k, n = proportion_counts(metric, cm, pos)
    if n == 0:
        return refused(method, "the proportion has n=0")
    return Interval(*proportion_interval(k, n, confidence, method), method,
                    {"successes": k, "trials": n})


def metric_replicates(ev: Evaluation, method: str, n_resamples: int, seed: Any) -> np.ndarray:
    """The metric on ``n_resamples`` resampled evaluation sets (multinomial or bootstrap).

    Public because the paired comparison (``mlqa.compare``) replicates each metric the same way:
    one definition per metric, not a copy in each family.
    """
    name = ev.metric.name
    if name in confusion.FORMULAS and _builtin(ev):
        formula = confusion.FORMULAS[name]
        k = len(ev.classes)
        if method == "multinomial":
            counts = multinomial_counts(
                confusion.confusion_counts(ev.y_true, ev.y_pred, ev.classes), n_resamples,
                seed=seed).astype(float)
        elif _row_sums_apply(ev):
            columns, finish = _row_sums(ev)
            with np.errstate(invalid="ignore", divide="ignore"):
                return finish(weighted_sums(columns, n_resamples, seed=seed))
        else:
            cells = confusion.cell_index(ev.y_true, ev.y_pred, ev.classes)
            sw = 1.0 if ev.weight is None else ev.weight
            counts = bootstrap(lambda w: np.stack([
                np.bincount(cells, weights=row * sw, minlength=k * k) for row in w]),
                ev.n, n_resamples, seed=seed).reshape(-1, k, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(undefined_cells(name, counts, ev.positive()), np.nan,
                            formula(counts, ev.positive()))
    if name in SUMS and _builtin(ev):
        columns_of, finish_sums = SUMS[name]
        sums = weighted_sums(columns_of(ev.y_true, ev.y_pred, ev.labels), n_resamples,
                             seed=seed, sample_weight=ev.weight)
        with np.errstate(invalid="ignore", divide="ignore"):
            return finish_sums(sums)
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
