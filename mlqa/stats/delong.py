"""ROC AUC and DeLong's covariance of correlated AUCs, from one sort per scorer.

DeLong, DeLong & Clarke-Pearson (1988) write the AUC of a scorer as the mean of per-row
*structural components*. For a positive row i and a negative row j, with
``psi(a, b) = 1 if a > b, 1/2 if a == b, 0 otherwise``::

    V10_i = mean_j psi(s_i, s_j)        (how many negatives the positive outranks)
    V01_j = mean_i psi(s_i, s_j)        (how many positives outrank the negative)
    AUC   = mean_i V10_i = mean_j V01_j
    S     = cov(V10) / m + cov(V01) / n  (m positives, n negatives; covariance across scorers)

Sun & Xu (2014) compute the components from midranks instead of the O(m n) double sum. Here the
midranks come from a single sort of each scorer's values: within each tie group of the sorted
scores, the weight of negatives below plus half the negatives tied is ``V10`` of every positive
in the group, and the weight of positives above plus half the positives tied is ``V01`` of every
negative in it. Ties are therefore counted exactly as scikit-learn's ``roc_auc_score`` counts
them.

Sample weights weigh rows in both the AUC (``sum_ij w_i w_j psi / (W+ W-)``, as scikit-learn)
and the variance, which is the sandwich (influence-function) form::

    S = m/(m-1) * sum_i w_i^2 (V10_i - AUC)(...)^T / W+^2  +  n/(n-1) * (same over negatives)

With unit weights it is exactly DeLong's ``cov(V10)/m + cov(V01)/n``.

``auc_and_covariance`` is the primitive the metric intervals (one scorer) and the paired
regression test (candidate and baseline scored on the same rows) are built on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlqa.errors import InputError

__all__ = ["auc_and_covariance", "covariance_from_sums", "structural_components"]


def auc_and_covariance(y_true: Any, scores: Any, sample_weight: Any = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of ``k`` scorers on the same rows and DeLong's ``(k, k)`` covariance of them.

    ``y_true`` is 1-D binary (0/1 or bool; 1 is the positive class), ``scores`` has shape
    ``(k, n)`` (a 1-D array is one scorer), ``sample_weight`` is 1-D of length ``n`` or None.
    Returns ``(aucs, cov)`` with shapes ``(k,)`` and ``(k, k)``. O(k n log n).
    """
    y, s, w = _validated(y_true, scores, sample_weight)
    if s.shape[0] == 1:
        # One scorer: every row of a tie group has the same component, so the variance is a
        # sum over groups and the components never need putting back in row order.
        g = _TieGroups(s[0], y, w)
        auc = g.auc()
        m, n = _class_sizes(y)
        var = (m / (m - 1) * np.dot(g.pos_sq, (g.v10 - auc) ** 2) / g.w_pos ** 2
               + n / (n - 1) * np.dot(g.neg_sq, (g.v01 - auc) ** 2) / g.w_neg ** 2)
        return np.array([auc]), np.array([[var]])
    components, aucs = structural_components(y, s, w)
    cov = _sandwich(components[:, y], aucs, None if w is None else w[y]) + \
        _sandwich(components[:, ~y], aucs, None if w is None else w[~y])
    return aucs, cov


def covariance_from_sums(positives: int, negatives: int, v10: Any, v10_cross: Any,
                         v01_cross: Any) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` AUCs and DeLong's ``(k, k)`` covariance (unit weights) from summed
    components, which an engine can compute without sending rows: ``v10`` (k,) the sum of
    each scorer's ``V10`` over the ``positives`` rows, ``v10_cross``/``v01_cross`` (k, k)
    the sums of the products of two scorers' ``V10`` over the positives and ``V01`` over the
    ``negatives``. ``cov(V10)/m = (Σ V10 V10ᵀ - m A Aᵀ) / (m (m-1))`` (``A = Σ V10 / m``,
    also ``V01``'s mean), the same for ``V01`` over the negatives."""
    m, n = float(positives), float(negatives)
    if m < 2 or n < 2:
        raise InputError(f"ROC AUC and its variance need at least 2 positive and 2 negative "
                         f"rows, got {positives} positive and {negatives} negative")
    aucs = np.asarray(v10, dtype=float) / m

    def part(cross: Any, k: float) -> np.ndarray:
        return (np.asarray(cross, dtype=float) - k * np.outer(aucs, aucs)) / (k * (k - 1))

    return aucs, part(v10_cross, m) + part(v01_cross, n)


def structural_components(y: np.ndarray, scores: np.ndarray, w: np.ndarray | None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Per-row DeLong components ``(k, n)`` (``V10`` on positive rows, ``V01`` on negative
    rows) and the ``k`` AUCs. ``y`` is a bool array, ``scores`` a float ``(k, n)`` array,
    inputs already validated (``auc_and_covariance`` does that)."""
    k, n = scores.shape
    components = np.empty((k, n))
    aucs = np.empty(k)
    for r in range(k):
        g = _TieGroups(scores[r], y, w)
        group = np.cumsum(g.starts_mask) - 1
        components[r, g.order] = np.where(y[g.order], g.v10[group], g.v01[group])
        aucs[r] = g.auc()
    return components, aucs


class _TieGroups:
    """One scorer's rows sorted once and cut into groups of tied scores, with per group the
    positive and negative weight (and squared weight) and the components ``V10``/``V01``."""

    def __init__(self, scores: np.ndarray, y: np.ndarray, w: np.ndarray | None):
        n = len(scores)
        self.order = order = np.argsort(scores)
        ordered = scores[order]
        self.starts_mask = starts_mask = np.empty(n, dtype=bool)
        starts_mask[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=starts_mask[1:])
        starts = np.flatnonzero(starts_mask)
        is_pos = y[order]
        if w is None:
            ends = np.r_[starts[1:], n] - 1
            pos = np.diff(np.cumsum(is_pos)[ends], prepend=0).astype(float)
            neg = np.diff(np.r_[starts, n]) - pos
            self.pos_sq, self.neg_sq = pos, neg
        else:
            wo = w[order]
            pos_w = np.where(is_pos, wo, 0.0)
            pos = np.add.reduceat(pos_w, starts)
            neg = np.add.reduceat(wo, starts) - pos
            self.pos_sq = np.add.reduceat(pos_w ** 2, starts)
            self.neg_sq = np.add.reduceat(wo ** 2, starts) - self.pos_sq
        self.pos, self.w_pos, self.w_neg = pos, pos.sum(), neg.sum()
        # negatives below plus half the tied ones; positives above plus half the tied ones
        self.v10 = (np.cumsum(neg) - 0.5 * neg) / self.w_neg
        self.v01 = (self.w_pos - np.cumsum(pos) + 0.5 * pos) / self.w_pos

    def auc(self) -> float:
        return float(np.dot(self.pos, self.v10)) / self.w_pos


def _class_sizes(y: np.ndarray) -> tuple[int, int]:
    m = int(y.sum())
    return m, len(y) - m


def _sandwich(v: np.ndarray, aucs: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """``m/(m-1) * sum w^2 (v - auc)(v - auc)^T / W^2`` over one class's rows (``v``: k x m)."""
    m = v.shape[1]
    centred = v - aucs[:, None]
    if w is None:
        return centred @ centred.T / (m * (m - 1))
    scaled = centred * w
    return scaled @ scaled.T / w.sum() ** 2 * (m / (m - 1))


def _validated(y_true: Any, scores: Any, sample_weight: Any
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise InputError(f"y_true must be 1-D, got shape {y.shape}")
    if y.dtype != bool:
        values = np.unique(y)
        if not np.isin(values, (0, 1)).all():
            raise InputError(f"y_true must be binary 0/1 or bool, got values {values[:5]!r}")
        y = y == 1
    s = np.asarray(scores, dtype=float)
    if s.ndim == 1:
        s = s[None, :]
    if s.ndim != 2 or s.shape[1] != y.shape[0]:
        raise InputError(f"scores must have shape (k, n) with n={y.shape[0]} rows, "
                         f"got shape {np.shape(scores)}")
    if not np.isfinite(s).all():
        raise InputError("scores has NaN or infinite values")
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=float)
        if w.shape != y.shape:
            raise InputError(f"sample_weight must have shape {y.shape}, got {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise InputError("sample_weight must be finite and non-negative")
    n_pos = int(y.sum())
    if n_pos < 2 or y.shape[0] - n_pos < 2:
        raise InputError(f"ROC AUC and its variance need at least 2 positive and 2 negative "
                         f"rows in y_true, got {n_pos} positive and {y.shape[0] - n_pos} "
                         f"negative")
    if w is not None and (w[y].sum() <= 0 or w[~y].sum() <= 0):
        raise InputError("sample_weight is zero on every positive (or every negative) row")
    return y, s, w
