"""check_regression: margins, directions, tests chosen, flip rates, guards, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mean_absolute_error, roc_auc_score

import mlqa
from mlqa.baseline import RecordBuilder
from mlqa.compare import RegressionResult
from mlqa.recording import capture

Outcome = mlqa.Outcome


@pytest.fixture(scope="module")
def models():
    """Two real classifiers scored on the same held-out rows."""
    X, y = make_classification(n_samples=6000, n_features=12, n_informative=6, flip_y=0.05,
                               random_state=0)
    X_train, y_train, X_test, y_test = X[:3000], y[:3000], X[3000:], y[3000:]
    base = LogisticRegression(max_iter=500).fit(X_train, y_train)
    cand = RandomForestClassifier(n_estimators=60, random_state=0, n_jobs=1).fit(X_train, y_train)
    return {"X": X_test, "y": y_test, "base": base, "cand": cand}


def test_accuracy_difference_and_margins(models):
    y, X = models["y"], models["X"]
    cand, base = models["cand"].predict(X), models["base"].predict(X)
    r = mlqa.check_regression(y, cand, base, "accuracy", max_drop=0.01)
    assert isinstance(r, RegressionResult)
    assert r.value == pytest.approx((cand == y).mean() - (base == y).mean())
    assert r.baseline == pytest.approx((base == y).mean())
    assert r.candidate == pytest.approx((cand == y).mean())
    assert r.ci[0] <= r.value <= r.ci[1]
    assert r.threshold == -0.01 and r.comparison == ">="
    assert r.test == "mcnemar" and r.n == 3000
    # the outcome follows the interval against the margin
    expected = Outcome.PASS if r.ci[0] >= -0.01 else \
        Outcome.FAIL if r.ci[1] < -0.01 else Outcome.INCONCLUSIVE
    assert r.outcome is expected
    # the same models swapped: the margin is now a required gain of the reverse difference
    swapped = mlqa.check_regression(y, base, cand, "accuracy", min_gain=0.0)
    assert swapped.value == pytest.approx(-r.value)
    assert swapped.threshold == 0.0


def test_identical_models_pass_a_no_drop_margin_and_fail_a_required_gain(models):
    y, X = models["y"], models["X"]
    pred = models["base"].predict(X)
    same = mlqa.check_regression(y, pred, pred, max_drop=0.005)
    assert same.value == 0 and same.outcome is Outcome.PASS
    # no discordant row out of 3000 still leaves the population difference a little open
    assert same.ci[0] < 0 < same.ci[1] and same.ci[1] - same.ci[0] < 0.003
    assert same.negative_flip_rate == 0 and same.p_value == 1.0
    gain = mlqa.check_regression(y, pred, pred, min_gain=0.01)
    assert gain.outcome is Outcome.FAIL


def test_max_gain_flags_a_suspicious_improvement(models):
    y, X = models["y"], models["X"]
    base = models["base"].predict(X)
    perfect = y.copy()  # a leaked label: too good to be true
    r = mlqa.check_regression(y, perfect, base, max_drop=0.0, max_gain=0.02)
    assert r.outcome is Outcome.FAIL and r.comparison == "within"
    assert "outside" in r.message


def test_straddling_interval_is_inconclusive():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    base = np.where(rng.random(300) < 0.8, y, 1 - y)
    cand = base.copy()
    flip = rng.choice(300, 6, replace=False)  # 2% of rows differ
    cand[flip] = 1 - cand[flip]
    r = mlqa.check_regression(y, cand, base, max_drop=0.0)
    assert r.ci[0] < 0 < r.ci[1]
    assert r.outcome is Outcome.INCONCLUSIVE
    assert "straddles" in r.message


def test_loss_metric_is_oriented_by_quality():
    rng = np.random.default_rng(1)
    y = rng.normal(size=2000)
    base = y + rng.normal(scale=0.5, size=2000)
    better = y + rng.normal(scale=0.3, size=2000)
    worse = y + rng.normal(scale=0.8, size=2000)
    ok = mlqa.check_regression(y, better, base, "mae", max_drop=0.01)
    assert ok.value == pytest.approx(mean_absolute_error(y, better) - mean_absolute_error(y, base))
    assert ok.value < 0 and ok.comparison == "<=" and ok.threshold == 0.01
    assert ok.outcome is Outcome.PASS and ok.test == "paired_bootstrap"
    bad = mlqa.check_regression(y, worse, base, "neg_mean_absolute_error", max_drop=0.01)
    assert bad.outcome is Outcome.FAIL
    assert bad.negative_flip_rate is None  # no right / wrong rows in regression


def test_roc_auc_uses_delong_on_the_same_rows(models):
    y, X = models["y"], models["X"]
    cand = models["cand"].predict_proba(X)[:, 1]
    base = models["base"].predict_proba(X)[:, 1]
    r = mlqa.check_regression(y, cand, base, "roc_auc", max_drop=0.005)
    assert r.test == "delong"
    assert r.value == pytest.approx(roc_auc_score(y, cand) - roc_auc_score(y, base))
    assert r.p_value is not None and 0 <= r.p_value <= 1
    boot = mlqa.check_regression(y, cand, base, "roc_auc", max_drop=0.005, test="bootstrap",
                                 n_resamples=200)
    # the analytic and the resampled interval agree on the width to within 30%
    width = lambda res: res.ci[1] - res.ci[0]  # noqa: E731
    assert width(boot) == pytest.approx(width(r), rel=0.3)


def test_relative_margins(models):
    y, X = models["y"], models["X"]
    cand, base = models["cand"].predict(X), models["base"].predict(X)
    r = mlqa.check_regression(y, cand, base, max_drop=0.02, relative=True)
    acc_c, acc_b = (cand == y).mean(), (base == y).mean()
    assert r.value == pytest.approx((acc_c - acc_b) / acc_b)
    assert r.ci[0] <= r.value <= r.ci[1] and r.details["relative"] is True
    sc, sb = models["cand"].predict_proba(X)[:, 1], models["base"].predict_proba(X)[:, 1]
    auc = mlqa.check_regression(y, sc, sb, "roc_auc", max_drop=0.01, relative=True)
    assert auc.value == pytest.approx((roc_auc_score(y, sc) - roc_auc_score(y, sb))
                                      / roc_auc_score(y, sb))


def test_flip_rates_and_their_bound():
    y = np.array([0, 1] * 500)
    base = y.copy()
    cand = y.copy()
    cand[:100] = 1 - cand[:100]  # 100 rows newly wrong
    base[900:920] = 1 - base[900:920]  # 20 rows the baseline got wrong, candidate right
    r = mlqa.check_regression(y, cand, base, max_drop=0.2, max_negative_flip_rate=0.05)
    assert r.negative_flip_rate == pytest.approx(0.1)
    assert r.positive_flip_rate == pytest.approx(0.02)
    assert r.details["negative_flips"] == 100 and r.details["positive_flips"] == 20
    assert r.outcome is Outcome.FAIL and r.details["flip_outcome"] == "fail"
    assert "negative flip rate 0.1 > max 0.05" in r.message
    props = r.family_properties()
    assert props["negative_flip_rate"] == pytest.approx(0.1) and props["test"] == "mcnemar"


def test_string_labels_and_multiclass_bootstrap_metric():
    rng = np.random.default_rng(2)
    classes = np.array(["cat", "dog", "fox"])
    y = classes[rng.integers(0, 3, 1500)]
    base = np.where(rng.random(1500) < 0.8, y, classes[rng.integers(0, 3, 1500)])
    cand = np.where(rng.random(1500) < 0.8, y, classes[rng.integers(0, 3, 1500)])
    r = mlqa.check_regression(y, cand, base, "f1_macro", max_drop=0.05, n_resamples=300)
    assert r.test == "paired_bootstrap" and r.outcome is not Outcome.ERROR
    assert r.negative_flip_rate is not None
    again = mlqa.check_regression(y, cand, base, "f1_macro", max_drop=0.05, n_resamples=300)
    assert again.ci == r.ci  # seeded: the same build gives the same interval


@pytest.mark.parametrize("kwargs, match", [
    ({}, "needs a requirement"),
    ({"max_drop": 0.01, "min_gain": 0.0}, "not both"),
    ({"max_drop": -0.01}, r"max_drop must be a number >= 0 or None, got -0.01; use min_gain="),
    ({"max_drop": 0.01, "max_gain": -0.02}, "max_gain"),
    ({"max_drop": float("nan")}, "max_drop must be a number >= 0 or None, got nan"),
    ({"max_drop": 0.01, "test": "delong"}, "test='delong'"),
    ({"max_drop": 0.01, "test": "anova"}, "test must be one of"),
    ({"max_drop": 0.01, "confidence": 1.5}, "confidence"),
])
def test_bad_options_raise_input_error(kwargs, match):
    y = np.array([0, 1, 0, 1])
    with pytest.raises(mlqa.InputError, match=match):
        mlqa.check_regression(y, y, y, **kwargs)


def test_bad_input_names_the_argument():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(mlqa.InputError, match="baseline_pred=3"):
        mlqa.check_regression(y, y, y[:3], max_drop=0.0)
    with pytest.raises(mlqa.InputError, match="candidate_pred has 1 non-finite"):
        mlqa.check_regression(y, [0.1, np.nan, 0.3, 0.9], [0.1, 0.2, 0.3, 0.9], "roc_auc",
                              max_drop=0.0)


def test_expect_regression_raises_and_records():
    y = np.array([0, 1] * 200)
    worse = y.copy()
    worse[:80] = 1 - worse[:80]
    with capture() as seen:
        with pytest.raises(mlqa.QualityGateFailure, match="accuracy change"):
            mlqa.expect_regression(y, worse, y, max_drop=0.01)
        with pytest.raises(mlqa.CheckError, match="needs a requirement"):
            mlqa.expect_regression(y, worse, y)
    assert [r.outcome for r in seen] == [Outcome.FAIL, Outcome.ERROR]


def test_message_is_one_line_with_ci_n_and_both_values(models):
    y, X = models["y"], models["X"]
    r = mlqa.check_regression(y, models["cand"].predict(X), models["base"].predict(X),
                              max_drop=0.01)
    assert "\n" not in r.message
    for part in ("accuracy change", "95% CI", "n=3000", "candidate", "baseline", "mcnemar"):
        assert part in r.message


# -- comparability guards against a stored baseline ------------------------------------------


@pytest.fixture(scope="module")
def stored(models, tmp_path_factory):
    from mlqa.baseline import load_record

    store = tmp_path_factory.mktemp("store")
    builder = RecordBuilder(model_name="clf", model_version="1")
    X, y = models["X"], models["y"]
    builder.add_predictions("holdout", y, models["base"].predict(X), X=X,
                            metrics=["accuracy", "f1"])
    builder.save(store, aliases=("approved",))
    return load_record(store).predictions("holdout")


def test_stored_baseline_compares_when_everything_matches(models, stored):
    X, y = models["X"], models["y"]
    r = mlqa.check_regression(y, models["cand"].predict(X), stored, max_drop=0.05, X=X)
    assert r.outcome is not Outcome.ERROR
    assert r.baseline == pytest.approx(stored.metrics["accuracy"]["value"])
    assert r.baseline_record == stored.source and r.baseline_record.record == stored.record_id


def test_guard_different_rows(models, stored):
    X, y = models["X"], models["y"]
    r = mlqa.check_regression(y[:2000], models["cand"].predict(X[:2000]),
                              _take(stored, slice(0, 2000)), max_drop=0.05)
    assert r.outcome is Outcome.ERROR and r.details["incomparable"] == "rows"
    assert "3000 rows" in r.message and "2000" in r.message


def test_stored_baseline_of_another_size_is_the_rows_error_not_a_raise(models, stored):
    """The record as stored (3000 predictions) against a 2000-row evaluation: the documented
    ERROR of the rows guard, where a length check raised InputError before the guard ran."""
    X, y = models["X"][:2000], models["y"][:2000]
    r = mlqa.check_regression(y, models["cand"].predict(X), stored, max_drop=0.05, X=X)
    assert r.outcome is Outcome.ERROR and r.details["incomparable"] == "rows"
    assert r.message == (f"accuracy vs baseline: not comparable with the baseline: baseline "
                         f"'holdout' (record {stored.record_id}) was scored on 3000 rows, this "
                         f"evaluation has 2000: not the same rows")
    assert r.n == 2000 and r.baseline_record == stored.source


def _take(ps, rows):
    """The stored predictions cut to fewer rows, keeping the recorded fingerprint."""
    return ps.__class__(ps.name, ps.y_true[rows], ps.y_pred[rows], ps.fingerprint, ps.metrics,
                        ps.source)


def test_guard_shuffled_rows(models, stored):
    X, y = models["X"], models["y"]
    order = np.random.default_rng(0).permutation(len(y))
    r = mlqa.check_regression(y[order], models["cand"].predict(X[order]), _take(stored, order),
                              max_drop=0.05)
    assert r.outcome is Outcome.ERROR and r.details["incomparable"] == "labels"
    assert "labels differ on" in r.message


def test_guard_label_set(models, stored):
    X, y = models["X"], models["y"]
    relabelled = np.where(y == 1, 2, y)
    r = mlqa.check_regression(relabelled, models["cand"].predict(X), stored, max_drop=0.05)
    assert r.outcome is Outcome.ERROR and r.details["incomparable"] == "label_set"
    assert "label set {0, 1}" in r.message and "new: {2}" in r.message


def test_guard_features(models, stored):
    X, y = models["X"], models["y"]
    X2 = X.copy()
    X2[5, 3] += 1.0
    r = mlqa.check_regression(y, models["cand"].predict(X), stored, max_drop=0.05, X=X2)
    assert r.outcome is Outcome.ERROR and r.details["incomparable"] == "features"


def test_guard_metric_configuration(models, stored):
    X, y = models["X"], models["y"]
    changed = dict(stored.metrics)
    changed["f1"] = {"value": changed["f1"]["value"],
                     "config": {**changed["f1"]["config"], "kwargs": {"average": "macro"}}}
    ps = stored.__class__(stored.name, stored.y_true, stored.y_pred, stored.fingerprint,
                          changed, stored.source)
    r = mlqa.check_regression(y, models["cand"].predict(X), ps, "f1", max_drop=0.05,
                              n_resamples=200)
    assert r.outcome is Outcome.ERROR and r.details["incomparable"] == "metric_config"
    assert "kwargs {'average': 'macro'} then, {} now" in r.message
    scores = models["cand"].predict_proba(X)[:, 1]
    r = mlqa.check_regression(y, scores, stored, "roc_auc", max_drop=0.05)
    assert r.outcome is Outcome.ERROR and "predictions are labels" in r.message


def test_expect_regression_on_incomparable_baseline_is_check_error(models, stored):
    X, y = models["X"], models["y"]
    with pytest.raises(mlqa.CheckError, match="not comparable"):
        mlqa.expect_regression(y[::-1], models["cand"].predict(X)[::-1], stored, max_drop=0.05)


def test_difference_undefined_on_many_resamples_is_an_error():
    # 12 rows, one positive: a third of the resamples lose it, the baseline's recall is 0
    # there and a relative change is undefined
    y = np.array([1] + [0] * 11)
    pred = np.array([1, 1] + [0] * 10)
    r = mlqa.check_regression(y, pred, y, "recall", max_drop=0.1, relative=True,
                              n_resamples=200)
    assert r.outcome is Outcome.ERROR and r.ci is None
    assert "undefined on this data" in r.message
