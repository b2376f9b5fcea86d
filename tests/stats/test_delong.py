"""DeLong's AUC covariance from one sort vs the O(n^2) structural-components definition."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mlqa.errors import InputError
from mlqa.stats.delong import auc_and_covariance


def brute_force(y, scores, w=None):
    """DeLong 1988 by the double sum: psi over every (positive, negative) pair."""
    y = np.asarray(y).astype(bool)
    scores = np.atleast_2d(scores)
    w = np.ones(len(y)) if w is None else np.asarray(w, float)
    wp, wn = w[y], w[~y]
    v10, v01, aucs = [], [], []
    for s in scores:
        sp, sn = s[y][:, None], s[~y][None, :]
        psi = (sp > sn) + 0.5 * (sp == sn)
        v10.append(psi @ wn / wn.sum())
        v01.append(wp @ psi / wp.sum())
        aucs.append(wp @ psi @ wn / (wp.sum() * wn.sum()))
    v10, v01, aucs = np.array(v10), np.array(v01), np.array(aucs)
    m, n = y.sum(), (~y).sum()

    def part(v, wt, size):
        c = (v - aucs[:, None]) * wt
        return c @ c.T / wt.sum() ** 2 * size / (size - 1)

    return aucs, part(v10, wp, m) + part(v01, wn, n)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("k", [1, 3])
def test_matches_brute_force_and_sklearn(ties, k):
    rng = np.random.default_rng(3)
    n = 300
    y = rng.random(n) < 0.35
    scores = y + rng.normal(size=(k, n))
    if ties:
        scores = np.round(scores, 1)  # many tied scores, across and within classes
    aucs, cov = auc_and_covariance(y, scores)
    ref_aucs, ref_cov = brute_force(y, scores)
    np.testing.assert_allclose(aucs, ref_aucs, rtol=1e-12)
    np.testing.assert_allclose(cov, ref_cov, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(aucs, [roc_auc_score(y, s) for s in scores], rtol=1e-12)
    assert cov.shape == (k, k)
    np.testing.assert_allclose(cov, cov.T)


def test_unit_weights_equal_classic_delong():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    s = y * 0.8 + rng.normal(size=200)
    a1, c1 = auc_and_covariance(y, s)
    a2, c2 = auc_and_covariance(y, s, sample_weight=np.ones(200))
    np.testing.assert_allclose(a1, a2)
    np.testing.assert_allclose(c1, c2)
    # classic DeLong: cov(V10)/m + cov(V01)/n with ddof=1
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg) + 0.5 * (pos[:, None] == neg)
    classic = psi.mean(1).var(ddof=1) / len(pos) + psi.mean(0).var(ddof=1) / len(neg)
    assert c1[0, 0] == pytest.approx(classic, rel=1e-12)


def test_weighted_matches_brute_force_and_sklearn():
    rng = np.random.default_rng(5)
    n = 250
    y = rng.integers(0, 2, n)
    s = np.round(y + rng.normal(size=(2, n)), 1)
    w = rng.uniform(0.2, 3.0, n)
    aucs, cov = auc_and_covariance(y, s, w)
    ref_aucs, ref_cov = brute_force(y, s, w)
    np.testing.assert_allclose(aucs, ref_aucs, rtol=1e-12)
    np.testing.assert_allclose(cov, ref_cov, rtol=1e-10)
    np.testing.assert_allclose(aucs, [roc_auc_score(y, r, sample_weight=w) for r in s])


def test_identical_scorers_have_singular_covariance():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 100)
    s = rng.normal(size=100) + y
    _, cov = auc_and_covariance(y, np.vstack([s, s]))
    np.testing.assert_allclose(cov, cov[0, 0])


@pytest.mark.parametrize("y, s, match", [
    ([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4], "binary"),
    ([0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4], "at least 2 positive"),
    ([0, 1, 0, 1], [0.1, np.nan, 0.3, 0.4], "NaN"),
    ([0, 1, 0, 1], [0.1, 0.3, 0.4], "shape"),
])
def test_bad_input(y, s, match):
    with pytest.raises(InputError, match=match):
        auc_and_covariance(y, s)
