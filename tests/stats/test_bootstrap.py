"""Poisson-weight and multinomial bootstrap primitives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlqa.errors import InputError
from mlqa.stats.bootstrap import (
    bootstrap,
    multinomial_counts,
    percentile_interval,
    poisson_weight_chunks,
    weighted_sums,
)


def test_weights_are_poisson_one_rounded_with_exact_mean_and_variance():
    w = np.concatenate(list(poisson_weight_chunks(10_001, 40, seed=1)))
    assert w.shape == (40, 10_001) and w.dtype == np.float32
    freq = np.bincount(w.ravel().astype(int), minlength=7) / w.size
    pmf = np.array([94, 95, 46, 16, 4, 1, 0]) / 256
    poisson = np.exp(-1) / np.array([math.factorial(k) for k in range(7)])
    assert np.abs(pmf - poisson).max() < 0.01
    # 400k draws: each cell frequency within 5 standard errors of the documented pmf
    se = np.sqrt(pmf * (1 - pmf) / w.size) + 1e-12
    assert np.all(np.abs(freq - pmf) <= 5 * se), (freq, pmf)
    k = np.arange(7)
    assert (k * pmf).sum() == 1 and ((k - 1) ** 2 * pmf).sum() == 1


def test_same_seed_same_weights_whatever_the_chunk_size():
    a = np.concatenate([c.copy() for c in poisson_weight_chunks(1001, 30, seed=7)])
    b = np.concatenate([c.copy() for c in poisson_weight_chunks(1001, 30, seed=7,
                                                                max_chunk_bytes=20_000)])
    c = np.concatenate([c.copy() for c in poisson_weight_chunks(1001, 30, seed=8)])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_chunks_bound_memory():
    sizes = [c.nbytes for c in poisson_weight_chunks(100_000, 50, max_chunk_bytes=2_000_000)]
    assert sum(1 for _ in sizes) > 1 and max(sizes) <= 2_000_000


def test_weighted_sums_match_explicit_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(5, 2, size=(3000, 2))
    sw = rng.uniform(0.5, 2, 3000)
    sums = weighted_sums(x, 25, seed=3, sample_weight=sw)
    w = np.concatenate([c.copy() for c in poisson_weight_chunks(3000, 25, seed=3)])
    np.testing.assert_allclose(sums, w.astype(float) @ (x * sw[:, None]), rtol=1e-5)
    assert weighted_sums(x[:, 0], 25, seed=3).shape == (25,)


def test_bootstrap_of_a_mean_has_the_textbook_standard_error():
    rng = np.random.default_rng(1)
    x = rng.exponential(size=2000)
    reps = bootstrap(lambda w: (w @ x) / w.sum(axis=1), len(x), 2000, seed=2)
    se = x.std() / math.sqrt(len(x))
    assert reps.shape == (2000,)
    assert reps.std() == pytest.approx(se, rel=0.08)


def test_paired_statistic_uses_the_same_weights():
    rng = np.random.default_rng(2)
    base = rng.normal(size=1000)
    cand = base + 0.01  # perfectly correlated: the paired difference never varies
    reps = bootstrap(lambda w: np.stack([w @ cand, w @ base], axis=1) / w.sum(1)[:, None],
                     1000, 200, seed=0)
    assert reps.shape == (200, 2)
    np.testing.assert_allclose(reps[:, 0] - reps[:, 1], 0.01, rtol=1e-4)
    assert reps[:, 0].std() > 0.01


def test_multinomial_counts_keep_total_and_mean():
    cm = np.array([[50, 10], [5, 35]])
    reps = multinomial_counts(cm, 4000, seed=0)
    assert reps.shape == (4000, 2, 2)
    assert (reps.sum(axis=(1, 2)) == 100).all()
    np.testing.assert_allclose(reps.mean(0), cm, atol=0.5)
    acc = np.trace(reps, axis1=1, axis2=2) / 100
    assert acc.std() == pytest.approx(math.sqrt(0.85 * 0.15 / 100), rel=0.05)
    np.testing.assert_array_equal(multinomial_counts(cm, 10, seed=1),
                                  multinomial_counts(cm, 10, seed=1))


def test_percentile_interval_ignores_undefined_replicates():
    reps = np.r_[np.arange(101.0), np.nan, np.nan]
    assert percentile_interval(reps, 0.9) == pytest.approx((5.0, 95.0))
    assert all(math.isnan(v) for v in percentile_interval([np.nan]))


@pytest.mark.parametrize("call, match", [
    (lambda: next(poisson_weight_chunks(10, 0)), "n_resamples"),
    (lambda: next(poisson_weight_chunks(10, 5, seed="x")), "seed"),
    (lambda: multinomial_counts([[1.5, 2]]), "non-negative integers"),
    (lambda: multinomial_counts([0, 0]), "all zero"),
    (lambda: percentile_interval([1, 2], 1.5), "confidence"),
])
def test_bad_input(call, match):
    with pytest.raises(InputError, match=match):
        call()
