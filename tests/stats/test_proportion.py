"""Wilson and exact intervals for a proportion."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta, norm

from mlqa.errors import InputError
from mlqa.stats.proportion import proportion_interval


@pytest.mark.parametrize("k, n", [(0, 10), (7, 10), (10, 10), (930, 1000)])
def test_wilson_formula(k, n):
    z = norm.ppf(0.975)
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    assert proportion_interval(k, n) == pytest.approx((centre - half, centre + half))


def test_exact_is_clopper_pearson():
    low, high = proportion_interval(3, 20, 0.9, "exact")
    assert low == pytest.approx(beta.ppf(0.05, 3, 18))
    assert high == pytest.approx(beta.ppf(0.95, 4, 17))


def test_wilson_coverage_near_nominal():
    rng = np.random.default_rng(0)
    p, n = 0.9, 150
    ks = rng.binomial(n, p, 2000)
    covered = [low <= p <= high for low, high in (proportion_interval(int(k), n) for k in ks)]
    assert 0.93 <= np.mean(covered) <= 0.97


@pytest.mark.parametrize("args, match", [((1, 0), "n > 0"), ((5, 3), "k <= n"),
                                         ((1, 3, 0.95, "wald"), "method")])
def test_bad_input(args, match):
    with pytest.raises(InputError, match=match):
        proportion_interval(*args)
