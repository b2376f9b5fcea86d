"""check_metric: decisions on intervals, bad input, slices, models."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import roc_auc_score

import mlqa
from mlqa import InputError, Outcome, check_metric
from mlqa.metrics import MetricResult, Slice


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1000)
    score = y + rng.normal(size=1000)
    return y, score, (score > 0.5).astype(int)


@pytest.mark.parametrize("bound, outcome", [(0.70, Outcome.PASS), (0.78, Outcome.INCONCLUSIVE),
                                            (0.85, Outcome.FAIL)])
def test_interval_decides(scored, bound, outcome):
    y, score, _ = scored
    r = check_metric(y, score, "roc_auc", min=bound)
    assert isinstance(r, MetricResult) and r.ci_method == "delong"
    assert r.value == pytest.approx(roc_auc_score(y, score))
    assert r.ci[0] < r.value < r.ci[1] and r.outcome is outcome
    assert "95% CI" in r.message and "n=1000" in r.message


def test_point_decision_when_ci_is_none(scored):
    y, score, _ = scored
    r = check_metric(y, score, "roc_auc", min=0.78, ci=None)
    assert r.outcome is Outcome.PASS and r.ci is None and r.ci_method is None


def test_fail_message_reads_measured_vs_required(scored):
    y, _, pred = scored
    r = check_metric(y, pred, "accuracy", min=0.9)
    assert r.outcome is Outcome.FAIL and r.ci_method == "wilson"
    assert r.message.startswith(f"accuracy {r.value:.4g} < min 0.9 (95% CI ")
    assert r.family_properties() == {"ci_method": "wilson"}


@pytest.mark.parametrize("metric, method", [
    ("accuracy", "wilson"), ("precision", "wilson"), ("recall", "wilson"),
    ("f1_micro", "wilson"), ("f1", "dirichlet"), ("balanced_accuracy", "dirichlet"),
    ("matthews_corrcoef", "dirichlet"), ("precision_macro", "dirichlet")])
def test_auto_methods_for_labels(scored, metric, method):
    y, _, pred = scored
    r = check_metric(y, pred, metric, min=0.1)
    assert r.ci_method == method and r.ci[0] <= r.value <= r.ci[1]


def test_weighted_labels_use_the_bca_bootstrap_of_cell_sums(scored):
    y, _, pred = scored
    w = np.random.default_rng(1).uniform(0.5, 2, len(y))
    for metric in ("accuracy", "f1"):
        r = check_metric(y, pred, metric, min=0.1, sample_weight=w)
        assert r.ci_method == "bca" and r.ci[0] <= r.value <= r.ci[1]
    with pytest.raises(InputError, match="ci='wilson' does not apply.*sample_weight"):
        check_metric(y, pred, "accuracy", min=0.1, sample_weight=w, ci="wilson")


def test_same_seed_same_interval_and_seed_matters(scored):
    y, score, _ = scored
    a = check_metric(y, score, "rmse", max=2)
    assert a.ci == check_metric(y, score, "rmse", max=2).ci
    assert a.ci != check_metric(y, score, "rmse", max=2, random_state=1).ci
    with pytest.warns(DeprecationWarning, match="seed= is deprecated"):
        old = check_metric(y, score, "rmse", max=2, seed=1)
    assert old.ci == check_metric(y, score, "rmse", max=2, random_state=1).ci


def test_callable_metric_with_and_without_sample_weight(scored):
    y, score, _ = scored

    def mean_error(y_true, y_pred):  # no sample_weight: resampled by repeating rows
        return float(np.mean(np.abs(y_true - y_pred)))

    r = check_metric(y, score, mean_error, max=2.0)
    assert r.ci_method == "bootstrap" and r.ci[0] < r.value < r.ci[1]
    ref = check_metric(y, score, "mae", max=2.0)
    assert r.value == pytest.approx(ref.value)
    assert (r.ci[1] - r.ci[0]) == pytest.approx(ref.ci[1] - ref.ci[0], rel=0.15)
    with pytest.raises(InputError, match="greater_is_better"):
        check_metric(y, score, lambda a, b: 0.0, min=0)


def test_exact_interval_is_wider_than_wilson(scored):
    y, _, pred = scored
    wilson = check_metric(y, pred, "recall", min=0.5)
    exact = check_metric(y, pred, "recall", min=0.5, ci="exact")
    assert exact.ci[0] <= wilson.ci[0] and exact.ci[1] >= wilson.ci[1]


def test_undefined_figures_are_not_decided():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's zero-division warning
        r = check_metric([0, 1, 0, 1] * 10, [0] * 40, "precision", min=0.5)
    assert r.outcome is Outcome.ERROR and "no row is predicted as the positive class 1" \
        in r.message
    r = check_metric(np.ones(40), np.ones(40), "r2", min=0.5)
    assert r.outcome is Outcome.ERROR and "y_true is constant" in r.message
    r = check_metric([1, 1, 1], [0.2, 0.5, 0.3], "roc_auc", min=0.5)
    assert r.outcome is Outcome.ERROR and "y_true has a single class (1)" in r.message

    def nan_score(y_true, y_pred):
        return float("nan")

    r = check_metric([0, 1], [0, 1], nan_score, min=0.5)
    assert r.outcome is Outcome.ERROR and "undefined" in r.message


# --- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs, match", [
    (([0, 1, 1], [0, 1]), {"metric": "accuracy", "min": 0.5}, "inconsistent numbers"),
    (([0, 1, 1], [0.2, np.nan, 0.3]), {"metric": "roc_auc", "min": 0.5}, "non-finite"),
    (([0, 1, 1], [0.2, np.inf, 0.3]), {"metric": "roc_auc", "min": 0.5}, "non-finite"),
    (([0, 1, 1], [0.2, 1.3, 0.3]), {"metric": "log_loss", "max": 0.5},
     r"probabilities in \[0, 1\]"),
    (([0, 1, 2], [[.5, .4, .3], [.1, .8, .1], [.2, .2, .6]]), {"metric": "log_loss", "max": 1},
     r"summing to 1 for log_loss; 1 row\(s\) do not, first at row 0"),
    (([0, 1, 2], [0.2, 0.5, 0.3]), {"metric": "roc_auc", "min": 0.5}, "roc_auc_ovr"),
    (([], []), {"metric": "accuracy", "min": 0.5}, "empty"),
    (([0, 1], [0, 1]), {"metric": "accuracy"}, "needs a requirement"),
    (([0, 1], [0, 1]), {"metric": "accuracy", "min": 0.5, "confidence": 95}, "confidence"),
    (([0, 1], [0, 1]), {"metric": "accuracy", "min": 0.5, "ci": "wald"}, "ci must be"),
    (([0, 1], [0, 1]), {"metric": "accuracy", "min": 0.5, "n_resamples": 10}, "n_resamples"),
    (([0, 1], None), {"metric": "accuracy", "min": 0.5}, "y_pred is required"),
    (([0, 1, 0], ["a", 1, 0]), {"metric": "accuracy", "min": 0.5},
     "label types differ: y_true holds numbers, y_pred strings"),
    (([0, 1, 0], [0, 1, 0]), {"metric": "nope", "min": 0.5}, "unknown metric"),
])
def test_bad_input_names_the_problem(args, kwargs, match):
    with pytest.raises(InputError, match=match):
        check_metric(*args, **kwargs)


def test_expect_metric_turns_bad_input_into_an_error_result():
    with pytest.raises(mlqa.CheckError, match="single class") as info:
        mlqa.expect_metric([1, 1, 1], [0.2, 0.5, 0.3], "roc_auc", min=0.5)
    assert info.value.result.outcome is Outcome.ERROR


# --- models --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(n_samples=1200, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    model = LogisticRegression(max_iter=500).fit(X[:600], y[:600])
    return model, X[600:], y[600:]


def test_model_scoring_chooses_predict_or_predict_proba(fitted):
    model, X, y = fitted
    acc = check_metric(y, model=model, X=X, metric="accuracy", min=0.5)
    assert acc.value == pytest.approx(model.score(X, y))
    auc = check_metric(y, model=model, X=X, metric="roc_auc_ovr", min=0.5)
    assert auc.ci_method == "delong" and auc.ci[0] < auc.value < auc.ci[1]
    assert auc.value == pytest.approx(roc_auc_score(y, model.predict_proba(X),
                                                    multi_class="ovr"))
    ll = check_metric(y, model=model, X=X, metric="neg_log_loss", max=2)
    assert ll.ci_method == "bca" and ll.ci[0] < ll.value < ll.ci[1]


def test_model_binary_roc_auc_uses_positive_column():
    X, y = make_classification(n_samples=600, random_state=1)
    model = LogisticRegression().fit(X[:300], y[:300])
    r = check_metric(y[300:], model=model, X=X[300:], metric="roc_auc", min=0.5)
    assert r.ci_method == "delong"
    assert r.value == pytest.approx(roc_auc_score(y[300:], model.predict_proba(X[300:])[:, 1]))


def test_labels_unseen_in_training(fitted):
    model, X, y = fitted
    y = y.copy()
    y[:3] = 7
    for metric in ("accuracy", "log_loss"):
        with pytest.raises(InputError, match=r"label\(s\) \[7\] the model never saw"):
            check_metric(y, model=model, X=X, metric=metric, max=1, min=0)


def test_model_without_predict_proba():
    X = np.random.default_rng(0).normal(size=(100, 2))
    model = LinearRegression().fit(X, X[:, 0])
    with pytest.raises(InputError, match="no predict_proba"):
        check_metric((X[:, 0] > 0).astype(int), model=model, X=X, metric="log_loss", max=1)
    r = check_metric(X[:, 0], model=model, X=X, metric="r2", min=0.9)
    assert r.outcome is Outcome.PASS


# --- slices --------------------------------------------------------------------------------

def test_slices_one_result_each_and_small_ones_inconclusive(scored):
    y, _, pred = scored
    region = np.array(["north", "south", "east"])[np.arange(len(y)) % 3]
    region[:10] = "tiny"  # 10 rows < min_slice_size
    r = check_metric(y, pred, "accuracy", min=0.5, slices=pd.Series(region, name="region"))
    assert list(r.slices) == ["region=east", "region=north", "region=south", "region=tiny"]
    tiny = r.slices["region=tiny"]
    assert tiny.outcome is Outcome.INCONCLUSIVE and tiny.n == 10
    assert "10 rows < min_slice_size 30" in tiny.message
    assert r.outcome is Outcome.INCONCLUSIVE  # worst of overall (PASS) and the slices
    assert r.family_properties()["slices_inconclusive"] == "region=tiny"
    big = r.slices["region=east"]
    mask = region == "east"
    assert big.value == pytest.approx(np.mean(y[mask] == pred[mask]))
    assert big.name == "accuracy[region=east]" and big.outcome is Outcome.PASS


def test_slices_as_masks_column_name_and_single_slice(scored):
    y, score, _ = scored
    masks = {"first": np.arange(len(y)) < 500, "rest": np.arange(len(y)) >= 500}
    r = check_metric(y, score, "roc_auc", min=0.5, slices=masks)
    assert list(r.slices) == ["first", "rest"] and all(s.ci_method == "delong"
                                                        for s in r.slices.values())
    one = check_metric(y, score, "roc_auc", min=0.5, slices=Slice("first", masks["first"]))
    assert one.name == "roc_auc[first]" and one.n == 500 and not one.slices
    with pytest.raises(InputError, match="needs X= as a DataFrame"):
        check_metric(y, score, "roc_auc", min=0.5, slices="segment")
    with pytest.raises(InputError, match="boolean mask"):
        check_metric(y, score, "roc_auc", min=0.5, slices={"a": np.arange(len(y))})


def test_slice_named_by_model_column(fitted):
    model, X, y = fitted
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["band"] = np.where(X[:, 0] > 0, "pos", "neg")

    class OnFeatures:  # a model that takes the DataFrame and ignores the slice column
        classes_ = model.classes_

        def predict(self, df):
            return model.predict(df.drop(columns="band").to_numpy())

    r = check_metric(y, model=OnFeatures(), X=frame, metric="accuracy", min=0.3,
                     slices="band")
    assert list(r.slices) == ["band=neg", "band=pos"]


def test_slice_that_cannot_be_evaluated_is_an_error_not_a_crash(scored):
    y, score, _ = scored
    only_pos = y == 1
    r = check_metric(y, score, "roc_auc", min=0.5, slices={"positives": only_pos})
    assert r.slices["positives"].outcome is Outcome.ERROR
    assert "single class" in r.slices["positives"].message
    assert r.outcome is Outcome.ERROR


def test_missing_slice_labels_get_their_own_slice(scored):
    y, _, pred = scored
    labels = np.where(np.arange(len(y)) < 900, "a", None).astype(object)
    r = check_metric(y, pred, "accuracy", min=0.1, slices=labels)
    assert list(r.slices) == ["a", "<missing>"] and r.slices["<missing>"].n == 100
