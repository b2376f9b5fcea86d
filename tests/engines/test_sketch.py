"""exact=False: a one-pass grid sketch whose rank error widens the KS decision."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mlqa
from mlqa.engines.sketch import EPS_TARGET


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
    """Seeded no-shift data whose D_grid (0.0072) lies within eps (0.00097 after one refinement)
    below the critical distance (0.0078): neither drift nor no drift can be claimed."""
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


def _skewed(r, n, shift=0.0):
    """lognormal(shift, 2) with 5 outliers at 1e9 (one first-pass cell would hold ~all rows),
    and a column where the value 1.0 holds 60 % of the rows."""
    skew = r.lognormal(shift, 2.0, n)
    skew[:5] = 1e9
    mass = np.where(r.random(n) < 0.6, 1.0, r.lognormal(shift, 1.0, n))
    return pd.DataFrame({"skew": skew, "mass": mass})


@pytest.fixture(scope="module")
def skewed(tmp_path_factory):
    d = tmp_path_factory.mktemp("skewed")
    frames = {"ref": _skewed(np.random.default_rng(11), 200_000),
              "null": _skewed(np.random.default_rng(14), 200_000),
              "shift": _skewed(np.random.default_rng(13), 200_000, shift=0.05)}
    for k, f in frames.items():
        f.to_parquet(d / f"{k}.parquet")
    return {k: (str(d / f"{k}.parquet"), f) for k, f in frames.items()}


@pytest.mark.parametrize("case", ["null", "shift"])
def test_refinement_makes_skewed_columns_decidable_with_the_bound_kept(skewed, case):
    (ref_p, ref), (cur_p, cur) = skewed["ref"], skewed[case]
    # min_effect=0: flagged on the KS decision alone (the 1e9 outliers make every normed W1 tiny)
    r = mlqa.check_drift(ref_p, cur_p, exact=False, min_effect=0.0)
    for col in ("skew", "mass"):
        a = r.details["approximate"][col]
        exact_d = stats.ks_2samp(ref[col], cur[col]).statistic
        assert a["d_grid"] - 1e-12 <= exact_d <= a["d_grid"] + a["epsilon"] + 1e-12, col
        assert r.columns[col].p_value is not None, col  # decided, not INCONCLUSIVE
    a = r.details["approximate"]["skew"]
    # the first grid alone puts ~all rows in one cell (eps ~ 1); refinement brings it under target
    assert a["epsilon"] <= EPS_TARGET and a["passes"] >= 2 and a["cells"] > 4096
    assert [r.columns[c].drifted for c in ("skew", "mass")] == [case == "shift"] * 2
    assert r.outcome is (mlqa.Outcome.FAIL if case == "shift" else mlqa.Outcome.PASS)

