"""Materiality on a confidence bound, and the error rates of ``tests="auto"`` (issue 12.4).

Seeded simulations, small enough for CI (marked ``slow``); the full table comes from
``benchmarks/drift_power.py``.
"""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

import mlqa
from mlqa.drift import effects
from mlqa.drift.stattests.pooled import PooledOrder, SortedPair

ALPHA = 0.05


def _power_module():
    path = pathlib.Path(__file__).parents[2] / "benchmarks" / "drift_power.py"
    spec = importlib.util.spec_from_file_location("drift_power", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _direct_wasserstein_bound(x: np.ndarray, y: np.ndarray, alpha: float):
    """The same bound written out on the raw samples, one loop per definition."""
    grid = np.unique(np.r_[x, y])
    f = np.searchsorted(np.sort(x), grid, side="right") / len(x)
    g = np.searchsorted(np.sort(y), grid, side="right") / len(y)
    d, dx = (f - g)[:-1], np.diff(grid)
    var = (f * (1 - f))[:-1] / len(x) + (g * (1 - g))[:-1] / len(y)
    estimate = np.sum(np.sqrt(np.maximum(d ** 2 - var, 0)) * dx)
    tail = np.sign(d) * dx

    def h(v):  # sum over grid intervals at or above v
        return np.sum(tail[grid[:-1] >= v])

    hx, hy = np.array([h(v) for v in x]), np.array([h(v) for v in y])
    se = np.sqrt(hx.var() / len(x) + hy.var() / len(y))
    norm = max(np.std(x), 0.001)
    from scipy.stats import norm as normal

    return estimate / norm, (estimate - normal.ppf(1 - alpha) * se) / norm, se / norm


@pytest.mark.parametrize("ties", [False, True])
def test_wasserstein_bound_equals_its_definition(ties):
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=300), rng.normal(0.3, 1.2, 200)
    if ties:
        x, y = x.round(1), y.round(1)
    got = effects.wasserstein_bound(PooledOrder.from_sorted(np.sort(x), np.sort(y)),
                                    float(np.std(x)), ALPHA)
    want = _direct_wasserstein_bound(x, y, ALPHA)
    assert (got.estimate, got.low, got.se) == pytest.approx(want, rel=1e-9, abs=1e-12)
    pair = SortedPair(np.sort(x), np.sort(y))
    assert pair.distinct_rows is not ties
    if not ties:  # the merge-free form check_drift uses on continuous columns
        merge_free = effects.wasserstein_bound_sorted(pair, float(np.std(x)), ALPHA)
        assert (merge_free.estimate, merge_free.low, merge_free.se) == pytest.approx(
            want, rel=1e-9, abs=1e-12)


def test_categorical_bound_is_not_fooled_by_many_small_cells():
    # No drift, 1000 rows a side, 8 categories: the point TVD reaches the 0.02 floor in most
    # runs (the 57-100%); the bias-corrected lower bound almost never does.
    rng = np.random.default_rng(0)
    p = np.array([0.30, 0.20, 0.15, 0.10, 0.10, 0.05, 0.05, 0.05])
    point = low = 0
    runs = 2000
    for _ in range(runs):
        r, c = rng.multinomial(1000, p), rng.multinomial(1000, p)
        point += 0.5 * np.abs(r / 1000 - c / 1000).sum() >= 0.02
        low += effects.tvd_bound(r, c, ALPHA).low >= 0.02
    assert point / runs > 0.5
    assert low / runs <= 0.01


def test_categorical_bound_covers_a_real_change():
    # TVD exactly 0.06 at n = 5000: the one-sided 95% lower bound lies above the truth in
    # about 5% of runs (not more than 9%), and below 0.06 - 0.04 almost never.
    rng = np.random.default_rng(1)
    p = np.array([0.4, 0.3, 0.2, 0.1])
    q = np.array([0.46, 0.24, 0.2, 0.1])
    lows = np.array([effects.tvd_bound(rng.multinomial(5000, p), rng.multinomial(5000, q),
                                       ALPHA).low for _ in range(1000)])
    assert np.mean(lows > 0.06) <= 0.09
    assert np.mean(lows < 0.02) <= 0.01


@pytest.mark.slow
def test_family_wise_false_alarms_stay_below_alpha():
    # 8 columns (4 normal, 2 t3, 2 categorical), no drift, n = 1000: the multiple-testing
    # layer alone (min_effect=0) and the default decision both flag a dataset in at most
    # alpha + 2 SE of runs.
    power = _power_module()
    runs = 120
    rates = power.simulate("no drift", 1000, runs, random_state=7)
    bound = ALPHA + 2 * (ALPHA * (1 - ALPHA) / runs) ** 0.5
    assert rates["others_no_floor"] <= bound
    assert rates["others"] <= rates["others_no_floor"]


@pytest.mark.slow
def test_a_shift_exactly_at_the_floor_is_flagged_about_alpha_of_the_time():
    # location shift 0.1 sd = the default floor (normed Wasserstein 0.1) at n = 20000: the
    # point-estimate rule flagged it about half the time; the bound about alpha.
    power = _power_module()
    runs = 40
    rng = np.random.default_rng(3)
    flagged = 0
    for _ in range(runs):
        ref = power.frame(rng, 20000)
        cur = power.frame(rng, 20000, "x0", shift=0.1)
        r = mlqa.check_drift(ref[["x0", "x1"]], cur[["x0", "x1"]], n_threads=1)
        flagged += "x0" in r.drifted_columns
    assert flagged / runs <= ALPHA + 2 * (ALPHA * (1 - ALPHA) / runs) ** 0.5 + 0.025


@pytest.mark.slow
def test_anderson_darling_gives_power_against_a_change_of_scale():
    # variance x1.5 on a normal column at n = 1000: KS alone rarely flags it; with the
    # Anderson-Darling companion in the family, auto does most of the time.
    power = _power_module()
    auto = power.simulate("scale var x1.5 (normal)", 1000, 30, random_state=2)
    ks_only = power.simulate("scale var x1.5 (normal)", 1000, 30, random_state=2,
                             ks_only=True)
    assert auto["flagged"] >= 0.35
    assert auto["flagged"] >= ks_only["flagged"] + 0.15
    location = power.simulate("location +0.5 sd", 1000, 20, random_state=3)
    assert location["flagged"] >= 0.95
