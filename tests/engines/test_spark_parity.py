"""The same checks on a real local[2] Spark session equal the in-memory path to 1e-9.

One session for the module (the conftest's), few queries per test: Spark answers each
summary query in a fraction of a second, so the tests pick the paths, not every test name.
"""

from __future__ import annotations

import pytest

import mlqa
from mlqa.engines import drift as engine_drift
from tests.engines.conftest import assert_same_drift, drift_frame

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def frames(spark):
    ref, cur = drift_frame(600, 0.0, 11), drift_frame(700, 0.08, 12)
    return ref, cur, spark.createDataFrame(ref).cache(), spark.createDataFrame(cur).cache()


def test_evidently_defaults_on_spark_equal_in_memory(frames):
    ref, cur, sref, scur = frames
    columns = ["x", "few", "s", "flag"]
    engine = mlqa.check_drift(sref, scur, columns, tests="evidently")
    assert engine.details["engine"] == "spark"
    assert_same_drift(mlqa.check_drift(ref, cur, columns, tests="evidently"), engine)


def test_sums_and_bins_on_spark_equal_in_memory(frames, monkeypatch):
    """Forced through the engine-side pooled order and the two-pass bins."""
    monkeypatch.setattr(engine_drift, "SMALL_ROWS", 0)
    ref, cur, sref, scur = frames
    tests = {"x": "ks", "tied": "mannw", "skew": "psi", "big": "anderson", "few": "hellinger",
             "s": "chisquare"}
    assert_same_drift(mlqa.check_drift(ref, cur, list(tests), tests=tests),
                      mlqa.check_drift(sref, scur, list(tests), tests=tests))


def test_metric_and_regression_on_spark(spark, frames):
    ref, _, sref, _ = frames
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
