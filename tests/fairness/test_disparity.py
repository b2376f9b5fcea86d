"""check_disparity: decisions per pair, the exact group-vs-overall identity, references,
requirements, undefined rates, small groups, pair=, the bundle round trip and the report."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.fairness.rates import against_overall, difference
from mlqa.result import CheckResult, Outcome


def scored(sizes, tpr, *, prev=0.4, fpr=0.1, seed=0, names=None):
    """Binary labels and predictions per group with a given true positive rate per group."""
    rng = np.random.default_rng(seed)
    names = names or [chr(ord("A") + i) for i in range(len(sizes))]
    g = np.repeat(names, sizes)
    y = rng.random(len(g)) < prev
    t = np.repeat(tpr, sizes)
    p = np.where(y, rng.random(len(g)) < t, rng.random(len(g)) < fpr)
    return y.astype(int), p.astype(int), g


def test_a_large_fair_model_passes_and_a_large_gap_fails():
    fair = mlqa.check_disparity(*scored([6000, 6000], [0.8, 0.8]), metric="recall",
                                max_difference=0.1, reference="A")
    assert fair.outcome is Outcome.PASS and list(fair.pairs) == ["B vs A"]
    unfair = mlqa.check_disparity(*scored([6000, 6000], [0.8, 0.55]), metric="recall",
                                  max_difference=0.1, reference="A")
    pair = unfair.pairs["B vs A"]
    assert unfair.outcome is Outcome.FAIL and pair.outcome is Outcome.FAIL
    assert pair.ci[1] < -0.1 and pair.value == pytest.approx(-0.25, abs=0.03)
    assert "B vs A" in unfair.message and "simultaneous CI" in pair.message


def test_against_overall_is_the_exact_share_of_the_gap_to_the_rest():
    # p_g - p_all = (1 - w)(p_g - p_rest), w the group's share of the rate's denominator
    g = against_overall("difference", 30, 50, 100, 250, 0.95)
    rest = difference(30, 50, 70, 200, 0.95)
    assert g.value == pytest.approx(30 / 50 - 100 / 250)
    assert (g.low, g.high) == pytest.approx((rest.low * 0.8, rest.high * 0.8))
    r = against_overall("ratio", 30, 50, 100, 250, 0.95)
    assert r.value == pytest.approx((30 / 50) / (100 / 250)) and r.low < r.value < r.high


def test_bonferroni_widens_each_interval_with_the_number_of_pairs():
    y, p, g = scored([800, 800, 800, 800], [0.8] * 4, seed=3)
    four = mlqa.check_disparity(y, p, g, max_difference=0.1, reference="A")
    two = mlqa.check_disparity(y[g < "C"], p[g < "C"], g[g < "C"], max_difference=0.1,
                               reference="A")
    wide, narrow = four.pairs["B vs A"], two.pairs["B vs A"]
    assert wide.value == narrow.value
    assert wide.ci[0] < narrow.ci[0] and wide.ci[1] > narrow.ci[1]
    assert four.details["family_size"] == 3 and four.details["pair_level"] == \
        pytest.approx(1 - 0.05 / 3)


def test_best_reference_compares_each_group_with_the_true_best_and_names_pairs_stably():
    y, p, g = scored([3000, 3000, 3000], [0.9, 0.8, 0.6], seed=4)
    r = mlqa.check_disparity(y, p, g, max_difference=0.05, reference="best")
    assert list(r.pairs) == ["A vs best", "B vs best", "C vs best"]
    assert r.pairs["A vs best"].value == 0 and r.pairs["A vs best"].ci[0] == 0
    assert r.pairs["C vs best"].outcome is Outcome.FAIL
    assert r.pairs["C vs best"].value == pytest.approx(0.3, abs=0.04)
    assert r.details["family_size"] == 3  # every unordered pair


def test_equalized_odds_takes_the_worse_of_tpr_and_fpr_each_with_its_interval():
    rng = np.random.default_rng(5)
    g = np.repeat(["A", "B"], 5000)
    y = rng.random(10000) < 0.5
    fpr = np.where(g == "A", 0.05, 0.25)  # same TPR, very different FPR
    p = np.where(y, rng.random(10000) < 0.8, rng.random(10000) < fpr).astype(int)
    r = mlqa.check_disparity(y.astype(int), p, g, metric="equalized_odds", max_difference=0.1,
                             reference="A")
    pair = r.pairs["B vs A"]
    parts = pair.details["parts"]
    assert parts["true_positive_rate"]["outcome"] == "pass"
    assert parts["false_positive_rate"]["outcome"] == "fail"
    assert pair.outcome is Outcome.FAIL and pair.metric == "false_positive_rate"
    assert r.details["family_size"] == 2
    assert {gr.rate for gr in r.groups} == {"true_positive_rate", "false_positive_rate"}


def test_ratio_requirement_is_the_p_percent_rule_both_ways():
    y, p, g = scored([5000, 5000], [0.8, 0.8], fpr=0.1, seed=6)
    fair = mlqa.check_disparity(y, p, g, metric="selection_rate", min_ratio=0.8,
                                reference="A")
    assert fair.outcome is Outcome.PASS
    assert fair.pairs["B vs A"].bounds() == (0.8, pytest.approx(1.25))
    rng = np.random.default_rng(6)
    p2 = np.where(g == "B", rng.random(10000) < 0.1, rng.random(10000) < 0.3).astype(int)
    low = mlqa.check_disparity(y, p2, g, metric="demographic_parity", min_ratio=0.8,
                               reference="A")
    assert low.outcome is Outcome.FAIL and low.pairs["B vs A"].ci[1] < 0.8


def test_a_small_group_is_inconclusive_never_fail_and_names_its_size():
    y, p, g = scored([2000, 12], [0.9, 0.1], seed=7)
    r = mlqa.check_disparity(y, p, g, max_difference=0.05, reference="A", min_group_size=30)
    pair = r.pairs["B vs A"]
    assert pair.outcome is Outcome.INCONCLUSIVE
    assert "group B has 12 rows < min_group_size 30" in pair.message


def test_against_the_best_a_group_with_no_rival_of_enough_size_is_not_decided():
    y, p, g = scored([2000, 12], [0.9, 0.9], seed=7)
    r = mlqa.check_disparity(y, p, g, max_difference=0.05, reference="best")
    assert r.pairs["A vs best"].outcome is Outcome.INCONCLUSIVE  # not a PASS against itself
    assert "no other group has min_group_size 30 rows" in r.pairs["A vs best"].message
    assert r.pairs["B vs best"].outcome is Outcome.INCONCLUSIVE


def test_inconclusive_names_the_sizes_that_would_decide():
    y, p, g = scored([300, 300], [0.8, 0.78], seed=8)
    r = mlqa.check_disparity(y, p, g, max_difference=0.1, reference="A")
    pair = r.pairs["B vs A"]
    assert pair.outcome is Outcome.INCONCLUSIVE
    assert "would decide at the observed rates" in pair.message
    assert "in A" in pair.message and "in B" in pair.message
    sizes = pair.details["parts"]["true_positive_rate"]["decides_at_rows"]
    assert set(sizes) == {"A", "B"} and sizes["A"] > 300 and sizes["A"] == sizes["B"]
    more = mlqa.check_disparity(*scored([sizes["A"] * 2, sizes["B"] * 2], [0.8, 0.78], seed=8),
                                max_difference=0.1, reference="A")
    assert more.pairs["B vs A"].outcome is not Outcome.INCONCLUSIVE  # that size decides


def test_an_undefined_rate_in_a_group_is_an_error_whatever_its_size():
    y = np.array([1, 0, 1, 1] * 50 + [0] * 40)
    p = np.array([1, 0, 0, 1] * 50 + [1] * 40)
    g = np.array(["A"] * 200 + ["B"] * 40)
    r = mlqa.check_disparity(y, p, g, metric="recall", max_difference=0.1, reference="A")
    assert r.outcome is Outcome.ERROR
    assert "group B: true_positive_rate needs rows of the positive class" in r.message
    ratio = mlqa.check_disparity(y, np.zeros_like(p), g, metric="selection_rate",
                                 min_ratio=0.8, reference="A")
    assert ratio.outcome is Outcome.ERROR and "ratio is undefined" in ratio.message


def test_pair_decides_that_pair_alone_within_the_whole_family():
    y, p, g = scored([3000, 3000, 3000], [0.8, 0.8, 0.5], seed=9)
    every = mlqa.check_disparity(y, p, g, max_difference=0.1, reference="A")
    one = mlqa.check_disparity(y, p, g, max_difference=0.1, reference="A", pair="B vs A")
    assert every.outcome is Outcome.FAIL and one.outcome is Outcome.PASS
    assert one.pairs["B vs A"] == every.pairs["B vs A"]
    assert one.details["family_size"] == 2
    with pytest.raises(mlqa.InputError, match="pairs: \\['B vs A', 'C vs A'\\]"):
        mlqa.check_disparity(y, p, g, max_difference=0.1, reference="A", pair="A vs B")


@pytest.mark.parametrize("kwargs,match", [
    ({}, "needs one requirement"),
    ({"max_difference": 0.1, "min_ratio": 0.8}, "needs one requirement"),
    ({"max_difference": 1.5}, "max_difference must be"),
    ({"max_difference": 0.1, "metric": "recal"}, "metric must be one of"),
    ({"max_difference": 0.1, "reference": "Z"}, "reference='Z' is not a group"),
    ({"max_difference": 0.1, "min_group_size": 0}, "min_group_size must be"),
])
def test_bad_options_are_input_errors(kwargs, match):
    y, p, g = scored([50, 50], [0.8, 0.8])
    with pytest.raises(mlqa.InputError, match=match):
        mlqa.check_disparity(y, p, g, **kwargs)


def test_bad_data_is_an_input_error():
    y, p, g = scored([50, 50], [0.8, 0.8])
    with pytest.raises(mlqa.InputError, match="at least two groups"):
        mlqa.check_disparity(y, p, np.full(100, "A"), max_difference=0.1)
    with pytest.raises(mlqa.InputError, match="inconsistent|length|rows"):
        mlqa.check_disparity(y, p, g[:-1], max_difference=0.1)
    with pytest.raises(mlqa.InputError, match="binary labels"):
        mlqa.check_disparity(y * 2 + p, p, g, max_difference=0.1)


def test_columns_of_a_frame_model_and_missing_groups():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(10)
    X = pd.DataFrame({"x": rng.normal(size=600), "region": rng.choice(["n", "s", None], 600)})
    y = (X["x"] + rng.normal(0, 0.5, 600) > 0).astype(int)
    model = LogisticRegression().fit(X[["x"]], y)
    by_model = mlqa.check_disparity(y, groups=X["region"], model=model, X=X[["x"]],
                                    max_difference=0.2)
    frame = X.assign(y=y, p=model.predict(X[["x"]]))
    by_name = mlqa.check_disparity("y", "p", "region", data=frame, max_difference=0.2)
    assert [gr.group for gr in by_name.groups] == ["n", "s", "<missing>"]
    assert by_model.to_dict()["pairs"] == by_name.to_dict()["pairs"]


def test_result_round_trips_through_the_bundle_and_shows_pairs_and_groups():
    r = mlqa.check_disparity(*scored([800, 600, 90], [0.8, 0.75, 0.7]),
                             metric="equalized_odds", max_difference=0.1)
    line = json.dumps(r.to_dict(), allow_nan=False)  # what the bundle holds
    again = CheckResult.from_dict(json.loads(line))
    assert again == r and type(again).__name__ == "DisparityResult"
    assert again.to_dict() == r.to_dict()
    shown = r.display()
    titles = [s.title for s in shown.sections]
    assert titles == ["groups", "pairs"]
    pairs_table, plot = shown.sections[1].blocks
    assert [row[0] for row in pairs_table.rows] == list(r.pairs)
    assert all(pt.low == -0.1 and pt.high == 0.1 for pt in plot.points)  # the margin drawn
    props = r.family_properties()
    assert props["pairs"] == 3 and props["reference"] == "overall"
    assert all(math.isfinite(gr.value) for gr in r.groups)


def auc_scored(sizes, aucs, *, seed=0, prev=0.4):
    """Normal scores whose AUC per group is ``aucs`` (separation sqrt(2) * Phi^-1(AUC))."""
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    g = np.repeat([chr(ord("A") + i) for i in range(len(sizes))], sizes)
    y = (rng.random(len(g)) < prev).astype(int)
    shift = np.repeat([np.sqrt(2) * norm.ppf(a) for a in aucs], sizes)
    return y, rng.normal(y * shift, 1), g


def test_roc_auc_gaps_join_check_metrics_intervals_and_combine_them_by_mover():
    from mlqa.fairness.auc import mover_difference

    y, s, g = auc_scored([3000, 2000, 300], [0.86, 0.86, 0.66])
    r = mlqa.check_disparity(y, s, g, metric="roc_auc", max_difference=0.05, reference="A")
    assert r.pairs["B vs A"].outcome is Outcome.PASS
    assert r.pairs["C vs A"].outcome is Outcome.FAIL
    level = r.details["pair_level"]

    def interval(x):  # Newcombe's score interval, joined with DeLong's (>= 100 per class)
        found = [mlqa.check_metric(y[g == x], s[g == x], "roc_auc", min=0.5, ci=ci,
                                   confidence=level) for ci in ("newcombe", "delong")]
        return found[0].value, (min(f.ci[0] for f in found), max(f.ci[1] for f in found))

    (c, c_ci), (a, a_ci) = interval("C"), interval("A")
    expected = mover_difference(c, c_ci, a, a_ci)
    pair = r.pairs["C vs A"]
    assert pair.value == pytest.approx(expected.value, abs=1e-12)
    assert pair.ci == pytest.approx((expected.low, expected.high), abs=1e-9)
    best = mlqa.check_disparity(y, s, g, metric="auc", max_difference=0.05, reference="best")
    assert best.pairs["C vs best"].outcome is Outcome.FAIL


def test_roc_auc_refuses_the_overall_reference_and_ratios_and_errors_on_one_class():
    y, s, g = auc_scored([500, 500], [0.8, 0.8])
    with pytest.raises(mlqa.InputError, match="not a mixture"):
        mlqa.check_disparity(y, s, g, metric="roc_auc", max_difference=0.05)
    with pytest.raises(mlqa.InputError, match="not a mixture"):
        mlqa.check_disparity(y, s, g, metric="roc_auc", min_ratio=0.8, reference="A")
    y = np.where(g == "B", 0, y)
    r = mlqa.check_disparity(y, s, g, metric="roc_auc", max_difference=0.05, reference="A")
    assert r.outcome is Outcome.ERROR and "needs rows of both classes" in r.message
