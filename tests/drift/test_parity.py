"""Parity with evidently 0.7.23: the same statistic, p-value and verdict on the same data.

evidently itself runs on seeded data: numerical with ties, heavy tails, few distinct values and
an integer dtype; categorical with a category the reference never had; binary. Where mlqa
differs on purpose, the test asserts the documented difference.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss

import mlqa
from mlqa.drift.stattests import REGISTRY

TOL = 1e-9
NUMERICAL = ["ties", "heavy", "few", "ints"]
CATEGORICAL = ["cat", "bin"]
TYPES = {**dict.fromkeys(NUMERICAL, "numerical"), **dict.fromkeys(CATEGORICAL, "categorical")}


def frames(seed: int, n_ref: int, n_cur: int, shift: float, unseen: bool = False):
    rng = np.random.default_rng(seed)

    def side(n: int, s: float, new_category: bool) -> pd.DataFrame:
        cats = ["a", "b", "c", "d"] + (["zz"] if new_category else [])
        p = np.array([0.4 - s / 4, 0.3, 0.2 + s / 4, 0.1] + ([0.05] if new_category else []))
        return pd.DataFrame({
            "ties": (rng.normal(s, 1, n)).round(1),
            "heavy": rng.standard_t(2, n) + s,
            "few": rng.integers(0, 8, n).astype(float) + (rng.random(n) < s),
            "ints": rng.integers(0, 300, n) + int(40 * s),
            "cat": rng.choice(cats, n, p=p / p.sum()),
            "bin": np.where(rng.random(n) < 0.3 + s / 4, "yes", "no"),
        })

    return side(n_ref, 0.0, False), side(n_cur, shift, unseen)


def mlqa_scores(ref, cur, method, columns):
    r = mlqa.check_drift(ref, cur, columns, tests={**dict.fromkeys(columns, method),
                                                  "*": "evidently"},
                         column_types={c: TYPES[c] for c in columns}, min_rows=1)
    return r.columns


EXACT_NUMERICAL = ["ks", "wasserstein", "psi", "kl_div", "jensenshannon", "hellinger",
                   "anderson", "cramer_von_mises", "ed", "es"]
EXACT_CATEGORICAL = ["chisquare", "z", "psi", "kl_div", "jensenshannon", "hellinger"]


@pytest.mark.parametrize("seed,n_ref,n_cur,shift,unseen", [
    (1, 800, 600, 0.0, False), (2, 700, 900, 0.3, True), (3, 3000, 2500, 0.1, False)])
def test_scores_and_verdicts_equal_evidently(run_evidently, seed, n_ref, n_cur, shift, unseen):
    ref, cur = frames(seed, n_ref, n_cur, shift, unseen)
    checked = 0
    for method in sorted(set(EXACT_NUMERICAL) | set(EXACT_CATEGORICAL)):
        if method == "chisquare" and unseen:
            continue  # evidently's p = 0 there: test_chisquare_unseen_category_differs...
        columns = ([c for c in NUMERICAL if method in EXACT_NUMERICAL]
                   + [c for c in CATEGORICAL if method in EXACT_CATEGORICAL])
        if method == "z":
            columns = ["bin"]
        if method == "chisquare":
            columns = ["cat"]
        num = [c for c in columns if c in NUMERICAL]
        theirs, _ = run_evidently(ref[columns], cur[columns], num,
                                  [c for c in columns if c not in num],
                                  dict.fromkeys(columns, method))
        ours = mlqa_scores(ref, cur, method, columns)
        for c in columns:
            _, score, flag = theirs[c]
            assert ours[c].score == pytest.approx(float(score), abs=TOL, rel=TOL), (method, c)
            assert ours[c].drifted == flag, (method, c)
            checked += 1
    assert checked == 10 * 4 + 4 * 2 + 2 - unseen  # z and chisquare run on one column each


def test_equal_size_tests_equal_evidently(run_evidently):
    # evidently's g_test and fisher_exact only run when both sides have the same size.
    ref, cur = frames(4, 1500, 1500, 0.2)
    for method, columns in (("g_test", ["cat", "bin"]), ("fisher_exact", ["bin"])):
        theirs, _ = run_evidently(ref[columns], cur[columns], [], columns,
                                  dict.fromkeys(columns, method))
        ours = mlqa_scores(ref, cur, method, columns)
        for c in columns:
            assert ours[c].score == pytest.approx(float(theirs[c][1]), abs=TOL, rel=TOL)
            assert ours[c].drifted == theirs[c][2]


def test_unequal_sizes_run_where_evidently_raises():
    ref, cur = frames(5, 1500, 1200, 0.0)
    for method, column in (("g_test", "cat"), ("fisher_exact", "bin")):
        c = mlqa_scores(ref, cur, method, [column])[column]
        assert 0.01 < c.p_value <= 1


def test_chisquare_unseen_category_differs_as_documented(run_evidently):
    ref, cur = frames(6, 900, 900, 0.0, unseen=True)
    theirs, _ = run_evidently(ref[["cat"]], cur[["cat"]], [], ["cat"], {"cat": "chisquare"})
    assert theirs["cat"][1] == 0.0  # evidently: infinite statistic, p = 0
    ours = mlqa_scores(ref, cur, "chisquare", ["cat"])["cat"]
    table = pd.crosstab(np.r_[np.zeros(len(ref)), np.ones(len(cur))],
                        np.r_[ref["cat"], cur["cat"]]).to_numpy()
    expected = ss.chi2_contingency(table, correction=False)
    assert ours.p_value == pytest.approx(expected.pvalue, rel=TOL)
    assert ours.statistic == pytest.approx(expected.statistic, rel=TOL)


def test_t_test_is_welch_where_evidently_is_student(run_evidently):
    ref, cur = frames(7, 400, 900, 0.2)
    cur["heavy"] = cur["heavy"] * 3  # unequal variances and sizes: Student and Welch differ
    theirs, _ = run_evidently(ref[["heavy"]], cur[["heavy"]], ["heavy"], [],
                              {"heavy": "t_test"})
    ours = mlqa_scores(ref, cur, "t_test", ["heavy"])["heavy"]
    student = ss.ttest_ind(ref["heavy"], cur["heavy"])
    welch = ss.ttest_ind(ref["heavy"], cur["heavy"], equal_var=False)
    assert float(theirs["heavy"][1]) == pytest.approx(student.pvalue, rel=TOL)
    assert ours.p_value == pytest.approx(welch.pvalue, rel=TOL)
    assert abs(ours.p_value - student.pvalue) > 1e-3


def test_mannw_is_two_sided_where_evidently_is_one_sided(run_evidently):
    ref, cur = frames(8, 2000, 2000, 0.0)
    cur["ties"] = cur["ties"] - 0.5  # a downward shift: evidently's "less" never sees it
    theirs, _ = run_evidently(ref[["ties"]], cur[["ties"]], ["ties"], [], {"ties": "mannw"})
    ours = mlqa_scores(ref, cur, "mannw", ["ties"])["ties"]
    assert float(theirs["ties"][1]) > 0.99 and not theirs["ties"][2]
    assert ours.p_value < 1e-20 and ours.drifted
    less = ss.mannwhitneyu(ref["ties"], cur["ties"], alternative="less")
    greater = ss.mannwhitneyu(ref["ties"], cur["ties"], alternative="greater")
    assert ours.p_value == pytest.approx(min(1, 2 * min(less.pvalue, greater.pvalue)), rel=1e-6)
    assert ours.statistic == less.statistic


def test_permutation_tests_same_statistic_seeded_p_value():
    from evidently.legacy.calculations.stattests.mmd_stattest import mmd_pval
    from evidently.legacy.calculations.stattests.tvd_stattest import _total_variation_distance

    ref, cur = frames(9, 300, 250, 0.5)
    ours = mlqa_scores(ref, cur, "TVD", ["cat"])["cat"]
    assert ours.statistic == pytest.approx(_total_variation_distance(ref["cat"], cur["cat"]),
                                           abs=TOL)
    again = mlqa_scores(ref, cur, "TVD", ["cat"])["cat"]
    assert again.p_value == ours.p_value  # seeded: the same p-value every run
    mmd = mlqa_scores(ref, cur, "empirical_mmd", ["heavy"])["heavy"]
    p_theirs, stat_theirs = mmd_pval(ref[["heavy"]].to_numpy(), cur[["heavy"]].to_numpy())
    assert mmd.statistic == pytest.approx(stat_theirs, abs=1e-9)
    assert mmd.p_value == mlqa_scores(ref, cur, "empirical_mmd", ["heavy"])["heavy"].p_value
    # A p-value is never 0 from a permutation test: (1 + count) / (1 + B).
    assert mmd.p_value >= 1 / 501 and ours.p_value >= 1 / 1001


def test_permutation_p_values_hold_their_level_under_no_drift():
    # 200 seeded null data sets: the TVD permutation p-value is uniform-ish (rejects ~alpha).
    rng = np.random.default_rng(10)
    p = np.array([0.4, 0.3, 0.2, 0.1])
    rejections = 0
    for _ in range(200):
        ref = pd.DataFrame({"cat": rng.choice(list("abcd"), 300, p=p)})
        cur = pd.DataFrame({"cat": rng.choice(list("abcd"), 300, p=p)})
        rejections += mlqa_scores(ref, cur, "TVD", ["cat"])["cat"].p_value < 0.1
    assert rejections / 200 <= 0.1 + 2 * np.sqrt(0.1 * 0.9 / 200)


@pytest.mark.parametrize("seed,n,shift", [(11, 600, 0.0), (12, 900, 0.4), (13, 5000, 0.1),
                                          (14, 1001, 0.3)])
def test_evidently_mode_reproduces_the_preset(run_evidently, seed, n, shift):
    ref, cur = frames(seed, n, n - 100, shift)
    ref["bin_num"] = (ref["heavy"] > 0).astype(float)
    cur["bin_num"] = (cur["heavy"] > 0.5 * shift).astype(float)
    ref["five"] = ref["ints"] % 5 * 1.0
    cur["five"] = cur["ints"] % 5 * 1.0
    numerical = NUMERICAL + ["bin_num", "five"]
    theirs, (count, share) = run_evidently(ref, cur, numerical, CATEGORICAL)
    r = mlqa.check_drift(ref, cur, tests="evidently", min_rows=1,
                         column_types={**TYPES, "bin_num": "numerical", "five": "numerical"})
    display = {t.display_name: t.name for t in REGISTRY.values()}
    for c, (method, score, flag) in theirs.items():
        assert r.columns[c].test == display[method], c
        assert r.columns[c].score == pytest.approx(float(score), abs=TOL, rel=TOL), c
        assert r.columns[c].drifted == flag, c
    assert len(r.drifted_columns) == count
    assert r.value == pytest.approx(share)
    assert r.details["dataset_drift"] == (share >= 0.5)
    assert (r.outcome is mlqa.Outcome.FAIL) == (share >= 0.5)


def test_no_warning_noise_from_mlqa():
    ref, cur = frames(15, 500, 500, 0.3, unseen=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mlqa.check_drift(ref, cur, tests="evidently", column_types=TYPES)
        mlqa.check_drift(ref, cur, column_types=TYPES)
