"""The same checks on a real local[2] Spark session equal the in-memory path to 1e-9.

One test function on purpose: under pytest-xdist (``-n 2``) separate tests may land on both
workers and each would start its own JVM; one function keeps it to one session per run. Spark
answers each summary query in a fraction of a second on an idle machine, so the sections pick
the paths (fetched pooled order, engine-side sums, two-pass bins, counts, cells, placements),
not every test name (the DuckDB tests run the same SQL for each).
"""

from __future__ import annotations

import pytest

import mlqa
from mlqa.drift import summarised as engine_drift
from tests.engines.conftest import assert_same_drift, drift_frame

pytestmark = pytest.mark.spark


def test_spark_engine_equals_in_memory(spark, monkeypatch):
    ref, cur = drift_frame(600, 0.0, 11), drift_frame(700, 0.08, 12)
    sref, scur = spark.createDataFrame(ref).cache(), spark.createDataFrame(cur).cache()

    # evidently's defaults: small columns fetch the pooled order, categories are counted
    columns = ["x", "few", "s", "flag"]
    engine = mlqa.check_drift(sref, scur, columns, tests="evidently")
    assert engine.details["engine"] == "spark"
    assert_same_drift(mlqa.check_drift(ref, cur, columns, tests="evidently"), engine)

    # forced through the engine-side pooled-order sums and the two-pass bins; the pooled
    # order of "x" by GROUP BY value, of the others (ties included) by one sort of the rows
    from mlqa.engines import sql

    real, plans = sql.pooled_sums_many, {}

    def by_column(engine, ref_t, cur_t, columns, chosen):
        # every numerical column in one job per plan (Spark batches them)
        plans.update({c: "grouped" if c == "x" else "rows" for c in columns})
        return real(engine, ref_t, cur_t, columns, plans)

    monkeypatch.setattr(engine_drift, "SMALL_ROWS", 0)
    monkeypatch.setattr(sql, "pooled_sums_many", by_column)
    tests = {"x": "ks", "tied": "mannw", "skew": "psi", "few": "hellinger", "s": "chisquare"}
    assert_same_drift(mlqa.check_drift(ref, cur, list(tests), tests=tests),
                      mlqa.check_drift(sref, scur, list(tests), tests=tests))
    assert plans == {"x": "grouped", "tied": "rows", "skew": "rows", "few": "rows"}

    # metrics from cells and placements, the paired regression from McNemar's table
    frame = ref.assign(y=ref["flag"].astype(int), p=(ref["big"] > 500).astype(int),
                       q=(ref["big"] > 450).astype(int), score=ref["big"] / 1000.0)
    df = spark.createDataFrame(frame[["y", "p", "q", "score"]])
    for metric, pred in (("accuracy", "p"), ("roc_auc", "score")):
        memory = mlqa.check_metric(frame["y"], frame[pred], metric, min=0.4)
        engine = mlqa.check_metric("y", pred, metric, min=0.4, data=df)
        assert engine.value == pytest.approx(memory.value, rel=1e-9)
        assert engine.ci == pytest.approx(memory.ci, rel=1e-9)
    memory = mlqa.check_regression(frame["y"], frame["p"], frame["q"], "accuracy", max_drop=0.02)
    engine = mlqa.check_regression("y", "p", "q", "accuracy", max_drop=0.02, data=df)
    assert engine.value == pytest.approx(memory.value, rel=1e-9)
    assert engine.ci == pytest.approx(memory.ci, rel=1e-9)
    assert engine.outcome == memory.outcome

    # a class with 2 rows: the in-memory "too few rows" INCONCLUSIVE, from the cells' sums
    thin = frame.assign(y=0, p=0)
    thin.loc[thin.index[:2], ["y", "p"]] = 1
    memory = mlqa.check_metric(thin["y"], thin["p"], "f1", min=0.5)
    engine = mlqa.check_metric("y", "p", "f1", min=0.5, data=spark.createDataFrame(thin))
    assert engine.outcome is memory.outcome is mlqa.Outcome.INCONCLUSIVE
    assert engine.message == memory.message and "only 2 row(s)" in engine.message

    # a heavy-tailed loss: the in-memory tail rule from the largest rows and the moments
    heavy = frame.assign(yr=ref["big"] / 100.0,
                         pr=ref["big"] / 100.0 + ref["skew"] ** 2)[["yr", "pr"]]
    memory = mlqa.check_metric(heavy["yr"], heavy["pr"], "mean_squared_error", max=5.0)
    engine = mlqa.check_metric("yr", "pr", "mean_squared_error", max=5.0,
                               data=spark.createDataFrame(heavy))
    assert engine.outcome is memory.outcome is mlqa.Outcome.INCONCLUSIVE
    assert engine.details["reason"] == memory.details["reason"]
