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
    a, b, c, d = mcnemar_table(correct_candidate, correct_baseline)
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

    (auc_c, auc_b), cov = auc_and_covariance(y_true, np.vstack([candidate, baseline]))
    if relative:
        # delta method for A_c / A_b - 1: gradient (1/A_b, -A_c/A_b^2)
        grad = np.array([1 / auc_b, -auc_c / auc_b ** 2])
        diff = _relative(auc_c, auc_b)
    else:
        grad = np.array([1.0, -1.0])
        diff = auc_c - auc_b
    se = math.sqrt(max(0.0, float(grad @ cov @ grad)))
    half = z_score(confidence) * se
    p_value = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return PairedDifference(float(auc_c), float(auc_b), float(diff), (diff - half, diff + half),
                            p_value, "delong")


def bootstrap(metric: Metric, y_true: np.ndarray, candidate: np.ndarray, baseline: np.ndarray,
              confidence: float, *, relative: bool = False, n_resamples: int = 2000,
              random_state: Any = 0) -> PairedDifference:
    """Paired bootstrap: every resample weighs the rows the same way for both models."""
    from mlqa.stats.bootstrap import percentile_interval

    value_c, value_b = metric(y_true, candidate), metric(y_true, baseline)
    diff = _relative(value_c, value_b) if relative else value_c - value_b
    replicated = _replicate_by_sums if _SUMS.get(metric.name) and not metric.kwargs else \
        _replicate_by_cells if _few_cells(metric, y_true, candidate, baseline) else \
        _replicate_by_rows
    rep_c, rep_b = replicated(metric, y_true, candidate, baseline, n_resamples, random_state)
    with np.errstate(divide="ignore", invalid="ignore"):
        replicates = (rep_c - rep_b) / np.abs(rep_b) if relative else rep_c - rep_b
    low, high = percentile_interval(replicates, confidence)
    # Two-sided bootstrap p-value for "no difference": how often the replicates cross zero.
    finite = replicates[np.isfinite(replicates)]
    p_value = None if finite.size == 0 else \
        float(min(1.0, 2 * min(np.mean(finite <= 0), np.mean(finite >= 0))))
    return PairedDifference(value_c, value_b, diff, (low, high), p_value, "paired_bootstrap")


# Metrics that are a function of a few weighted sums over rows: per-row columns, then the value
# from the column sums. One matrix product per chunk of resamples replaces a metric call per
# resample, with the same Poisson weights (so the same replicates, to rounding).
def _mean_of(loss: Any) -> tuple[Any, Any]:
    return (lambda y, p: np.column_stack([np.ones(len(y)), loss(y, p)]),
            lambda s: s[:, 1] / s[:, 0])


def _r2_columns(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(y)), y, y * y, (y - p) ** 2])


def _r2_value(s: np.ndarray) -> np.ndarray:
    total = s[:, 2] - s[:, 1] ** 2 / s[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 - s[:, 3] / total


_EPS = np.finfo(np.float64).eps
_SUMS: dict[str, tuple[Any, Any]] = {
    "mean_absolute_error": _mean_of(lambda y, p: np.abs(y - p)),
    "mean_squared_error": _mean_of(lambda y, p: (y - p) ** 2),
    "mean_absolute_percentage_error": _mean_of(lambda y, p: np.abs(y - p) /
                                               np.maximum(np.abs(y), _EPS)),
    "r2": (_r2_columns, _r2_value),
}
_SUMS["root_mean_squared_error"] = (_SUMS["mean_squared_error"][0],
                                    lambda s: np.sqrt(s[:, 1] / s[:, 0]))


def _replicate_by_sums(metric: Metric, y: np.ndarray, candidate: np.ndarray,
                       baseline: np.ndarray, n_resamples: int, seed: Any
                       ) -> tuple[np.ndarray, np.ndarray]:
    from mlqa.stats.bootstrap import weighted_sums

    columns, value = _SUMS[metric.name]
    y = y.astype(float)
    cols_c, cols_b = columns(y, candidate.astype(float)), columns(y, baseline.astype(float))
    sums = weighted_sums(np.hstack([cols_c, cols_b]), n_resamples, seed=seed)
    p = cols_c.shape[1]
    return value(sums[:, :p]), value(sums[:, p:])


MAX_CELLS = 256  # distinct (label, candidate, baseline) rows under which cells are resampled


def _few_cells(metric: Metric, y: np.ndarray, candidate: np.ndarray, baseline: np.ndarray
               ) -> bool:
    from mlqa.metrics.registry import LABELS

    if metric.input != LABELS or candidate.ndim != 1:
        return False
    sizes = [len(np.unique(a)) for a in (y, candidate, baseline)]
    return sizes[0] * sizes[1] * sizes[2] <= MAX_CELLS and len(y) > MAX_CELLS


def _replicate_by_cells(metric: Metric, y: np.ndarray, candidate: np.ndarray,
                        baseline: np.ndarray, n_resamples: int, seed: Any
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Label metrics depend on the rows only through counts of (label, candidate, baseline)
    triples; resampling rows is exactly a multinomial draw over those cells, and each metric
    call sees a handful of weighted rows instead of all of them."""
    from mlqa.stats.bootstrap import multinomial_counts

    triples = np.rec.fromarrays([y, candidate, baseline])
    cells, counts = np.unique(triples, return_counts=True)
    draws = multinomial_counts(counts, n_resamples, seed=seed)
    y_cells, c_cells, b_cells = (np.asarray(cells[f]) for f in cells.dtype.names)
    rep_c = np.array([_weighted(metric, y_cells, c_cells, w) for w in draws])
    rep_b = np.array([_weighted(metric, y_cells, b_cells, w) for w in draws])
    return rep_c, rep_b


def _replicate_by_rows(metric: Metric, y: np.ndarray, candidate: np.ndarray,
                       baseline: np.ndarray, n_resamples: int, seed: Any
                       ) -> tuple[np.ndarray, np.ndarray]:
    from mlqa.stats.bootstrap import bootstrap as replicate

    def statistic(weights: np.ndarray) -> np.ndarray:
        return np.array([[_weighted(metric, y, candidate, w), _weighted(metric, y, baseline, w)]
                         for w in weights])

    reps = replicate(statistic, len(y), n_resamples, seed=seed)
    return reps[:, 0], reps[:, 1]


def _weighted(metric: Metric, y_true: np.ndarray, pred: np.ndarray, w: np.ndarray) -> float:
    try:
        return metric(y_true, pred, sample_weight=w)
    except TypeError:  # a callable without sample_weight: resample the rows themselves
        rows = np.repeat(np.arange(len(w)), np.asarray(w, dtype=np.int64))
        return float(metric.func(y_true[rows], pred[rows], **metric.kwargs))
    except ValueError:  # undefined on this resample (e.g. one class left): not counted
        return math.nan
