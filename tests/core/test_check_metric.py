"""check_metric on a real scikit-learn model, and its input validation."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlqa
from mlqa import InputError, Outcome


@pytest.fixture(scope="module")
def classifier():
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_tr, y_tr)
    return y_te, model.predict(X_te), model.predict_proba(X_te)[:, 1]


def test_metric_value_is_scikit_learns(classifier):
    y, pred, score = classifier
    r = mlqa.check_metric(y, score, "roc_auc", min=0.5)
    assert r.value == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert r.outcome is Outcome.PASS and r.check == "metric" and r.metric == "roc_auc"
    assert r.n == len(y) and r.threshold == 0.5 and r.comparison == ">="
    assert mlqa.check_metric(y, pred, "f1_macro", min=0.5).value == \
        pytest.approx(f1_score(y, pred, average="macro"))


def test_unreachable_requirement_fails_with_value_requirement_and_n(classifier):
    y, pred, _ = classifier
    r = mlqa.check_metric(y, 1 - pred, "accuracy", min=0.9)  # an inverted model
    assert r.outcome is Outcome.FAIL
    assert r.message.startswith(f"accuracy {r.value:.4g} < min 0.9") and f"n={len(y)}" in r.message


def test_regression_losses_and_scorer_names():
    X, y = load_diabetes(return_X_y=True)
    pred = Ridge().fit(X[:300], y[:300]).predict(X[300:])
    rmse = mlqa.check_metric(y[300:], pred, "neg_root_mean_squared_error", max=1000)
    assert rmse.metric == "root_mean_squared_error" and rmse.comparison == "<="
    assert rmse.value == pytest.approx(np.sqrt(np.mean((y[300:] - pred) ** 2)))
    assert rmse.outcome is Outcome.PASS
    assert mlqa.check_metric(y[300:], pred, "mae", max=1.0).outcome is Outcome.FAIL
    assert mlqa.check_metric(y[300:], pred, "r2", min=0.0, max=1.0).comparison == "within"


def test_callable_metric_direction_from_name_or_argument():
    def hit_rate(y_true, y_pred):
        return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))

    with pytest.raises(InputError, match="greater_is_better"):
        mlqa.check_metric([0, 1], [0, 1], hit_rate, min=0.5)
    r = mlqa.check_metric([0, 1, 1, 0], [0, 1, 0, 0], hit_rate, min=0.5, greater_is_better=True,
                          ci=None)  # four rows: decide on the point, as this test is about names
    assert (r.name, r.value, r.outcome) == ("hit_rate", 0.75, Outcome.PASS)

    def my_loss(y_true, y_pred):
        return 0.3

    assert mlqa.check_metric([1, 2], [1, 2], my_loss, max=0.2).outcome is Outcome.FAIL


@pytest.mark.parametrize("args,kwargs,match", [
    (([0, 1, 1], [0, 1]), {"min": 0.5}, "inconsistent numbers of samples: y_true=3, y_pred=2"),
    (([], []), {"min": 0.5}, "y_true is empty"),
    (([0, 1, 1], [0.2, np.nan, 0.9], "roc_auc"), {"min": 0.5},
     r"y_pred has 1 non-finite value\(s\)"),
    (([0, 1, 1], [0.2, 1.4, 0.9], "log_loss"), {"max": 0.5}, r"probabilities in \[0, 1\]"),
    # a single class for roc_auc is an ERROR result now, not an InputError
    # (tests/matrix/test_metric_cases.py, tests/metrics/test_check_metric.py)
    (([0, 1, 2], [0, 1, 1], "f1"), {"min": 0.5}, "could not be computed"),
    # the suggestion a YAML suite gives for the same typo (mlqa._text.did_you_mean)
    (([0, 1], [0, 1], "acuracy"), {"min": 0.5},
     r"unknown metric 'acuracy' \(did you mean 'accuracy'\?\); known: accuracy, "),
    (([0, 1], [0, 1], "neg_mean_sqared_error"), {"max": 0.5},
     r"\(did you mean 'mean_squared_error'\?\)"),
    (([0, 1], [0, 1]), {}, "needs a requirement"),
    (([0, 1], [0, 1]), {"min": 0.9, "max": 0.5}, "greater than max"),
    (([0, 1], [0, 1]), {"min": float("nan")}, "min must be a finite number"),
    (([0, None], [0, 1]), {"min": 0.5}, "y_true has 1 missing value"),
    (([0, 1], [0, 1]), {"min": 0.5, "sample_weight": [1, -1]}, "negative"),
])
def test_bad_input_names_the_problem(args, kwargs, match):
    with pytest.raises(InputError, match=match):
        mlqa.check_metric(*args, **kwargs)
