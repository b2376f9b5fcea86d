"""The small-sample intervals: Newcombe's AUC, Jeffreys-Dirichlet, BCa, tail share, AP
influence -- each against its formula or a brute-force reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from mlqa import InputError
from mlqa.stats.small_sample import (
    average_precision_influence,
    bca_interval,
    dirichlet_draws,
    hanley_mcneil_variance,
    newcombe_auc_interval,
    tail_share,
)


def test_hanley_mcneil_variance_matches_its_q1_q2_form():
    theta, m, n = 0.8, 30, 70
    q1, q2 = theta / (2 - theta), 2 * theta**2 / (1 + theta)
    big = (m + n) / 2  # Newcombe's N* for both class sizes
    classic = (theta * (1 - theta) + (big - 1) * (q1 - theta**2)
               + (big - 1) * (q2 - theta**2)) / (m * n)
    assert hanley_mcneil_variance(theta, m, n) == pytest.approx(classic, rel=1e-12)


@pytest.mark.parametrize("auc, m, n", [(0.8, 10, 90), (1.0, 2, 98), (0.5, 5, 5), (0.0, 3, 50)])
def test_newcombe_bounds_solve_the_score_equation(auc, m, n):
    z = 1.959963984540054
    low, high = (float(b) for b in newcombe_auc_interval(auc, m, n, 0.95))
    assert 0 <= low <= auc <= high <= 1
    for bound in (low, high):
        if 0 < bound < 1 and bound != auc:
            # on the boundary, (θ̂ - θ)² = z² V(θ)
            assert (auc - bound) ** 2 == pytest.approx(
                z**2 * hanley_mcneil_variance(bound, m, n), rel=1e-6)
    if auc == 1.0:
        assert low < 1.0 and high == 1.0  # no collapse at a perfect sample


def test_newcombe_is_vectorised_and_refuses_an_empty_class():
    low, high = newcombe_auc_interval(np.array([0.6, 0.9]), 20, 80)
    assert low.shape == (2,) and (low < high).all()
    with pytest.raises(InputError, match="positive and negative rows"):
        newcombe_auc_interval(0.7, 0, 10)


def test_dirichlet_draws_have_the_jeffreys_posterior_mean():
    counts = np.array([[90, 0], [3, 7]])
    draws = dirichlet_draws(counts, 20000, random_state=1)
    shares = draws / draws.sum(axis=(1, 2), keepdims=True)
    expected = (counts + 0.5) / (counts.sum() + 2)
    np.testing.assert_allclose(shares.mean(axis=0), expected, atol=2e-3)
    assert (draws[:, 0, 1] > 0).all()  # an empty cell varies instead of staying empty


def test_bca_acceleration_of_a_mean_is_the_skewness_formula():
    rng = np.random.default_rng(0)
    x = rng.exponential(size=400)
    reps = np.array([rng.choice(x, x.size).mean() for _ in range(4000)])
    u = x - x.mean()
    low, high, extra = bca_interval(reps, x.mean(), u, 0.95)
    assert extra["acceleration"] == pytest.approx(
        np.sum(u**3) / (6 * np.sum(u**2) ** 1.5), rel=1e-12)
    plain_low, plain_high = np.quantile(reps, [0.025, 0.975])
    # right skew: BCa moves both ends up relative to the percentile interval
    assert low > plain_low and high > plain_high
    assert math.isnan(bca_interval(np.ones(10) * 5, 1.0, u, 0.95)[0])


def test_tail_share():
    assert tail_share(np.ones(100)) == pytest.approx(0.01)
    assert tail_share(np.r_[np.zeros(99), 5.0]) == 1.0
    assert tail_share(np.r_[np.ones(199), 201.0]) == pytest.approx((201 + 1) / 400)


@pytest.mark.parametrize("ties", [False, True])
def test_average_precision_influence_matches_sklearn_and_the_bootstrap(ties):
    rng = np.random.default_rng(3)
    n = 3000
    y = rng.random(n) < 0.2
    s = y + rng.normal(size=n)
    if ties:
        s = np.round(s, 1)
    ap, influence = average_precision_influence(y, s)
    assert ap == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert abs(influence.mean()) < 1e-12
    se = math.sqrt(np.sum(influence**2)) / n
    boot = [average_precision_score(y[i], s[i])
            for i in (rng.integers(0, n, n) for _ in range(400))]
    assert se == pytest.approx(np.std(boot), rel=0.12)


def test_tail_index_separates_infinite_from_finite_variance():
    from mlqa.stats.small_sample import tail_index

    rng = np.random.default_rng(9)
    t3_squared = rng.standard_t(3, 5000) ** 2  # tail index 1.5
    gauss_squared = rng.standard_normal(5000) ** 2
    assert 1.0 < tail_index(t3_squared) < 2.0
    assert tail_index(gauss_squared) > 2.5
    pareto = rng.pareto(3.0, 20000) + 1  # tail index 3
    assert tail_index(pareto, top=0.05) == pytest.approx(3.0, rel=0.2)
    assert tail_index(np.zeros(100)) == math.inf


def test_average_precision_jackknife_is_the_leave_one_out_formula():
    from mlqa.stats.small_sample import average_precision_jackknife

    rng = np.random.default_rng(13)
    y = rng.random(120) < 0.3
    s = np.round(y + rng.normal(size=120), 1)
    loo = np.array([average_precision_score(np.delete(y, j), np.delete(s, j))
                    for j in range(120)])
    expected = math.sqrt(119 / 120 * np.sum((loo - loo.mean()) ** 2))
    assert average_precision_jackknife(y, s) == pytest.approx(expected, rel=1e-9)


def test_gaussian_spread_quantile_is_the_null_it_names():
    from mlqa.stats.small_sample import gaussian_spread_quantile, spread_ratio

    rng = np.random.default_rng(12)
    for power, centre in ((2.0, 3.0), (1.0, math.pi / 2)):
        x = np.abs(rng.standard_normal((2000, 100))) ** power
        k = np.array([spread_ratio(row) for row in x])
        q = gaussian_spread_quantile(100, power, 0.8)
        # fresh Gaussian samples exceed the 80% quantile a fifth of the time (SE 0.9%)
        assert abs(np.mean(k > q) - 0.2) < 0.03
        # the simulated quantile (<= 2000 rows) and the delta method (above) meet
        low, high = (gaussian_spread_quantile(n, power, 0.8) for n in (2000, 2001))
        assert centre < low and abs(low - high) < 0.02 * centre
    heavy = (rng.standard_t(3, 100) / math.sqrt(3)) ** 2
    assert spread_ratio(heavy) > gaussian_spread_quantile(100, 2.0, 0.99)
    assert spread_ratio(np.zeros(5)) == math.inf
