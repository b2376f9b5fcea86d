"""The pooled-order statistics equal scipy's (and so evidently's) to 1e-9 on the same data.

Samples are seeded and cover ties (rounded and integer values, a point mass), skew and heavy
tails, and every p-value path scipy takes: KS exact (<= 10000 rows a side) and asymptotic,
Cramér-von Mises exact (<= 20) and asymptotic, Mann-Whitney exact (a side <= 8, no ties) and
normal with tie correction, Anderson-Darling inside and at both caps of its table.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats as ss

from mlqa.drift.stattests import pooled as P

TOL = 1e-9


def _case(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "normal_shift": lambda: (rng.normal(size=300), rng.normal(0.2, 1, 500)),
        "rounded_ties": lambda: (rng.normal(size=30).round(0), rng.normal(0.2, 1, 50).round(0)),
        "heavy_tails": lambda: (rng.standard_t(2, 3000), rng.standard_t(2, 2500) + 0.1),
        "few_values_asymp": lambda: (rng.integers(0, 5, 12000).astype(float),
                                     rng.integers(0, 6, 11000).astype(float)),
        "tiny_exact": lambda: (rng.lognormal(size=15), rng.lognormal(size=18)),
        "mwu_exact": lambda: (rng.lognormal(size=7), rng.lognormal(size=40)),
        "skew_ties_large": lambda: (rng.exponential(size=20000).round(2),
                                    rng.exponential(1.2, 15000).round(2)),
        "point_mass": lambda: (np.r_[np.zeros(50), rng.normal(size=50)],
                               np.r_[np.zeros(10), rng.normal(size=90)]),
        "far_apart": lambda: (rng.normal(size=400), rng.normal(5, 1, 300)),
        "identical": lambda: (np.arange(50.0), np.arange(50.0)),
    }[name]()


CASES = ["normal_shift", "rounded_ties", "heavy_tails", "few_values_asymp", "tiny_exact",
         "mwu_exact", "skew_ties_large", "point_mass", "far_apart", "identical"]


def _scipy(x: np.ndarray, y: np.ndarray) -> dict[str, tuple[float, ...]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anderson's capped p-value warning
        ad = ss.anderson_ksamp([x, y], variant="midrank")
        cvm = ss.cramervonmises_2samp(x, y)
        return {
            "ks": tuple(ss.ks_2samp(x, y)),
            "wasserstein": (ss.wasserstein_distance(x, y),),
            "normed_wasserstein": (ss.wasserstein_distance(x, y) / max(np.std(x), 0.001),),
            "energy": (ss.energy_distance(x, y),),
            "mann_whitney": tuple(ss.mannwhitneyu(x, y, alternative="two-sided")),
            "anderson": (ad.statistic, ad.pvalue),
            "cramer_von_mises": (cvm.statistic, cvm.pvalue),
            "ref_std": (np.std(x),),
        }


@pytest.mark.parametrize("case", CASES)
def test_statistics_equal_scipy(case):
    x, y = _case(case, CASES.index(case))
    order = P.PooledOrder.from_sorted(np.sort(x), np.sort(y))
    expected = _scipy(x, y)
    for name, want in expected.items():
        got = getattr(P, name)(order)
        got = got if isinstance(got, tuple) else (got,)
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert abs(float(g) - float(w)) <= TOL, (case, name, g, w)


@pytest.mark.parametrize("case", ["rounded_ties", "few_values_asymp", "point_mass"])
def test_every_construction_gives_the_same_order(case):
    x, y = _case(case, 7)
    a = P.PooledOrder.from_sorted(np.sort(x), np.sort(y))
    b = P.PooledOrder.from_value_counts(*np.unique(x, return_counts=True),
                                        *np.unique(y, return_counts=True))
    # rows in any order, a value split over several rows, rows with no count at all
    rng = np.random.default_rng(0)
    values = np.r_[x, y, [123.0]]
    refc = np.r_[np.ones(len(x), int), np.zeros(len(y), int), [0]]
    curc = np.r_[np.zeros(len(x), int), np.ones(len(y), int), [0]]
    perm = rng.permutation(len(values))
    c = P.PooledOrder.from_counts(values[perm], refc[perm], curc[perm])
    for other in (b, c):
        assert np.array_equal(a.values, other.values)
        assert np.array_equal(a.ref_counts, other.ref_counts)
        assert np.array_equal(a.cur_counts, other.cur_counts)
        assert np.array_equal(a.ref_cum, other.ref_cum)
        assert np.array_equal(a.cur_cum, other.cur_cum)
    assert (a.n, a.m) == (len(x), len(y))


def test_anderson_hits_both_caps_like_scipy():
    rng = np.random.default_rng(3)
    same = rng.normal(size=500), rng.normal(size=500)
    apart = rng.normal(size=500), rng.normal(1, 1, 500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x, y in (same, apart):
            want = ss.anderson_ksamp([x, y], variant="midrank").pvalue
            got = P.anderson(P.PooledOrder.from_sorted(np.sort(x), np.sort(y)))[1]
            assert got == pytest.approx(want, abs=TOL)
    assert P.anderson(P.PooledOrder.from_sorted(np.sort(apart[0]), np.sort(apart[1])))[1] \
        == 0.001


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="finite"):
        P.PooledOrder.from_counts([1.0, np.nan], [1, 1], [1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        P.PooledOrder.from_counts([1.0, 2.0], [1, -1], [1, 1])
    with pytest.raises(ValueError, match="equal length"):
        P.PooledOrder.from_counts([1.0, 2.0], [1], [1, 1])
    with pytest.raises(ValueError, match="at least"):
        P.ks(P.PooledOrder.from_counts([1.0, 2.0], [1, 1], [0, 0]))


@pytest.mark.parametrize("n,m", [(300, 500), (40, 25), (3000, 2500), (20000, 15000)])
def test_sorted_pair_without_ties_equals_scipy(n, m):
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n), rng.standard_t(3, m) * 1.2 + 0.05
    pair = P.SortedPair(np.sort(x), np.sort(y))
    assert pair.distinct_rows
    want = ss.ks_2samp(x, y)
    assert P.ks_distinct(pair) == pytest.approx((want.statistic, want.pvalue), abs=TOL)
    cvm = ss.cramervonmises_2samp(x, y)
    assert P.cramer_von_mises_distinct(pair) == pytest.approx((cvm.statistic, cvm.pvalue),
                                                              abs=TOL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anderson's capped p-value warning
        ad = ss.anderson_ksamp([x, y], variant="midrank")
    assert P.anderson_distinct(pair) == pytest.approx((ad.statistic, ad.pvalue), abs=TOL)
    assert P.wasserstein_distinct(pair) == pytest.approx(ss.wasserstein_distance(x, y),
                                                         rel=1e-12)
    # the merge-free forms equal the merged ones to rounding (1e-13 relative)
    order = P.PooledOrder.from_sorted(pair.ref, pair.cur)
    assert P.a2akn_distinct(pair) == pytest.approx(P._a2akn(order), rel=1e-13)
    assert P.anderson_asymptotic_distinct(pair) == pytest.approx(
        P.anderson_asymptotic(order), rel=1e-13)
    assert np.array_equal(pair.above, np.searchsorted(pair.ref, pair.cur))


@pytest.mark.parametrize("n,m", [(1, 1), (1, 4), (3, 1), (2, 3)])
def test_sorted_pair_tiny_sides_equal_the_merge(n, m):
    rng = np.random.default_rng(n * 10 + m)
    pair = P.SortedPair(np.sort(rng.normal(size=n)), np.sort(rng.normal(size=m)))
    order = P.PooledOrder.from_sorted(pair.ref, pair.cur)
    assert P.wasserstein_distinct(pair) == pytest.approx(P.wasserstein(order), rel=1e-13)
    assert P.a2akn_distinct(pair) == pytest.approx(P._a2akn(order), rel=1e-13)
    for ref_side in (True, False):
        f, g, dx = pair.grid(ref_side)
        assert np.isfinite(dx).all() and (dx >= 0).all() and np.all((0 < f + g) & (f <= 1))


def test_sorted_pair_sees_ties_within_and_across_sides():
    assert not P.SortedPair(np.array([1.0, 1.0, 2.0]), np.array([3.0, 4.0])).distinct_rows
    assert not P.SortedPair(np.array([1.0, 2.0]), np.array([2.0, 4.0])).distinct_rows
    assert not P.SortedPair(np.array([1.0, 2.0]), np.array([3.0, 3.0])).distinct_rows
    assert P.SortedPair(np.array([1.0, 2.0]), np.array([1.5, 4.0])).distinct_rows


def test_anderson_asymptotic_statistic_is_scipys_a2akn():
    # scipy's statistic is (A2akN - 1) / sigma_N; undo it to compare A2akN itself.
    rng = np.random.default_rng(11)
    for x, y in ((rng.normal(size=400), rng.normal(0, 1.3, 300)),
                 (rng.integers(0, 9, 500).astype(float), rng.integers(0, 9, 450) + 0.0)):
        order = P.PooledOrder.from_sorted(np.sort(x), np.sort(y))
        stat, _ = P.anderson(order)
        a2, p = P.anderson_asymptotic(order)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = ss.anderson_ksamp([x, y], variant="midrank").statistic
        assert stat == pytest.approx(want, abs=TOL)
        assert 0 <= p <= 1


def test_anderson_asymptotic_p_value_is_uniform_under_no_change():
    # 400 seeded null pairs: the share of p <= 0.05 and <= 0.01 within 3 SE of nominal.
    rng = np.random.default_rng(5)
    ps = np.array([P.anderson_asymptotic(P.PooledOrder.from_sorted(
        np.sort(rng.normal(size=300)), np.sort(rng.normal(size=250))))[1]
        for _ in range(400)])
    for level in (0.05, 0.01):
        se = (level * (1 - level) / len(ps)) ** 0.5
        assert abs(np.mean(ps <= level) - level) <= 3 * se + 1e-12
    # the classical limiting-distribution check points: P(A2 > 2.492) = 0.05
    assert P.anderson_darling_sf(2.492) == pytest.approx(0.05, abs=1e-3)
    assert P.anderson_darling_sf(3.857) == pytest.approx(0.01, abs=1e-3)


def test_blocked_merge_free_forms_equal_the_merge_across_blocks():
    # More rows than one block (P.BLOCK) on both sides, the last block partial: the blocked
    # binary search, KS, Anderson-Darling, Wasserstein and the effect bound read the same
    # values as the merged order (KS's D to the last bit).
    from mlqa.drift import effects

    rng = np.random.default_rng(21)
    n, m = 2 * P.BLOCK + 123, 3 * P.BLOCK - 7
    x, y = np.sort(rng.normal(size=n)), np.sort(rng.standard_t(4, m) + 0.01)
    pair = P.SortedPair(x, y)
    assert pair.distinct_rows
    assert np.array_equal(pair.below, np.searchsorted(y, x))
    order = P.PooledOrder.from_sorted(x, y)
    assert P.ks_distinct(pair)[0] == P.ks(order)[0] == ss.ks_2samp(x, y).statistic
    assert P.a2akn_distinct(pair) == pytest.approx(P._a2akn(order), rel=1e-13)
    assert P.wasserstein_distinct(pair) == pytest.approx(P.wasserstein(order), rel=1e-13)
    want = effects.wasserstein_bound(order, float(np.std(x)), 0.05)
    got = effects.wasserstein_bound_sorted(pair, float(np.std(x)), 0.05)
    assert (got.estimate, got.low, got.se) == pytest.approx(
        (want.estimate, want.low, want.se), rel=1e-9)


def test_exact_ks_p_value_for_equal_sizes_is_scipys():
    # the vectorised Hodges recursion against scipy's own loop: same rounded D, the same
    # decision to fall back (p not a probability), p to 1e-13, the same bits near p = 1
    from scipy.stats._stats_py import _attempt_exact_2kssamp

    rng = np.random.default_rng(8)
    for n in (1, 2, 7, 100, 1000, 4999, 10000):
        for h in np.unique(np.r_[rng.integers(0, n + 1, 12), 0, 1, 2, n]):
            d = h / n
            ok, d_want, p_want = _attempt_exact_2kssamp(n, n, n, d, "two-sided")
            got = P._ks_exact_equal(n, d)
            if not ok:
                assert got is None, (n, h)
                continue
            assert got is not None and got[0] == d_want, (n, h)
            assert got[1] == pytest.approx(float(np.clip(p_want, 0, 1)), rel=1e-13, abs=1e-15)
            if h * h <= n:
                assert got[1] == float(np.clip(p_want, 0, 1))


def test_anderson_constants_match_scipy_and_need_no_n_long_array():
    """One function gives ``h`` and ``g`` to the in-memory path and the engines' sums: in one
    chunk the same bits as scipy's arrays; in many (what an engine's 50M rows take) the same
    to rounding."""
    from mlqa.drift.stattests.pooled import anderson_constants

    for big_n in (3, 50, 20_001):
        hs_cs = (1.0 / np.arange(big_n - 1, 1, -1)).cumsum()
        h, g = float(hs_cs[-1] + 1), float((hs_cs / np.arange(2, big_n)).sum())
        assert anderson_constants(big_n) == (h, g)
        chunked = anderson_constants(big_n, chunk=7)
        assert chunked == pytest.approx((h, g), rel=1e-13)
