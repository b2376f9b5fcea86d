"""check_drift on DuckDB (Parquet paths, globs, folders, relations) equals the in-memory
path to 1e-9, column by column, on the same data."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

import mlqa
from mlqa.drift import summarised as engine_drift
from tests.engines.conftest import assert_same_drift, drift_frame

ALL_NUMERICAL = ["ks", "wasserstein", "ed", "mannw", "anderson", "cramer_von_mises", "t_test",
                 "psi", "kl_div", "jensenshannon", "hellinger"]


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drift")
    out = {}
    for n, tag in ((1500, "small"), (13000, "large")):
        ref, cur = drift_frame(n, 0.0, 1), drift_frame(int(n * 1.3), 0.08, 2)
        ref.to_parquet(folder / f"{tag}_ref.parquet")
        # the current side split over two files of a folder: read as one table
        (folder / f"{tag}_cur").mkdir()
        half = len(cur) // 2
        cur.iloc[:half].to_parquet(folder / f"{tag}_cur" / "part-0.parquet")
        cur.iloc[half:].to_parquet(folder / f"{tag}_cur" / "part-1.parquet")
        out[tag] = (ref, cur, str(folder / f"{tag}_ref.parquet"), str(folder / f"{tag}_cur"))
    return out


@pytest.mark.parametrize("tag", ["small", "large"])
@pytest.mark.parametrize("tests", ["auto", "evidently"])
def test_default_modes_equal_in_memory(sides, tag, tests):
    ref, cur, ref_path, cur_path = sides[tag]
    memory = mlqa.check_drift(ref, cur, tests=tests)
    engine = mlqa.check_drift(ref_path, cur_path, tests=tests)
    assert engine.details["engine"] == "duckdb"
    assert_same_drift(memory, engine)


@pytest.mark.parametrize("test", ALL_NUMERICAL)
def test_every_numerical_test_from_sums_equals_in_memory(sides, test):
    """The large sides (33 900 values) go through the pooled-order sums, not the fetched
    values: this is the path a 50M-row table takes."""
    ref, cur, ref_path, cur_path = sides["large"]
    tests = {c: test for c in ("x", "tied", "skew", "big")}
    memory = mlqa.check_drift(ref, cur, ["x", "tied", "skew", "big"], tests=tests)
    engine = mlqa.check_drift(ref_path, cur_path, ["x", "tied", "skew", "big"], tests=tests)
    assert_same_drift(memory, engine)


@pytest.mark.parametrize("test", ["chisquare", "g_test", "z", "TVD", "chi2_homogeneity", "psi",
                                  "kl_div", "jensenshannon", "hellinger"])
def test_categorical_tests_from_counts_equal_in_memory(sides, test):
    ref, cur, ref_path, cur_path = sides["large"]
    columns = ["s", "k"] if test != "z" else ["flag"]
    tests = {c: test for c in columns}
    memory = mlqa.check_drift(ref, cur, columns, tests=tests)
    engine = mlqa.check_drift(ref_path, cur_path, columns, tests=tests)
    assert_same_drift(memory, engine)


def test_sums_path_forced_on_small_data_still_equals(sides, monkeypatch):
    """With the fetch threshold at 0 every column takes the engine-side sums."""
    monkeypatch.setattr(engine_drift, "SMALL_ROWS", 0)
    ref, cur, ref_path, cur_path = sides["large"]
    tests = {"x": "ks", "tied": "mannw", "skew": "cramer_von_mises", "big": "anderson"}
    assert_same_drift(mlqa.check_drift(ref, cur, list(tests), tests=tests),
                      mlqa.check_drift(ref_path, cur_path, list(tests), tests=tests))


def test_duckdb_relations_and_globs(sides, tmp_path):
    ref, cur, ref_path, cur_path = sides["small"]
    con = duckdb.connect()
    rel_ref = con.read_parquet(ref_path)
    rel_cur = con.read_parquet(cur_path + "/*.parquet")
    memory = mlqa.check_drift(ref, cur)
    assert_same_drift(memory, mlqa.check_drift(rel_ref, rel_cur))
    assert_same_drift(memory, mlqa.check_drift(ref_path, cur_path + "/part-*.parquet"))


def test_in_memory_only_tests_are_refused_up_front(sides):
    _, _, ref_path, cur_path = sides["large"]
    with pytest.raises(mlqa.InputError, match="'empirical_mmd' cannot run on the duckdb"):
        mlqa.check_drift(ref_path, cur_path, ["x", "tied"],
                         tests={"x": "empirical_mmd", "tied": "ks"})


def test_bad_inputs_name_the_problem(sides, tmp_path):
    _, _, ref_path, cur_path = sides["small"]
    with pytest.raises(mlqa.InputError, match="lacks the columns"):
        mlqa.check_drift(ref_path, cur_path, ["nope"])
    # a single Parquet file beside in-memory data is read into memory, as before engines
    with pytest.raises(mlqa.InputError, match="different columns"):
        mlqa.check_drift(ref_path, pd.DataFrame({"x": [1.0]}))
    import duckdb

    with pytest.raises(mlqa.InputError, match="in memory"):
        mlqa.check_drift(duckdb.read_parquet(ref_path), pd.DataFrame({"x": [1.0]}))
    with pytest.raises(mlqa.InputError, match="html="):
        mlqa.check_drift(ref_path, cur_path, html=str(tmp_path / "r.html"))
    with pytest.raises(mlqa.InputError):
        mlqa.check_drift(str(tmp_path / "missing" / "*.parquet"), cur_path)


def test_row_plan_on_every_column_equals_in_memory(sides, monkeypatch):
    """Every column through the row plan (the HyperLogLog share forced; by default the tied
    and integer columns take GROUP BY): one sort of rows with heavy ties, NaN/inf and skew;
    each rank statistic, the Wasserstein effect and its bound (auto mode, drifted columns)
    equal the in-memory figures. (GROUP BY on continuous values: the fallback test below.)"""
    monkeypatch.setattr(engine_drift, "ROWS_PLAN_SHARE", -1.0)
    monkeypatch.setattr(engine_drift, "SMALL_ROWS", 0)
    ref, cur, ref_path, cur_path = sides["large"]
    columns = ["x", "tied", "skew", "big", "few"]
    for tests in ({"x": "ks", "tied": "mannw", "skew": "cramer_von_mises", "big": "anderson",
                   "few": "ed"}, "auto"):
        memory = mlqa.check_drift(ref, cur, columns, tests=tests)
        assert_same_drift(memory, mlqa.check_drift(ref_path, cur_path, columns, tests=tests))
    assert any(c.effect_low is not None for c in memory.columns.values())


def windows_on_duckdb(monkeypatch):
    """DuckDB summarises the pooled order from one streamed ORDER BY; these tests run the
    range-partitioned windows Spark takes (the same SQL) on DuckDB instead."""
    from mlqa.engines.duckdb import DuckDBEngine

    monkeypatch.setattr(DuckDBEngine, "sorted_batches", lambda self, sql: None)


@pytest.mark.parametrize("plan", ["rows", "grouped"])
@pytest.mark.parametrize("batch", [7, 1000, 1 << 20])
def test_streamed_pooled_sums_equal_the_windows(sides, monkeypatch, plan, batch):
    """DuckDB's pooled order from one ORDER BY read back batch by batch equals the
    range-partitioned windows (Spark's SQL, run on DuckDB) field by field, whatever the batch
    size: ties that run across batches (7 rows per batch: every tie group of the discrete
    columns does) are held back and counted once."""
    import dataclasses

    from mlqa.engines import ranges, sql, streamed
    from mlqa.engines.duckdb import DuckDBEngine

    _, _, ref_path, cur_path = sides["large"]
    engine = DuckDBEngine.for_data([ref_path, cur_path])
    ref, cur = engine.table(ref_path, "reference"), engine.table(cur_path, "current")
    monkeypatch.setattr(streamed, "BATCH_ROWS", batch)
    for column in ("x", "tied", "skew", "few", "big"):
        n_ref, n_cur = (int(engine.one(f"SELECT COUNT(*) FROM {t.source} WHERE "
                                       f"{sql.finite(engine, t, column)}")[0])
                        for t in (ref, cur))
        got = sql._streamed(engine, ref, cur, column, ranges.Pooled(n_ref, n_cur), plan)
        with monkeypatch.context() as m:
            m.setattr(DuckDBEngine, "sorted_batches", lambda self, q: None)
            want = sql.pooled_sums(engine, ref, cur, column, n_ref, n_cur, plan)
        assert got is not None
        for f in dataclasses.fields(want):
            a, b = getattr(got, f.name), getattr(want, f.name)
            assert a == pytest.approx(b, rel=1e-9, abs=1e-12), (column, f.name)


def test_a_stream_out_of_order_is_refused_not_summed():
    """Sums over a stream that is not ascending would be wrong figures: refused."""
    import numpy as np

    from mlqa.engines import streamed

    def batches(*values):
        for v in values:
            a = np.array(v, dtype=float)
            yield a, np.ones_like(a), np.zeros_like(a)

    assert [c[0].tolist() for c in streamed.distinct_chunks(batches([1, 2, 2], [2, 3]))] == \
        [[1.0], [2.0], [3.0]]
    assert [c[1].tolist() for c in streamed.distinct_chunks(batches([1, 2, 2], [2, 3]))] == \
        [[1.0], [3.0], [1.0]]
    with pytest.raises(RuntimeError, match="not in order"):
        list(streamed.distinct_chunks(batches([1, 3], [2, 4])))
    with pytest.raises(RuntimeError, match="not in order"):
        list(streamed.distinct_chunks(batches([1, 3, 2])))


def test_the_read_ahead_thread_stops_and_hands_errors_over():
    """The reading thread never outlives its consumer: a consumer that stops while the reader
    has filled the queue and finished (or failed) ends at once, and the reader's own error is
    raised in the consumer, in order after the batches before it."""
    import threading
    import time

    import numpy as np

    from mlqa.engines import streamed

    def batches(fail_at=None):  # 3 batches, then the end (or the reader's error)
        for i in range(4):
            if i == 3 and fail_at is None:
                return
            if i == fail_at:
                raise ValueError("reader failed at batch 3")
            yield (np.full(4, float(i)),)

    for fail_at in (None, 3):
        stream = streamed.prefetched(batches(fail_at), depth=2)
        assert next(stream)[0][0] == 0.0
        time.sleep(0.3)  # the reader fills the queue and waits to put its end (or error)
        t = time.perf_counter()
        stream.close()  # the consumer stops early
        assert time.perf_counter() - t < 2.0
    got = []
    with pytest.raises(ValueError, match="batch 3"):
        for (v,) in streamed.prefetched(batches(3), depth=2):
            got.append(float(v[0]))
    assert got == [0.0, 1.0, 2.0]
    assert not [t for t in threading.enumerate() if t.name == "mlqa-stream"]


def test_stopping_early_interrupts_the_engine_query_the_reader_is_in():
    """A consumer that stops (an error, Ctrl-C) while the reader is still inside the engine's
    query (a long sort before its first batch) interrupts that query instead of waiting it
    out; and DuckDB's interrupt stops a streamed sort on mlqa's connection at once."""
    import threading
    import time

    import numpy as np

    from mlqa.engines import streamed
    from mlqa.engines.duckdb import DuckDBEngine

    sorting = threading.Event()
    calls = []

    def batches():
        yield (np.zeros(2),)
        if not sorting.wait(30):  # the engine's long sort, until interrupted
            return
        raise RuntimeError("interrupted")

    stream = streamed.prefetched(batches(), interrupt=lambda: (calls.append(1), sorting.set()))
    next(stream)
    time.sleep(0.2)  # the reader is inside the sort now
    t = time.perf_counter()
    stream.close()
    assert time.perf_counter() - t < 2.0 and calls == [1]

    engine = DuckDBEngine.for_data([])
    got: list[BaseException] = []

    def read():
        try:
            list(engine.sorted_batches("SELECT x FROM range(400000000) t(x) ORDER BY x DESC"))
        except BaseException as exc:  # noqa: BLE001 - what the reader saw, asserted below
            got.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.5)
    t = time.perf_counter()
    engine.interrupt()
    reader.join(30)
    assert not reader.is_alive() and time.perf_counter() - t < 5.0
    assert len(got) == 1 and "nterrupt" in str(got[0])


def test_a_failing_streamed_query_is_an_input_error_naming_duckdb(tmp_path):
    """A query that fails while its rows stream back (here: a cast that fails on one row of
    the sorted stream) is DuckDB's error as an InputError, as every other query's is."""
    from mlqa.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine.for_data([])
    with pytest.raises(mlqa.InputError, match="duckdb"):
        list(engine.sorted_batches("SELECT CAST(CASE WHEN x = 1500000 THEN 'a' ELSE '1' END "
                                   "AS DOUBLE) AS v FROM range(2000000) t(x) ORDER BY v"))


def test_rows_plan_checks_the_order_it_streamed(sides, monkeypatch):
    """The row plan verifies in its own query that the windows saw the sorted order; fed an
    ascending stream it notices, and the column falls back to the grouped plan (same
    figures)."""
    from mlqa.engines import sql

    rows_sql, grouped_sql = sql._rows_sql, sql._grouped_sql
    calls = []

    def ascending(*args):
        calls.append("rows")
        return rows_sql(*args).replace("PARTITION BY rid ORDER BY v DESC",
                                       "PARTITION BY rid ORDER BY v")

    def grouped(*args):
        calls.append("grouped")
        return grouped_sql(*args)

    monkeypatch.setattr(sql, "_rows_sql", ascending)
    monkeypatch.setattr(sql, "_grouped_sql", grouped)
    monkeypatch.setattr(engine_drift, "ROWS_PLAN_SHARE", -1.0)
    windows_on_duckdb(monkeypatch)
    ref, cur, ref_path, cur_path = sides["large"]
    tests = {"x": "ks", "tied": "mannw"}
    engine = mlqa.check_drift(ref_path, cur_path, list(tests), tests=tests)
    assert calls == ["rows", "grouped", "rows", "grouped"]
    assert_same_drift(mlqa.check_drift(ref, cur, list(tests), tests=tests), engine)


@pytest.mark.parametrize("ascending", [False, True])
def test_columns_batched_in_one_query_equal_in_memory(sides, monkeypatch, ascending):
    """Spark's batched pooled order (every numerical column stacked, cut and summed in one
    query per plan, ``sql.pooled_sums_many``) run on DuckDB through the generic unpivot:
    the in-memory figures, with one window query per plan for the five columns. Fed an
    ascending stream, the row plan's columns notice and go together to the grouped plan."""
    from mlqa.engines import sql
    from mlqa.engines.duckdb import DuckDBEngine

    rows_sql, grouped_sql = sql._rows_sql, sql._grouped_sql
    calls = []

    def rows(*args):
        calls.append(("rows", len(args[1].cuts)))
        out = rows_sql(*args)
        return out.replace("ORDER BY v DESC", "ORDER BY v") if ascending else out

    def grouped(*args):
        calls.append(("grouped", len(args[1].cuts)))
        return grouped_sql(*args)

    monkeypatch.setattr(DuckDBEngine, "batches_columns", True)
    monkeypatch.setattr(engine_drift, "SMALL_ROWS", 0)
    windows_on_duckdb(monkeypatch)
    monkeypatch.setattr(sql, "_rows_sql", rows)
    monkeypatch.setattr(sql, "_grouped_sql", grouped)
    ref, cur, ref_path, cur_path = sides["large"]
    columns = ["x", "tied", "skew", "few", "big"]
    tests = {"x": "ks", "tied": "mannw", "skew": "anderson", "few": "wasserstein",
             "big": "cramer_von_mises"}
    engine = mlqa.check_drift(ref_path, cur_path, columns, tests=tests)
    # x and skew are continuous (the row plan), tied, few and big discrete
    assert calls == [("rows", 2), ("grouped", 5 if ascending else 3)]
    assert_same_drift(mlqa.check_drift(ref, cur, columns, tests=tests), engine)


def test_missing_share_change_equals_in_memory(tmp_path):
    """A column going from 2.6% to 31.5% missing: the engine decides the change from its
    exact counts with the in-memory function (Newcombe, Bonferroni), so outcome, message and
    every column's interval are the in-memory ones, in auto mode (default bound), with an
    explicit bound in evidently mode, and a loose bound that passes."""
    import numpy as np

    r = np.random.default_rng(5)
    ref = pd.DataFrame({"a": r.normal(0, 1, 4000), "b": r.normal(0, 1, 4000)})
    cur = pd.DataFrame({"a": r.normal(0, 1, 4000), "b": r.normal(0, 1, 4000)})
    ref.loc[r.permutation(4000)[:104], "a"] = np.nan   # 2.6%
    cur.loc[r.permutation(4000)[:1260], "a"] = np.nan  # 31.5%
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    paths = str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet")
    outcomes = []
    for options in ({}, {"tests": "evidently", "max_missing_change": 0.1},
                    {"max_missing_change": 0.4}):
        memory = mlqa.check_drift(ref, cur, **options)
        engine = mlqa.check_drift(*paths, **options)
        assert engine.outcome == memory.outcome and engine.message == memory.message
        assert engine.details["missing"] == memory.details["missing"]  # same counts, same code
        assert engine.details["missing_changed"] == memory.details["missing_changed"]
        outcomes.append((engine.outcome, engine.details["missing_changed"]))
    assert outcomes == [(mlqa.Outcome.FAIL, ["a"]), (mlqa.Outcome.FAIL, ["a"]),
                        (mlqa.Outcome.PASS, [])]
    with pytest.raises(mlqa.InputError, match="max_missing_change"):
        mlqa.check_drift(*paths, max_missing_change=2)
