"""check_disparity on an engine equals the in-memory check: the per-group confusion cells are
counted by one GROUP BY where the data lives (DuckDB on Parquet and relations, local[2]
Spark), and the family decides from them with the same code."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.engines import metrics as summaries
from mlqa.engines.duckdb import DuckDBEngine
from mlqa.fairness.cells import memory_cells


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    rng = np.random.default_rng(11)
    n = 3000
    region = rng.choice(["north", "south", "east"], n, p=[0.6, 0.3, 0.1]).astype(object)
    region[rng.random(n) < 0.02] = None  # missing groups are their own group
    y = rng.integers(0, 2, n)
    p = np.where(y == 1, rng.random(n) < 0.8, rng.random(n) < 0.15).astype(int)
    score = np.round(rng.normal(y * 1.2, 1), 2)  # ties within and across groups
    frame = pd.DataFrame({"y": y, "p": p, "region": region, "k": rng.integers(0, 3, n),
                          "s": score})
    path = tmp_path_factory.mktemp("grouped") / "eval.parquet"
    frame.to_parquet(path)
    return frame, str(path)


CASES = [("recall", {"max_difference": 0.1}, "overall"),
         ("roc_auc", {"max_difference": 0.1}, "north"),
         ("equalized_odds", {"max_difference": 0.1}, "best"),
         ("selection_rate", {"min_ratio": 0.8}, "north")]


def test_grouped_cells_equal_the_in_memory_count(grouped):
    frame, path = grouped
    engine = DuckDBEngine.for_data([path])
    table = engine.table(path, "data")
    values, labels, cells = summaries.grouped_confusion_cells(engine, table, "region",
                                                              ["y", "p"])
    memory = memory_cells(frame["y"], frame["p"], frame["region"])
    assert values == ["east", "north", "south", None]
    assert memory.groups == ("east", "north", "south", "<missing>")
    assert labels.tolist() == memory.labels.tolist()
    assert np.array_equal(cells, memory.cells) and cells.sum() == len(frame)


@pytest.mark.parametrize("metric,requirement,reference", CASES)
def test_duckdb_equals_memory(grouped, metric, requirement, reference):
    frame, path = grouped
    pred = "s" if metric == "roc_auc" else "p"
    memory = mlqa.check_disparity(frame["y"], frame[pred], frame["region"], metric=metric,
                                  reference=reference, **requirement)
    for data in (path, duckdb.read_parquet(path)):
        engine = mlqa.check_disparity("y", pred, "region", data=data, metric=metric,
                                      reference=reference, **requirement)
        assert engine.details["engine"] == "duckdb"
        same(engine, memory)


def test_engine_refuses_what_needs_rows_and_names_missing_columns(grouped):
    _, path = grouped
    with pytest.raises(mlqa.InputError, match="groups="):
        mlqa.check_disparity("y", "p", "nope", data=path, max_difference=0.1)
    with pytest.raises(mlqa.InputError, match="groups names a column"):
        mlqa.check_disparity("y", "p", np.zeros(3), data=path, max_difference=0.1)


def same(engine, memory):
    """Equal pairs and groups: counts exactly, AUC figures to 1e-9 (summed placements)."""
    assert engine.outcome == memory.outcome and list(engine.pairs) == list(memory.pairs)
    for name, a in memory.pairs.items():
        b = engine.pairs[name]
        assert a.outcome == b.outcome and a.n == b.n, name
        assert b.value == pytest.approx(a.value, abs=1e-9)
        assert b.ci == pytest.approx(a.ci, abs=1e-9)
    for a, b in zip(memory.groups, engine.groups, strict=True):
        assert (a.group, a.rate, a.rows, a.k, a.n) == (b.group, b.rate, b.rows, b.k, b.n)
        assert b.value == pytest.approx(a.value, abs=1e-9)
        assert b.ci == pytest.approx(a.ci, abs=1e-9)


@pytest.mark.spark
@pytest.mark.parametrize("metric,requirement,reference", CASES[:3])
def test_spark_equals_memory(grouped, spark, metric, requirement, reference):
    frame, _ = grouped
    pred = "s" if metric == "roc_auc" else "p"
    memory = mlqa.check_disparity(frame["y"], frame[pred], frame["region"], metric=metric,
                                  reference=reference, **requirement)
    sdf = spark.createDataFrame(frame.astype({"region": object}).where(frame.notna(), None))
    engine = mlqa.check_disparity("y", pred, "region", data=sdf, metric=metric,
                                  reference=reference, **requirement)
    assert engine.details["engine"] == "spark"
    same(engine, memory)
