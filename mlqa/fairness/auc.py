"""ROC AUC per group for ``check_disparity(metric="roc_auc")``: the summary (each group's AUC,
DeLong's variance and class sizes), filled in memory (:func:`mlqa.stats.delong.
auc_and_covariance` per group) or on an engine (DeLong's placements summed per group,
:func:`mlqa.engines.metrics.grouped_placement_sums`, finished by
:func:`mlqa.stats.delong.covariance_from_sums`).

A group's interval is Newcombe's score interval (:func:`mlqa.metrics.intervals.
binary_auc_interval`), joined with DeLong's where ``check_metric`` would choose DeLong's
(100 or more rows of each class; :func:`group_interval` says why). Two groups are disjoint,
so the gap ``A1 - A2`` gets the MOVER interval of the two (Zou & Donner 2008; Newcombe's
hybrid interval for proportions is the same construction on Wilson intervals)::

    low  = d - sqrt((A1 - l1)^2 + (u2 - A2)^2)     high = d + sqrt((u1 - A1)^2 + (A2 - l2)^2)

The AUC of the whole data is not a mixture of the groups' AUCs (it also ranks one group's
positives against another's negatives), so AUC gaps are taken against a group or the best.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from mlqa.errors import InputError
from mlqa.fairness.rates import Gap


@dataclasses.dataclass(frozen=True, eq=False)
class GroupedAuc:
    """Per group: ``auc``, DeLong's ``variance`` (NaN where a class has fewer than 2 rows),
    ``positives`` and ``negatives``."""

    groups: tuple[str, ...]
    auc: np.ndarray
    variance: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray

    @property
    def rows(self) -> np.ndarray:
        return self.positives + self.negatives


def memory_auc(y_true: Any, scores: Any, groups: Any) -> GroupedAuc:
    import pandas as pd

    from mlqa._validation import as_1d, check_consistent_length, check_finite
    from mlqa.fairness.cells import group_names
    from mlqa.stats.delong import auc_and_covariance

    y, s, g = as_1d("y_true", y_true), as_1d("y_pred", scores), as_1d("groups", groups)
    check_consistent_length(y_true=y, y_pred=s, groups=g)
    if s.dtype.kind not in "biuf":
        raise InputError(f"roc_auc needs numeric scores in y_pred, got dtype {s.dtype}")
    s = s.astype(float)
    check_finite("y_pred", s)
    present = np.unique(y)
    if not (present.dtype.kind in "biuf" and np.isin(present, (0, 1)).all()):
        raise InputError(f"roc_auc disparity needs binary 0/1 labels, got {present[:5]}")
    codes, _ = pd.factorize(pd.Series(g), sort=True)
    names = group_names(g)
    codes = np.where(codes < 0, len(names) - 1, codes)
    out = np.full((4, len(names)), np.nan)
    for i in range(len(names)):
        yy, ss = y[codes == i] == 1, s[codes == i]
        m, n = int(yy.sum()), int((~yy).sum())
        out[2, i], out[3, i] = m, n
        if m and n:
            aucs, cov = auc_and_covariance(yy, ss)
            out[0, i] = float(aucs[0])
            out[1, i] = float(cov[0, 0]) if min(m, n) >= 2 else math.nan
    return GroupedAuc(names, out[0], out[1], out[2].astype(int), out[3].astype(int))


def engine_auc(engine: Any, table: Any, group: str, y: str, score: str) -> GroupedAuc:
    from mlqa.engines import metrics as summaries
    from mlqa.fairness.cells import grouped
    from mlqa.stats.delong import covariance_from_sums

    present = summaries.distinct_values(engine, table, y, 3)
    if len(present) > 2 or not set(present) <= {0, 1}:
        raise InputError(f"roc_auc disparity needs binary 0/1 labels; {y!r} has {present}")
    found = {r[0]: r[1:] for r in summaries.grouped_placement_sums(engine, table, group, y,
                                                                    score, 1)}
    values = sorted(v for v in found if v is not None) + ([None] if None in found else [])
    names = grouped(values, np.array([0, 1]), np.zeros((len(values), 2, 2), int)).groups
    out = np.full((4, len(values)), np.nan)
    for i, v in enumerate(values):
        m, n, s1, s2, t2 = found[v]
        out[2, i], out[3, i] = m, n
        if m and n:
            out[0, i] = s1 / m
            out[1, i] = float(covariance_from_sums(m, n, np.array([s1]), np.array([[s2]]),
                                                   np.array([[t2]]))[1][0, 0]) \
                if min(m, n) >= 2 else math.nan
    return GroupedAuc(names, out[0], out[1], out[2].astype(int), out[3].astype(int))


def group_interval(auc: float, variance: float, m: float, n: float, level: float
                   ) -> tuple[float, float, str]:
    """A group's AUC interval at ``level``: Newcombe's score interval, joined with DeLong's
    where ``check_metric`` would take DeLong's (100 or more rows of each class). The union
    keeps the coverage of the better of the two: at a Bonferroni level the interval reaches
    into the tails, where DeLong's Wald interval undercovers at a few hundred rows
    (docs/fairness.md) and Newcombe's rests on Hanley & McNeil's model."""
    from mlqa.metrics.intervals import Shape, binary_auc_interval, choose

    method = choose(Shape("roc_auc", True, False, int(m + n), 1, 2,
                          minority=int(min(m, n))), "auto")
    score = binary_auc_interval(auc, None, int(m), int(n), "newcombe", level)
    if method == "newcombe":
        return score.low, score.high, method
    wald = binary_auc_interval(auc, None if math.isnan(variance) else variance, int(m),
                               int(n), "delong", level)
    return min(score.low, wald.low), max(score.high, wald.high), "newcombe+delong"


def mover_difference(a1: float, iv1: tuple[float, float], a2: float,
                     iv2: tuple[float, float]) -> Gap:
    """``a1 - a2`` of two independent estimates with intervals ``iv1``, ``iv2``: MOVER."""
    d = a1 - a2
    low = d - math.sqrt((a1 - iv1[0]) ** 2 + (iv2[1] - a2) ** 2)
    high = d + math.sqrt((iv1[1] - a1) ** 2 + (a2 - iv2[0]) ** 2)
    return Gap(d, low, high)
