"""Drift and a confusion-matrix metric at scale, from Parquet, on DuckDB (and Spark).

Prints one table. Every measurement runs in a child process so that its wall time and peak
RSS (``ru_maxrss`` of the child) are its own; the in-memory path runs under a hard address-space
cap (``RLIMIT_AS``) and reports where it runs out instead of taking the machine down.

    python benchmarks/drift_at_scale.py --rows 50000000 --folder /work/tmp-bench --clean
    python benchmarks/drift_at_scale.py --rows 2000000 --skip-duckdb --skip-memory \
        --floor-columns 0 --numpy-floor 0 --spark-rows 1000000
    python benchmarks/drift_at_scale.py --rows 0 --metric-rows 100000000 ...
    python benchmarks/drift_at_scale.py --rows 0 --skip-duckdb --skip-memory --floor-columns 0 \
        --numpy-floor 0 --spark-default-rows 1000000 --spark-partitions default,1,2,4

The last is issue 18's Spark table: a plain ``local[2]`` session (default 1 GB driver), the
sides as ``spark.createDataFrame(pandas)``, ``tests="evidently"`` and ``"auto"``, with Spark's
default shuffle partitions and 1, 2 and 4, each in its own process, against the in-memory
check on the same frames (parity) and with the time of mlqa's Spark queries by kind.

Beside mlqa's time it prints the sort floor measured in the same run (DuckDB's ORDER BY of
each column's union that took the row plan, and numpy's sort of one or more continuous
columns) and the ratio per column, the time by query kind, and the 1-minute load average
sampled while each child ran.

Data (deterministic, seeded per chunk): per side ``--rows`` rows of 20 numerical columns
(10 continuous float64: normal/lognormal/uniform mixes; 10 measured to 2 decimals, i.e.
discrete) and 2 string categorical columns; the current side has a shift in a quarter of the
columns. ``--metric-rows`` rows of (y_true, y_pred) labels in 4 classes for the metric.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time

CHUNK = 2_000_000


def generate(folder: str, side: str, rows: int, shift: float) -> str:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = os.path.join(folder, side)
    if os.path.isdir(path) and os.path.exists(os.path.join(path, "_done")):
        return path
    os.makedirs(path, exist_ok=True)
    cats = np.array([f"c{i}" for i in range(8)])
    for i, start in enumerate(range(0, rows, CHUNK)):
        n = min(CHUNK, rows - start)
        r = np.random.default_rng([int(shift * 1000), i])
        cols = {}
        for j in range(10):
            s = shift if j % 4 == 0 else 0.0
            cols[f"cont{j}"] = r.normal(s, 1 + j / 10, n) if j % 2 == 0 else r.lognormal(s, 1, n)
        for j in range(10):
            s = shift if j % 4 == 0 else 0.0
            cols[f"disc{j}"] = np.round(r.normal(50 + s * 10, 10, n), 2)
        p = np.full(8, 1 / 8)
        cols["cat0"] = cats[r.choice(8, n, p=p)]
        q = p.copy()
        q[0] += shift / 10
        q /= q.sum()
        cols["cat1"] = cats[r.choice(8, n, p=q)]
        pq.write_table(pa.table(cols), os.path.join(path, f"part-{i:05d}.parquet"),
                       row_group_size=512_000)
    open(os.path.join(path, "_done"), "w").close()
    return path


def generate_metric(folder: str, rows: int) -> str:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = os.path.join(folder, "metric")
    if os.path.exists(os.path.join(path, "_done")):
        return path
    os.makedirs(path, exist_ok=True)
    for i, start in enumerate(range(0, rows, 10 * CHUNK)):
        n = min(10 * CHUNK, rows - start)
        r = np.random.default_rng([7, i])
        y = r.integers(0, 4, n, dtype=np.int8)
        pred = np.where(r.random(n) < 0.8, y, r.integers(0, 4, n, dtype=np.int8))
        pq.write_table(pa.table({"y": y, "pred": pred.astype(np.int8)}),
                       os.path.join(path, f"part-{i:05d}.parquet"))
    open(os.path.join(path, "_done"), "w").close()
    return path


def spark_vs_evidently(ref: str, cur: str, columns: list[str] | None = None) -> dict:
    """mlqa on Spark and evidently's legacy Spark engine on the same DataFrames, each one's
    largest difference from evidently's own pandas statistics on the same data."""
    import warnings

    import pandas as pd
    from pyspark.sql import SparkSession

    import mlqa

    os.environ.setdefault("DO_NOT_TRACK", "1")
    spark = (SparkSession.builder.master("local[2]").appName("mlqa-bench")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", "2g").config("spark.sql.shuffle.partitions", "4")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    sref, scur = spark.read.parquet(ref), spark.read.parquet(cur)
    names = columns or list(sref.columns)
    sref, scur = sref.select(*names).cache(), scur.select(*names).cache()
    sref.count(), scur.count()  # read once: the timings below are the checks, not the scan
    numerical = [c for c in names if not c.startswith("cat")]
    categorical = [c for c in names if c.startswith("cat")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from evidently.legacy.metrics import DataDriftTable
        from evidently.legacy.pipeline.column_mapping import ColumnMapping
        from evidently.legacy.report import Report
        from evidently.legacy.spark.engine import SparkEngine
    mapping = ColumnMapping(numerical_features=numerical, categorical_features=categorical)

    def evidently_scores(reference, current, engine=None) -> dict:
        report = Report(metrics=[DataDriftTable()])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report.run(reference_data=reference, current_data=current, column_mapping=mapping,
                       **({"engine": engine} if engine else {}))
        table = report.as_dict()["metrics"][0]["result"]["drift_by_columns"]
        return {c: (v["stattest_name"], float(v["drift_score"])) for c, v in table.items()}

    out: dict = {}
    t = time.perf_counter()
    mine = mlqa.check_drift(sref, scur, tests="evidently")
    out["mlqa_spark_s"] = time.perf_counter() - t
    print("mlqa on Spark:", out["mlqa_spark_s"], file=sys.stderr, flush=True)
    t = time.perf_counter()
    theirs = evidently_scores(sref, scur, SparkEngine)
    out["evidently_spark_s"] = time.perf_counter() - t
    print("evidently Spark:", out["evidently_spark_s"], file=sys.stderr, flush=True)
    t = time.perf_counter()
    pandas_scores = evidently_scores(pd.read_parquet(ref, columns=names),
                                     pd.read_parquet(cur, columns=names))
    out["evidently_pandas_s"] = time.perf_counter() - t
    out["mlqa_max_diff"] = max(abs(mine.columns[c].score - pandas_scores[c][1])
                               for c in pandas_scores)
    out["evidently_spark_max_diff"] = max(abs(theirs[c][1] - pandas_scores[c][1])
                                          for c in pandas_scores)
    out["tests"] = {c: (mine.columns[c].test, theirs[c][0], pandas_scores[c][0])
                    for c in pandas_scores}
    spark.stop()
    return out


# -- children -----------------------------------------------------------------------------

_PROGRESS: dict = {"step": "start", "t0": time.perf_counter()}


def _step(name: str) -> None:
    _PROGRESS["step"] = f"{name} (at {time.perf_counter() - _PROGRESS['t0']:.1f} s)"
    print("step:", _PROGRESS["step"], file=sys.stderr, flush=True)  # the point, if killed


def _where_memory_ran_out(exc: BaseException) -> str:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return f"{_PROGRESS['step']}; peak RSS so far {rss:.0f} MB"


def _time_queries(spark: bool = False) -> dict:
    """Wall time of every DuckDB (or Spark) query mlqa runs, by kind, and the plan of each
    column (DuckDB: one pooled-order query per column; Spark batches the columns)."""
    if spark:
        from mlqa.engines.spark import SparkEngine as engine_class
    else:
        from mlqa.engines.duckdb import DuckDBEngine as engine_class

    phases: dict = {"seconds": {}, "count": {}, "columns": {}}
    real = engine_class.rows

    def rows(self, sql):
        t = time.perf_counter()
        out = real(self, sql)
        kind = ("cell counts (scans, exact='decision'/False)"
                if sql.startswith("SELECT k, COUNT(*)") else
                "range cuts of the pooled order (scans)" if "SUM(r), SUM(c) FROM" in sql else
                "pooled order, one sort of the rows" if "s1 AS" in sql else
                "pooled order, GROUP BY value" if "PARTITION BY rid" in sql else
                "bin counts" if "CASE WHEN" in sql and "GROUP BY b" in sql else
                "moments (+HyperLogLog)" if "VAR_POP" in sql else
                "category counts" if "GROUP BY" in sql else "other")
        seconds = time.perf_counter() - t
        phases["seconds"][kind] = phases["seconds"].get(kind, 0.0) + seconds
        phases["count"][kind] = phases["count"].get(kind, 0) + 1
        if kind.startswith("pooled"):
            found = re.search(r'CAST\("((?:[^"]|"")+)" AS DOUBLE\) AS v', sql)
            column = found.group(1).replace('""', '"') if found else "?"
            phases["columns"][column] = (kind, seconds)
        return out

    real_batches = engine_class.sorted_batches

    def sorted_batches(self, sql):
        got = real_batches(self, sql)
        if got is None:
            return None

        def timed():
            # from the query to its last batch: the sort, the read back and (overlapped, in
            # mlqa's reading thread) the sums of all but the last batch
            t = time.perf_counter()
            yield from got
            seconds = time.perf_counter() - t
            kind = ("pooled order, one sort of the rows (ORDER BY, streamed)" if "TINYINT" in sql
                    else "pooled order, GROUP BY value streamed")
            phases["seconds"][kind] = phases["seconds"].get(kind, 0.0) + seconds
            phases["count"][kind] = phases["count"].get(kind, 0) + 1
            found = re.search(r'CAST\("((?:[^"]|"")+)" AS DOUBLE\) AS v', sql)
            phases["columns"][found.group(1).replace('""', '"') if found else "?"] = \
                (kind, seconds)

        return timed()

    setattr(engine_class, "rows", rows)  # noqa: B010 (timing wrapper)
    setattr(engine_class, "sorted_batches", sorted_batches)  # noqa: B010
    return phases


def sort_floor(ref: str, cur: str, columns: list[str]) -> dict:
    """DuckDB's sort of each column's union (both sides, finite values), on a connection set
    up as mlqa's own (memory_limit, threads, spill folder): an ORDER BY streamed through the
    cheapest window there is (a running count), which is the sort mlqa's row plan starts
    with and nothing of its work."""
    from mlqa.engines import sql as q
    from mlqa.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine.for_data([ref, cur])
    rt, ct = engine.table(ref, "reference"), engine.table(cur, "current")
    out: dict = {"columns": {}}
    for c in columns:
        _step(f"sort floor {c}")
        t = time.perf_counter()
        engine.one(f"SELECT MAX(k) FROM (SELECT COUNT(*) OVER (ROWS BETWEEN UNBOUNDED "
                   f"PRECEDING AND CURRENT ROW) AS k FROM (SELECT v FROM "
                   f"({q._union(engine, rt, ct, c)}) u ORDER BY v DESC) s) t")
        out["columns"][c] = time.perf_counter() - t
    out["total"] = sum(out["columns"].values())
    return out


def numpy_floor(ref: str, cur: str, columns: list[str]) -> dict:
    """numpy's sort of each column's union, read column by column from Parquet."""
    import numpy as np
    import pyarrow.parquet as pq

    out: dict = {"columns": {}, "read": {}}
    for c in columns:
        _step(f"numpy read {c}")
        t = time.perf_counter()
        both = np.concatenate([pq.read_table(p, columns=[c]).column(0).to_numpy()
                               for p in (ref, cur)])
        out["read"][c] = time.perf_counter() - t
        _step(f"numpy sort {c} ({len(both):,} values)")
        t = time.perf_counter()
        both.sort(kind="quicksort")
        out["columns"][c] = time.perf_counter() - t
        del both
    out["total"] = sum(out["columns"].values())
    return out

def spark_default_session(ref: str, cur: str, tests: str, partitions: int | None) -> dict:
    """Issue 18's Spark run: a plain ``local[2]`` session as a Spark user starts one (the
    default 1 GB driver; only ``spark.sql.shuffle.partitions`` set, or nothing), the sides
    handed in as ``spark.createDataFrame(pandas)``, and the in-memory check on the same
    frames for parity. The clock runs around the check only (it includes Spark's first read
    of the local rows, which mlqa persists once)."""
    import pandas as pd
    from pyspark.sql import SparkSession

    import mlqa

    builder = (SparkSession.builder.master("local[2]").appName("mlqa-default-session")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.bindAddress", "127.0.0.1")  # this sandbox's network
               .config("spark.driver.host", "127.0.0.1"))
    if partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("OFF")
    _step("reading the sides into pandas")
    a, b = pd.read_parquet(ref), pd.read_parquet(cur)
    t = time.perf_counter()
    memory = mlqa.check_drift(a, b, tests=tests)
    out: dict = {"memory_s": time.perf_counter() - t}
    _step("spark.createDataFrame of both sides")
    sa, sb = spark.createDataFrame(a), spark.createDataFrame(b)
    phases = _time_queries(spark=True)
    _step(f"check_drift on Spark, tests={tests}, shuffle partitions {partitions or 'default'}")
    t = time.perf_counter()
    engine = mlqa.check_drift(sa, sb, tests=tests)
    out["check_s"] = time.perf_counter() - t
    out["driver_memory"] = spark.conf.get("spark.driver.memory", "default (1g)")
    out["shuffle_partitions"] = spark.conf.get("spark.sql.shuffle.partitions")
    out["same_outcome"] = engine.outcome == memory.outcome
    out["same_tests"] = all(engine.columns[c].test == m.test for c, m in memory.columns.items())
    # |engine - memory| / max(1, |memory|) over every column's figures
    out["max_diff"] = max(abs((getattr(engine.columns[c], f) or 0.0) - (getattr(m, f) or 0.0))
                          / max(1.0, abs(getattr(m, f) or 0.0))
                          for c, m in memory.columns.items()
                          for f in ("statistic", "p_value", "adjusted_p_value", "effect_size"))
    out["phases"] = phases
    spark.stop()
    return out


def child(task: str, args: dict) -> dict:
    if args.get("cap_gb"):
        cap = int(args["cap_gb"] * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    t0 = time.perf_counter()
    import mlqa

    out: dict = {}
    try:
        if task == "generate":
            out["ref"] = generate(args["folder"], "ref", args["rows"], 0.0)
            out["cur"] = generate(args["folder"], "cur", args["rows"], 0.05)
        elif task == "duckdb":
            phases = _time_queries()
            exact = args.get("exact", True)
            r = mlqa.check_drift(args["ref"], args["cur"], tests=args["tests"], exact=exact)
            out["drifted"] = r.drifted_columns
            out["outcome"] = r.outcome.value
            out["verdicts"] = {c: v.drifted for c, v in r.columns.items()}
            out["fallback"] = r.details.get("fallback", {})
            out["bounded"] = sorted(r.details.get("bounds", {}))
            out["scores"] = {c: v.score for c, v in r.columns.items()}
            out["phases"] = phases
        elif task == "floor":
            out.update(sort_floor(args["ref"], args["cur"], args["columns"]))
        elif task == "numpy_floor":
            out.update(numpy_floor(args["ref"], args["cur"], args["columns"]))
        elif task == "memory":
            import pandas as pd

            _step("reading the reference into pandas")
            ref = pd.read_parquet(args["ref"])
            _step(f"reading the current side (reference: {len(ref):,} rows, "
                  f"{ref.memory_usage(deep=False).sum() / 2**20:.0f} MB)")
            cur = pd.read_parquet(args["cur"])
            _step("check_drift in memory")
            t = time.perf_counter()
            r = mlqa.check_drift(ref, cur, tests=args["tests"])
            out["check_s"] = time.perf_counter() - t
            out["verdicts"] = {c: v.drifted for c, v in r.columns.items()}
            out["scores"] = {c: v.score for c, v in r.columns.items()}
        elif task == "duckdb_sketch":
            r = mlqa.check_drift(args["ref"], args["cur"], tests="auto", exact=False)
            out["outcome"] = r.outcome.value
            out["scores"] = {c: v.score for c, v in r.columns.items()}
        elif task == "spark_default":
            out.update(spark_default_session(args["ref"], args["cur"], args["tests"],
                                             args.get("partitions")))
        elif task == "spark":
            out.update(spark_vs_evidently(args["ref"], args["cur"], args.get("columns")))
        elif task == "metric":
            r = mlqa.check_metric("y", "pred", "f1_macro", min=0.5, data=args["path"])
            out.update(value=r.value, ci=list(r.ci), n=r.n)
        out["ok"] = True
    except MemoryError as exc:
        out.update(ok=False, error=f"MemoryError {exc}"[:200],
                   at=_where_memory_ran_out(exc))
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_child(task: str, args: dict, timeout: float, env: dict | None = None) -> dict:
    """The child's JSON line, its wall time, and the 1-minute load average sampled every
    5 s while it ran (this machine is shared: every figure carries its load)."""
    import threading

    cmd = [sys.executable, __file__, "--child", task, json.dumps(args)]
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(5.0):
            samples.append(float(loadavg().split()[0]))

    sampler = threading.Thread(target=sample, daemon=True)
    start_load = loadavg()
    t0 = time.perf_counter()
    sampler.start()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        done.set()
        return {"ok": False, "error": f"timeout {timeout:.0f}s", "seconds": timeout,
                "load": _load_note(start_load, samples)}
    finally:
        done.set()
    wall = time.perf_counter() - t0
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr or "").strip().splitlines()[-3:] or [f"exit {p.returncode}"]
        return {"ok": False, "error": " / ".join(tail)[:300], "seconds": wall,
                "load": _load_note(start_load, samples)}
    out = json.loads(lines[-1])
    out["wall"] = wall
    out["load"] = _load_note(start_load, samples)
    return out


def _load_note(start: str, samples: list[float]) -> str:
    if not samples:
        return f"load at start {start}"
    return (f"load at start {start}; 1-min load during the run mean "
            f"{sum(samples) / len(samples):.1f}, max {max(samples):.1f}")


def print_issue_table(issue: dict, rows: int, tests: str) -> None:
    """Issue 18's figures from this run: each path against its own floor, with peak RSS and
    the load it ran under (Spark's rows come from --spark-rows, printed above)."""
    def fig(r: dict | None, key: str = "wall") -> str:
        return f"{r[key]:.1f}" if r and r.get("ok") and key in r else "-"

    def ratio(a: dict | None, b: dict | None, key: str = "wall") -> str:
        ok = a and b and a.get("ok") and b.get("ok") and b.get("wall")
        return f"{a[key] / b['wall']:.2f}" if ok and key in a else "-"  # type: ignore[index]

    fast, exact = issue.get("decision"), issue.get("exact")
    floor, numpy_, memory = issue.get("floor"), issue.get("numpy"), issue.get("memory")
    same = "-"
    if fast and exact and fast.get("ok") and exact.get("ok"):
        same = "yes" if fast["verdicts"] == exact["verdicts"] else "NO"
    fallback = ", ".join(sorted((fast or {}).get("fallback", {}))) or "none"
    print(f"\nissue 18, {rows:,} rows per side x 22 columns, tests={tests}:")
    print("| path | wall s | peak RSS MB | floor s | ratio to floor | note | load |")
    print("|---|---|---|---|---|---|---|")
    for label, r, base, key, note in (
            ("DuckDB exact='decision'", fast, floor, "wall",
             f"verdicts equal exact: {same}; exact path for: {fallback}"),
            ("DuckDB exact=True", exact, floor, "wall", "target: <= 1.2x floor"),
            ("DuckDB ORDER BY floor (20 numerical columns)", floor, None, "wall", ""),
            ("in-memory check_drift (read apart)", memory, numpy_, "check_s",
             "target: <= 1.5x numpy floor"),
            ("numpy sort floor (20 numerical columns)", numpy_, None, "wall", "")):
        print(f"| {label} | {fig(r, key)} | "
              f"{(r or {}).get('peak_rss_mb', float('nan')):.0f} | {fig(base)} | "
              f"{ratio(r, base, key)} | {note} | {(r or {}).get('load', '')} |", flush=True)
    print("Spark local[2] rows: --spark-rows N (mlqa on Spark vs evidently's Spark engine, in "
          "the table above); partition scaling: benchmarks/spark_partitions.py", flush=True)


def spark_table(a: argparse.Namespace) -> list[tuple[str, str, dict]]:
    """Every (mode, shuffle partitions) of issue 18's Spark table, each in its own process
    (its own JVM and session), on --spark-default-rows rows per side."""
    sfolder = os.path.join(a.folder, f"spark{a.spark_default_rows}")
    os.makedirs(sfolder, exist_ok=True)
    made = run_child("generate", {"folder": sfolder, "rows": a.spark_default_rows}, a.timeout)
    if not made.get("ok"):
        raise SystemExit(f"data generation failed: {made}")
    out = []
    for tests in a.spark_tests.split(","):
        for p in a.spark_partitions.split(","):
            r = run_child("spark_default", {"ref": made["ref"], "cur": made["cur"],
                                            "tests": tests,
                                            "partitions": None if p == "default" else int(p)},
                          a.timeout)
            print(f"spark {tests} partitions={p}:", {k: v for k, v in r.items()
                                                     if k != "phases"}, flush=True)
            out.append((tests, p, r))
    return out


def print_spark_table(runs: list[tuple[str, str, dict]], rows: int) -> None:
    print(f"\nissue 18, Spark local[2], default 1 GB driver, spark.createDataFrame(pandas), "
          f"{rows:,} rows per side x 22 columns (20 numerical, 2 categorical):")
    print("| tests | shuffle partitions | check_drift on Spark s | in memory s | Spark queries "
          "| pooled-order s (queries) | max rel. difference from memory | same outcome and "
          "tests | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for tests, p, r in runs:
        if not r.get("ok"):
            print(f"| {tests} | {p} | failed: {r.get('error', '')} {r.get('at', '')} | | | | "
                  f"| | {r.get('load', '')} |", flush=True)
            continue
        phases = r.get("phases", {})
        pooled = [k for k in phases.get("seconds", {}) if k.startswith("pooled")]
        pooled_s = sum(phases["seconds"][k] for k in pooled)
        pooled_n = sum(phases["count"][k] for k in pooled)
        print(f"| {tests} | {r.get('shuffle_partitions') if p == 'default' else p} | "
              f"{r['check_s']:.1f} | {r['memory_s']:.1f} | "
              f"{sum(phases.get('count', {}).values())} | {pooled_s:.1f} ({pooled_n}) | "
              f"{r['max_diff']:.2g} | {'yes' if r['same_outcome'] and r['same_tests'] else 'NO'}"
              f" | {r.get('load', '')} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000, help="rows per side")
    ap.add_argument("--metric-rows", type=int, default=0)
    ap.add_argument("--folder", default="/tmp/mlqa-scale")
    ap.add_argument("--tests", default="evidently")
    ap.add_argument("--cap-gb", type=float, default=8.0, help="in-memory path's RLIMIT_AS")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-duckdb", action="store_true")
    ap.add_argument("--floor-columns", type=int, default=-1,
                    help="how many row-plan columns get the DuckDB sort floor (-1: all)")
    ap.add_argument("--numpy-floor", type=int, default=1,
                    help="how many continuous columns also get numpy's sort (in a capped child)")
    ap.add_argument("--sketch", action="store_true", help="also exact=False (tests=auto)")
    ap.add_argument("--decision", action="store_true",
                    help="issue 18's table: DuckDB exact='decision' vs exact vs DuckDB's ORDER "
                         "BY floor, in-memory vs numpy's sort of every numerical column "
                         "(use with --tests auto; Spark rows: --spark-rows)")
    ap.add_argument("--spark-columns", default="",
                    help="comma-separated columns for the Spark comparison (default all)")
    ap.add_argument("--spark-rows", type=int, default=0,
                    help="rows per side for mlqa on Spark vs evidently's legacy Spark engine")
    ap.add_argument("--spark-default-rows", type=int, default=0,
                    help="issue 18's Spark table: rows per side on a plain local[2] session "
                         "(default 1 GB driver), createDataFrame of pandas, each mode and "
                         "shuffle partition count in its own process")
    ap.add_argument("--spark-partitions", default="default,1,2,4",
                    help="shuffle partition counts for --spark-default-rows ('default': "
                         "Spark's own, 200 with adaptive coalescing)")
    ap.add_argument("--spark-tests", default="evidently,auto")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--clean", action="store_true", help="delete the generated data at the end")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child[0], json.loads(a.child[1]))))
        return
    folder = os.path.join(a.folder, str(a.rows))
    os.makedirs(folder, exist_ok=True)
    spill = {"MLQA_DUCKDB_TEMP_DIRECTORY": os.path.join(a.folder, "spill")}
    print(f"cores {os.cpu_count()}, load {loadavg()}", flush=True)
    rows = []
    issue: dict = {}
    try:
        t0 = time.perf_counter()
        # in a child: the children of this process inherit its peak RSS (Linux keeps the
        # high-water mark across fork and exec), so this process must stay small
        made = run_child("generate", {"folder": folder, "rows": a.rows}, a.timeout)
        if not made.get("ok"):
            raise SystemExit(f"data generation failed: {made}")
        ref, cur = made["ref"], made["cur"]
        print(f"data: {a.rows:,} rows per side x 22 columns, generated/found in "
              f"{time.perf_counter() - t0:.0f} s (load {loadavg()})", flush=True)
        d: dict = {}
        if not a.skip_duckdb:
            d = run_child("duckdb", {"ref": ref, "cur": cur, "tests": a.tests}, a.timeout,
                          env=spill)
            rows.append(("mlqa check_drift on DuckDB (exact), memory_limit 1GB", d))
            print(rows[-1], flush=True)
        sorted_columns = [c for c, (kind, _) in d.get("phases", {}).get("columns", {}).items()
                          if "sort" in kind]
        if a.floor_columns:
            chosen = sorted_columns[:a.floor_columns] if a.floor_columns > 0 else sorted_columns
            if chosen:
                f = run_child("floor", {"ref": ref, "cur": cur, "columns": chosen}, a.timeout,
                              env=spill)
                rows.append((f"sort floor: DuckDB ORDER BY of each row-plan column's union "
                             f"({len(chosen)} columns)", {**f, "wall": f.get("total", 0.0)}))
                print(rows[-1], flush=True)
                if f.get("ok"):
                    mine = {c: d["phases"]["columns"][c][1] for c in chosen}
                    print("\n| column | mlqa row plan s | DuckDB sort floor s | ratio |")
                    print("|---|---|---|---|")
                    for c in chosen:
                        print(f"| {c} | {mine[c]:.1f} | {f['columns'][c]:.1f} | "
                              f"{mine[c] / f['columns'][c]:.2f} |")
                    print(f"| all {len(chosen)} | {sum(mine.values()):.1f} | {f['total']:.1f} | "
                          f"{sum(mine.values()) / f['total']:.2f} |\n", flush=True)
        if a.decision:
            fast = run_child("duckdb", {"ref": ref, "cur": cur, "tests": a.tests,
                                        "exact": "decision"}, a.timeout, env=spill)
            rows.append(("mlqa check_drift on DuckDB, exact='decision', memory_limit 1GB", fast))
            print(rows[-1], flush=True)
            issue["decision"], issue["exact"] = fast, d
            for kind, sec in sorted(fast.get("phases", {}).get("seconds", {}).items(),
                                    key=lambda kv: -kv[1]):
                print(f"  exact='decision', {kind}: {sec:.1f} s in "
                      f"{fast['phases']['count'][kind]} queries", flush=True)
            numerical = [f"cont{j}" for j in range(10)] + [f"disc{j}" for j in range(10)]
            if a.floor_columns:
                # the columns sorted above already have their floor: only the others now
                done = next((r for label, r in rows if label.startswith("sort floor: DuckDB")
                             and r.get("ok")), {"columns": {}, "peak_rss_mb": 0.0})
                rest = [c for c in numerical if c not in done["columns"]]
                every = run_child("floor", {"ref": ref, "cur": cur, "columns": rest},
                                  a.timeout, env=spill) if rest else {"ok": True, "columns": {}}
                every["columns"] = {**done["columns"], **every.get("columns", {})}
                every["total"] = sum(every["columns"].values())
                every["peak_rss_mb"] = max(every.get("peak_rss_mb", 0.0), done["peak_rss_mb"])
                issue["floor"] = {**every, "wall": every["total"]}
                rows.append(("sort floor: DuckDB ORDER BY of every numerical column's union "
                             "(20)", issue["floor"]))
            if a.numpy_floor:
                every = run_child("numpy_floor", {"ref": ref, "cur": cur, "columns": numerical,
                                                  "cap_gb": a.cap_gb}, a.timeout)
                issue["numpy"] = {**every, "wall": every.get("total", 0.0)}
                rows.append(("sort floor: numpy sort of every numerical column's union (20, "
                             "read time apart)", issue["numpy"]))
        elif a.numpy_floor:
            cont = [f"cont{j}" for j in range(min(a.numpy_floor, 10))]
            nf = run_child("numpy_floor", {"ref": ref, "cur": cur, "columns": cont,
                                           "cap_gb": a.cap_gb}, a.timeout)
            rows.append((f"sort floor: numpy sort of {len(cont)} continuous column(s)' union "
                         f"(read time apart)", {**nf, "wall": nf.get("total", 0.0)}))
            print(rows[-1], flush=True)
        if d.get("phases"):
            print("mlqa on DuckDB, time by query kind:")
            for kind, sec in sorted(d["phases"]["seconds"].items(), key=lambda kv: -kv[1]):
                print(f"  {kind}: {sec:.1f} s in {d['phases']['count'][kind]} queries")
        if not a.skip_memory:
            m = run_child("memory", {"ref": ref, "cur": cur, "tests": a.tests,
                                     "cap_gb": a.cap_gb}, a.timeout)
            rows.append((f"in-memory (pandas) under RLIMIT_AS {a.cap_gb:g} GB", m))
            issue["memory"] = m
            print(rows[-1], flush=True)
            if m.get("ok") and d.get("ok"):
                diff = max(abs(d["scores"][c] - m["scores"][c]) for c in m["scores"])
                print(f"largest |score difference| DuckDB vs in-memory: {diff:.3g}")
        if a.sketch:
            rows.append(("mlqa check_drift on DuckDB, exact=False (grid sketch, KS)",
                         run_child("duckdb_sketch", {"ref": ref, "cur": cur}, a.timeout,
                                   env=spill)))
            print(rows[-1], flush=True)
        if a.spark_rows:
            sfolder = os.path.join(a.folder, f"spark{a.spark_rows}")
            os.makedirs(sfolder, exist_ok=True)
            sref = generate(sfolder, "ref", a.spark_rows, 0.0)
            scur = generate(sfolder, "cur", a.spark_rows, 0.05)
            columns = [c for c in a.spark_columns.split(",") if c] or None
            sp = run_child("spark", {"ref": sref, "cur": scur, "columns": columns}, a.timeout)
            print("spark:", sp, flush=True)
            if sp.get("ok"):
                load = sp.get("load", "")
                rows.append((f"mlqa on Spark local[2], {a.spark_rows:,} rows/side "
                             f"(max diff vs evidently pandas {sp['mlqa_max_diff']:.2g})",
                             {"ok": True, "wall": sp["mlqa_spark_s"], "load": load}))
                rows.append((f"evidently legacy Spark engine, same data (max diff vs "
                             f"evidently pandas {sp['evidently_spark_max_diff']:.2g})",
                             {"ok": True, "wall": sp["evidently_spark_s"], "load": load}))
                rows.append(("evidently pandas (the reference statistics)",
                             {"ok": True, "wall": sp["evidently_pandas_s"],
                              "peak_rss_mb": sp["peak_rss_mb"], "load": load}))
            else:
                rows.append(("Spark comparison", sp))
        if a.spark_default_rows:
            issue["spark"] = spark_table(a)
        if a.metric_rows:
            t1 = time.perf_counter()
            path = generate_metric(a.folder, a.metric_rows)
            print(f"metric data: {a.metric_rows:,} rows in {time.perf_counter() - t1:.0f} s")
            rows.append((f"check_metric f1_macro + multinomial CI, {a.metric_rows:,} rows",
                         run_child("metric", {"path": path}, a.timeout, env=spill)))
    finally:
        print()
        print(f"| work ({a.rows:,} rows per side, tests={a.tests}) | wall s | peak RSS MB | "
              f"load | note |")
        print("|---|---|---|---|---|")
        for label, r in rows:
            note = "ok" if r.get("ok") else f"{r.get('error', 'failed')} {r.get('at', '')}"
            print(f"| {label} | {r.get('wall', r.get('seconds', 0)):.1f} | "
                  f"{r.get('peak_rss_mb', float('nan')):.0f} | {r.get('load', '')} | {note} |",
                  flush=True)
        if issue.keys() - {"spark"}:
            print_issue_table(issue, a.rows, a.tests)
        if issue.get("spark"):
            print_spark_table(issue["spark"], a.spark_default_rows)
        if a.clean:
            shutil.rmtree(a.folder, ignore_errors=True)
            print(f"deleted {a.folder}")


if __name__ == "__main__":
    main()
