"""Group rates from confusion cells, and simultaneous intervals for the gaps between them.

Every rate here is ``k / n`` counted from a group's confusion cells ``C[t, p]`` (binary: label
1 positive), so one summary per group (``COUNT(*) GROUP BY group, y_true, y_pred``) decides
on any backend::

    recall (TPR) = tp / (tp + fn)     false_positive_rate = fp / (fp + tn)
    TNR = tn / (tn + fp)   FNR = fn / (fn + tp)   precision = tp / (tp + fp)
    selection_rate = (tp + fp) / N    accuracy = trace(C) / N

**Gaps.** Between two disjoint groups, the difference ``p1 - p2`` gets Newcombe's hybrid
score interval (:func:`mlqa.stats.two_proportions.newcombe_difference`) and the ratio
``p1 / p2`` the MOVER-R interval built from the same two Wilson intervals (Donner & Zou
2012)::

    L = (p1 p2 - sqrt((p1 p2)^2 - l1 u2 (2 p1 - l1)(2 p2 - u2))) / (u2 (2 p2 - u2))
    U = (p1 p2 + sqrt((p1 p2)^2 - u1 l2 (2 p1 - u1)(2 p2 - l2))) / (l2 (2 p2 - l2))

A group against the **overall** rate is not two independent samples (the group is part of
the whole). With ``w = n_g / N`` its share of the rate's denominator, the overall rate is
``w p_g + (1 - w) p_rest``, so exactly::

    p_g - p_all = (1 - w) (p_g - p_rest)
    p_g / p_all = rho / (w rho + 1 - w),   rho = p_g / p_rest

and the interval of the group against the rest of the data (independent) maps onto both
(the second map increases in ``rho``).

Against the **best** group, the gap of group ``g`` is ``max_h p_h - p_g`` (the true best,
not the observed one). If every pairwise interval of ``p_h - p_g`` covers at once, so does
``[max_h low_hg, max_h high_hg]`` (``h = g`` contributes ``[0, 0]``); the ratio
``p_g / max_h p_h = min_h p_g / p_h`` likewise. The choice of the best group by the data is
thereby covered.

**Simultaneous.** Each interval is computed at level ``1 - alpha / m``, ``m`` the number of
intervals in the family (Bonferroni): the groups against the overall rate (``m = k``), against
a named group (``k - 1``), every unordered pair for the best (``k (k - 1) / 2``), twice that
for equalized odds (TPR and FPR each). Holm's step-down would be uniformly more powerful as a
*test*, but it gives no simultaneous *intervals*, and the gate decides on intervals.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from mlqa.errors import InputError
from mlqa.stats.two_proportions import newcombe_difference, wilson_interval

# canonical rate names, with the aliases users write
RATE_NAMES = ("true_positive_rate", "false_positive_rate", "true_negative_rate",
              "false_negative_rate", "precision", "selection_rate", "accuracy")
EQUALIZED_ODDS = "equalized_odds"
AUC = "roc_auc"  # from scores, per group (mlqa.fairness.auc)
ALIASES = {"recall": "true_positive_rate", "tpr": "true_positive_rate",
           "fpr": "false_positive_rate", "tnr": "true_negative_rate",
           "specificity": "true_negative_rate", "fnr": "false_negative_rate",
           "demographic_parity": "selection_rate", "auc": AUC}
METRICS = (*RATE_NAMES, EQUALIZED_ODDS, AUC, *ALIASES)
# what each rate needs present to be defined (the denominator's rows)
_DENOMINATOR = {"true_positive_rate": "rows of the positive class",
                "false_positive_rate": "rows of the negative class",
                "true_negative_rate": "rows of the negative class",
                "false_negative_rate": "rows of the positive class",
                "precision": "rows predicted positive", "selection_rate": "rows",
                "accuracy": "rows"}


def resolve(metric: str) -> tuple[str, tuple[str, ...]]:
    """(canonical name, the rates it is made of): equalized odds is TPR and FPR."""
    name = ALIASES.get(metric, metric)
    if name == EQUALIZED_ODDS:
        return name, ("true_positive_rate", "false_positive_rate")
    if name == AUC:
        return name, (AUC,)
    if name not in RATE_NAMES:
        from mlqa._text import did_you_mean

        raise InputError(f"metric must be one of {list(METRICS)}, got {metric!r}"
                         f"{did_you_mean(metric, list(METRICS))}")
    return name, (name,)


def counts(rate: str, cells: np.ndarray, pos: int | None) -> tuple[np.ndarray, np.ndarray]:
    """``(k, n)`` per group of ``rate`` from ``cells`` (G, K, K: group, true, predicted)."""
    if rate == "accuracy":
        return np.trace(cells, axis1=1, axis2=2), cells.sum(axis=(1, 2))
    if pos is None or cells.shape[1] != 2:
        raise InputError(f"{rate} needs binary labels with 1 as the positive class")
    neg = 1 - pos
    tp, fn = cells[:, pos, pos], cells[:, pos, neg]
    fp, tn = cells[:, neg, pos], cells[:, neg, neg]
    k, n = {"true_positive_rate": (tp, tp + fn), "false_positive_rate": (fp, fp + tn),
            "true_negative_rate": (tn, tn + fp), "false_negative_rate": (fn, fn + tp),
            "precision": (tp, tp + fp), "selection_rate": (tp + fp, tp + fp + fn + tn)}[rate]
    return k, n


def undefined_reason(rate: str) -> str:
    return f"{rate} needs {_DENOMINATOR[rate]}, and the group has none"


@dataclasses.dataclass(frozen=True)
class Gap:
    """One gap's point value and its interval (``low``/``high``; NaN where undefined)."""

    value: float
    low: float
    high: float


def _wilson(k: float, n: float, level: float) -> tuple[float, float]:
    low, high = wilson_interval(k, n, level)
    return float(low), float(high)


def difference(k1: float, n1: float, k2: float, n2: float, level: float) -> Gap:
    """``p1 - p2`` of two independent groups, Newcombe's interval at ``level``."""
    d, low, high = newcombe_difference(k1, n1, k2, n2, level)
    return Gap(float(d), float(low), float(high))


def ratio(k1: float, n1: float, k2: float, n2: float, level: float) -> Gap:
    """``p1 / p2`` of two independent groups, MOVER-R at ``level`` (``p2 > 0``)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = _wilson(k1, n1, level)
    l2, u2 = _wilson(k2, n2, level)
    prod = p1 * p2
    below = prod ** 2 - l1 * u2 * (2 * p1 - l1) * (2 * p2 - u2)
    above = prod ** 2 - u1 * l2 * (2 * p1 - u1) * (2 * p2 - l2)
    low = (prod - math.sqrt(max(below, 0.0))) / (u2 * (2 * p2 - u2))
    den = l2 * (2 * p2 - l2)
    high = (prod + math.sqrt(max(above, 0.0))) / den if den > 0 else math.inf
    return Gap(p1 / p2, max(low, 0.0), high)


def against_overall(kind: str, k_g: float, n_g: float, k_all: float, n_all: float,
                    level: float) -> Gap:
    """The group against the overall rate (the group included in it), by the exact maps of
    the module docstring from the group against the rest of the data."""
    k_r, n_r = k_all - k_g, n_all - n_g
    if n_r <= 0:
        raise InputError("a single group has nothing to be compared with")
    w = n_g / n_all
    if kind == "difference":
        g = difference(k_g, n_g, k_r, n_r, level)
        return Gap(g.value * (1 - w), g.low * (1 - w), g.high * (1 - w))
    g = ratio(k_g, n_g, k_r, n_r, level)

    def to_overall(rho: float) -> float:
        return 1 / w if math.isinf(rho) else rho / (w * rho + 1 - w)

    return Gap((k_g / n_g) / (k_all / n_all), to_overall(g.low), to_overall(g.high))


def against_best(kind: str, k: np.ndarray, n: np.ndarray, g: int, level: float,
                 usable: np.ndarray) -> Gap:
    """Group ``g`` against the best group: ``max_h p_h - p_g`` (difference) or
    ``min_h p_g / p_h`` (ratio), over the ``usable`` groups ``h``."""
    p = k / n
    best = [h for h in np.flatnonzero(usable) if h != g]
    if kind == "difference":
        gaps = [difference(k[h], n[h], k[g], n[g], level) for h in best]
        return Gap(float(max(p[usable]) - p[g]), max([0.0, *(x.low for x in gaps)]),
                   max([0.0, *(x.high for x in gaps)]))
    # a group with rate 0 is never the best (unless all are, and then the ratio is undefined)
    gaps = [ratio(k[g], n[g], k[h], n[h], level) for h in best if k[h] > 0]
    top = float(max(p[usable]))
    return Gap(float(p[g] / top) if top > 0 else math.nan, min([1.0, *(x.low for x in gaps)]),
               min([1.0, *(x.high for x in gaps)]))


def family_size(reference: str, groups: int, parts: int) -> int:
    """The number of intervals the Bonferroni correction spreads alpha over."""
    pairs = {"overall": groups, "best": groups * (groups - 1) // 2}.get(reference, groups - 1)
    return max(pairs, 1) * parts


def per_interval_level(confidence: float, m: int) -> float:
    return 1 - (1 - confidence) / m


def group_interval(k: float, n: float, level: float) -> tuple[float, float]:
    """A group's own rate, Wilson's interval (for the report's per-group table)."""
    return _wilson(k, n, level)
