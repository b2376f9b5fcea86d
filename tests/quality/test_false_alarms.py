"""The null-share bound: false alarms at most the nominal rate under the null, power under the
issue's alternative (seeded simulations of the decision, vectorised over replications)."""

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.quality.missing import check_missing
from mlqa.quality.shares import decide_change

REPS = 20_000


@pytest.mark.parametrize("n, p_ref", [(200, 0.02), (1000, 0.026), (5000, 0.1)])
def test_change_exactly_at_the_bound_fails_at_most_alpha_half(n, p_ref):
    """The worst case of the null |change| <= 0.05 is a change of exactly 0.05: a two-sided
    95% interval lies wholly above it in at most 2.5% of runs (+ Monte Carlo error)."""
    rng = np.random.default_rng(n)
    k_ref = rng.binomial(n, p_ref, REPS)
    k_cur = rng.binomial(n, p_ref + 0.05, REPS)
    outcomes, *_ = decide_change(k_cur, np.full(REPS, n), k_ref, np.full(REPS, n), 0.05, 0.95)
    rate = np.mean([o is mlqa.Outcome.FAIL for o in outcomes])
    assert rate <= 0.025 + 3 * np.sqrt(0.025 * 0.975 / REPS), rate


def test_no_change_never_fails_and_the_issue_case_always_does():
    rng = np.random.default_rng(7)
    n = np.full(REPS, 200)
    same = decide_change(rng.binomial(200, 0.026, REPS), n, rng.binomial(200, 0.026, REPS), n,
                         0.05, 0.95)[0]
    assert not any(o is mlqa.Outcome.FAIL for o in same)
    moved = decide_change(rng.binomial(200, 0.315, REPS), n, rng.binomial(200, 0.026, REPS), n,
                          0.05, 0.95)[0]
    assert np.mean([o is mlqa.Outcome.FAIL for o in moved]) > 0.999


def test_rule_over_ten_columns_keeps_the_family_wise_rate():
    """check_missing end to end, ten columns all changing by exactly the bound: the rule fails
    in at most 5% of seeded runs (Bonferroni)."""
    runs, fails = 300, 0
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        ref = pd.DataFrame(np.where(rng.random((400, 10)) < 0.05, np.nan, 1.0))
        cur = pd.DataFrame(np.where(rng.random((400, 10)) < 0.10, np.nan, 1.0))
        fails += check_missing(ref, cur).outcome is mlqa.Outcome.FAIL
    assert fails / runs <= 0.05


def test_drift_check_fails_on_the_issue_case_and_reports_every_column():
    rng = np.random.default_rng(3)
    n = 1000
    ref = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    cur = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    ref.loc[rng.random(n) < 0.026, "a"] = np.nan
    cur.loc[rng.random(n) < 0.315, "a"] = np.nan
    r = mlqa.check_drift(ref, cur)
    assert r.drifted_columns == [] and r.outcome is mlqa.Outcome.FAIL
    assert r.details["missing_changed"] == ["a"]
    assert set(r.details["missing"]) == {"a", "b"}
    assert "missing share changed beyond 0.05" in r.message and "a: 3" in r.message
    assert mlqa.check_drift(ref, cur, max_missing_change=0.5).outcome is mlqa.Outcome.PASS
    # evidently's verdict is reproduced as is: reported, not failed, unless asked
    ev = mlqa.check_drift(ref, cur, tests="evidently")
    assert ev.outcome is mlqa.Outcome.PASS and "(reported only)" in ev.message
    assert mlqa.check_drift(ref, cur, tests="evidently",
                            max_missing_change=0.05).outcome is mlqa.Outcome.FAIL
    calm = mlqa.check_drift(ref, ref.sample(frac=1.0, random_state=0))
    assert calm.outcome is mlqa.Outcome.PASS and calm.details["missing_changed"] == []
