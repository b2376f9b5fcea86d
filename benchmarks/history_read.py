"""Reading the history: 1,000 builds x 50 checks from a local folder store.

Target (issue 22): under a second. Prints the time to read everything back (typed rows,
approved marks, series split by configuration) and the ratio to the target.

    python benchmarks/history_read.py [--builds 1000] [--checks 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time

import numpy as np

from mlqa.baseline.stores import LocalStore
from mlqa.history import append_run, mark, read_history
from mlqa.report.bundle import BundleRecord
from mlqa.result import CheckResult, Outcome

TARGET_S = 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=1000)
    parser.add_argument("--checks", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(tmp)
        t0 = time.perf_counter()
        for b in range(args.builds):
            records = []
            for c in range(args.checks):
                value = float(0.9 + rng.normal(0, 0.004))
                records.append(BundleRecord(f"test_suite.py::test_check_{c}", CheckResult(
                    name=f"check {c}", outcome=Outcome.PASS, check="metric", metric="accuracy",
                    value=value, ci=(value - 0.01, value + 0.01), confidence=0.95, n=5000,
                    threshold=0.85, comparison=">=")))
            prov = {"jenkins": {"BUILD_NUMBER": str(b + 1),
                                "BUILD_URL": f"https://ci.example/job/m/{b + 1}/"},
                    "git": {"commit": f"{b:040x}"}}
            entry = append_run(store, records, prov, now=start + dt.timedelta(hours=b))
            if b % 50 == 0:
                mark(store, entry, "approved", by="bench")
        wrote = time.perf_counter() - t0
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            history = read_history(store)
            series = [history.current(c) for c in history.check_ids]
            runs.append(time.perf_counter() - t0)
        points = sum(len(s.points) for s in series)
        best = min(runs)
        print(f"history: {args.builds} builds x {args.checks} checks ({points} points) "
              f"written in {wrote:.2f} s")
        print(f"read back (typed rows, marks, series): best of 3 {best:.3f} s "
              f"(runs {', '.join(f'{r:.3f}' for r in runs)}); target {TARGET_S:.1f} s, "
              f"ratio {best / TARGET_S:.2f}")


if __name__ == "__main__":
    main()
