"""Release gates for the breast-cancer classifier: each threshold is its own JUnit test case."""

import pytest

import mlqa

pytestmark = pytest.mark.mlqa


class TestCandidateMetrics:
    """Thresholds on hard predictions."""

    # ids are the metric names: they name the JUnit test cases, so keep them stable.
    @pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "f1", "recall"])
    def test_label_metric(self, y_true, y_pred, metric):
        mlqa.expect_metric(y_true, y_pred, metric, min=0.90)


class TestCandidateScores:
    """Thresholds on predicted probabilities."""

    def test_roc_auc(self, y_true, y_score):
        mlqa.expect_metric(y_true, y_score, "roc_auc", min=0.95)

    def test_average_precision(self, y_true, y_score):
        mlqa.expect_metric(y_true, y_score, "average_precision", min=0.95)

    def test_log_loss(self, y_true, y_score):
        mlqa.expect_metric(y_true, y_score, "log_loss", max=0.25)

    def test_brier_score(self, y_true, y_score):
        mlqa.expect_metric(y_true, y_score, "brier_score", max=0.08)
