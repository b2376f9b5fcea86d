"""Two-sample statistics from a weighted pooled order, equal to scipy's (and so evidently's).

A pooled order is what remains of two samples once they are sorted together and ties are
counted: the distinct values ``x_1 < ... < x_k`` of both sides, with ``r_i`` reference rows and
``c_i`` current rows at ``x_i`` (either may be 0, not both). Every rank or ECDF statistic of the
catalogue is a function of it, so it is all that an engine (DuckDB, Spark) has to send back --
a value->count map per side where columns are discrete, an engine-side sort where they are
not -- and all the in-memory path needs after sorting each side once.

Signature (every function takes a ``PooledOrder`` and nothing else it could re-sort)::

    order = PooledOrder.from_sorted(ref_sorted, cur_sorted)      # two sorted float arrays
    order = PooledOrder.from_counts(values, ref_counts, cur_counts)   # aligned, any order
    order = PooledOrder.from_value_counts(ref_values, ref_counts, cur_values, cur_counts)

    ks(order)                -> (D, p)      scipy.stats.ks_2samp(method="auto"), two-sided
    wasserstein(order)       -> W1          scipy.stats.wasserstein_distance
    normed_wasserstein(order, ref_std=None) -> W1 / max(std_ref, 0.001)   (evidently's)
    energy(order)            -> E           scipy.stats.energy_distance
    mann_whitney(order)      -> (U_ref, p)  scipy.stats.mannwhitneyu(two-sided, continuity)
    anderson(order)          -> (A2, p)     scipy.stats.anderson_ksamp(variant="midrank")
    cramer_von_mises(order)  -> (T, p)      scipy.stats.cramervonmises_2samp(method="auto")
    ref_std(order)           -> population standard deviation of the reference (ddof=0)

Without repeated values the in-memory path builds no merge (``SortedPair``; see the section
"two sorted samples without ties" below)::

    pair = SortedPair(ref_sorted, cur_sorted)   # pair.distinct_rows must be True
    ks_distinct(pair), anderson_distinct(pair), anderson_asymptotic_distinct(pair),
    cramer_von_mises_distinct(pair), wasserstein_distinct(pair)  # the same values

Notation below: ``n = sum r``, ``m = sum c``, ``N = n + m``, ``R_i = r_1 + ... + r_i`` and
``C_i`` likewise (``R_0 = C_0 = 0``), ``t_i = r_i + c_i``, ``T_i = t_1 + ... + t_i``,
``F_i = R_i / n``, ``G_i = C_i / m`` (the two ECDFs at ``x_i``), ``dx_i = x_{i+1} - x_i``.

Where scipy switches to an exact small-sample distribution (KS up to 10000 rows per side,
Cramér-von Mises up to 20, Mann-Whitney with a side of at most 8 rows and no ties), the same
exact routine is used; those paths are small by definition.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

# evidently divides Wasserstein by the reference's standard deviation, never by less than this.
MIN_NORM = 0.001
# scipy.stats.ks_2samp(method="auto") is exact up to this many rows on the larger side.
KS_EXACT_MAX_N = 10_000
CVM_EXACT_MAX_N = 20
# Rows per block where a statistic is summed block by block: the block's temporaries (a few
# arrays of this many float64) stay in the CPU cache, so a column costs one pass over memory
# instead of one per arithmetic step.
BLOCK = 1 << 15
MWU_EXACT_MAX_N = 8


@dataclasses.dataclass(frozen=True, eq=False)
class PooledOrder:
    """Distinct values of both sides (strictly increasing) with each side's cumulative count.

    ``values`` float64; ``ref_cum``/``cur_cum`` float64 holding whole numbers (``R_i``,
    ``C_i``: rows of that side at or below ``values[i]``; exact up to 2**53 rows). Build one
    with the ``from_*`` class methods; the per-value counts ``ref_counts``/``cur_counts``
    (int64) are derived on first use.
    """

    values: np.ndarray
    ref_cum: np.ndarray
    cur_cum: np.ndarray

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_sorted(cls, ref: np.ndarray, cur: np.ndarray) -> PooledOrder:
        """From each side's finite values, each already sorted ascending.

        The two sorted runs are merged, not sorted again: reference row ``i`` lands at
        ``i + #{current < ref_i}`` (one binary search per reference row; a reference row goes
        before current rows of the same value) and current rows fill the other places in
        order. ``R`` at each merged row is a running count of reference rows, ``C`` the rest.
        """
        n, m = len(ref), len(cur)
        position = np.searchsorted(cur, ref, side="left")
        position += np.arange(n)
        is_ref = np.zeros(n + m, dtype=bool)
        is_ref[position] = True
        merged = np.empty(n + m, dtype=np.float64)
        merged[position] = ref
        del position
        merged[~is_ref] = cur
        new_value = merged[1:] != merged[:-1]
        distinct_rows = np.count_nonzero(new_value) == n + m - 1
        ref_cum = np.cumsum(is_ref, dtype=np.float64)
        if distinct_rows:  # no value on more than one row: every row is a distinct value
            values = merged
            cur_cum = np.arange(1.0, n + m + 1.0)
        else:
            last = np.flatnonzero(np.r_[new_value, True])
            values, ref_cum = merged[last], ref_cum[last]
            cur_cum = last + 1.0
        del new_value
        cur_cum -= ref_cum
        out = cls(values, ref_cum, cur_cum)
        if distinct_rows:
            out.__dict__["is_ref"] = is_ref
        out.__dict__["distinct_rows"] = distinct_rows
        return out

    @classmethod
    def from_counts(cls, values: Any, ref_counts: Any, cur_counts: Any) -> PooledOrder:
        """From aligned (value, reference count, current count) rows in any order; rows with
        no count on either side are dropped, repeated values are summed."""
        x = np.asarray(values, dtype=np.float64)
        r = np.asarray(ref_counts, dtype=np.int64)
        c = np.asarray(cur_counts, dtype=np.int64)
        if not (x.ndim == r.ndim == c.ndim == 1 and len(x) == len(r) == len(c)):
            raise ValueError("values, ref_counts and cur_counts must be 1-D of equal length")
        if not np.isfinite(x).all():
            raise ValueError("values must be finite (drop NaN and inf first)")
        if (r < 0).any() or (c < 0).any():
            raise ValueError("counts must be non-negative")
        keep = (r + c) > 0
        x, r, c = x[keep], r[keep], c[keep]
        order = np.argsort(x, kind="stable")
        x, r, c = x[order], r[order], c[order]
        if len(x) > 1 and not (np.diff(x) > 0).all():
            distinct, first = np.unique(x, return_index=True)
            r, c = np.add.reduceat(r, first), np.add.reduceat(c, first)
            x = distinct
        out = cls(x, np.cumsum(r).astype(np.float64), np.cumsum(c).astype(np.float64))
        out.__dict__["ref_counts"], out.__dict__["cur_counts"] = r, c
        return out

    @classmethod
    def from_value_counts(cls, ref_values: Any, ref_counts: Any, cur_values: Any,
                          cur_counts: Any) -> PooledOrder:
        """From one value->count map per side (an engine's ``GROUP BY value``)."""
        rv = np.asarray(ref_values, dtype=np.float64)
        cv = np.asarray(cur_values, dtype=np.float64)
        zeros_r = np.zeros(len(rv), dtype=np.int64)
        zeros_c = np.zeros(len(cv), dtype=np.int64)
        return cls.from_counts(np.concatenate([rv, cv]),
                               np.concatenate([np.asarray(ref_counts, np.int64), zeros_c]),
                               np.concatenate([zeros_r, np.asarray(cur_counts, np.int64)]))

    # -- shared quantities --------------------------------------------------------------------

    @functools.cached_property
    def ref_counts(self) -> np.ndarray:
        """``r_i`` (int64)."""
        is_ref = self.__dict__.get("is_ref")
        if is_ref is not None:
            return is_ref.astype(np.int64)
        return _counts(self.ref_cum)

    @functools.cached_property
    def cur_counts(self) -> np.ndarray:
        """``c_i`` (int64)."""
        is_ref = self.__dict__.get("is_ref")
        if is_ref is not None:
            return (~is_ref).astype(np.int64)
        return _counts(self.cur_cum)

    @functools.cached_property
    def distinct_rows(self) -> bool:
        """True when no value is on more than one row (no ties within or across sides)."""
        return bool(((self.ref_counts + self.cur_counts) == 1).all())

    @property
    def n(self) -> int:
        return int(self.ref_cum[-1]) if len(self.values) else 0

    @property
    def m(self) -> int:
        return int(self.cur_cum[-1]) if len(self.values) else 0

    @functools.cached_property
    def ecdf_gap(self) -> np.ndarray:
        """``F_i - G_i`` at every distinct value (scipy's order of operations: divide first)."""
        return self.ref_cum / self.n - self.cur_cum / self.m

    def expand(self) -> tuple[np.ndarray, np.ndarray]:
        """Both samples written out (only for the small exact paths)."""
        return np.repeat(self.values, self.ref_counts), np.repeat(self.values, self.cur_counts)


def _counts(cumulative: np.ndarray) -> np.ndarray:
    return np.diff(cumulative, prepend=0.0).astype(np.int64)


def _check(order: PooledOrder, minimum: int = 1) -> None:
    if order.n < minimum or order.m < minimum:
        raise ValueError(f"each side needs at least {minimum} value(s); got "
                         f"n_ref={order.n}, n_cur={order.m}")


# -- ECDF statistics ------------------------------------------------------------------------

def ks(order: PooledOrder) -> tuple[float, float]:
    """Two-sided two-sample Kolmogorov-Smirnov, as ``scipy.stats.ks_2samp(method="auto")``.

    ``D = max_i |F_i - G_i|``. p-value: exact (``_attempt_exact_2kssamp``, with ``D`` rounded
    to ``h / lcm(n, m)``) when ``max(n, m) <= 10000``, else Smirnov's limit
    ``kstwo.sf(D, round(n m / (n + m)))``; scipy falls back to that limit when the exact
    computation fails, and so does this.
    """
    _check(order)
    diff = order.ecdf_gap
    max_s = float(diff.max())
    min_s = float(np.clip(-diff.min(), 0, 1))
    d = min_s if min_s > max_s else max_s
    return _ks_p(order.n, order.m, d, lambda: order)


def ks_p_value(d: float, n1: int, n2: int) -> float:
    """scipy's ks_2samp p-value for a D known without the samples (an engine's pooled sums,
    a sketch's grid): the same exact and limiting forms as ``ks``."""

    def no_rows() -> PooledOrder:
        raise ValueError("the exact small-sample KS p-value needs the rows on this scipy")

    return _ks_p(n1, n2, d, no_rows)[1]


def _ks_p(n1: int, n2: int, d: float, order: Any) -> tuple[float, float]:
    """(D, p) as ks_2samp reports them; ``order()`` gives a PooledOrder for the small exact
    path's fallback."""
    if max(n1, n2) <= KS_EXACT_MAX_N:
        exact = _ks_exact(n1, n2, d, order)
        if exact is not None:
            return exact
    from scipy.stats import kstwo

    big, small = sorted([float(n1), float(n2)], reverse=True)
    en = big * small / (big + small)
    p = float(np.clip(kstwo.sf(d, np.round(en)), 0, 1))
    return d, p


def _ks_exact(n1: int, n2: int, d: float, order: Any) -> tuple[float, float] | None:
    if n1 == n2:
        return _ks_exact_equal(n1, d)
    try:
        from scipy.stats._stats_py import _attempt_exact_2kssamp
    except ImportError:  # a scipy without the private routine: the public function on the
        # written-out samples (at most 10000 rows a side on this path) is the same thing.
        from scipy.stats import ks_2samp

        x, y = order().expand()
        res = ks_2samp(x, y)
        return float(res.statistic), float(res.pvalue)
    ok, d_rounded, p = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, "two-sided")
    if not ok:
        return None
    return float(d_rounded), float(np.clip(p, 0, 1))


def _ks_exact_equal(n: int, d: float) -> tuple[float, float] | None:
    """scipy's exact two-sided p-value for two samples of equal size ``n``
    (``_attempt_exact_2kssamp`` -> ``_compute_prob_outside_square``), vectorised.

    With ``h = round(d n)`` (D rounded to ``h / n``), ``p = 2 P_0`` where
    ``P_k = a_k (1 - P_{k+1})`` from ``k = floor(n / h)`` down to 0 and
    ``a_k = prod_{j<h} (n - k h - j) / (n + k h + j + 1)`` (Hodges 1957): scipy multiplies
    the ``n`` factors one at a time in Python (3 ms a column at n = 5000). Here, when
    ``h <= n / h + 1`` (D up to about ``1 / sqrt(n)``, p-values near 1 included), the
    ``h`` steps run once for all ``k`` together, with scipy's operations in scipy's order (the
    same bits); above, each ``a_k`` is one ``np.prod`` (~1e-15 relative). None, as scipy's,
    where the result is not a probability (the caller then uses the limiting
    distribution)."""
    h = int(np.round(d * n))
    d = h * 1.0 / n
    if h == 0:
        return d, 1.0
    k = np.arange(n // h, -1, -1) * h  # k h for k = floor(n / h), ..., 0 (scipy's order)
    if h <= len(k):
        a = np.ones(len(k))
        for step in range(h):
            a = (n - k - step) * a / (n + k + step + 1)
    else:
        j = np.arange(h)[None, :]
        a = np.prod((n - k[:, None] - j) / (n + k[:, None] + j + 1.0), axis=1)
    total = 0.0
    for a_k in a.tolist():
        total = a_k * (1.0 - total)
    p = 2 * total
    if not 0 <= p <= 1:
        return None
    return float(d), float(np.clip(p, 0, 1))


def wasserstein(order: PooledOrder) -> float:
    """First Wasserstein distance ``W1 = sum_i |F_i - G_i| dx_i``
    (``scipy.stats.wasserstein_distance``)."""
    _check(order)
    if len(order.values) < 2:
        return 0.0
    return float(np.sum(np.abs(order.ecdf_gap[:-1]) * np.diff(order.values)))


def ref_std(order: PooledOrder) -> float:
    """Reference standard deviation with ddof=0: ``sqrt(sum r_i (x_i - mean)^2 / n)``."""
    _check(order)
    w = order.ref_counts
    mean = float(np.dot(w, order.values)) / order.n
    dev = order.values - mean
    return math.sqrt(float(np.dot(w, dev * dev)) / order.n)


def normed_wasserstein(order: PooledOrder, ref_std: float | None = None) -> float:
    """evidently's Wasserstein score: ``W1 / max(std_ref, 0.001)`` (std with ddof=0).

    ``ref_std`` may be given when already known (a reference profile stores it)."""
    std = globals()["ref_std"](order) if ref_std is None else ref_std
    return wasserstein(order) / max(std, MIN_NORM)


def energy(order: PooledOrder) -> float:
    """Energy distance ``sqrt(2 sum_i (F_i - G_i)^2 dx_i)`` (``scipy.stats.energy_distance``,
    which equals ``sqrt(2 E|X-Y| - E|X-X'| - E|Y-Y'|)``); not scale-normalised."""
    _check(order)
    if len(order.values) < 2:
        return 0.0
    gap = order.ecdf_gap[:-1]
    return energy_from_sum(float(np.sum(gap * gap * np.diff(order.values))))


def energy_from_sum(squares: float) -> float:
    """``sqrt(2) sqrt(sum_i (F_i - G_i)^2 dx_i)`` from the sum (clipped at 0)."""
    return float(np.sqrt(2) * np.sqrt(max(squares, 0.0)))


# -- rank statistics ------------------------------------------------------------------------

def mann_whitney(order: PooledOrder) -> tuple[float, float]:
    """Two-sided Mann-Whitney U, as ``scipy.stats.mannwhitneyu(ref, cur)`` (continuity
    correction, tie correction, method "auto").

    ``U_ref = sum_i r_i (C_{i-1} + c_i / 2)`` (the reference's rank sum minus n(n+1)/2, with
    midranks); ``U = max(U_ref, n m - U_ref)``;
    ``s^2 = n m / 12 ((N + 1) - sum_i (t_i^3 - t_i) / (N (N - 1)))``;
    ``p = 2 Phi(-(U - n m / 2 - 1/2) / s)``, clipped to [0, 1]. Exact distribution (scipy's)
    when a side has at most 8 rows and there are no ties.
    """
    _check(order)
    n1, n2 = order.n, order.m
    r, c = order.ref_counts, order.cur_counts
    ties = bool(((r + c) > 1).any())
    if min(n1, n2) <= MWU_EXACT_MAX_N and not ties:
        from scipy.stats import mannwhitneyu

        x, y = order.expand()
        res = mannwhitneyu(x, y, alternative="two-sided")
        return float(res.statistic), float(res.pvalue)
    # C_{i-1} + c_i/2 = C_i - c_i/2
    u1 = float(np.dot(r, order.cur_cum - c / 2.0))
    t = (r + c).astype(np.float64)
    return u1, mann_whitney_p(u1, n1, n2, float(np.sum(t ** 3 - t)))


def mann_whitney_p(u1: float, n1: int, n2: int, tie_term: float) -> float:
    """The two-sided asymptotic p-value of ``U_ref = u1`` with tie (``tie_term = sum_i
    t_i^3 - t_i``) and continuity corrections: the one formula the in-memory pooled order and
    an engine's pooled sums both finish with."""
    from scipy.special import ndtr

    u = max(u1, n1 * n2 - u1)
    big_n = n1 + n2
    s = math.sqrt(n1 * n2 / 12 * ((big_n + 1) - tie_term / (big_n * (big_n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.float64(u - n1 * n2 / 2 - 0.5) / np.float64(s)
    return float(np.clip(2 * ndtr(-z), 0.0, 1.0))


@functools.lru_cache(maxsize=32)
def anderson_constants(big_n: int, chunk: int = 5_000_000) -> tuple[float, float]:
    """``h = sum_{i=1}^{N-1} 1/i`` and ``g = sum_{i=1}^{N-2} sum_{j=i+1}^{N-1} 1/((N-i) j)``
    as scipy computes them (``hs_cs = cumsum(1 / [N-1, ..., 2])``, ``h = hs_cs[-1] + 1``,
    ``g = sum(hs_cs / [2, ..., N-1])``, same order of summation), ``chunk`` terms at a time so
    that no N-long array is built: up to ``chunk + 2`` values (one chunk) the same bits as
    scipy. They depend on N only, so columns share them."""
    total, g = 0.0, 0.0
    start = big_n - 1
    pos = 0  # index into hs_cs
    while start > 1:
        stop = max(start - chunk, 1)
        denominators = np.arange(start, stop, -1, dtype=float)
        cums = total + np.cumsum(1.0 / denominators)
        g += float(np.sum(cums / np.arange(2 + pos, 2 + pos + len(cums), dtype=float)))
        total = float(cums[-1])
        pos += len(cums)
        start = stop
    return total + 1.0, g


_AD_B0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
_AD_B1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
_AD_B2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
_AD_SIG = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])


def _a2akn(order: PooledOrder) -> float:
    """Scholz & Stephens' A2akN for two samples. With ``X_j = N M_ref,j - B_j n`` the
    current side's term is ``(-X_j)^2`` (``M_ref,j + M_cur,j = B_j``), so
    ``A2akN = (N-1)/N (1/n + 1/m) sum_j t_j/N X_j^2 / (B_j (N - B_j) - N t_j / 4)``: one
    pass instead of scipy's one per side (equal to ~1e-15)."""
    _check(order)
    if len(order.values) < 2:
        raise ValueError("anderson_ksamp needs more than one distinct observation")
    n1, n2 = order.n, order.m
    big_n = float(n1 + n2)
    if order.distinct_rows and "is_ref" in order.__dict__:
        # t_j = 1, B_j = j + 1/2, and X_j = n m (F_j - G_j) - (N r_j - n) / 2: the ECDF gap
        # KS has computed, shifted by m/2 on reference rows and n/2 on current ones. The
        # weights 1 / (B_j (N - B_j) - N/4) depend on N alone and are shared by columns.
        x = order.ecdf_gap * float(n1 * n2)
        x += n1 / 2.0
        np.subtract(x, big_n / 2.0, out=x, where=order.__dict__["is_ref"])
        x *= x
        total = float(np.dot(x, _ad_weights(n1 + n2))) / big_n
    else:
        lj = (order.ref_counts + order.cur_counts).astype(np.float64)
        b = order.ref_cum + order.cur_cum - lj / 2.0  # T_{j-1} + t_j/2
        denom = b * (big_n - b) - big_n * lj / 4.0
        x = big_n * (order.ref_cum - order.ref_counts / 2.0) - b * n1
        total = float(np.sum(lj / big_n * x * x / denom))
    return total * (1.0 / n1 + 1.0 / n2) * (big_n - 1.0) / big_n


@functools.lru_cache(maxsize=2)
def _ad_weights(big_n: int) -> np.ndarray:
    b = np.arange(0.5, big_n, 1.0)
    denom = b * (big_n - b)
    denom -= big_n / 4.0
    np.divide(1.0, denom, out=denom)
    denom.flags.writeable = False
    return denom


def anderson_asymptotic(order: PooledOrder) -> tuple[float, float]:
    """Two-sample Anderson-Darling with a p-value from its limiting distribution, for mlqa's
    own mode (not evidently's: scipy's tabled p-value is capped to [0.001, 0.25], which a
    multiple-testing correction over more than 50 tests can never reject with).

    Statistic: A2akN (midrank, as ``anderson``); under no change it converges to the
    one-sample Anderson-Darling limit A^2 (k - 1 = 1), whose CDF is evaluated with Marsaglia &
    Marsaglia's (2004) ``adinf`` approximation (absolute error < 2e-6). p = 1 - ADinf(A2akN).
    """
    a2 = _a2akn(order)
    return a2, anderson_darling_sf(a2)


def anderson_darling_sf(z: float) -> float:
    """P(A^2 > z) for the limiting Anderson-Darling distribution (Marsaglia & Marsaglia 2004,
    ``adinf``; absolute error < 2e-6)."""
    if z <= 0:
        return 1.0
    if z < 2:
        cdf = z ** -0.5 * math.exp(-1.2337141 / z) * (
            2.00012 + (.247105 - (.0649821 - (.0347962 - (.011672 - .00168691 * z) * z) * z)
                       * z) * z)
        return float(min(max(1.0 - cdf, 0.0), 1.0))
    w = math.exp(1.0776 - (2.30695 - (.43424 - (.082433 - (.008056 - .0003146 * z) * z) * z)
                           * z) * z)
    return float(min(max(-math.expm1(-w), 0.0), 1.0))


def anderson(order: PooledOrder) -> tuple[float, float]:
    """k-sample Anderson-Darling for k = 2, midrank variant (Scholz & Stephens 1987, eq. 7),
    as ``scipy.stats.anderson_ksamp([ref, cur], variant="midrank")``.

    ``A2akN = (N-1)/N sum_{s in (ref, cur)} 1/n_s sum_j t_j/N (N M_sj - B_j n_s)^2 /
    (B_j (N - B_j) - N t_j / 4)`` with ``B_j = T_{j-1} + t_j/2`` and ``M_sj`` the side's rows
    below ``x_j`` plus half of those at it. Returned statistic: ``(A2akN - 1) / sigma_N``;
    p-value interpolated in Scholz & Stephens' table and capped to [0.001, 0.25] (scipy's).
    Needs at least two distinct values.
    """
    h, g = anderson_constants(order.n + order.m)
    return anderson_from_a2akn(_a2akn(order), order.n, order.m, h, g)


def anderson_from_a2akn(a2: float, n1: int, n2: int, h: float, g: float
                        ) -> tuple[float, float]:
    """scipy's normalised two-sample statistic ``(A2akN - 1) / sigma_N`` (Scholz & Stephens'
    variance, with ``h`` and ``g`` the harmonic sums of N = n1 + n2) and its p-value
    interpolated in their table, capped to [0.001, 0.25]. Shared by the in-memory path and the
    engines, which compute A2akN from their pooled sums."""
    big_n = n1 + n2
    k = 2
    hh = 1.0 / n1 + 1.0 / n2
    aa = (4 * g - 6) * (k - 1) + (10 - 6 * g) * hh
    bb = (2 * g - 4) * k ** 2 + 8 * h * k + (2 * g - 14 * h - 4) * hh - 8 * h + 4 * g - 6
    cc = (6 * h + 2 * g - 2) * k ** 2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * hh + 4 * h
    dd = (2 * h + 6) * k ** 2 - 4 * h * k
    nf = float(big_n)
    sigmasq = (aa * nf ** 3 + bb * nf ** 2 + cc * nf + dd) / ((nf - 1.) * (nf - 2.) * (nf - 3.))
    m = k - 1
    stat = (a2 - m) / math.sqrt(sigmasq)
    critical = _AD_B0 + _AD_B1 / math.sqrt(m) + _AD_B2 / m
    if stat < critical.min():
        p = float(_AD_SIG.max())
    elif stat > critical.max():
        p = float(_AD_SIG.min())
    else:
        pf = np.polyfit(critical, np.log(_AD_SIG), 2)
        p = math.exp(np.polyval(pf, stat))
    return float(stat), p


def cramer_von_mises(order: PooledOrder) -> tuple[float, float]:
    """Two-sample Cramér-von Mises T, as ``scipy.stats.cramervonmises_2samp(method="auto")``.

    With midranks, ``U = n sum_i r_i ((C_{i-1} + c_i/2)^2 + (r_i^2 - 1)/12)
    + m sum_i c_i ((R_{i-1} + r_i/2)^2 + (c_i^2 - 1)/12)`` (each side's rank minus its own
    position, squared, summed in closed form per tie block: every term is non-negative);
    ``T = U / (n m N) - (4 n m - 1) / (6 N)``. p-value: scipy's exact distribution when
    ``max(n, m) <= 20``, else Anderson's (1962) normalisation of T referred to the limiting
    one-sample distribution (Csörgő & Faraway 1996), as scipy computes it.
    """
    _check(order, 2)
    n1, n2 = order.n, order.m
    if max(n1, n2) <= CVM_EXACT_MAX_N:
        from scipy.stats import cramervonmises_2samp

        x, y = order.expand()
        res = cramervonmises_2samp(x, y, method="exact")
        return float(res.statistic), float(res.pvalue)
    k, big_n = n1 * n2, n1 + n2
    if order.distinct_rows:
        # No ties: the rank form equals T = n m / N^2 sum_i (F_i - G_i)^2 over all N values
        # (Anderson 1962), one pass over the ECDF gap KS has already computed; it agrees with
        # scipy's rank form to ~1e-13 (and cancels less: the rank form subtracts two terms
        # of order n m / N).
        gap = order.ecdf_gap
        t = k / float(big_n) ** 2 * float(np.dot(gap, gap))
        return float(t), _cvm_asymptotic_p(t, big_n, n1, n2, k)
    r = order.ref_counts.astype(np.float64)
    c = order.cur_counts.astype(np.float64)
    # sum_i r_i (C_i - c_i/2)^2 + (sum_i r_i^3 - n) / 12, and the same for the current side
    d = order.cur_cum - c / 2.0
    d *= d
    ref_part = float(np.dot(r, d)) + (float(np.dot(r, r * r)) - n1) / 12.0
    d = order.ref_cum - r / 2.0
    d *= d
    cur_part = float(np.dot(c, d)) + (float(np.dot(c, c * c)) - n2) / 12.0
    return cramer_von_mises_from_u(n1 * ref_part + n2 * cur_part, n1, n2)


def cramer_von_mises_from_u(u: float, n1: int, n2: int) -> tuple[float, float]:
    """T from the rank sum ``U = n sum_i (rank - own position)^2 over the reference + m (the
    same over the current)``, ``T = U / (n m N) - (4 n m - 1) / (6 N)``, and its asymptotic
    p-value: shared by the pooled order, two sorted samples and an engine's pooled sums."""
    k, big_n = n1 * n2, n1 + n2
    t = u / (k * big_n) - (4 * k - 1) / (6 * big_n)
    return float(t), _cvm_asymptotic_p(t, big_n, n1, n2, k)


def _cvm_asymptotic_p(t: float, big_n: int, nx: int, ny: int, k: int) -> float:
    et = (1 + 1 / big_n) / 6
    vt = float((big_n + 1) * (4 * k * big_n - 3 * (nx ** 2 + ny ** 2) - 2 * k))
    vt = vt / (45 * big_n ** 2 * 4 * k)
    tn = 1 / 6 + (t - et) / math.sqrt(45 * vt)
    if tn < 0.003:
        return 1.0
    return float(max(1.0 - _cdf_cvm_inf(tn), 0.0))


def _cdf_cvm_inf(x: float) -> float:
    """CDF of the limiting Cramér-von Mises distribution (Csörgő & Faraway 1996, eq. 1.2),
    series summed until a term is below 1e-7, as scipy's ``_cdf_cvm_inf``."""
    from scipy.special import gammaln, kv

    total, k = 0.0, 0
    while True:
        u = math.exp(gammaln(k + 0.5) - gammaln(k + 1)) / (np.pi ** 1.5 * np.sqrt(x))
        y = 4 * k + 1
        q = y ** 2 / (16 * x)
        z = float(u * math.sqrt(y) * np.exp(-q) * kv(0.25, q))
        total += z
        k += 1
        if abs(z) < 1e-7:
            return total


# -- two sorted samples without ties: no merge at all ----------------------------------------

@dataclasses.dataclass(frozen=True, eq=False)
class _Scan:
    """What ``SortedPair.scan`` read from the reference side: ``P``, whether a value repeats
    on the reference side or across sides, KS's ``max_i (i+1)/n - P_i/m`` and
    ``max(0, max_i P_i/m - i/n)``, and the reference side's Anderson-Darling sum."""

    below: np.ndarray
    repeats: bool
    max_s: float
    min_s: float
    a2_ref: float


@dataclasses.dataclass(frozen=True, eq=False)
class SortedPair:
    """Two sorted samples read without merging them, for the common continuous case.

    With no value on more than one row, every rank statistic follows from
    ``P_i = #{current < ref_i}`` (one binary search per reference row): reference row ``i``
    (0-based) has pooled rank ``i + 1 + P_i``, and the current rows between reference rows
    ``q - 1`` and ``q`` have ``q`` reference rows below them. ``distinct_rows`` says whether
    this shortcut applies; where it does not, use a ``PooledOrder``.
    """

    ref: np.ndarray
    cur: np.ndarray

    @functools.cached_property
    def scan(self) -> _Scan:
        """One pass over the reference rows, block by block (``BLOCK`` rows), that finds
        ``P`` and reads from each block, while it is in cache, everything else a continuous
        column's tests need from the reference side: repeated values, KS's two one-sided
        maxima and the reference side's Anderson-Darling sum.

        ``P`` for a block of sorted reference rows lies between the answers for its first and
        last row, so each block searches only that stretch of the current side (the same
        answers as one ``np.searchsorted``)."""
        u, v = self.ref, self.cur
        n, m = len(u), len(v)
        out = np.empty(n, dtype=np.int64)
        if n == 0 or m == 0:
            return _Scan(np.searchsorted(v, u, side="left"), True, 0.0, 0.0, 0.0)
        starts = np.arange(0, n, BLOCK)
        low = np.searchsorted(v, u[starts], side="left")
        high = np.searchsorted(v, u[np.minimum(starts + BLOCK, n) - 1], side="left")
        repeats = False
        max_s, min_s, a2 = -np.inf, 0.0, 0.0  # min_s: at q = n the gap P_n/m - n/n is 0
        big_n = float(n + m)
        for s, lo, hi in zip(starts.tolist(), low.tolist(), high.tolist(), strict=True):
            e = min(s + BLOCK, n)
            block = u[s:e]
            p = out[s:e]
            p[:] = np.searchsorted(v[lo:hi], block, side="left")
            p += lo
            if not repeats:
                edge = u[max(s - 1, 0):e]  # the row before the block too
                # v[P_i] is the first current value >= u_i; where P_i = m, v[m-1] < u_i
                repeats = bool(np.count_nonzero(edge[1:] == edge[:-1]) or np.count_nonzero(
                    np.take(v, p, mode="clip") == block))
            g = p / m  # KS: the same divisions as scipy (see ks_distinct)
            f = np.arange(s, e) / n
            np.subtract(g, f, out=f)
            min_s = max(min_s, float(f.max()))
            f = np.arange(s + 1, e + 1) / n
            f -= g
            max_s = max(max_s, float(f.max()))
            a2 += _a2_block(p, s, n, m, big_n)
        return _Scan(out, repeats, max_s, min_s, a2)

    @property
    def below(self) -> np.ndarray:
        """``P_i``: current rows strictly below reference row ``i`` (from ``scan``)."""
        return self.scan.below

    @functools.cached_property
    def above(self) -> np.ndarray:
        """``Q_k``: reference rows strictly below current row ``k`` (only meaningful with
        ``distinct_rows``): ``#{i : P_i <= k}``, a running count of ``P``, not a second
        binary search."""
        counts = np.bincount(self.below, minlength=len(self.cur) + 1)
        return np.cumsum(counts[:len(self.cur)])

    @functools.cached_property
    def distinct_rows(self) -> bool:
        u, v = self.ref, self.cur
        if len(u) == 0 or len(v) == 0:
            return False
        return not self.scan.repeats and not np.count_nonzero(v[1:] == v[:-1])

    def grid(self, ref_side: bool, start: int = 0, stop: int | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(F, G, dx)`` at rows ``start:stop`` of one side (``distinct_rows`` only): both
        ECDFs at that row's value (``F_j``, ``G_j`` of the pooled order) and the distance to
        the next pooled value (``dx_j``; 0 at the largest value of both). Every pooled interval
        starts at exactly one row of one side, so a sum over the pooled order is the sum of
        the two sides' sums, with no merge: at reference row ``i``, ``F = (i+1)/n``,
        ``G = P_i/m``, next value ``min(u_{i+1}, v_{P_i})``; at current row ``k``,
        ``F = Q_k/n``, ``G = (k+1)/m``, next value ``min(v_{k+1}, u_{Q_k})``. Same divisions
        and subtraction as ``PooledOrder`` (element by element equal)."""
        own, other = (self.ref, self.cur) if ref_side else (self.cur, self.ref)
        k, k_other = len(own), len(other)
        stop = k if stop is None else min(stop, k)
        pos = (self.below if ref_side else self.above)[start:stop]
        own_cdf = np.arange(start + 1, stop + 1, dtype=np.float64)
        own_cdf /= k
        other_cdf = pos / k_other
        dx = np.empty(stop - start)
        if stop < k:
            dx[:] = own[start + 1:stop + 1]
        else:
            dx[:-1] = own[start + 1:stop]
            dx[-1] = np.inf
        after = np.take(other, pos, mode="clip")
        after[int(np.searchsorted(pos, k_other)):] = np.inf  # no value of the other side above
        np.minimum(dx, after, out=dx)
        del after
        dx -= own[start:stop]
        if stop == k and not math.isfinite(dx[-1]):  # the largest value of both: no interval
            dx[-1] = 0.0
        if ref_side:
            return own_cdf, other_cdf, dx
        return other_cdf, own_cdf, dx

    def blocks(self, ref_side: bool) -> range:
        """Starts of the row blocks of one side (``BLOCK`` rows each)."""
        return range(0, len(self.ref if ref_side else self.cur), BLOCK)


def ks_distinct(pair: SortedPair) -> tuple[float, float]:
    """``ks`` for a ``SortedPair`` with ``distinct_rows``: the ECDF gap is largest right
    after a reference row (``(i+1)/n - P_i/m``) or right before one (``P_q/m - q/n``,
    ``P_n = m``, where the gap is 0); the same divisions as scipy, so the same D to the last
    bit. Both maxima are read block by block in ``SortedPair.scan``."""
    n, m = len(pair.ref), len(pair.cur)
    max_s = pair.scan.max_s
    min_s = float(np.clip(pair.scan.min_s, 0, 1))
    d = min_s if min_s > max_s else max_s
    return _ks_p(n, m, d, lambda: PooledOrder.from_sorted(pair.ref, pair.cur))


def cramer_von_mises_distinct(pair: SortedPair) -> tuple[float, float]:
    """``cramer_von_mises`` for a ``SortedPair`` with ``distinct_rows`` (and more than 20
    rows on a side): ``U = n sum_i P_i^2 + m (n^2 m - sum_i (2i + 1) P_i)``, the rank form
    with the current side's sum taken by parts over the reference rows."""
    n, m = len(pair.ref), len(pair.cur)
    p = pair.below.astype(np.float64)
    ref_part = float(np.dot(p, p))
    odd = np.arange(1.0, 2.0 * n, 2.0)
    cur_part = float(n) * n * m - float(np.dot(odd, p))
    return cramer_von_mises_from_u(n * ref_part + m * cur_part, n, m)


def wasserstein_distinct(pair: SortedPair) -> float:
    """``wasserstein`` for a ``SortedPair`` with ``distinct_rows``: ``sum_j |F_j - G_j| dx_j``
    summed over each side's rows (``SortedPair.grid``), block by block, no merge."""
    total = 0.0
    for ref_side in (True, False):
        for s in pair.blocks(ref_side):
            f, g, dx = pair.grid(ref_side, s, s + BLOCK)
            f -= g
            np.abs(f, out=f)
            f *= dx  # not np.dot: one BLAS call per block costs more than the arithmetic
            total += float(f.sum())
    return total


def _a2_block(p: np.ndarray, start: int, own: int, other: int, big_n: float) -> float:
    """Rows ``start, start+1, ...`` of one side's part of
    ``sum_j X_j^2 / (B_j (N - B_j) - N/4)`` without ties: row ``i`` sits at pooled place
    ``j = i + p_i`` (``B_j = j + 1/2``) with ``X_j = other (i + 1/2) - own p_i`` (integers
    and halves: exact in float64)."""
    x = np.arange(start, start + len(p), dtype=np.float64)
    b = np.add(x, p, dtype=np.float64)
    b += 0.5
    x += 0.5
    x *= other
    t = np.multiply(p, float(own), dtype=np.float64)
    x -= t
    x *= x
    np.subtract(big_n, b, out=t)
    t *= b
    t -= big_n / 4.0
    x /= t
    return float(x.sum())


def a2akn_distinct(pair: SortedPair) -> float:
    """Scholz & Stephens' A2akN (as ``_a2akn``) for a ``SortedPair`` with ``distinct_rows``:
    reference row ``i`` has ``X = m (i + 1/2) - n P_i``, current row ``k`` has
    ``X = n (k + 1/2) - m Q_k`` (up to sign), each at its own pooled place, so neither a
    merge nor an ECDF of length N is built."""
    n, m = len(pair.ref), len(pair.cur)
    big_n = float(n + m)
    total = pair.scan.a2_ref
    below = pair.below
    cuts = np.asarray(np.searchsorted(below, np.r_[np.arange(0, m, BLOCK), m], side="left"))
    for b, s in enumerate(range(0, m, BLOCK)):
        e = min(s + BLOCK, m)
        first, last = int(cuts[b]), int(cuts[b + 1])
        # Q_k for k in s..e-1, counted within the block: Q_k = #{P_i < s} + #{s <= P_i <= k}
        q = np.cumsum(np.bincount(below[first:last] - s, minlength=e - s))
        q += first
        total += _a2_block(q, s, m, n, big_n)
    return total / big_n * (1.0 / n + 1.0 / m) * (big_n - 1.0) / big_n


def anderson_asymptotic_distinct(pair: SortedPair) -> tuple[float, float]:
    """``anderson_asymptotic`` for a ``SortedPair`` with ``distinct_rows``."""
    a2 = a2akn_distinct(pair)
    return a2, anderson_darling_sf(a2)


def anderson_distinct(pair: SortedPair) -> tuple[float, float]:
    """``anderson`` (scipy's normalised statistic and tabled p-value) for a ``SortedPair``
    with ``distinct_rows``."""
    n, m = len(pair.ref), len(pair.cur)
    h, g = anderson_constants(n + m)
    return anderson_from_a2akn(a2akn_distinct(pair), n, m, h, g)
