"""Statistics and p-values finished from the engine's pooled-order sums (``PooledSums``).

Each function is scipy's formula for the same test, fed with the sums instead of the arrays;
where scipy switches to an exact small-sample p-value the engine path fetches the (small)
pooled order instead and runs the in-memory test, so this module only has the large-sample
forms scipy itself uses there (``n > 10000`` for KS, ``n > 20`` for Cramér-von Mises,
``n > 8`` or ties for Mann-Whitney).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlqa.drift.stattests import ColumnTestError
from mlqa.drift.stattests.pooled import MIN_NORM
from mlqa.engines.sql import Moments, PooledSums


def ks(s: PooledSums) -> tuple[float, float]:
    """Two-sided KS: D and scipy's p-value (``ks_p_value``)."""
    return s.ks, ks_p_value(s.ks, s.n_ref, s.n_cur)


def ks_p_value(d: float, n1: int, n2: int) -> float:
    """scipy's ks_2samp p-value for D: exact when neither side has more than 10000 values
    (scipy's own exact routine, fed with D), else kstwo.sf(D, round(n m / (n + m)))."""
    from scipy.stats import kstwo

    if max(n1, n2) <= 10000:
        from scipy.stats._stats_py import _attempt_exact_2kssamp  # what ks_2samp calls

        ok, _, prob = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, "two-sided")
        if ok:
            return float(np.clip(prob, 0, 1))
    big, small = sorted([float(n1), float(n2)], reverse=True)
    en = big * small / (big + small)
    return float(np.clip(kstwo.sf(d, np.round(en)), 0, 1))


def normed_wasserstein(s: PooledSums, ref: Moments) -> float:
    """W1 / max(std(reference), 0.001), std with ddof=0 from the engine's VAR_POP."""
    return s.wasserstein / max(math.sqrt(max(ref.var or 0.0, 0.0)), MIN_NORM)


def energy(s: PooledSums) -> float:
    """scipy's energy_distance: sqrt(2) * sqrt(sum (F - G)^2 gap)."""
    return math.sqrt(2.0) * math.sqrt(max(s.energy_sq, 0.0))


def mann_whitney(s: PooledSums) -> tuple[float, float]:
    """U of the reference and the two-sided asymptotic p-value with tie and continuity
    corrections (scipy's ``mannwhitneyu(method="asymptotic")``)."""
    from scipy.special import ndtr

    n1, n2 = float(s.n_ref), float(s.n_cur)
    n = n1 + n2
    if min(n1, n2) <= 8 and s.tie_term == 0:
        raise ColumnTestError("Mann-Whitney's exact small-sample p-value needs the rows; "
                              "fewer than 9 values on a side")
    u1 = s.rank_sum_ref - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    sd = math.sqrt(n1 * n2 / 12 * ((n + 1) - s.tie_term / (n * (n - 1))))
    z = (u - n1 * n2 / 2 - 0.5) / sd if sd > 0 else math.inf
    return u1, float(np.clip(2 * ndtr(-z), 0.0, 1.0))


def cramer_von_mises(s: PooledSums) -> tuple[float, float]:
    """Two-sample Cramér-von Mises T and scipy's asymptotic p-value (Anderson 1962)."""
    from scipy.stats._hypotests import _cdf_cvm_inf  # scipy's own limiting CDF

    nx, ny = float(s.n_ref), float(s.n_cur)
    u = nx * s.cvm_ref + ny * s.cvm_cur
    k, big_n = nx * ny, nx + ny
    t = u / (k * big_n) - (4 * k - 1) / (6 * big_n)
    et = (1 + 1 / big_n) / 6
    vt = (big_n + 1) * (4 * k * big_n - 3 * (nx ** 2 + ny ** 2) - 2 * k) / (45 * big_n ** 2 * 4 * k)
    tn = 1 / 6 + (t - et) / math.sqrt(45 * vt)
    p = 1.0 if tn < 0.003 else max(1.0 - float(_cdf_cvm_inf(np.asarray(tn), xp=np)), 0.0)
    return t, p


def _harmonic_terms(big_n: int, chunk: int = 5_000_000) -> tuple[float, float]:
    """scipy's ``h`` and ``g`` of anderson_ksamp without its N-long arrays:
    hs_cs = cumsum(1 / [N-1, ..., 2]), h = hs_cs[-1] + 1, g = sum(hs_cs / [2, ..., N-1])."""
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


def anderson(s: PooledSums) -> tuple[float, float]:
    """k-sample Anderson-Darling (midrank, k = 2): scipy's normalised statistic and its p-value
    interpolated from Scholz & Stephens' table, capped to [0.001, 0.25]."""
    from mlqa.drift.stattests.pooled import anderson_from_a2akn

    big_n = s.n_ref + s.n_cur
    a2kn = s.anderson * (big_n - 1.0) / big_n
    h, g = _harmonic_terms(big_n)  # without scipy's N-long arrays
    return anderson_from_a2akn(a2kn, s.n_ref, s.n_cur, h, g)


def anderson_asymptotic(s: PooledSums) -> tuple[float, float]:
    """A2akN with the p-value of its limiting distribution: ``tests="auto"``'s companion of
    KS (``mlqa.drift.stattests.pooled.anderson_asymptotic``)."""
    from mlqa.drift.stattests.pooled import anderson_darling_sf

    big_n = float(s.n_ref + s.n_cur)
    a2kn = s.anderson * (big_n - 1.0) / big_n
    return float(a2kn), anderson_darling_sf(a2kn)


def t_test(ref: Moments, cur: Moments) -> tuple[float, float]:
    """Welch's t-test from n, mean and variance of each side (``ttest_ind_from_stats``)."""
    from scipy.stats import ttest_ind_from_stats

    def sd(m: Moments) -> float:
        return math.sqrt(max(m.var or 0.0, 0.0) * m.n / (m.n - 1))

    r = ttest_ind_from_stats(ref.mean, sd(ref), ref.n, cur.mean, sd(cur), cur.n,
                             equal_var=False)
    return float(r.statistic), float(r.pvalue)


def wasserstein_bound(s: PooledSums, ref: Moments, alpha: float) -> Any:
    """``mlqa.drift.effects.wasserstein_bound`` from the engine's sums: the bias-corrected
    normed W1 and its one-sided lower confidence bound (delta method)."""
    from mlqa.drift.effects import EffectBound, _z

    norm = max(math.sqrt(max(ref.var or 0.0, 0.0)), MIN_NORM)
    if s.distinct < 2:
        return EffectBound(0.0, 0.0, 0.0)
    estimate = s.wasserstein_corrected / norm
    se2 = 0.0
    for h, h2, size in ((s.h_ref, s.h2_ref, s.n_ref), (s.h_cur, s.h2_cur, s.n_cur)):
        mean = h / size
        se2 += max(h2 / size - mean * mean, 0.0) / size
    se = math.sqrt(se2) / norm
    return EffectBound(estimate, estimate - _z(alpha) * se, se)
