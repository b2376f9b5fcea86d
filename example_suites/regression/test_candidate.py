"""The candidate against the approved baseline: paired comparisons on the same rows.

Run it (from the repository root)::

    pytest example_suites/regression --junitxml=reports/regression.xml
"""

from __future__ import annotations

import pytest

import mlqa


def test_record_this_run(mlqa_baseline, model, model_version, data):
    """What the next build compares against, if this run passes and is promoted (written only
    with --mlqa-save-baseline)."""
    _, _, X_eval, y_eval = data
    mlqa_baseline.save_model(model, name="example-classifier", version=model_version)
    mlqa_baseline.save_predictions("holdout", y_eval, model.predict(X_eval), X=X_eval,
                                   metrics=["accuracy", "f1"])
    mlqa_baseline.save_predictions("holdout_scores", y_eval, model.predict_proba(X_eval)[:, 1],
                                   X=X_eval, metrics=["roc_auc"])


@pytest.mark.mlqa
def test_accuracy_does_not_regress(mlqa_baseline, model, data):
    _, _, X_eval, y_eval = data
    mlqa.expect_regression(y_eval, model.predict(X_eval), mlqa_baseline.predictions("holdout"),
                           "accuracy", max_drop=0.01, max_negative_flip_rate=0.05, X=X_eval)


@pytest.mark.mlqa
def test_f1_does_not_regress(mlqa_baseline, model, data):
    _, _, X_eval, y_eval = data
    mlqa.expect_regression(y_eval, model.predict(X_eval), mlqa_baseline.predictions("holdout"),
                           "f1", max_drop=0.01, X=X_eval)


@pytest.mark.mlqa
def test_roc_auc_does_not_regress(mlqa_baseline, model, data):
    _, _, X_eval, y_eval = data
    mlqa.expect_regression(y_eval, model.predict_proba(X_eval)[:, 1],
                           mlqa_baseline.predictions("holdout_scores"), "roc_auc",
                           max_drop=0.005, X=X_eval)
