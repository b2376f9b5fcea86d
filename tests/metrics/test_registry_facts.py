"""A metric's facts (kind, range, proportion counts, bounded rows, rows it needs) live on its
registry entry, and the checks read them from there: no list of names decides."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import mlqa
from mlqa.metrics.registry import (
    CLASSIFICATION,
    METRICS,
    REGRESSION,
    Metric,
    metric_range,
    resolve_metric,
)


def test_every_entry_states_its_kind_and_range():
    for m in METRICS.values():
        assert m.kind in (CLASSIFICATION, REGRESSION), m.name
        if m.low is not None and m.high is not None:
            assert m.low < m.high, m.name
    assert metric_range(METRICS["accuracy"]) == (0.0, 1.0)
    assert metric_range(METRICS["matthews_corrcoef"]) == (-1.0, 1.0)
    assert metric_range(METRICS["r2"]) == (None, 1.0)
    assert metric_range(METRICS["mean_squared_error"]) == (0.0, None)


def test_a_metric_without_stated_facts_is_unbounded_not_a_loss():
    """What is not stated is not assumed: no [0, inf) range for a metric nobody described."""
    def my_score(y, p):
        return float(np.mean(np.asarray(y) == np.asarray(p))) - 0.5

    resolved = resolve_metric(my_score)
    assert metric_range(resolved) == (None, None) and resolved.kind is None
    assert metric_range(Metric("mean_squared_error", my_score, False)) == (None, None)
    y = np.tile([0, 1], 100)
    r = mlqa.check_metric(y, y, my_score, min=-0.2)  # a negative threshold is not refused
    assert r.outcome is mlqa.Outcome.PASS


def test_the_range_a_threshold_is_checked_against_is_the_entrys():
    y = np.tile([0, 1, 1, 0], 50)
    narrowed = dataclasses.replace(METRICS["accuracy"], low=0.5)
    with pytest.raises(mlqa.InputError, match="min"):
        mlqa.check_metric(y, y, narrowed, min=0.2)
    assert mlqa.check_metric(y, y, METRICS["accuracy"], min=0.2).passed


def test_proportion_counts_come_from_the_entry():
    r = np.random.default_rng(4)
    y = r.integers(0, 2, 400)
    pred = np.where(r.random(400) < 0.8, y, 1 - y)
    recall = mlqa.check_metric(y, pred, "recall", min=0.5)
    assert recall.ci_method == "wilson"
    assert recall.details["trials"] == int(np.sum(y == 1))
    precision = mlqa.check_metric(y, pred, "precision", min=0.5)
    assert precision.details["trials"] == int(np.sum(pred == 1))
    # f1 is no proportion: its entry says so, and Wilson is refused for it
    assert METRICS["f1"].proportion is None and METRICS["f1_micro"].proportion == "all"
    with pytest.raises(mlqa.InputError, match="ci='wilson' does not apply"):
        mlqa.check_metric(y, pred, "f1", min=0.5, ci="wilson")
    assert mlqa.check_metric(y, pred, "f1_micro", min=0.5, ci="wilson").details["trials"] \
        == 400


def test_bounded_rows_and_loss_power_are_read_from_the_entry():
    r = np.random.default_rng(8)
    y = r.normal(0, 1, 3000)
    p = y + r.standard_t(2.5, 3000)
    plain = mlqa.check_metric(y, p, METRICS["mean_squared_error"], max=10.0, ci="influence")
    assert plain.outcome is mlqa.Outcome.INCONCLUSIVE and plain.details["tail_index"] < 2
    # told its rows are bounded, the same entry skips Hill's index (infinite: not recorded)
    bounded = dataclasses.replace(METRICS["mean_squared_error"], bounded_rows=True)
    told = mlqa.check_metric(y, p, bounded, max=10.0, ci="influence")
    assert told.outcome is mlqa.Outcome.PASS and told.details["tail_index"] is None
