"""Effect sizes with a lower confidence bound: what materiality is decided on.

A point estimate of a distance between two samples is biased upwards -- noise alone makes
two samples of one distribution differ -- and the bias is large exactly where data is thin
(many categories, few rows). So ``tests="auto"`` flags a column only when the *lower bound*
of its bias-corrected effect clears the floor (``min_effect``).

Both effects are integrals (sums) of absolute differences of two empirical distributions,
``E = sum_i w_i |d_i|``: for a numerical column the normed first Wasserstein distance
(``d_i = F_i - G_i`` the ECDF gap on the pooled grid, ``w_i = dx_i / max(std_ref, 0.001)``),
for a categorical column the total variation distance (``d_i = p_i - q_i`` the share gap of
category ``i``, ``w_i = 1/2``).

* Bias correction. Each ``d_i`` is estimated with variance
  ``s_i^2 = P_i (1 - P_i) / n + Q_i (1 - Q_i) / m`` (``P``, ``Q`` the reference and current
  ECDF or share), and ``E[d_hat^2] = d^2 + s^2``; so ``|d_i|`` is estimated by
  ``sqrt(max(d_hat_i^2 - s_i^2, 0))``. Under no drift that removes most of the
  ``s_i sqrt(2/pi)`` each cell adds; under a real change (``|d| >> s``) it moves the estimate
  by ``s^2 / (2|d|)``.
* Standard error by the delta method (influence functions): with ``g_i = sign(d_hat_i)``, a
  reference row at value/category ``v`` moves ``E`` by ``h(v) - mean h`` where
  ``h(v) = sum_i w_i g_i [v <= x_i]`` (numerical) or ``w_v g_v`` (categorical), and a current
  row by minus that; ``se^2 = Var_ref(h) / n + Var_cur(h) / m``.
* One-sided lower bound at level ``1 - alpha``: ``low = E_bc - z_{1-alpha} se``.

A column whose effect is truly at the floor is then flagged in about ``alpha`` of runs at any
n (not 50%), and one with no drift essentially never on its effect alone; the family-wise
error rate is still the test's (Holm), since materiality only ever removes a rejection.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np

from mlqa.drift.stattests.pooled import BLOCK, MIN_NORM, PooledOrder, SortedPair


@dataclasses.dataclass(frozen=True)
class EffectBound:
    """``estimate`` (bias-corrected effect), ``low`` (its one-sided lower bound), ``se``."""

    estimate: float
    low: float
    se: float


def _z(alpha: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(1.0 - alpha))


def _corrected_gap(f: np.ndarray, g: np.ndarray, n: int, m: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(d, |d| corrected for noise)`` at the grid points from the ECDFs ``f = F``, ``g = G``:
    ``d = F - G`` and ``sqrt(max(d^2 - F(1-F)/n - G(1-G)/m, 0))``. In place: ``f`` and ``g``
    are scratch afterwards (the arrays can be as long as both columns together)."""
    d = f - g
    tmp = f * f
    f -= tmp
    f /= n                      # F(1-F)/n
    np.multiply(g, g, out=tmp)
    g -= tmp
    g /= m                      # G(1-G)/m
    f += g                      # var(d_hat)
    np.multiply(d, d, out=tmp)
    tmp -= f
    np.maximum(tmp, 0.0, out=tmp)
    np.sqrt(tmp, out=tmp)       # |d| corrected for noise
    return d, tmp


def wasserstein_bound(order: PooledOrder, ref_std: float, alpha: float) -> EffectBound:
    """Lower confidence bound of the normed Wasserstein distance W1 / max(std_ref, 0.001)."""
    norm = max(ref_std, MIN_NORM)
    n, m = order.n, order.m
    if len(order.values) < 2:
        return EffectBound(0.0, 0.0, 0.0)
    # In place on a few (k-1)-long buffers: these arrays are as long as both columns together.
    f = order.ref_cum[:-1] / n
    g = order.cur_cum[:-1] / m
    d, tmp = _corrected_gap(f, g, n, m)
    dx = np.subtract(order.values[1:], order.values[:-1], out=g)
    estimate = float(np.dot(tmp, dx)) / norm
    # h(x_j) = sum_{i >= j} sign(d_i) dx_i: a row at x_j lies at or below every grid point
    # from j on (a reverse cumulative sum; the last value has no interval above it, h = 0).
    np.sign(d, out=d)
    d *= dx
    h = tmp
    np.cumsum(d[::-1], out=h[::-1])
    hh = np.multiply(h, h, out=f)
    sides = []
    for cum, size in ((order.ref_cum, n), (order.cur_cum, m)):
        w = np.subtract(cum[:-1], np.r_[0.0, cum[:-2]], out=d)  # counts at x_0..x_{k-2}
        sides.append((float(np.dot(w, h)), float(np.dot(w, hh)), size))
    return normed_bound(estimate, sides, norm, alpha)


def normed_bound(estimate: float, sides: Iterable[tuple[float, float, int]], norm: float,
                 alpha: float) -> EffectBound:
    """The delta-method bound of a normed W1 ``estimate`` from each side's sums of its
    influence function ``h`` over its rows (``sum h``, ``sum h^2``, rows): the variance of
    ``h`` over each side, divided by its size, summed; shared by the pooled order, two sorted
    samples and an engine's pooled sums."""
    se2 = 0.0
    for total, squares, size in sides:
        mean = total / size
        se2 += max(squares / size - mean * mean, 0.0) / size
    se = math.sqrt(se2) / norm
    return EffectBound(estimate, estimate - _z(alpha) * se, se)


def wasserstein_bound_sorted(pair: SortedPair, ref_std: float, alpha: float) -> EffectBound:
    """``wasserstein_bound`` for two sorted samples with no value on more than one row
    (``pair.distinct_rows``), with no merge: every pooled interval starts at one row of one
    side (``SortedPair.grid``), so the estimate is the sum of each side's sum, and the
    reverse cumulative ``h`` at a row is its own side's reverse sum from that row plus the
    other side's from the first of its rows above (``P_i`` or ``Q_k``). Arrays are as long
    as one side, not both; element by element the same arithmetic as the merged form."""
    norm = max(ref_std, MIN_NORM)
    n, m = len(pair.ref), len(pair.cur)
    estimate = 0.0
    reverse = []
    for ref_side in (True, False):
        # rev[i] = sum of sign(d_j) dx_j over the intervals this side's rows i, i+1, ...
        # start; rev[k] = 0 past the last row
        rev = np.empty((n if ref_side else m) + 1)
        rev[-1] = 0.0
        for s in pair.blocks(ref_side):  # block by block: temporaries stay in cache
            f, g, dx = pair.grid(ref_side, s, s + BLOCK)
            d, tmp = _corrected_gap(f, g, n, m)
            tmp *= dx                   # (not np.dot: a BLAS call per block costs more than
            estimate += float(tmp.sum())  # the block's arithmetic on a busy machine)
            np.sign(d, out=d)
            np.multiply(d, dx, out=rev[s:s + len(d)])
        body = rev[-2::-1]
        np.cumsum(body, out=body)
        reverse.append(rev)
    estimate /= norm
    sides = []
    for own, other, pos, size in ((reverse[0], reverse[1], pair.below, n),
                                  (reverse[1], reverse[0], pair.above, m)):
        total = squares = 0.0
        for s in range(0, size, BLOCK):
            h = np.take(other, pos[s:s + BLOCK])
            h += own[s:s + len(h)]
            total += float(h.sum())
            h *= h
            squares += float(h.sum())
        sides.append((total, squares, size))
    return normed_bound(estimate, sides, norm, alpha)


def tvd_bound(ref_counts: np.ndarray, cur_counts: np.ndarray, alpha: float) -> EffectBound:
    """Lower confidence bound of the total variation distance 1/2 sum |p_i - q_i| of two
    category-count vectors aligned on the same categories."""
    r = np.asarray(ref_counts, dtype=np.float64)
    c = np.asarray(cur_counts, dtype=np.float64)
    n, m = r.sum(), c.sum()
    p, q = r / n, c / m
    d = p - q
    var = p * (1.0 - p) / n + q * (1.0 - q) / m
    estimate = 0.5 * float(np.sum(np.sqrt(np.maximum(d * d - var, 0.0))))
    h = 0.5 * np.sign(d)
    se = math.sqrt(_weighted_var(h, r, n) / n + _weighted_var(h, c, m) / m)
    return EffectBound(estimate, estimate - _z(alpha) * se, se)


def _weighted_var(h: np.ndarray, weights: np.ndarray, total: float) -> float:
    mean = float(np.dot(weights, h)) / total
    return max(float(np.dot(weights, h * h)) / total - mean * mean, 0.0)
