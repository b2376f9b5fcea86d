"""Paired intervals for the difference ``candidate - baseline`` of a metric on the same rows.

Pairing is what makes a regression gate sharp: two models scored on the same rows err on many of
the same rows, so the variance of the *difference* is far smaller than the sum of the two
variances an unpaired comparison of two intervals pays for. Each function returns a
:class:`PairedDifference`: the two values, the difference, its interval and a p-value for
"no difference".

- accuracy: McNemar. Only the discordant rows (``b`` baseline right / candidate wrong, ``c``
  the reverse) carry information. The interval of ``(c - b) / n`` is Newcombe's hybrid score
  interval for paired proportions (Newcombe 1998, method 10): Wilson intervals of both
  accuracies combined with the correlation ``phi`` of the paired table,

      delta = sqrt((p1-l1)^2 - 2 phi (p1-l1)(u2-p2) + (u2-p2)^2)
      eps   = sqrt((u1-p1)^2 - 2 phi (u1-p1)(p2-l2) + (p2-l2)^2)
      CI    = (d - delta, d + eps)

  The p-value is McNemar's test: the exact binomial test on ``c | b + c`` when fewer than 25
  rows are discordant, the chi-square form otherwise.
- ROC AUC: DeLong's paired test. ``var(A_c - A_b) = S_cc + S_bb - 2 S_cb`` from DeLong's
  covariance of the two correlated AUCs; normal interval and p-value.
- anything else: paired bootstrap. Every resample weighs the rows the same way for both models
  (Poisson row weights), and the percentile interval of the replicated difference is taken.

``relative=True`` compares ``(candidate - baseline) / |baseline|`` instead; for AUC the delta
method gives its variance from the same covariance, elsewhere the bootstrap replicates it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from scipy import stats

from mlqa.metrics.registry import Metric
from mlqa.stats.proportion import proportion_interval

EXACT_BELOW = 25  # discordant rows under which McNemar's test is the exact binomial one
MIN_DEFINED = 0.95  # share of bootstrap replicates that must be defined for an interval


@dataclasses.dataclass(frozen=True)
class PairedDifference:
    candidate: float
    baseline: float
    difference: float
    ci: tuple[float, float]
    p_value: float | None
    test: str


def z_score(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _relative(candidate: float, baseline: float) -> float:
    return (candidate - baseline) / abs(baseline) if baseline != 0 else math.nan


def mcnemar_table(correct_candidate: np.ndarray, correct_baseline: np.ndarray
                  ) -> tuple[int, int, int, int]:
    """``(a, b, c, d)``: both right, baseline only, candidate only, both wrong."""
    both = int(np.count_nonzero(correct_candidate & correct_baseline))
    baseline_only = int(np.count_nonzero(correct_baseline & ~correct_candidate))
    candidate_only = int(np.count_nonzero(correct_candidate & ~correct_baseline))
    n = len(correct_candidate)
    return both, baseline_only, candidate_only, n - both - baseline_only - candidate_only


def newcombe_interval(a: int, b: int, c: int, d: int, confidence: float) -> tuple[float, float]:
    """Newcombe's interval (method 10) for ``p_candidate - p_baseline`` of a paired table."""
    n = a + b + c + d
    p1, p2 = (a + c) / n, (a + b) / n  # candidate, baseline accuracy
    l1, u1 = proportion_interval(a + c, n, confidence)
    l2, u2 = proportion_interval(a + b, n, confidence)
    margins = (a + c) * (b + d) * (a + b) * (c + d)
    phi = (a * d - b * c) / math.sqrt(margins) if margins > 0 else 0.0
    diff = p1 - p2
    delta = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    eps = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return max(-1.0, diff - delta), min(1.0, diff + eps)


def mcnemar_p_value(b: int, c: int) -> float:
    """Two-sided McNemar p-value for ``b`` vs ``c`` discordant rows (exact when few)."""
    m = b + c
    if m == 0:
        return 1.0
    if m < EXACT_BELOW:
        return float(stats.binomtest(min(b, c), m, 0.5).pvalue)
    chi2 = (abs(b - c) - 1) ** 2 / m  # with continuity correction, as statsmodels' default
    return float(stats.chi2.sf(chi2, 1))


def mcnemar(correct_candidate: np.ndarray, correct_baseline: np.ndarray, confidence: float,
            *, relative: bool = False, n_resamples: int = 2000,
            random_state: Any = 0) -> PairedDifference:
    """Accuracy difference with Newcombe's interval and McNemar's p-value. ``relative``: the
    interval of ``acc_c / acc_b - 1`` by bootstrap, drawn exactly as a multinomial over the
    four cells of the paired table (resampling rows changes nothing else)."""
    return mcnemar_from_table(*mcnemar_table(correct_candidate, correct_baseline), confidence,
                              relative=relative, n_resamples=n_resamples,
                              random_state=random_state)


def mcnemar_from_table(a: int, b: int, c: int, d: int, confidence: float, *,
                       relative: bool = False, n_resamples: int = 2000,
                       random_state: Any = 0) -> PairedDifference:
    """``mcnemar`` from the paired table alone (``mcnemar_table``'s counts): what an engine
    sends."""
    n = a + b + c + d
    candidate, baseline = (a + c) / n, (a + b) / n
    test = "mcnemar_exact" if b + c < EXACT_BELOW else "mcnemar"
    if not relative:
        return PairedDifference(candidate, baseline, candidate - baseline,
                                newcombe_interval(a, b, c, d, confidence),
                                mcnemar_p_value(b, c), test)
    from mlqa.stats.bootstrap import multinomial_counts, percentile_interval

    cells = multinomial_counts(np.array([a, b, c, d]), n_resamples, seed=random_state)
    with np.errstate(divide="ignore", invalid="ignore"):
        replicates = (cells[:, 0] + cells[:, 2]) / (cells[:, 0] + cells[:, 1]) - 1
    return PairedDifference(candidate, baseline, _relative(candidate, baseline),
                            percentile_interval(replicates, confidence), mcnemar_p_value(b, c),
                            test)


def delong(y_true: np.ndarray, candidate: np.ndarray, baseline: np.ndarray, confidence: float,
           *, relative: bool = False) -> PairedDifference:
    from mlqa.stats.delong import auc_and_covariance

    aucs, cov = auc_and_covariance(y_true, np.vstack([candidate, baseline]))
    return delong_from_covariance(aucs, cov, confidence, relative=relative)


def delong_from_covariance(aucs: np.ndarray, cov: np.ndarray, confidence: float, *,
                           relative: bool = False) -> PairedDifference:
    """DeLong's paired test from the two AUCs and their ``(2, 2)`` covariance (in memory
    from the rows, on an engine from summed placements,
    :func:`mlqa.stats.delong.covariance_from_sums`)."""
    auc_c, auc_b = (float(a) for a in aucs)
    if relative:
        # delta method for A_c / A_b - 1: gradient (1/A_b, -A_c/A_b^2)
        grad = np.array([1 / auc_b, -auc_c / auc_b ** 2])
        diff = _relative(auc_c, auc_b)
    else:
        grad = np.array([1.0, -1.0])
        diff = auc_c - auc_b
    se = math.sqrt(max(0.0, float(grad @ cov @ grad)))
    return normal_difference(auc_c, auc_b, float(diff), se, confidence, "delong")


def normal_difference(candidate: float, baseline: float, difference: float, se: float,
                      confidence: float, test: str) -> PairedDifference:
    """The normal interval ``difference ± z se`` and its two-sided p-value for "no
    difference" (``se`` 0: 1 where the difference is 0, else 0)."""
    half = z_score(confidence) * se
    p_value = float(2 * stats.norm.sf(abs(difference) / se)) if se > 0 else \
        (1.0 if difference == 0 else 0.0)
    return PairedDifference(candidate, baseline, difference,
                            (difference - half, difference + half), p_value, test)


def bootstrap(metric: Metric, y_true: np.ndarray, candidate: np.ndarray, baseline: np.ndarray,
              confidence: float, *, relative: bool = False, n_resamples: int = 2000,
              random_state: Any = 0) -> PairedDifference:
    """Paired bootstrap: every resample weighs the rows the same way for both models.

    The metric family's replicates (confusion-matrix formulas, sums of rows, or the metric per
    resample) are drawn for each model from the *same* seed: Poisson row weights depend only on
    the seed and the row count, so replicate ``i`` of both models is the same resample of rows.
    """
    from mlqa.metrics.intervals import Evaluation
    from mlqa.metrics.intervals import metric_replicates as replicates

    value_c, value_b = metric(y_true, candidate), metric(y_true, baseline)
    diff = _relative(value_c, value_b) if relative else value_c - value_b
    seed = _int_seed(random_state)
    labels = labels_for(metric, y_true, candidate, baseline)
    joint = _joint_confusion(metric, labels, y_true, candidate, baseline, n_resamples, seed)
    if joint is not None:
        rep_c, rep_b = joint
    else:
        rep_c, rep_b = (replicates(Evaluation(metric, y_true, pred, None, labels), "bootstrap",
                                   n_resamples, seed) for pred in (candidate, baseline))
    return from_replicates(value_c, value_b, rep_c, rep_b, confidence, relative=relative,
                           difference=diff)


def from_replicates(candidate: float, baseline: float, rep_c: np.ndarray, rep_b: np.ndarray,
                    confidence: float, *, relative: bool = False,
                    difference: float | None = None) -> PairedDifference:
    """The paired bootstrap's difference, percentile interval and p-value from each model's
    replicates over the same resamples (in memory, or from an engine's joint cells)."""
    from mlqa.stats.bootstrap import percentile_interval

    if difference is None:
        difference = _relative(candidate, baseline) if relative else candidate - baseline
    with np.errstate(divide="ignore", invalid="ignore"):
        replicated = (rep_c - rep_b) / np.abs(rep_b) if relative else rep_c - rep_b
    finite = replicated[np.isfinite(replicated)]
    # A difference undefined on many resamples (a class missing, a zero baseline) has no
    # trustworthy percentiles: no interval, so the check is an ERROR rather than a guess.
    low, high = percentile_interval(replicated, confidence) \
        if finite.size >= MIN_DEFINED * len(replicated) else (math.nan, math.nan)
    # Two-sided bootstrap p-value for "no difference": how often the replicates cross zero.
    p_value = None if finite.size == 0 else \
        float(min(1.0, 2 * min(np.mean(finite <= 0), np.mean(finite >= 0))))
    return PairedDifference(candidate, baseline, difference, (low, high), p_value,
                            "paired_bootstrap")


MAX_JOINT_CELLS = 50_000_000  # resamples x label^3 cells drawn at once, at most


def _joint_confusion(metric: Metric, labels: np.ndarray | None, y: np.ndarray,
                     candidate: np.ndarray, baseline: np.ndarray, n_resamples: int, seed: int
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """Replicates of a confusion-matrix metric for both models from one multinomial draw over
    the joint cells (true, candidate, baseline): resampling rows changes nothing but those
    counts, so this *is* the paired row bootstrap, at a cost that does not grow with the rows.
    None where it does not apply (not a built-in confusion metric, too many classes)."""
    from mlqa.metrics import confusion
    from mlqa.metrics.registry import METRICS

    if metric.name not in confusion.FORMULAS or METRICS.get(metric.name) != metric or \
            labels is None or n_resamples * len(labels) ** 3 > MAX_JOINT_CELLS:
        return None
    k = len(labels)
    index = (np.searchsorted(labels, y) * k + np.searchsorted(labels, candidate)) * k + \
        np.searchsorted(labels, baseline)
    cells = np.bincount(index, minlength=k ** 3).reshape(k, k, k)
    return joint_replicates(metric.name, cells, labels, n_resamples, seed)


def joint_replicates(name: str, cells: np.ndarray, labels: np.ndarray, n_resamples: int,
                     seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Both models' replicates of confusion-matrix metric ``name`` from one multinomial draw
    over the joint cells ``(true, candidate, baseline)`` over ``labels`` (in memory, or an
    engine's ``COUNT(*) GROUP BY``). None for a binary metric without label 1 (scikit-learn's
    own error path decides)."""
    from mlqa.metrics import confusion
    from mlqa.metrics.defined import positive_index
    from mlqa.stats.bootstrap import multinomial_counts

    positive = positive_index(labels)
    if positive is None and "_" not in name.replace("balanced_", "").replace(
            "matthews_", "").replace("cohen_", ""):
        return None
    draws = multinomial_counts(cells, n_resamples, seed=seed).astype(float)
    formula = confusion.FORMULAS[name]
    with np.errstate(invalid="ignore", divide="ignore"):
        return formula(draws.sum(axis=3), positive), formula(draws.sum(axis=2), positive)


def joint_values(name: str, cells: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Both models' values of confusion-matrix metric ``name`` on the joint cells."""
    from mlqa.metrics import confusion
    from mlqa.metrics.defined import positive_index

    positive, formula = positive_index(labels), confusion.FORMULAS[name]
    return (float(formula(cells.sum(axis=2)[None].astype(float), positive)[0]),
            float(formula(cells.sum(axis=1)[None].astype(float), positive)[0]))


def _int_seed(random_state: Any) -> int:
    """One integer seed for both models (a Generator would move on between the two draws)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    if random_state is None:
        return int(np.random.default_rng().integers(2**63))
    return int(random_state)


def labels_for(metric: Metric, y: np.ndarray, candidate: np.ndarray, baseline: np.ndarray
            ) -> np.ndarray | None:
    """The classes the metric family's formulas index by, as ``check_metric`` sets them."""
    from mlqa.metrics import confusion
    from mlqa.metrics.registry import LABELS

    if metric.input != LABELS:
        return np.unique(y)
    if metric.name in confusion.FORMULAS:
        return np.unique(np.concatenate([y, candidate, baseline]))
    return None
