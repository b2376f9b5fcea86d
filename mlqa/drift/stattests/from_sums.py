"""Each rank, ECDF or moment test's formula on an engine's summaries of a numerical column:
the pooled-order sums (``mlqa.engines.sql.PooledSums``) and each side's moments. These are
the registry entries' ``from_summary`` functions; every p-value and shared formula is
:mod:`mlqa.drift.stattests.pooled`'s own, the one the in-memory path uses.

Where scipy switches to an exact small-sample p-value the engine path fetches the (small)
pooled order instead and runs the in-memory test, so these only meet the large-sample forms
(``n > 10000`` for KS, ``n > 20`` for Cramér-von Mises, ``n > 8`` or ties for Mann-Whitney).
"""

from __future__ import annotations

import dataclasses
import math

from mlqa.drift.effects import EffectBound, normed_bound
from mlqa.drift.stattests import ColumnTestError, pooled
from mlqa.drift.stattests.pooled import MIN_NORM
from mlqa.engines.sql import Moments, PooledSums


@dataclasses.dataclass(frozen=True)
class Summaries:
    """What an engine returns for one numerical column: ``sums`` over the pooled order of
    both sides and each side's ``ref``/``cur`` moments (n, min, max, mean, VAR_POP)."""

    sums: PooledSums
    ref: Moments
    cur: Moments


def ks(x: Summaries) -> tuple[float, float]:
    """Two-sided KS: D and scipy's p-value (``pooled.ks_p_value``)."""
    s = x.sums
    return s.ks, pooled.ks_p_value(s.ks, s.n_ref, s.n_cur)


def normed_wasserstein(s: PooledSums, ref: Moments) -> float:
    """W1 / max(std(reference), 0.001), std with ddof=0 from the engine's VAR_POP."""
    return s.wasserstein / max(_std(ref), MIN_NORM)


def wasserstein(x: Summaries) -> tuple[float, None]:
    """evidently's normed W1 (``normed_wasserstein``)."""
    return normed_wasserstein(x.sums, x.ref), None


def energy(x: Summaries) -> tuple[float, None]:
    """scipy's energy_distance: sqrt(2) * sqrt(sum (F - G)^2 gap)."""
    return pooled.energy_from_sum(x.sums.energy_sq), None


def mann_whitney(x: Summaries) -> tuple[float, float]:
    """U of the reference and the two-sided asymptotic p-value with tie and continuity
    corrections (``pooled.mann_whitney_p``)."""
    s = x.sums
    if min(s.n_ref, s.n_cur) <= pooled.MWU_EXACT_MAX_N and s.tie_term == 0:
        raise ColumnTestError("Mann-Whitney's exact small-sample p-value needs the rows; "
                              "fewer than 9 values on a side")
    u1 = s.rank_sum_ref - s.n_ref * (s.n_ref + 1) / 2
    return u1, pooled.mann_whitney_p(u1, s.n_ref, s.n_cur, s.tie_term)


def cramer_von_mises(x: Summaries) -> tuple[float, float]:
    """Two-sample Cramér-von Mises T and its asymptotic p-value from the rank sums
    (``pooled.cramer_von_mises_from_u``)."""
    s = x.sums
    return pooled.cramer_von_mises_from_u(s.n_ref * s.cvm_ref + s.n_cur * s.cvm_cur,
                                          s.n_ref, s.n_cur)


def _a2akn(s: PooledSums) -> float:
    big_n = float(s.n_ref + s.n_cur)
    return s.anderson * (big_n - 1.0) / big_n


def anderson(x: Summaries) -> tuple[float, float]:
    """k-sample Anderson-Darling (midrank, k = 2): scipy's normalised statistic and its p-value
    interpolated from Scholz & Stephens' table, capped to [0.001, 0.25]."""
    s = x.sums
    h, g = pooled.anderson_constants(s.n_ref + s.n_cur)
    return pooled.anderson_from_a2akn(_a2akn(s), s.n_ref, s.n_cur, h, g)


def anderson_asymptotic(x: Summaries) -> tuple[float, float]:
    """A2akN with the p-value of its limiting distribution: ``tests="auto"``'s companion of
    KS (``pooled.anderson_asymptotic``)."""
    a2kn = _a2akn(x.sums)
    return float(a2kn), pooled.anderson_darling_sf(a2kn)


def _std(m: Moments) -> float:
    return math.sqrt(max(m.var or 0.0, 0.0))


def t_test(x: Summaries) -> tuple[float, float]:
    """Welch's t-test from n, mean and variance of each side (``ttest_ind_from_stats``)."""
    from scipy.stats import ttest_ind_from_stats

    def sd(m: Moments) -> float:
        return math.sqrt(max(m.var or 0.0, 0.0) * m.n / (m.n - 1))

    ref, cur = x.ref, x.cur
    r = ttest_ind_from_stats(ref.mean, sd(ref), ref.n, cur.mean, sd(cur), cur.n,
                             equal_var=False)
    return float(r.statistic), float(r.pvalue)


def wasserstein_bound(s: PooledSums, ref: Moments, alpha: float) -> EffectBound:
    """``mlqa.drift.effects.wasserstein_bound`` from the engine's sums: the bias-corrected
    normed W1 and its one-sided lower confidence bound (delta method)."""
    if s.distinct < 2:
        return EffectBound(0.0, 0.0, 0.0)
    norm = max(_std(ref), MIN_NORM)
    return normed_bound(s.wasserstein_corrected / norm,
                        ((s.h_ref, s.h2_ref, s.n_ref), (s.h_cur, s.h2_cur, s.n_cur)),
                        norm, alpha)
