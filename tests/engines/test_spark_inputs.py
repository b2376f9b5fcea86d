"""The input rules, the path rule and the failure translation on a real local[2] Spark
session (the DuckDB side of each is in test_engine_inputs.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import mlqa
from tests.engines.test_engine_inputs import BAD_VALUES, _bad_inputs

pytestmark = pytest.mark.spark


def test_spark_refuses_bad_values_reads_paths_as_themselves_and_names_failures(
        spark, tmp_path):
    # bad values: the same InputError as in memory and on DuckDB
    for case in ("log_loss", "roc_auc"):
        frame, metric, requirement, _ = _bad_inputs()[case]
        with pytest.raises(mlqa.InputError, match=BAD_VALUES):
            mlqa.check_metric("y", "p", metric, data=spark.createDataFrame(frame),
                              **requirement)
    frame, metric, requirement, named = _bad_inputs()["brier_score"]
    with pytest.raises(mlqa.InputError, match=named):
        mlqa.check_metric("y", "p", metric, data=spark.createDataFrame(frame), **requirement)

    # a folder cur[1] (drifted by 3 sd) beside cur1: Spark reads cur[1] itself
    r = np.random.default_rng(10)
    ref = spark.createDataFrame(pd.DataFrame({"x": r.normal(0, 1, 1500)}))
    for name, shift in (("cur[1]", 3.0), ("cur1", 0.0)):
        (tmp_path / name).mkdir()
        pd.DataFrame({"x": r.normal(shift, 1, 1500)}).to_parquet(
            tmp_path / name / "part-0.parquet")
    from mlqa.engines.spark import SparkEngine

    engine = SparkEngine(spark)
    table = engine.table(str(tmp_path / "cur[1]"), "current")
    low = engine.one(f"SELECT AVG(x) FROM {table.source}")[0]
    assert low > 2.5  # the drifted folder's rows, not cur1's
    # and judged drifted against the reference, on Spark
    current = spark.sql(f"SELECT * FROM {table.source}")
    assert mlqa.check_drift(ref, current, ["x"]).columns["x"].drifted is True

    # a query that fails in the JVM: an InputError naming the engine and the stage
    failing = spark.createDataFrame(pd.DataFrame({"y": [0, 1] * 50})).selectExpr(
        "y", "CAST(IF(y >= 0, raise_error('disk on fire'), 0.5) AS DOUBLE) AS p")
    with pytest.raises(mlqa.InputError) as failed:
        mlqa.check_metric("y", "p", "roc_auc", min=0.5, data=failing)
    assert str(failed.value).startswith(
        "spark could not run mlqa's query during check_metric 'roc_auc' on 'y'/'p'")
    assert "disk on fire" in str(failed.value)


def test_a_failure_in_the_batched_pooled_order_is_an_input_error(spark, monkeypatch):
    """Spark sums every numerical column's pooled order in one job: a Spark error there (its
    view gone: Spark's own AnalysisException) is an InputError naming the engine and that
    stage, like any other query's."""
    from mlqa.drift import summarised
    from mlqa.engines import sql

    real = sql.pooled_sums_many

    def view_gone(engine, ref, cur, columns, plans):
        spark.catalog.dropTempView(ref.source)
        return real(engine, ref, cur, columns, plans)

    monkeypatch.setattr(summarised, "SMALL_ROWS", 0)
    monkeypatch.setattr(sql, "pooled_sums_many", view_gone)
    r = np.random.default_rng(11)
    frame = pd.DataFrame({"a": r.normal(0, 1, 400), "b": r.normal(0, 1, 400)})
    with pytest.raises(mlqa.InputError) as failed:
        mlqa.check_drift(spark.createDataFrame(frame), spark.createDataFrame(frame))
    assert str(failed.value).startswith(
        "spark could not run mlqa's query during check_drift pooled order of 2 numerical "
        "columns (one query per plan)")


_LOST_SESSION = r"""
import json, os, signal, pandas as pd, mlqa
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .getOrCreate())
spark.sparkContext.setLogLevel("OFF")
frame = pd.DataFrame({"y": [0, 1] * 50, "p": [0.2, 0.8] * 50})
out = {}
stopped = spark.createDataFrame(frame)
spark.stop()
try:
    mlqa.check_metric("y", "p", "roc_auc", min=0.5, data=stopped)
except Exception as exc:
    out["stopped"] = [type(exc).__name__, str(exc)]
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .getOrCreate())
killed = spark.createDataFrame(frame)
killed.count()
spark.sparkContext._gateway.proc.kill()  # the JVM dies, as it does out of memory
spark.sparkContext._gateway.proc.wait()
try:
    mlqa.check_metric("y", "p", "roc_auc", min=0.5, data=killed)
except Exception as exc:
    out["killed"] = [type(exc).__name__, str(exc)]
print("RESULT " + json.dumps(out))
"""


def test_a_stopped_or_dead_spark_session_is_an_input_error_not_a_traceback(tmp_path):
    pytest.importorskip("pyspark")
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    done = subprocess.run([sys.executable, "-c", _LOST_SESSION], capture_output=True,
                          text=True, timeout=300, env=env, cwd=tmp_path)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    assert line, done.stderr[-3000:]
    out = json.loads(line[0][len("RESULT "):])
    kind, message = out["stopped"]
    assert kind == "InputError" and "Spark session of these DataFrames is stopped" in message
    kind, message = out["killed"]
    assert kind == "InputError", message
    assert message.startswith("spark: the Spark session is gone during check_metric 'roc_auc'")
    assert "spark.driver.memory" in message
