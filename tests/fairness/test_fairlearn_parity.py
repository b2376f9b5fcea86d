"""check_disparity's point values equal fairlearn's MetricFrame (a dev-only dependency:
``pip install -e '.[dev]'``). Intervals differ on purpose: fairlearn's percentile bootstrap of
max-min excluded 0 on fair data in every seed (docs/fairness.md)."""

from __future__ import annotations

import numpy as np
import pytest

import mlqa

fairlearn_metrics = pytest.importorskip(
    "fairlearn.metrics",
    reason="fairlearn is not installed: it is a dev-only dependency (pip install -e '.[dev]') "
           "for comparing point values with MetricFrame")

RATES = ("true_positive_rate", "false_positive_rate", "selection_rate")


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(12)
    sizes = [1209, 691, 500]
    g = np.repeat(["a", "b", "c"], sizes)
    y = (rng.random(len(g)) < 0.4).astype(int)
    tpr = np.repeat([0.8, 0.75, 0.7], sizes)
    p = np.where(y == 1, rng.random(len(g)) < tpr, rng.random(len(g)) < 0.1).astype(int)
    frame = fairlearn_metrics.MetricFrame(
        metrics={r: getattr(fairlearn_metrics, r) for r in RATES}, y_true=y, y_pred=p,
        sensitive_features=g)
    return y, p, g, frame


@pytest.mark.parametrize("rate", RATES)
def test_group_values_and_gaps_equal_metricframe(scored, rate):
    y, p, g, frame = scored
    overall = mlqa.check_disparity(y, p, g, metric=rate, max_difference=0.9)
    for row in overall.groups:
        assert row.value == pytest.approx(frame.by_group.loc[row.group, rate], abs=1e-12)
    assert max(abs(r.value) for r in overall.pairs.values()) == pytest.approx(
        frame.difference(method="to_overall")[rate], abs=1e-12)
    best = mlqa.check_disparity(y, p, g, metric=rate, max_difference=0.9, reference="best")
    assert max(r.value for r in best.pairs.values()) == pytest.approx(
        frame.difference(method="between_groups")[rate], abs=1e-12)
    ratio = mlqa.check_disparity(y, p, g, metric=rate, min_ratio=0.1, reference="best")
    assert min(r.value for r in ratio.pairs.values()) == pytest.approx(
        frame.ratio(method="between_groups")[rate], abs=1e-12)


def test_equalized_odds_is_fairlearns_worst_case(scored):
    y, p, g, _ = scored
    r = mlqa.check_disparity(y, p, g, metric="equalized_odds", max_difference=0.9,
                             reference="best")
    assert max(r.value for r in r.pairs.values()) == pytest.approx(
        fairlearn_metrics.equalized_odds_difference(y, p, sensitive_features=g), abs=1e-12)
