"""check_drift on Spark local[2] (default 1 GB driver) with 1, 2 and 4 shuffle partitions, and
the in-memory path on the same data, from one run.

    python benchmarks/spark_partitions.py --rows 1000000 --folder /tmp/mlqa-bench

The pooled order is range-partitioned (mlqa.engines.ranges): its windows run per value range,
so the time should not grow with the rows per partition the way one partition's did. Each
Spark measurement runs in its own process (its own JVM, a plain session with only
``spark.sql.shuffle.partitions`` set); the data is ``drift_at_scale.py``'s (20 numerical + 2
categorical columns, Parquet), cached in the session before the clock starts. Prints one row
per (mode, partitions): seconds, ratio to memory, largest score difference from memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from drift_at_scale import generate  # noqa: E402


def child(ref: str, cur: str, partitions: int, mode: str) -> dict:
    from pyspark.sql import SparkSession

    import mlqa

    spark = (SparkSession.builder.master("local[2]").appName("mlqa-partitions")
             .config("spark.sql.shuffle.partitions", str(partitions))
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1").getOrCreate())
    spark.sparkContext.setLogLevel("OFF")
    sref, scur = spark.read.parquet(ref).cache(), spark.read.parquet(cur).cache()
    sref.count(), scur.count()
    t = time.perf_counter()
    result = mlqa.check_drift(sref, scur, tests=mode)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "scores": {c: r.score for c, r in result.columns.items()}}


def memory(ref: str, cur: str, mode: str) -> dict:
    import pandas as pd

    import mlqa

    a, b = pd.read_parquet(ref), pd.read_parquet(cur)
    t = time.perf_counter()
    result = mlqa.check_drift(a, b, tests=mode)
    return {"seconds": time.perf_counter() - t,
            "scores": {c: r.score for c, r in result.columns.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per side")
    parser.add_argument("--folder", default="/tmp/mlqa-bench-partitions")
    parser.add_argument("--partitions", default="1,2,4")
    parser.add_argument("--modes", default="auto,evidently")
    parser.add_argument("--child", nargs=4, metavar=("REF", "CUR", "PARTITIONS", "MODE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        ref, cur, partitions, mode = args.child
        print(json.dumps(child(ref, cur, int(partitions), mode)))
        return
    folder = os.path.join(args.folder, str(args.rows))
    os.makedirs(folder, exist_ok=True)
    ref, cur = generate(folder, "ref", args.rows, 0.0), generate(folder, "cur", args.rows, 0.2)
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    print(f"rows/side={args.rows}  columns=22  Spark local[2], default 1 GB driver")
    print(f"{'mode':<10} {'engine':<22} {'seconds':>9} {'x memory':>9} {'max |score diff|':>17}")
    for mode in args.modes.split(","):
        base = memory(ref, cur, mode)
        print(f"{mode:<10} {'memory':<22} {base['seconds']:>9.2f} {1.0:>9.1f} {0.0:>17.1e}",
              flush=True)
        for p in args.partitions.split(","):
            done = subprocess.run([sys.executable, __file__, "--child", ref, cur, p, mode],
                                  capture_output=True, text=True, env=env)
            if done.returncode != 0:
                print(f"{mode:<10} {'spark, ' + p + ' partitions':<22} failed: "
                      f"{done.stderr.strip().splitlines()[-1:]}", flush=True)
                continue
            got = json.loads(done.stdout.strip().splitlines()[-1])
            diff = max(abs((got["scores"][c] or 0.0) - (s or 0.0))
                       for c, s in base["scores"].items())
            print(f"{mode:<10} {'spark, ' + p + ' partitions':<22} {got['seconds']:>9.2f} "
                  f"{got['seconds'] / base['seconds']:>9.1f} {diff:>17.1e}", flush=True)


if __name__ == "__main__":
    main()
