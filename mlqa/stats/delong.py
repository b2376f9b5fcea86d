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

__all__ = ["auc_and_covariance", "structural_components"]


def auc_and_covariance(y_true: Any, scores: Any, sample_weight: Any = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of ``k`` scorers on the same rows and DeLong's ``(k, k)`` covariance of them.

    ``y_true`` is 1-D binary (0/1 or bool; 1 is the positive class), ``scores`` has shape
    ``(k, n)`` (a 1-D array is one scorer), ``sample_weight`` is 1-D of length ``n`` or None.
    Returns ``(aucs, cov)`` with shapes ``(k,)`` and ``(k, k)``. O(k n log n).
    """
    y, s, w = _validated(y_true, scores, sample_weight)
    components, aucs = structural_components(y, s, w)
    pos = y
    cov = _sandwich(components[:, pos], aucs, None if w is None else w[pos]) + \
        _sandwich(components[:, ~pos], aucs, None if w is None else w[~pos])
    return aucs, cov


def structural_components(y: np.ndarray, scores: np.ndarray, w: np.ndarray | None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Per-row DeLong components ``(k, n)`` (``V10`` on positive rows, ``V01`` on negative
    rows) and the ``k`` AUCs. ``y`` is a bool array, ``scores`` a float ``(k, n)`` array,
    inputs already validated (``auc_and_covariance`` does that)."""
    k, n = scores.shape
    components = np.empty((k, n))
    aucs = np.empty(k)
    weight = np.ones(n) if w is None else w
    pos_weight = np.where(y, weight, 0.0)
    w_pos = pos_weight.sum()
    w_neg = weight.sum() - w_pos
    for r in range(k):
        order = np.argsort(scores[r])
        sorted_scores = scores[r][order]
        # tie groups of the sorted scores: start positions and a group id per sorted row
        starts_mask = np.empty(n, dtype=bool)
        starts_mask[0] = True
        np.not_equal(sorted_scores[1:], sorted_scores[:-1], out=starts_mask[1:])
        starts = np.flatnonzero(starts_mask)
        group = np.cumsum(starts_mask) - 1
        pos_g = np.add.reduceat(pos_weight[order], starts)
        neg_g = np.add.reduceat(weight[order], starts) - pos_g
        neg_below = np.cumsum(neg_g) - neg_g
        pos_above = w_pos - np.cumsum(pos_g)
        v10_g = (neg_below + 0.5 * neg_g) / w_neg
        v01_g = (pos_above + 0.5 * pos_g) / w_pos
        row_is_pos = y[order]
        components[r, order] = np.where(row_is_pos, v10_g[group], v01_g[group])
        aucs[r] = float(np.dot(pos_g, v10_g)) / w_pos
    return components, aucs


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
