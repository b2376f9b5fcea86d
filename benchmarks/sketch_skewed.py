"""Cells on skewed data: one scan per side vs the targeted splits, DuckDB.

lognormal(0, 2) with 5 outliers at 1e9, ``--rows`` rows per side (default 2M), ``tests={"x":
"ks"}``. Prints, for ``exact=False`` with a budget of 2 scans per side (the first grid and one
split) and with the full ``SCAN_BUDGET``, the certified KS interval, cells, scans and seconds,
and their time ratio; then ``exact="decision"`` against ``exact=True`` (same verdict, time
ratio) - the exact path is the anchor measured in this run.
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile
import time

import numpy as np
import pandas as pd

import mlqa
from mlqa.drift import sketched


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=2_000_000)
    args = p.parse_args()
    d = pathlib.Path(tempfile.mkdtemp())
    for side, seed in (("ref", 1), ("cur", 2)):
        x = np.random.default_rng(seed).lognormal(0.0, 2.0, args.rows)
        x[:5] = 1e9
        pd.DataFrame({"x": x}).to_parquet(d / f"{side}.parquet")
    ref, cur = str(d / "ref.parquet"), str(d / "cur.parquet")
    options = {"tests": {"x": "ks"}}
    mlqa.check_drift(ref, cur, exact=False, **options)  # warm-up (imports, DuckDB start)
    seconds = {}
    for label, budget in (("2 scans", 2), ("full budget", sketched.SCAN_BUDGET)):
        old, sketched.SCAN_BUDGET = sketched.SCAN_BUDGET, budget
        try:
            t0 = time.perf_counter()
            r = mlqa.check_drift(ref, cur, exact=False, **options)
            seconds[label] = time.perf_counter() - t0
        finally:
            sketched.SCAN_BUDGET = old
        b = r.details["bounds"]["x"]
        print(f"{label:12s} ks in [{b['ks'][0]:.5f}, {b['ks'][1]:.5f}] cells={b['cells']} "
              f"scans/side={b['passes']} outcome={r.outcome.value} "
              f"seconds={seconds[label]:.2f}")
    print(f"time ratio full budget / 2 scans: "
          f"{seconds['full budget'] / seconds['2 scans']:.2f}")
    for exact in ("decision", True):
        t0 = time.perf_counter()
        r = mlqa.check_drift(ref, cur, exact=exact, **options)
        seconds[str(exact)] = time.perf_counter() - t0
        print(f"exact={exact!r}: drifted={r.columns['x'].drifted} "
              f"fallback={sorted(r.details.get('fallback', {}))} "
              f"seconds={seconds[str(exact)]:.2f}")
    print(f"time ratio decision / exact: {seconds['decision'] / seconds['True']:.2f}")


if __name__ == "__main__":
    main()
