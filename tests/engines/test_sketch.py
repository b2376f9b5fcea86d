"""exact=False: a one-pass grid sketch whose rank error widens the KS decision."""

from __future__ import annotations

import numpy as np
import pandas as pd

import mlqa


def _paths(tmp_path, shift, n=60000, seed=3):
    r = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": r.normal(0, 1, n)})
    cur = pd.DataFrame({"x": r.normal(shift, 1, n)})
    ref.to_parquet(tmp_path / f"r{shift}.parquet")
    cur.to_parquet(tmp_path / f"c{shift}.parquet")
    return str(tmp_path / f"r{shift}.parquet"), str(tmp_path / f"c{shift}.parquet"), ref, cur


def test_clear_shift_is_flagged_with_epsilon_recorded(tmp_path):
    ref_p, cur_p, ref, cur = _paths(tmp_path, 0.3)
    r = mlqa.check_drift(ref_p, cur_p, exact=False)
    exact = mlqa.check_drift(ref, cur)
    eps = r.details["approximate"]["x"]["epsilon"]
    assert r.outcome is mlqa.Outcome.FAIL and r.details["exact"] is False
    d_grid = r.columns["x"].statistic
    assert d_grid <= exact.columns["x"].statistic <= d_grid + eps + 1e-12


def test_inconclusive_when_the_error_straddles_the_critical_distance(tmp_path):
    """Seeded no-shift data whose D_grid (0.0072) lies within eps (0.00125) below the critical
    distance (0.0078): neither drift nor no drift can be claimed, so no p-value."""
    ref_p, cur_p, _, _ = _paths(tmp_path, 0.0)
    r = mlqa.check_drift(ref_p, cur_p, exact=False)
    a = r.details["approximate"]["x"]
    assert a["d_grid"] <= a["critical_distance"] < a["d_grid"] + a["epsilon"]
    assert r.outcome is mlqa.Outcome.INCONCLUSIVE
    assert r.columns["x"].p_value is None and "eps=" in r.columns["x"].reason


def test_pass_when_even_the_widened_distance_is_below_critical(tmp_path):
    ref_p, cur_p, ref, cur = _paths(tmp_path, 0.0, n=3000, seed=5)
    r = mlqa.check_drift(ref_p, cur_p, exact=False)
    a = r.details["approximate"]["x"]
    assert a["d_grid"] + a["epsilon"] <= a["critical_distance"]
    assert r.outcome is mlqa.Outcome.PASS
    assert r.columns["x"].p_value >= mlqa.check_drift(ref, cur).columns["x"].p_value - 1e-12


def test_tests_without_approximate_form_are_refused(tmp_path):
    ref_p, cur_p, _, _ = _paths(tmp_path, 0.3)
    r = mlqa.check_drift(ref_p, cur_p, tests={"x": "wasserstein"}, exact=False)
    assert r.columns["x"].drifted is None and "no approximate form" in r.columns["x"].reason
