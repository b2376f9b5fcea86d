"""Numerical two-sample tests, each on the sorted finite values of both sides.

Statistics and p-values are evidently 0.7.23's to 1e-9 except where evidently is wrong; those
places say so. The rank and ECDF tests (ks, anderson, cramer_von_mises, ed, mannw) read the
two sorted sides: without repeated values, straight from them (``pooled.SortedPair``: one
binary search per reference row, shared by every test and the effect bound of the column);
otherwise from their pooled order (``pooled.PooledOrder``), merged once per column. No test
sorts again. scipy is imported inside each test: the Wasserstein path, which is what
evidently's defaults pick above 1000 rows, needs none of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from mlqa.drift.columns import NUMERICAL, Sample
from mlqa.drift.stattests import from_cells, from_sums, pooled, registry
from mlqa.drift.stattests.registry import MOMENTS, POOLED_SUMS, ColumnTestError, register

# The pooled order of the column pair a thread is testing: a column job asks for it from
# several tests (ks and anderson_asymptotic, the effect's bound), and it is built once.
_current = threading.local()


def pooled_order(ref: Sample, cur: Sample) -> pooled.PooledOrder:
    """The merge of both sides' sorted values, built once per column pair and thread."""
    held = getattr(_current, "pair", None)
    if held is not None and held[0] is ref.values and held[1] is cur.values:
        return held[2]
    order = pooled.PooledOrder.from_sorted(ref.sorted_values(), cur.sorted_values())
    _current.pair = (ref.values, cur.values, order)
    return order


def sorted_pair(ref: Sample, cur: Sample) -> pooled.SortedPair:
    """Both sides' sorted values, read without a merge when no value repeats."""
    held = getattr(_current, "sorted", None)
    if held is not None and held.ref is ref.values and held.cur is cur.values:
        return held
    pair = pooled.SortedPair(ref.sorted_values(), cur.sorted_values())
    _current.sorted = pair
    return pair


def release_pooled_order() -> None:
    """Let the thread's pooled order go (a column job calls this when it is done)."""
    _current.pair = None
    _current.sorted = None

# evidently divides by the reference's standard deviation, but never by less than this.
MIN_NORM = 0.001
PERMUTATIONS = 1000


def wasserstein_distance(u: np.ndarray, v: np.ndarray) -> float:
    """First Wasserstein distance W1 = integral of |F_u(x) - F_v(x)| dx of two sorted samples.

    Equal sizes: mean(|u_(i) - v_(i)|), the distance between matched order statistics, with no
    merge at all. Otherwise the integral over the merged sample's gaps, as scipy computes it.
    """
    if len(u) == len(v):  # block by block: no temporary as long as the column
        total = 0.0
        for s in range(0, len(u), pooled.BLOCK):
            gap = np.subtract(u[s:s + pooled.BLOCK], v[s:s + pooled.BLOCK])
            total += float(np.abs(gap, out=gap).sum())
        return total / len(u)
    both = np.concatenate([u, v])
    both.sort(kind="stable")  # two sorted runs: a linear merge
    gaps = np.diff(both)
    u_cdf = np.searchsorted(u, both[:-1], side="right") / len(u)
    v_cdf = np.searchsorted(v, both[:-1], side="right") / len(v)
    return float(np.sum(np.abs(u_cdf - v_cdf) * gaps))


def normed_wasserstein(ref: Sample, cur: Sample) -> float:
    """W1(reference, current) / max(std(reference), 0.001), std with ddof=0 (evidently's).

    Sides of unequal size without repeated values are read from their ``SortedPair`` (one
    binary search per reference row), not merged and searched again."""
    std = ref.with_std().std
    if std is None:  # with_std stores it on every numerical side
        raise TypeError(f"a {ref.kind} sample has no standard deviation")
    norm = max(std, MIN_NORM)
    if ref.n != cur.n and ref.n and cur.n:
        pair = sorted_pair(ref, cur)
        if pair.distinct_rows:
            return pooled.wasserstein_distinct(pair) / norm
    return wasserstein_distance(ref.sorted_values(), cur.sorted_values()) / norm


def _distinct_pair(ref: Sample, cur: Sample) -> pooled.SortedPair | None:
    """The column's ``SortedPair`` when no value repeats and no merge is held already."""
    held = getattr(_current, "pair", None)
    if held is not None and held[0] is ref.values and held[1] is cur.values:
        return None
    pair = sorted_pair(ref, cur)
    return pair if pair.distinct_rows else None


@register("wasserstein", "Wasserstein distance (normed)", (NUMERICAL,), p_value=False,
          threshold=0.1, summary=POOLED_SUMS, from_summary=from_sums.wasserstein,
          from_cells=from_cells.wasserstein)
def wasserstein(ref: Sample, cur: Sample) -> tuple[float, None]:
    """Normed first Wasserstein distance (see ``normed_wasserstein``)."""
    return normed_wasserstein(ref, cur), None


@register("ks", "K-S p_value", (NUMERICAL,), p_value=True, threshold=0.05, drift_if="<=",
          summary=POOLED_SUMS, from_summary=from_sums.ks, from_cells=from_cells.ks)
def ks(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Two-sided two-sample Kolmogorov-Smirnov: D = sup|F_ref - F_cur|, scipy's p-value
    (exact up to 10000 rows per side, asymptotic above), from the pooled order (without a
    merge when no value repeats)."""
    pair = _distinct_pair(ref, cur)  # no merge built for this column: try to do without
    if pair is not None:
        return pooled.ks_distinct(pair)
    return pooled.ks(pooled_order(ref, cur))


@register("anderson", "Anderson-Darling", (NUMERICAL,), p_value=True, threshold=0.1,
          summary=POOLED_SUMS, from_summary=from_sums.anderson)
def anderson(ref: Sample, cur: Sample) -> tuple[float, float]:
    """k-sample Anderson-Darling (midrank variant). scipy interpolates the p-value from a table
    and caps it to [0.001, 0.25], as evidently's does."""
    return _anderson_form(ref, cur, pooled.anderson_distinct, pooled.anderson)


@register("anderson_asymptotic", "Anderson-Darling (asymptotic p)", (NUMERICAL,), p_value=True,
          threshold=0.05, summary=POOLED_SUMS, from_summary=from_sums.anderson_asymptotic)
def anderson_asymptotic(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Two-sample Anderson-Darling, statistic A2akN (midrank), p-value from its limiting
    distribution: mlqa's scale-sensitive companion of KS in ``tests="auto"`` (see
    ``pooled.anderson_asymptotic``). Not in evidently's catalogue."""
    return _anderson_form(ref, cur, pooled.anderson_asymptotic_distinct,
                          pooled.anderson_asymptotic)


def _anderson_form(ref: Sample, cur: Sample, distinct: Callable[[Any], tuple[float, float]],
                   merged: Callable[[Any], tuple[float, float]]) -> tuple[float, float]:
    """An Anderson-Darling form: merge-free when no value repeats, else on the pooled order."""
    pair = _distinct_pair(ref, cur)
    if pair is not None:
        return distinct(pair)
    order = pooled_order(ref, cur)
    if len(order.values) < 2:
        raise ColumnTestError("Anderson-Darling needs more than one distinct value")
    return merged(order)


@register("cramer_von_mises", "Cramer-von Mises", (NUMERICAL,), p_value=True, threshold=0.1,
          drift_if="<=", summary=POOLED_SUMS, from_summary=from_sums.cramer_von_mises)
def cramer_von_mises(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Two-sample Cramér-von Mises T (exact p-value up to 20 rows per side, asymptotic above);
    evidently ships a copy of this scipy function."""
    if ref.n < 2 or cur.n < 2:
        raise ColumnTestError("Cramer-von Mises needs at least 2 values per side")
    pair = sorted_pair(ref, cur)
    if pair.distinct_rows and max(ref.n, cur.n) > pooled.CVM_EXACT_MAX_N:
        return pooled.cramer_von_mises_distinct(pair)
    return pooled.cramer_von_mises(pooled_order(ref, cur))


@register("ed", "Energy-distance", (NUMERICAL,), p_value=False, threshold=0.1, drift_if=">",
          summary=POOLED_SUMS, from_summary=from_sums.energy, from_cells=from_cells.energy)
def energy(ref: Sample, cur: Sample) -> tuple[float, None]:
    """Energy distance sqrt(2 E|X-Y| - E|X-X'| - E|Y-Y'|), not scale-normalised (evidently's)."""
    return pooled.energy(pooled_order(ref, cur)), None


@register("es", "Epps-Singleton", (NUMERICAL,), p_value=True, threshold=0.05)
def epps_singleton(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Epps-Singleton test on the empirical characteristic function (asymptotic chi2)."""
    from scipy.stats import epps_singleton_2samp, iqr

    if iqr(np.concatenate([ref.values, cur.values])) == 0:
        raise ColumnTestError("Epps-Singleton needs spread: the pooled interquartile range is 0")
    r = epps_singleton_2samp(ref.values, cur.values)
    return float(r.statistic), float(r.pvalue)


@register("t_test", "t_test", (NUMERICAL,), p_value=True, threshold=0.05, summary=MOMENTS,
          from_summary=from_sums.t_test)
def t_test(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Welch's two-sample t-test (unequal variances), two-sided.

    Differs from evidently on purpose: evidently calls ``ttest_ind`` with its default
    ``equal_var=True`` (Student's t), whose false-alarm rate is wrong when the two sides'
    variances and sizes differ. With equal sizes the statistics agree.
    """
    from scipy.stats import ttest_ind

    r = ttest_ind(ref.values, cur.values, equal_var=False)
    return float(r.statistic), float(r.pvalue)


@register("mannw", "Mann-Whitney U-rank test", (NUMERICAL,), p_value=True, threshold=0.05,
          summary=POOLED_SUMS, from_summary=from_sums.mann_whitney,
          from_cells=from_cells.mann_whitney)
def mann_whitney(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Two-sided Mann-Whitney U test (U of the reference sample).

    Differs from evidently on purpose: evidently asks for ``alternative="less"``, which never
    flags a current sample shifted downwards. Two-sided p = 2 min(p_less, p_greater), capped at
    1, with the same U statistic.
    """
    return pooled.mann_whitney(pooled_order(ref, cur))


def _pairwise_sq(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x[:, None] - y[None, :]) ** 2


MMD_MAX_ROWS = 5_000
MMD_PERMUTATIONS = 500


@register("empirical_mmd", "empirical_mmd", (NUMERICAL,), p_value=True, threshold=0.1)
def empirical_mmd(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Unbiased MMD^2 with an RBF kernel, bandwidth by evidently's median heuristic
    (sigma = sqrt(median(|x - x'|^2) / 2) over the reference's pairs, nearest rank), and a
    permutation p-value.

    MMD^2 = sum_{i!=j} k(x_i,x_j)/(m(m-1)) + sum_{i!=j} k(y_i,y_j)/(n(n-1)) - 2 mean k(x_i,y_j).
    Differs from evidently on purpose: evidently draws its 100 permutations from numpy's
    unseeded global generator (the same data gives p=0.0 then 0.06) and reports the share of
    permuted statistics >= the observed one; mlqa draws 500 from a generator seeded by
    ``random_state`` (0 by default) and reports (1 + count) / (1 + 500), a valid p-value. The
    kernel matrix is (m+n)^2, so more than 5000 rows in all is refused.
    """
    x, y = ref.sorted_values(), cur.sorted_values()
    m, n = len(x), len(y)
    if m + n > MMD_MAX_ROWS:
        raise ColumnTestError(f"empirical_mmd builds an (m+n)^2 kernel matrix; "
                              f"{m + n} rows exceed its limit of {MMD_MAX_ROWS}")
    if m < 2 or n < 2:
        raise ColumnTestError("empirical_mmd needs at least 2 rows per side")
    sigma = float(np.sqrt(0.5 * np.percentile(_pairwise_sq(x, x), 50, method="nearest")))
    sigma = sigma if sigma != 0 else float(np.sqrt(0.5))
    pooled = np.concatenate([x, y])
    kernel = np.exp(-_pairwise_sq(pooled, pooled) / (2.0 * sigma ** 2))
    np.fill_diagonal(kernel, 0.0)
    total, row_sums = kernel.sum(), kernel.sum(axis=1)

    def mmd(in_x: np.ndarray) -> np.ndarray:
        # in_x: (B, m+n) 0/1 rows marking the reference side of each labelling.
        kxx = np.einsum("bi,bi->b", in_x @ kernel, in_x)
        kxy = in_x @ row_sums - kxx
        kyy = total - kxx - 2.0 * kxy
        return kxx / (m * (m - 1)) + kyy / (n * (n - 1)) - 2.0 * kxy / (m * n)

    labels = np.zeros((1, m + n))
    labels[0, :m] = 1.0
    observed = float(mmd(labels)[0])
    rng = registry.rng()
    permuted = mmd(rng.permuted(np.repeat(labels, MMD_PERMUTATIONS, axis=0), axis=1))
    p = (1 + int(np.count_nonzero(permuted >= observed))) / (1 + MMD_PERMUTATIONS)
    return observed, p
