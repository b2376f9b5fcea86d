"""A drift test added the documented way (one registry entry: the function on the rows and,
for an engine, its formula on the summary it declares) gives the same result in memory, on
DuckDB (fetched pooled order at 5,000 rows, engine-side sums at 30,000) and on a real local[2]
Spark session. The worked example of docs/scale.md: Kuiper's V = max(F - G) + max(G - F)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.drift import summarised
from mlqa.drift.stattests import REGISTRY
from mlqa.drift.stattests.registry import NUMERICAL, POOLED_SUMS, register


@pytest.fixture
def kuiper():
    from mlqa.drift.stattests.numerical import pooled_order

    def kuiper_from_sums(s):  # s.sums: the engine's pooled-order sums (PooledSums)
        return s.sums.diff_max + max(-s.sums.diff_min, 0.0), None

    @register("kuiper", "Kuiper's V", (NUMERICAL,), p_value=False, threshold=0.1,
              summary=POOLED_SUMS, from_summary=kuiper_from_sums)
    def kuiper(ref, cur):
        gap = pooled_order(ref, cur).ecdf_gap  # F - G at every pooled value
        return float(gap.max()) + max(-float(gap.min()), 0.0), None

    yield "kuiper"
    REGISTRY.pop("kuiper", None)


def _sides(n: int, shift: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    r = np.random.default_rng(seed)
    return (pd.DataFrame({"x": r.normal(0, 1, n), "t": r.integers(0, 40, n) * 0.5}),
            pd.DataFrame({"x": r.normal(shift, 1, n), "t": r.integers(0, 40, n) * 0.5}))


def _same(memory, engine) -> None:
    for c in ("x", "t"):
        a, b = memory.columns[c], engine.columns[c]
        assert b.test == a.test == "kuiper"
        assert b.statistic == pytest.approx(a.statistic, rel=1e-12, abs=1e-15)
        assert b.drifted is a.drifted
    assert engine.outcome == memory.outcome


@pytest.mark.parametrize("n", [5000, 30000])
def test_a_registered_pooled_sums_test_runs_the_same_in_memory_and_on_duckdb(kuiper, tmp_path,
                                                                             n):
    ref, cur = _sides(n, 0.3, 7)
    tests = {"x": kuiper, "t": kuiper}
    memory = mlqa.check_drift(ref, cur, ["x", "t"], tests=tests)
    # a real decision both ways: x moved by 0.3 sd, t (ties on 40 values) did not
    assert memory.columns["x"].drifted is True and memory.columns["t"].drifted is False
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    engine = mlqa.check_drift(str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet"),
                              ["x", "t"], tests=tests)
    assert engine.details["engine"] == "duckdb"
    _same(memory, engine)


@pytest.mark.spark
def test_a_registered_pooled_sums_test_runs_the_same_on_spark(kuiper, spark, monkeypatch):
    ref, cur = _sides(3000, 0.3, 8)
    tests = {"x": kuiper, "t": kuiper}
    memory = mlqa.check_drift(ref, cur, ["x", "t"], tests=tests)
    monkeypatch.setattr(summarised, "SMALL_ROWS", 0)  # the engine-side sums, not a fetch
    engine = mlqa.check_drift(spark.createDataFrame(ref), spark.createDataFrame(cur),
                              ["x", "t"], tests=tests)
    assert engine.details["engine"] == "spark"
    _same(memory, engine)


def test_an_engine_summary_is_declared_with_its_formula():
    with pytest.raises(mlqa.InputError, match="'v2': summary='pooled_sums' needs from_summary="):
        register("v2", "v2", (NUMERICAL,), p_value=False, threshold=0.1, summary=POOLED_SUMS)
    with pytest.raises(mlqa.InputError, match="from_summary= is for summary='pooled_sums'"):
        register("v2", "v2", (NUMERICAL,), p_value=False, threshold=0.1,
                 from_summary=lambda s: (0.0, None))
    assert "v2" not in REGISTRY
    # every built-in engine-summary test carries its formula; none is looked up by name
    from mlqa.drift.stattests import get
    from mlqa.drift.stattests.registry import FINISHED

    get("ks")  # loads the catalogue
    finished = sorted(t.name for t in REGISTRY.values() if t.summary in FINISHED)
    assert finished == ["anderson", "anderson_asymptotic", "cramer_von_mises", "ed", "ks",
                        "mannw", "t_test", "wasserstein"]
    assert all(REGISTRY[t].from_summary is not None for t in finished)
