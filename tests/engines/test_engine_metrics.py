"""check_metric / check_regression with columns of an engine table equal the in-memory
checks: confusion cells (Wilson, multinomial), DeLong placements, loss moments."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

import mlqa


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    r = np.random.default_rng(7)
    n = 20000
    y = r.integers(0, 2, n)
    s_c = np.round(np.clip(y * 0.3 + r.normal(0.35, 0.25, n), 0, 1), 3)  # ties
    s_b = np.round(np.clip(y * 0.25 + r.normal(0.37, 0.25, n), 0, 1), 3)
    frame = pd.DataFrame({"y": y, "cand": (s_c > 0.5).astype(int), "base": (s_b > 0.5).astype(int),
                          "sc": s_c, "sb": s_b, "yr": r.normal(0, 1, n),
                          "multi": r.integers(0, 3, n), "mpred": r.integers(0, 3, n)})
    frame["pr"] = frame["yr"] + r.normal(0, 0.5, n)
    frame["pb"] = frame["yr"] + r.normal(0, 0.55, n)
    path = tmp_path_factory.mktemp("scored") / "eval.parquet"
    frame.to_parquet(path)
    return frame, str(path)


def same(a, b, rel=1e-9):
    assert a.outcome == b.outcome, (a.message, b.message)
    assert math.isclose(a.value, b.value, rel_tol=rel, abs_tol=1e-12)
    for x, y in zip(a.ci, b.ci, strict=True):
        assert math.isclose(x, y, rel_tol=rel, abs_tol=1e-12)
    assert a.n == b.n


@pytest.mark.parametrize("metric,true,pred,bound", [
    ("accuracy", "y", "cand", 0.6), ("recall", "y", "cand", 0.5),
    ("f1_macro", "multi", "mpred", 0.3), ("matthews_corrcoef", "y", "cand", 0.2),
    ("balanced_accuracy", "y", "cand", 0.6), ("roc_auc", "y", "sc", 0.7)])
def test_classification_metrics_equal_in_memory(scored, metric, true, pred, bound):
    frame, path = scored
    memory = mlqa.check_metric(frame[true], frame[pred], metric, min=bound)
    engine = mlqa.check_metric(true, pred, metric, min=bound, data=path)
    same(memory, engine)
    assert engine.ci_method == memory.ci_method and engine.details["engine"] == "duckdb"


@pytest.mark.parametrize("metric", ["mean_absolute_error", "mean_squared_error",
                                    "root_mean_squared_error"])
def test_losses_value_equal_and_normal_interval_close_to_bootstrap(scored, metric):
    frame, path = scored
    memory = mlqa.check_metric(frame["yr"], frame["pr"], metric, max=1.0)
    engine = mlqa.check_metric("yr", "pr", metric, max=1.0, data=duckdb.read_parquet(path))
    assert math.isclose(memory.value, engine.value, rel_tol=1e-9)
    assert engine.ci_method == "influence"
    # a normal interval on the mean and the bootstrap percentile interval agree at n=20000
    assert engine.ci[0] == pytest.approx(memory.ci[0], rel=0.01)
    assert engine.ci[1] == pytest.approx(memory.ci[1], rel=0.01)


@pytest.mark.parametrize("metric,cand,base,kw", [
    ("accuracy", "cand", "base", {}), ("accuracy", "cand", "base", {"relative": True}),
    ("f1", "cand", "base", {}), ("roc_auc", "sc", "sb", {}),
    ("roc_auc", "sc", "sb", {"relative": True})])
def test_paired_regression_equals_in_memory(scored, metric, cand, base, kw):
    frame, path = scored
    memory = mlqa.check_regression(frame["y"], frame[cand], frame[base], metric,
                                   max_drop=0.01, **kw)
    engine = mlqa.check_regression("y", cand, base, metric, max_drop=0.01, data=path, **kw)
    same(memory, engine)
    assert engine.test == memory.test
    assert engine.negative_flip_rate == memory.negative_flip_rate


def test_paired_loss_difference_interval(scored):
    frame, path = scored
    memory = mlqa.check_regression(frame["yr"], frame["pr"], frame["pb"], "mean_squared_error",
                                   max_drop=0.01)
    engine = mlqa.check_regression("yr", "pr", "pb", "mean_squared_error", max_drop=0.01,
                                   data=path)
    assert math.isclose(memory.value, engine.value, rel_tol=1e-9)
    assert engine.test == "paired_normal"
    assert engine.ci[0] == pytest.approx(memory.ci[0], abs=0.003)
    assert engine.ci[1] == pytest.approx(memory.ci[1], abs=0.003)


def test_engine_metric_refusals(scored):
    _, path = scored
    with pytest.raises(mlqa.InputError, match="not available on an engine"):
        mlqa.check_metric("yr", "pr", "r2", min=0.1, data=path)
    with pytest.raises(mlqa.InputError, match="rows in memory"):
        mlqa.check_metric("y", "cand", "accuracy", min=0.1, data=path, slices=[0, 1])
    with pytest.raises(mlqa.InputError, match="lacks the columns"):
        mlqa.check_metric("y", "nope", "accuracy", min=0.1, data=path)


def _two_positives(n: int = 300) -> pd.DataFrame:
    """A class with 2 rows: too few for any interval (intervals.too_few_rows)."""
    r = np.random.default_rng(3)
    y = np.zeros(n, dtype=int)
    y[:2] = 1
    score = np.round(r.normal(0, 1, n) + 1.5 * y, 2)
    return pd.DataFrame({"y": y, "pred": (score > 0.5).astype(int), "score": score,
                         "proba": 1 / (1 + np.exp(-score))})


@pytest.mark.parametrize("metric,pred,bound", [
    ("recall", "pred", {"min": 0.3}), ("f1", "pred", {"min": 0.1}),
    ("balanced_accuracy", "pred", {"min": 0.6}), ("roc_auc", "score", {"min": 0.6}),
    ("log_loss", "proba", {"max": 0.9})])
def test_too_few_rows_of_a_class_is_the_same_inconclusive_on_duckdb(metric, pred, bound):
    frame = _two_positives()
    memory = mlqa.check_metric(frame["y"], frame[pred], metric, **bound)
    engine = mlqa.check_metric("y", pred, metric, data=duckdb.from_df(frame), **bound)
    assert memory.outcome is engine.outcome is mlqa.Outcome.INCONCLUSIVE
    assert "only 2 row(s) of a class" in engine.details["reason"]
    assert engine.details["reason"] == memory.details["reason"]
    assert math.isclose(engine.value, memory.value, rel_tol=1e-9)
    assert engine.ci is None
    if engine.ci_method == memory.ci_method:  # log loss: normal on engines, BCa in memory
        assert engine.message == memory.message


def test_engine_auc_with_a_small_class_takes_newcombe_as_in_memory():
    frame = _two_positives()
    frame.loc[:29, "y"] = 1  # 30 positives: Newcombe's interval, not DeLong's
    memory = mlqa.check_metric(frame["y"], frame["score"], "roc_auc", min=0.7)
    engine = mlqa.check_metric("y", "score", "roc_auc", min=0.7, data=duckdb.from_df(frame))
    assert engine.ci_method == memory.ci_method == "newcombe"
    same(memory, engine)



@pytest.mark.parametrize("metric", ["root_mean_squared_error", "mean_absolute_error"])
def test_heavy_tailed_loss_is_the_same_inconclusive_on_duckdb(metric):
    r = np.random.default_rng(5)
    y = r.normal(0, 3, 2000)
    frame = pd.DataFrame({"y": y, "p": y + r.standard_t(2, 2000)})  # no finite variance
    memory = mlqa.check_metric(frame["y"], frame["p"], metric, max=5.0)
    engine = mlqa.check_metric("y", "p", metric, max=5.0, data=duckdb.from_df(frame))
    assert memory.outcome is engine.outcome is mlqa.Outcome.INCONCLUSIVE
    assert "tail index" in engine.details["reason"]
    assert engine.details["reason"] == memory.details["reason"]
    for key in ("tail_share", "tail_index", "spread_ratio"):
        assert engine.details[key] == pytest.approx(memory.details[key], rel=1e-9)


def test_light_tailed_loss_keeps_its_normal_interval_on_duckdb():
    r = np.random.default_rng(6)
    y = r.normal(0, 3, 2000)
    frame = pd.DataFrame({"y": y, "p": y + r.normal(0, 1, 2000)})
    engine = mlqa.check_metric("y", "p", "root_mean_squared_error", max=1.2,
                               data=duckdb.from_df(frame))
    assert engine.outcome is mlqa.Outcome.PASS and engine.ci_method == "influence"
    assert engine.details["tail_index"] > 3


@pytest.mark.parametrize("metric,true,pred,bound", [
    ("accuracy", "y", "cand", {"min": 0.6}), ("f1_macro", "multi", "mpred", {"min": 0.3}),
    ("roc_auc", "y", "sc", {"min": 0.7}), ("mean_squared_error", "yr", "pr", {"max": 0.3}),
    ("log_loss", "y", "sc", {"max": 0.7})])
def test_engine_ci_method_is_a_ci_check_metric_takes_and_gives_memorys_interval(
        scored, metric, true, pred, bound):
    frame, path = scored
    engine = mlqa.check_metric(true, pred, metric, data=path, **bound)
    memory = mlqa.check_metric(frame[true], frame[pred], metric, ci=engine.ci_method, **bound)
    assert engine.ci_method == memory.ci_method
    same(memory, engine)
    again = mlqa.check_metric(true, pred, metric, data=path, ci=engine.ci_method, **bound)
    assert again.ci == engine.ci


def test_engine_refuses_an_interval_its_summary_cannot_give_naming_what_can(scored):
    _, path = scored
    with pytest.raises(mlqa.InputError, match="on an engine; applicable: influence"):
        mlqa.check_metric("yr", "pr", "mean_squared_error", max=1.0, data=path, ci="bca")
    with pytest.raises(mlqa.InputError, match="applicable: dirichlet, multinomial"):
        mlqa.check_metric("y", "cand", "f1", min=0.1, data=path, ci="wilson")


def test_max_tail_share_decides_on_the_engine_as_in_memory(scored):
    frame, path = scored
    memory = mlqa.check_metric(frame["yr"], frame["pr"], "mean_absolute_error", max=1.0,
                               ci="influence", max_tail_share=0.01)
    engine = mlqa.check_metric("yr", "pr", "mean_absolute_error", max=1.0, data=path,
                               max_tail_share=0.01)
    assert engine.outcome is memory.outcome is mlqa.Outcome.INCONCLUSIVE
    assert engine.details["reason"] == memory.details["reason"]
    assert "max_tail_share 1%" in engine.message


def test_string_labels_on_the_engine_equal_memory():
    r = np.random.default_rng(11)
    y = r.choice(["cat", "dog"], 500)
    pred = np.where(r.random(500) < 0.8, y, np.where(y == "cat", "dog", "cat"))
    frame = pd.DataFrame({"y": y, "p": pred})
    for metric in ("balanced_accuracy", "matthews_corrcoef", "accuracy"):
        memory = mlqa.check_metric(frame["y"], frame["p"], metric, min=0.5)
        engine = mlqa.check_metric("y", "p", metric, min=0.5, data=duckdb.from_df(frame))
        same(memory, engine)
        assert engine.ci_method == memory.ci_method


def test_regression_undefined_for_a_model_is_the_same_error_on_the_engine():
    r = np.random.default_rng(12)
    frame = pd.DataFrame({"y": np.zeros(200, dtype=int), "c": r.integers(0, 2, 200),
                          "b": r.integers(0, 2, 200)})
    memory = mlqa.check_regression(frame["y"], frame["c"], frame["b"], "f1", max_drop=0.05)
    engine = mlqa.check_regression("y", "c", "b", "f1", max_drop=0.05,
                                   data=duckdb.from_df(frame))
    assert engine.outcome is memory.outcome is mlqa.Outcome.ERROR
    assert engine.message == memory.message
    assert engine.details["undefined"] == memory.details["undefined"]


def test_a_loss_bootstrap_asked_for_on_the_engine_is_refused(scored):
    _, path = scored
    with pytest.raises(mlqa.InputError, match="needs the rows in memory"):
        mlqa.check_regression("yr", "pr", "pb", "mean_squared_error", max_drop=0.01,
                              data=path, test="bootstrap")


def test_string_labels_in_a_paired_bootstrap_name_what_the_engine_lacks():
    r = np.random.default_rng(13)
    y = r.choice(["cat", "dog"], 300)
    frame = pd.DataFrame({"y": y, "c": np.where(r.random(300) < 0.8, y, "cat"),
                          "b": np.where(r.random(300) < 0.7, y, "dog")})
    memory = mlqa.check_regression(frame["y"], frame["c"], frame["b"], "balanced_accuracy",
                                   max_drop=0.05)
    assert memory.test == "paired_bootstrap"  # rows resampled in memory
    with pytest.raises(mlqa.InputError, match="needs the rows in memory"):
        mlqa.check_regression("y", "c", "b", "balanced_accuracy", max_drop=0.05,
                              data=duckdb.from_df(frame))
    # accuracy's McNemar table needs no label 1: equal to memory
    same(mlqa.check_regression(frame["y"], frame["c"], frame["b"], "accuracy", max_drop=0.05),
         mlqa.check_regression("y", "c", "b", "accuracy", max_drop=0.05,
                               data=duckdb.from_df(frame)))
