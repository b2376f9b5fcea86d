"""Exact order-statistic bounds and the block bootstrap, against scipy and seeded simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mlqa.latency.quantiles import (
    block_indices,
    estimate,
    min_samples,
    order_stat_ranks,
    order_stat_upper_rank,
    paired_ratio_interval,
    rank,
    ratio_interval,
)


@pytest.mark.parametrize("n", [20, 64, 200, 528, 1000, 4000])
@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.99])
def test_interval_equals_scipy_quantile_test(n, q):
    x = np.sort(np.random.default_rng(n).lognormal(size=n))
    ours = estimate(x, q, 0.99)
    ref = stats.quantile_test(x, p=q).confidence_interval(0.99)
    # scipy writes an unavailable bound as nan (upper) or -inf (lower); ours as +-inf
    assert ours.ci_low == (ref.low if np.isfinite(ref.low) else -math.inf)
    assert ours.ci_high == (ref.high if np.isfinite(ref.high) else math.inf)
    assert ours.value == np.quantile(x, q, method="inverted_cdf")


def test_sample_sizes_match_mlperf_counts():
    # p99 at 99%: two-sided finite bounds from 528 queries, one-sided (MLPerf's t=0) from 459
    assert min_samples(0.99, 0.99) == 528
    assert order_stat_ranks(527, 0.99, 0.99)[1] is None
    assert order_stat_ranks(528, 0.99, 0.99)[1] == 527
    assert order_stat_upper_rank(458, 0.99, 0.99) is None
    assert order_stat_upper_rank(459, 0.99, 0.99) == 458
    assert min_samples(0.9, 0.99) == 51  # 0.9**51 <= 0.005
    assert rank(1000, 0.99) == 989 and rank(1, 0.5) == 0


@pytest.mark.parametrize("n", [100, 700, 2000])
def test_percentile_bounds_cover_true_quantile_at_nominal_rate(n):
    """4000 seeded samples of a known lognormal per n: the 99% interval covers the true
    quantile at least 99% of the time (up to simulation error) and exactly as often as the
    binomial theory behind the ranks says."""
    reps, conf = 4000, 0.99
    rng = np.random.default_rng(7 + n)
    sims = np.sort(rng.lognormal(mean=-1.0, sigma=0.6, size=(reps, n)), axis=1)
    for q in (0.5, 0.9, 0.99):
        truth = stats.lognorm.ppf(q, 0.6, scale=math.exp(-1.0))
        lo, hi = order_stat_ranks(n, q, conf)
        low = sims[:, lo] if lo is not None else np.full(reps, -np.inf)
        high = sims[:, hi] if hi is not None else np.full(reps, np.inf)
        covered = float(((low <= truth) & (truth <= high)).mean())
        # exact coverage of ranks (lo, hi): P(lo + 1 <= B <= hi), B ~ Binomial(n, q)
        theory = (1.0 if hi is None else stats.binom.cdf(hi, n, q)) - \
            (0.0 if lo is None else stats.binom.cdf(lo, n, q))
        se = math.sqrt(max(theory * (1 - theory), 1e-4) / reps)
        assert theory >= conf
        assert abs(covered - theory) <= 4 * se, (q, covered, theory)
        assert covered >= conf - 3 * math.sqrt(conf * (1 - conf) / reps), (q, covered)


def test_block_indices_are_contiguous_runs():
    idx = block_indices(np.random.default_rng(0), 103, 5, 10)
    assert idx.shape == (5, 103)
    assert idx.min() >= 0 and idx.max() < 103
    steps = np.diff(idx[:, :100].reshape(5, 10, 10), axis=2)
    assert (steps == 1).all()


def _ar1(rng, reps, n, phi=0.6):
    """Autocorrelated log-latencies: AR(1) noise around log(1 ms)."""
    e = rng.normal(scale=0.2, size=(reps, n))
    x = np.empty_like(e)
    x[:, 0] = e[:, 0] / math.sqrt(1 - phi ** 2)
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return np.exp(x)


@pytest.mark.parametrize("true_ratio", [1.0, 1.3])
def test_block_bootstrap_ratio_interval_covers_true_ratio(true_ratio):
    """On autocorrelated synthetic runs with a known median ratio, the 99% block-bootstrap
    interval covers it in >= 95% of 100 seeded trials (100/100 when written; a bootstrap of
    single queries, block length 1, covered 84/100 of the same trials)."""
    rng = np.random.default_rng(11)
    reps, n = 100, 1000
    base, cur = _ar1(rng, reps, n), _ar1(rng, reps, n) * true_ratio
    hits = 0
    for i in range(reps):
        _, (low, high) = ratio_interval(cur[i], base[i], 0.5, 0.99, draws=1000, seed=i)
        hits += low <= true_ratio <= high
    assert hits >= 95, hits


def test_round_bootstrap_cancels_contention_shared_by_both_arms():
    """Interleaved arms: each of 30 rounds slows both arms by a shared random factor. Resampling
    rounds jointly covers the true median ratio and gives a far narrower interval than
    resampling each arm on its own, which counts the shared slow-downs as noise."""
    rng = np.random.default_rng(3)
    hits, widths = 0, []
    for trial in range(40):
        rounds = np.repeat(np.arange(30), 40)
        shared = np.exp(rng.normal(0, 0.3, 30))[rounds]
        base = shared * rng.lognormal(0, 0.05, rounds.size)
        cur = 1.3 * shared * rng.lognormal(0, 0.05, rounds.size)
        _, (low, high) = paired_ratio_interval(cur, rounds, base, rounds, 0.5, 0.99,
                                               draws=1000, seed=trial)
        hits += low <= 1.3 <= high
        _, (ilow, ihigh) = ratio_interval(cur, base, 0.5, 0.99, draws=1000, seed=trial)
        widths.append((high - low) / (ihigh - ilow))
    assert hits >= 38, hits
    assert np.median(widths) < 0.5, np.median(widths)
