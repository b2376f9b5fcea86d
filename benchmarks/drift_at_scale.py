"""Drift and a confusion-matrix metric at scale, from Parquet, on DuckDB (and Spark).

Prints one table. Every measurement runs in a child process so that its wall time and peak
RSS (``ru_maxrss`` of the child) are its own; the in-memory path runs under a hard address-space
cap (``RLIMIT_AS``) and reports where it runs out instead of taking the machine down.

    python benchmarks/drift_at_scale.py --rows 50000000 --folder /tmp/mlqa-scale
    python benchmarks/drift_at_scale.py --rows 2000000 --spark-rows 1000000 --metric-rows 0

Data (deterministic, seeded per chunk): per side ``--rows`` rows of 20 numerical columns
(10 continuous float64: normal/lognormal/uniform mixes; 10 measured to 2 decimals, i.e.
discrete) and 2 string categorical columns; the current side has a shift in a quarter of the
columns. ``--metric-rows`` rows of (y_true, y_pred) labels in 4 classes for the metric.
"""

from __future__ import annotations

import argparse
import json
import os
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

def child(task: str, args: dict) -> dict:
    if args.get("cap_gb"):
        cap = int(args["cap_gb"] * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    t0 = time.perf_counter()
    import mlqa

    out: dict = {}
    try:
        if task == "duckdb":
            r = mlqa.check_drift(args["ref"], args["cur"], tests=args["tests"])
            out["drifted"] = r.drifted_columns
            out["scores"] = {c: v.score for c, v in r.columns.items()}
        elif task == "memory":
            import pandas as pd

            ref = pd.read_parquet(args["ref"])
            cur = pd.read_parquet(args["cur"])
            r = mlqa.check_drift(ref, cur, tests=args["tests"])
            out["scores"] = {c: v.score for c, v in r.columns.items()}
        elif task == "duckdb_sketch":
            r = mlqa.check_drift(args["ref"], args["cur"], tests="auto", exact=False)
            out["outcome"] = r.outcome.value
            out["scores"] = {c: v.score for c, v in r.columns.items()}
        elif task == "spark":
            out.update(spark_vs_evidently(args["ref"], args["cur"], args.get("columns")))
        elif task == "metric":
            r = mlqa.check_metric("y", "pred", "f1_macro", min=0.5, data=args["path"])
            out.update(value=r.value, ci=list(r.ci), n=r.n)
        out["ok"] = True
    except MemoryError:
        out.update(ok=False, error="MemoryError")
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_child(task: str, args: dict, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--child", task, json.dumps(args)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timeout {timeout:.0f}s", "seconds": timeout}
    wall = time.perf_counter() - t0
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr or "").strip().splitlines()[-1:] or [f"exit {p.returncode}"]
        return {"ok": False, "error": tail[0][:120], "seconds": wall}
    out = json.loads(lines[-1])
    out["wall"] = wall
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000, help="rows per side")
    ap.add_argument("--metric-rows", type=int, default=10_000_000)
    ap.add_argument("--folder", default="/tmp/mlqa-scale")
    ap.add_argument("--tests", default="evidently")
    ap.add_argument("--cap-gb", type=float, default=6.0, help="in-memory path's RLIMIT_AS")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--sketch", action="store_true", help="also exact=False (tests=auto)")
    ap.add_argument("--spark-columns", default="",
                    help="comma-separated columns for the Spark comparison (default all)")
    ap.add_argument("--spark-rows", type=int, default=0,
                    help="rows per side for mlqa on Spark vs evidently's legacy Spark engine")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--clean", action="store_true", help="delete the generated data at the end")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child[0], json.loads(a.child[1]))))
        return
    folder = os.path.join(a.folder, str(a.rows))
    os.makedirs(folder, exist_ok=True)
    t0 = time.perf_counter()
    ref = generate(folder, "ref", a.rows, 0.0)
    cur = generate(folder, "cur", a.rows, 0.05)
    print(f"data: {a.rows:,} rows per side x 22 columns, generated/found in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    rows = []
    d = run_child("duckdb", {"ref": ref, "cur": cur, "tests": a.tests}, a.timeout)
    rows.append(("mlqa check_drift on DuckDB (exact)", d))
    print(rows[-1], flush=True)
    if not a.skip_memory:
        m = run_child("memory", {"ref": ref, "cur": cur, "tests": a.tests,
                                 "cap_gb": a.cap_gb}, a.timeout)
        rows.append((f"in-memory (pandas) under RLIMIT_AS {a.cap_gb:g} GB", m))
        print(rows[-1], flush=True)
        if m.get("ok") and d.get("ok"):
            diff = max(abs(d["scores"][c] - m["scores"][c]) for c in m["scores"])
            print(f"largest |score difference| DuckDB vs in-memory: {diff:.3g}")
    if a.sketch:
        rows.append(("mlqa check_drift on DuckDB, exact=False (grid sketch, KS)",
                     run_child("duckdb_sketch", {"ref": ref, "cur": cur}, a.timeout)))
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
            rows.append((f"mlqa on Spark local[2], {a.spark_rows:,} rows/side "
                         f"(max diff vs evidently pandas {sp['mlqa_max_diff']:.2g})",
                         {"ok": True, "wall": sp["mlqa_spark_s"], "peak_rss_mb": float("nan")}))
            rows.append((f"evidently legacy Spark engine, same data (max diff vs evidently "
                         f"pandas {sp['evidently_spark_max_diff']:.2g})",
                         {"ok": True, "wall": sp["evidently_spark_s"],
                          "peak_rss_mb": float("nan")}))
            rows.append(("evidently pandas (the reference statistics)",
                         {"ok": True, "wall": sp["evidently_pandas_s"],
                          "peak_rss_mb": sp["peak_rss_mb"]}))
        else:
            rows.append(("Spark comparison", sp))
    if a.metric_rows:
        t1 = time.perf_counter()
        path = generate_metric(a.folder, a.metric_rows)
        print(f"metric data: {a.metric_rows:,} rows in {time.perf_counter() - t1:.0f} s")
        rows.append((f"check_metric f1_macro + multinomial CI, {a.metric_rows:,} rows",
                     run_child("metric", {"path": path}, a.timeout)))
    print()
    print(f"| work ({a.rows:,} rows per side, tests={a.tests}) | wall s | peak RSS MB | note |")
    print("|---|---|---|---|")
    for label, r in rows:
        note = "ok" if r.get("ok") else r.get("error", "failed")
        print(f"| {label} | {r.get('wall', r.get('seconds', 0)):.1f} | "
              f"{r.get('peak_rss_mb', float('nan')):.0f} | {note} |")
    if a.clean:
        shutil.rmtree(a.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
