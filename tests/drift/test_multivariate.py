"""Multivariate drift by a domain classifier."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlqa


def frames(rng, n, rho_cur):
    def side(rho):
        cov = [[1, rho], [rho, 1]]
        x = rng.multivariate_normal([0, 0], cov, n)
        return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": rng.choice(list("pq"), n)})

    return side(0.0), side(rho_cur)


def test_joint_change_invisible_per_column_is_found():
    # Only the correlation changes: each column's own distribution stays N(0, 1).
    rng = np.random.default_rng(0)
    ref, cur = frames(rng, 2000, 0.8)
    assert mlqa.check_drift(ref, cur, columns=["a", "b"]).passed
    r = mlqa.check_multivariate_drift(ref, cur)
    assert r.outcome is mlqa.Outcome.FAIL and r.value > 0.6 and r.ci[0] > 0.55
    assert r.metric == "domain_classifier_roc_auc" and "CI" in r.message


def test_no_drift_passes():
    rng = np.random.default_rng(1)
    ref, cur = frames(rng, 2000, 0.0)
    r = mlqa.check_multivariate_drift(ref, cur)
    assert r.outcome in (mlqa.Outcome.PASS, mlqa.Outcome.INCONCLUSIVE)
    assert r.ci[0] <= 0.5 + 0.03 and r.value < 0.55


def test_bad_options():
    rng = np.random.default_rng(3)
    ref, cur = frames(rng, 50, 0.0)
    with pytest.raises(mlqa.InputError, match="max_auc"):
        mlqa.check_multivariate_drift(ref, cur, max_auc=0.2)
    with pytest.raises(mlqa.InputError, match="different columns"):
        mlqa.check_multivariate_drift(ref, cur.drop(columns=["a"]))
