"""exact=False on skewed data: the first grid alone vs the refined grid, DuckDB.

lognormal(0, 2) with 5 outliers at 1e9, ``--rows`` rows per side (default 2M). Prints eps, cells,
passes and seconds for the one-pass grid (``MAX_PASSES = 1``, the sketch before refinement) and
the refined grid, and their time ratio (the one-pass grid is the anchor measured in this run).
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile
import time

import numpy as np
import pandas as pd

import mlqa
from mlqa.engines import sketch


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
    mlqa.check_drift(ref, cur, exact=False)  # warm-up (imports, DuckDB start)
    seconds = {}
    for label, passes in (("one pass (before)", 1), ("refined (after)", sketch.MAX_PASSES)):
        old, sketch.MAX_PASSES = sketch.MAX_PASSES, passes
        try:
            t0 = time.perf_counter()
            r = mlqa.check_drift(ref, cur, exact=False)
            seconds[label] = time.perf_counter() - t0
        finally:
            sketch.MAX_PASSES = old
        a = r.details["approximate"]["x"]
        print(f"{label:18s} eps={a['epsilon']:.3g} cells={a['cells']} passes={a['passes']} "
              f"outcome={r.outcome.value} seconds={seconds[label]:.2f}")
    print(f"time ratio refined / one pass: "
          f"{seconds['refined (after)'] / seconds['one pass (before)']:.2f}")


if __name__ == "__main__":
    main()
