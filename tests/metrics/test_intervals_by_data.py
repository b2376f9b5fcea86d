"""Interval methods chosen by the data (issue 12.1): each choice, each refusal, and each method
against a reference computation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

import mlqa
from mlqa import Outcome, check_metric, check_regression
from mlqa.metrics.check import _evaluation, _validated
from mlqa.metrics.intervals import confusion_interval, metric_replicates
from mlqa.metrics.registry import resolve_metric
from mlqa.stats.bootstrap import poisson_weight_chunks


def _binary(n, pi, seed=0, shift=1.5):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < pi).astype(int)
    return y, shift * y + rng.normal(size=n)


def test_auc_interval_follows_the_class_sizes():
    y, s = _binary(400, 0.1)
    few = check_metric(y, s, "roc_auc", min=0.5)
    assert few.ci_method == "newcombe" and few.details["positives"] == int(y.sum())
    y, s = _binary(4000, 0.3)
    many = check_metric(y, s, "roc_auc", min=0.5)
    assert many.ci_method == "delong"
    on_request = check_metric(y, s, "roc_auc", min=0.5, ci="newcombe")
    assert on_request.ci_method == "newcombe"
    # both intervals estimate the same spread at this size
    width = np.diff(many.ci)[0]
    assert np.diff(on_request.ci)[0] == pytest.approx(width, rel=0.35)


def test_too_few_positives_is_inconclusive_naming_why():
    y, s = _binary(100, 0.03, seed=2)
    assert 0 < y.sum() < 5
    for metric, pred in (("roc_auc", s), ("f1", (s > 0.75).astype(int)),
                         ("average_precision", s)):
        r = check_metric(y, pred, metric, min=0.01)
        assert r.outcome is Outcome.INCONCLUSIVE and r.ci is None, metric
        assert f"y_true has only {y.sum()} row(s) of a class {metric} needs" in r.message


def test_dirichlet_keeps_an_empty_cell_uncertain():
    # every positive found, no false positive: the multinomial bootstrap says "F1 1-1"
    y = np.r_[np.ones(8, int), np.zeros(92, int)]
    pred = y.copy()
    multinomial = check_metric(y, pred, "f1", min=0.5, ci="multinomial")
    dirichlet = check_metric(y, pred, "f1", min=0.5)
    assert multinomial.ci == (1.0, 1.0)
    assert dirichlet.ci_method == "dirichlet" and dirichlet.ci[0] < 0.95 < 0.99 < dirichlet.ci[1]


def test_undefined_resamples_are_counted_not_zeroed():
    y = np.r_[np.ones(5, int), np.zeros(195, int)]
    pred = np.r_[np.ones(3, int), np.zeros(197, int)]
    r = check_metric(y, pred, "f1", min=0.1, ci="multinomial")
    assert r.details["undefined_resamples"] > 0  # resamples without a positive row
    iv = confusion_interval("f1", [[1, 0], [0, 0]], [0, 1], method="multinomial")
    assert not iv.defined and "f1 was undefined on 2000 of 2000 resamples" in iv.details["reason"]
    assert confusion_interval("f1", [[90, 2], [3, 5]], [0, 1]).defined  # counts in, interval out


def test_heavy_tailed_loss_is_refused_naming_the_tail():
    rng = np.random.default_rng(4)
    y = rng.normal(size=2000)
    t3 = check_metric(y, y + rng.standard_t(3, 2000), "rmse", max=100.0)
    assert t3.outcome is Outcome.INCONCLUSIVE and t3.ci is None
    assert "tail index is" in t3.message and "no interval is trustworthy" in t3.message
    assert t3.details["tail_index"] < 3
    outlier = y + rng.normal(size=2000)
    outlier[7] = 1000.0
    one_row = check_metric(y, outlier, "rmse", max=100.0)
    assert "the top 1% of rows carry 100% of the root_mean_squared_error (more than " \
        "max_tail_share 80%)" in one_row.message
    gauss = check_metric(y, y + rng.normal(size=2000), "rmse", max=2.0)
    assert gauss.outcome is Outcome.PASS and gauss.details["tail_index"] > 3
    strict = check_metric(y, y + rng.normal(size=2000), "rmse", max=2.0, max_tail_share=0.02)
    assert strict.outcome is Outcome.INCONCLUSIVE and "max_tail_share 2%" in strict.message


def test_bca_and_influence_agree_on_large_samples():
    rng = np.random.default_rng(5)
    y = rng.normal(10, 3, 50_000)
    pred = y + rng.exponential(1.0, 50_000) - 1
    bca = check_metric(y, pred, "mae", max=5.0)
    influence = check_metric(y, pred, "mae", max=5.0, ci="influence")
    assert bca.ci_method == "bca" and influence.ci_method == "influence"
    np.testing.assert_allclose(bca.ci, influence.ci, rtol=2e-3)
    big = np.tile(y, 3), np.tile(pred, 3)
    assert check_metric(*big, "r2", min=0.1).ci_method == "influence"  # > 100k rows


def test_weighted_confusion_metrics_use_cell_sums_on_the_same_resamples():
    y, s = _binary(300, 0.4, seed=6)
    pred = (s > 0.75).astype(int)
    w = np.random.default_rng(7).uniform(0.5, 2, 300)
    metric = resolve_metric("f1")
    ev = _evaluation(metric, *_validated(metric, y, pred, w), None)
    reps = metric_replicates(ev, "bootstrap", 100, 3)
    weights = next(poisson_weight_chunks(300, 100, seed=3))
    expected = [f1_score(y, pred, sample_weight=row * w) for row in weights]
    np.testing.assert_allclose(reps, expected, rtol=1e-5)


def test_average_precision_method_follows_the_size():
    y, s = _binary(2000, 0.2)
    small = check_metric(y, s, "average_precision", min=0.1)
    assert small.ci_method == "bca" and small.ci[0] < small.value < small.ci[1]
    y, s = _binary(20_000, 0.2)
    large = check_metric(y, s, "average_precision", min=0.1)
    assert large.ci_method == "influence" and large.ci[0] < large.value < large.ci[1]


def test_roc_auc_ovo_interval_matches_sklearn_and_the_bootstrap():
    rng = np.random.default_rng(8)
    n = 1500
    y = rng.integers(0, 3, n)
    proba = np.eye(3)[y] * 0.4 + rng.dirichlet(np.ones(3), n) * 0.6
    for metric, kwargs in (("roc_auc_ovo", {}), ("roc_auc_ovo_weighted", {"average": "weighted"})):
        r = check_metric(y, proba, metric, min=0.5)
        truth = roc_auc_score(y, proba, multi_class="ovo", **kwargs)
        assert r.ci_method == "delong" and r.value == pytest.approx(truth, abs=1e-12)
    boot = [roc_auc_score(y[i], proba[i], multi_class="ovo")
            for i in (rng.integers(0, n, n) for _ in range(100))]
    r = check_metric(y, proba, "roc_auc_ovo", min=0.5)
    assert r.details["std_error"] == pytest.approx(np.std(boot), rel=0.25)


def test_random_state_and_its_deprecated_name_in_regression():
    y, s = _binary(500, 0.4)
    a, b = s + np.random.default_rng(1).normal(size=500), s
    # 200 resamples: the names must give the same draws, not a precise interval
    new = check_regression(y, a, b, "average_precision", max_drop=0.05, random_state=3,
                           n_resamples=200)
    with pytest.warns(DeprecationWarning, match="seed= is deprecated"):
        old = check_regression(y, a, b, "average_precision", max_drop=0.05, seed=3,
                               n_resamples=200)
    assert new.ci == old.ci
    with pytest.raises(mlqa.InputError, match="pass random_state= only"):
        check_regression(y, a, b, "average_precision", max_drop=0.05, seed=3, random_state=4)


def test_requirements_are_keyword_only_and_in_range():
    y, s = _binary(200, 0.5)
    with pytest.raises(TypeError):
        check_metric(y, s, "roc_auc", 0.5)  # type: ignore[misc]
    with pytest.raises(TypeError):
        check_regression(y, s, s, "roc_auc", 0.01)  # type: ignore[misc]
    with pytest.raises(mlqa.InputError, match=r"min=90 is outside the range of roc_auc \[0, 1\]"):
        check_metric(y, s, "roc_auc", min=90)
    with pytest.raises(mlqa.InputError, match="max=-1 is outside the range"):
        check_metric(y, s + 1, "rmse", max=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name warns nothing
        check_metric(y, s, "roc_auc", min=0.5, random_state=1)


def test_median_absolute_error_uses_order_statistics():
    rng = np.random.default_rng(10)
    y = rng.normal(size=201)
    pred = y + rng.standard_t(3, 201)
    r = check_metric(y, pred, "median_absolute_error", max=5.0)
    assert r.ci_method == "order" and r.ci[0] <= r.value <= r.ci[1]
    errors = np.sort(np.abs(y - pred))
    low, high = r.details["ranks"]
    assert r.ci == (errors[low - 1], errors[high - 1])  # the l-th and u-th smallest errors
    assert check_metric(y[:5], pred[:5], "median_absolute_error", max=5.0).outcome \
        is Outcome.INCONCLUSIVE  # too few rows for any 95% median interval


@pytest.mark.parametrize("metric", ["f1", "balanced_accuracy", "matthews_corrcoef",
                                    "precision_macro"])
def test_interval_from_confusion_counts_equals_the_in_memory_check(metric):
    """What an engine (Spark, DuckDB) ships is the confusion counts: the interval computed from
    them alone is the in-memory check's, to the last digit."""
    from mlqa.metrics.confusion import confusion_counts

    rng = np.random.default_rng(11)
    y = rng.integers(0, 3 if metric.endswith("macro") else 2, 3000)
    pred = np.where(rng.random(3000) < 0.7, y, rng.integers(0, 3 if metric.endswith("macro")
                                                             else 2, 3000))
    r = check_metric(y, pred, metric, min=0.0, random_state=5)
    labels = np.unique(np.r_[y, pred])
    iv = confusion_interval(metric, confusion_counts(y, pred, labels), labels,
                            random_state=5)
    assert r.ci_method == "dirichlet" and r.ci == (iv.low, iv.high)


@pytest.mark.parametrize("metric", ["rmse", "mae", "r2", "log_loss"])
def test_loss_interval_from_mergeable_sums_equals_the_rows_path(metric):
    """An engine ships the column sums and their cross-products; the influence interval from
    them is the in-memory one."""
    from mlqa.metrics.intervals import sums_interval
    from mlqa.metrics.sums import SUMS

    rng = np.random.default_rng(12)
    if metric == "log_loss":
        y = (rng.random(5000) < 0.3).astype(int)
        pred = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.15, 5000), 0.01, 0.99)
        labels = np.array([0, 1])
    else:
        y = rng.normal(5, 2, 5000)
        pred = y + rng.normal(0, 1, 5000)
        labels = None
    name = resolve_metric(metric).name
    rows = check_metric(y, pred, metric, max=100.0, ci="influence") if metric != "r2" else \
        check_metric(y, pred, metric, min=-1.0, ci="influence")
    columns = SUMS[name][0](y, pred, labels)
    iv = sums_interval(name, columns.sum(axis=0), columns.T @ columns, len(y))
    np.testing.assert_allclose((iv.low, iv.high), rows.ci, rtol=1e-6)
