"""Seeded simulations: false alarms of equal models (A/A), power against a real drop, and what
pairing buys over comparing two separate intervals.

Each repetition draws a paired outcome table for two correlated classifiers and runs the real
``check_regression`` on the rows; rates are counted over the repetitions.
"""

from __future__ import annotations

import numpy as np
import pytest

import mlqa
from mlqa.stats.proportion import proportion_interval

ALPHA = 0.05
N = 5000
REPS = 300


def paired_labels(rng: np.random.Generator, n: int, cells: tuple[float, float, float, float]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary labels and two models' predictions whose (both right, baseline only right,
    candidate only right, both wrong) shares are ``cells``: correlated errors."""
    y = rng.integers(0, 2, n)
    cell = rng.choice(4, size=n, p=cells)
    right_b = (cell == 0) | (cell == 1)
    right_c = (cell == 0) | (cell == 2)
    return y, np.where(right_c, y, 1 - y), np.where(right_b, y, 1 - y)


def simulate(cells: tuple[float, float, float, float], *, max_drop: float, seed: int,
             reps: int = REPS, n: int = N) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    true_diff = cells[2] - cells[1]
    fails = covered = unpaired_detects = 0
    for _ in range(reps):
        y, cand, base = paired_labels(rng, n, cells)
        r = mlqa.check_regression(y, cand, base, "accuracy", max_drop=max_drop,
                                  confidence=1 - ALPHA)
        assert r.test in ("mcnemar", "mcnemar_exact")
        fails += r.outcome is mlqa.Outcome.FAIL
        covered += r.ci[0] <= true_diff <= r.ci[1]
        # what comparing two separate 95% intervals would conclude: a drop only when the
        # candidate's interval lies wholly below the baseline's, shifted by the margin
        _, cand_high = proportion_interval(int((cand == y).sum()), n, 1 - ALPHA)
        base_low, _ = proportion_interval(int((base == y).sum()), n, 1 - ALPHA)
        unpaired_detects += cand_high < base_low - max_drop
    return {"fail": fails / reps, "coverage": covered / reps,
            "unpaired_fail": unpaired_detects / reps}


def test_equal_models_fail_at_most_alpha():
    # A/A: both 85% accurate, erring on mostly the same rows (10% discordant).
    rates = simulate((0.80, 0.05, 0.05, 0.10), max_drop=0.0, seed=1)
    print(f"A/A McNemar: false FAIL rate {rates['fail']:.3f}, CI coverage "
          f"{rates['coverage']:.3f} over {REPS} repetitions (n={N})")
    assert rates["fail"] <= ALPHA
    assert rates["coverage"] >= 1 - ALPHA - 0.03


def test_two_point_drop_is_detected_and_pairing_beats_two_intervals():
    # baseline 85%, candidate 83%: 4% of rows newly wrong, 2% newly right.
    rates = simulate((0.81, 0.04, 0.02, 0.13), max_drop=0.0, seed=2)
    print(f"2-point drop, n={N}: paired FAIL rate {rates['fail']:.3f}, two-interval "
          f"comparison {rates['unpaired_fail']:.3f}, coverage {rates['coverage']:.3f}")
    assert rates["fail"] >= 0.80
    assert rates["fail"] > rates["unpaired_fail"] + 0.2
    assert rates["coverage"] >= 1 - ALPHA - 0.03


def test_small_discordance_uses_the_exact_test():
    rng = np.random.default_rng(3)
    y, cand, base = paired_labels(rng, 400, (0.88, 0.01, 0.01, 0.10))
    r = mlqa.check_regression(y, cand, base, max_drop=0.02)
    assert r.test == "mcnemar_exact"
    b, c = r.details["negative_flips"], r.details["positive_flips"]
    from scipy.stats import binomtest

    assert r.p_value == pytest.approx(binomtest(min(b, c), b + c, 0.5).pvalue)


def correlated_scores(rng: np.random.Generator, n: int, shift_c: float, shift_b: float):
    y = rng.integers(0, 2, n)
    shared = rng.normal(size=n)
    base = y * shift_b + shared + 0.6 * rng.normal(size=n)
    cand = y * shift_c + shared + 0.6 * rng.normal(size=n)
    return y, cand, base


def test_delong_equal_auc_fails_at_most_alpha_and_detects_a_drop():
    rng = np.random.default_rng(4)
    aa = drop = 0
    reps = REPS
    for _ in range(reps):
        y, cand, base = correlated_scores(rng, 1000, 1.2, 1.2)
        aa += mlqa.check_regression(y, cand, base, "roc_auc", max_drop=0.0).outcome is \
            mlqa.Outcome.FAIL
        y, cand, base = correlated_scores(rng, 1000, 0.9, 1.2)
        r = mlqa.check_regression(y, cand, base, "roc_auc", max_drop=0.0)
        assert r.test == "delong"
        drop += r.outcome is mlqa.Outcome.FAIL
    print(f"DeLong: A/A false FAIL {aa / reps:.3f}, AUC drop detected {drop / reps:.3f}")
    assert aa / reps <= ALPHA
    assert drop / reps >= 0.80


def test_paired_bootstrap_equal_models_fail_at_most_alpha():
    rng = np.random.default_rng(5)
    reps, n = REPS, 300
    fails = detected = 0
    for i in range(reps):
        y = rng.normal(size=n)
        shared = rng.normal(scale=0.5, size=n)
        base = y + shared + rng.normal(scale=0.3, size=n)
        cand = y + shared + rng.normal(scale=0.3, size=n)
        r = mlqa.check_regression(y, cand, base, "mae", max_drop=0.0, n_resamples=500,
                                  random_state=i)
        assert r.test == "paired_bootstrap"
        fails += r.outcome is mlqa.Outcome.FAIL
        worse = y + shared + rng.normal(scale=0.6, size=n)
        detected += mlqa.check_regression(y, worse, base, "mae", max_drop=0.0, n_resamples=500,
                                          random_state=i).outcome is mlqa.Outcome.FAIL
    print(f"paired bootstrap (mae): A/A false FAIL {fails / reps:.3f}, worse model detected "
          f"{detected / reps:.3f}")
    assert fails / reps <= ALPHA
    assert detected / reps >= 0.80
