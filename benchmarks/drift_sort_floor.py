"""check_drift(tests="auto") in memory against the sort floor, measured in the same process.

    python benchmarks/drift_sort_floor.py [--rows 1m 5m] [--repeats 3] [--memory-cap-gb 6]
    python benchmarks/drift_sort_floor.py --rows 20m --repeats 2 --memory-cap-gb 12

Data: ``drift_vs_evidently.make_side`` (seeded; per side n rows x 20 numerical float64 + 2
categorical object-string columns; in current a quarter of the numerical columns move by
0.1 sd and two categorical columns change shares), built once in a child process that runs
under a hard address-space cap (RLIMIT_AS, ``--memory-cap-gb``).

The floor is what any exact rank/ECDF test must at least do: every numerical column of both
sides sorted once (``np.sort``) and every categorical column hashed once (``pd.factorize``),
on the same threads check_drift uses (``map_columns``, one per core). Floor and auto run in
alternation (floor, auto, floor, auto, ...) so that a change of machine load hits both; each
pair prints its ratio and the 1-minute load average, and the summary gives the best of each,
their ratio, and the median of the per-pair ratios. The machine is shared: the ratio is the
figure, the seconds are not. ``--profile`` adds a cProfile of one auto run (top functions by
cumulative time, single-threaded).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROWS = {"1m": 1_000_000, "5m": 5_000_000, "20m": 20_000_000}


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def child(rows: int, repeats: int, profile: bool) -> dict:
    import numpy as np
    import pandas as pd

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from drift_vs_evidently import make_side, peak_reset, rss_mb

    import mlqa
    from mlqa.drift.columns import map_columns

    ref = make_side(rows, 20, 2, False, 0)
    cur = make_side(rows, 20, 2, True, 0)
    mlqa.check_drift(ref.iloc[:3000], cur.iloc[:3000])  # imports, caches

    def floor_column(name: str) -> None:
        for frame in (ref, cur):
            if name.startswith("num"):
                np.sort(frame[name].to_numpy())
            else:
                pd.factorize(frame[name])

    def floor() -> None:
        map_columns(floor_column, list(ref.columns), None)

    result = None

    def auto() -> None:
        nonlocal result
        result = mlqa.check_drift(ref, cur)

    data_mb = rss_mb("VmRSS")
    peak_reset()
    pairs = []
    for _ in range(repeats):
        before = load()
        t0 = time.perf_counter()
        floor()
        t1 = time.perf_counter()
        auto()
        t2 = time.perf_counter()
        pairs.append({"floor_s": t1 - t0, "auto_s": t2 - t1, "load_before": before,
                      "load_after": load()})
    out = {"rows": rows, "pairs": pairs, "data_mb": data_mb, "peak_mb": rss_mb("VmHWM"),
           "drifted": sorted(result.drifted_columns) if result else None}
    if profile:
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        mlqa.check_drift(ref, cur, n_threads=1)
        prof.disable()
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(25)
        out["profile"] = text.getvalue()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=["1m", "5m"], choices=list(ROWS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-cap-gb", type=float, default=6.0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import resource

        cap = int(args.memory_cap_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        print(json.dumps(child(args.child, args.repeats, args.profile)))
        return
    print(f"cores {os.cpu_count()}; load average (1/5/15 min) at start: {load()}")
    print("| rows per side | pair | floor s | auto s | auto / floor | load before -> after |")
    print("|---|---|---|---|---|---|")
    summary = []
    for key in args.rows:
        cmd = [sys.executable, __file__, "--child", str(ROWS[key]), "--repeats",
               str(args.repeats), "--memory-cap-gb", str(args.memory_cap_gb)]
        proc = subprocess.run(cmd + (["--profile"] if args.profile else []),
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            tail = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
            summary.append(f"{key}: failed (exit {proc.returncode}, address-space cap "
                           f"{args.memory_cap_gb} GB): {tail}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        ratios = []
        for i, p in enumerate(r["pairs"], 1):
            ratios.append(p["auto_s"] / p["floor_s"])
            print(f"| {key} | {i} | {p['floor_s']:.2f} | {p['auto_s']:.2f} | "
                  f"{ratios[-1]:.2f}x | {p['load_before']} -> {p['load_after']} |", flush=True)
        best_floor = min(p["floor_s"] for p in r["pairs"])
        best_auto = min(p["auto_s"] for p in r["pairs"])
        ratios.sort()
        summary.append(
            f"{key}: best floor {best_floor:.2f} s, best auto {best_auto:.2f} s, "
            f"best/best {best_auto / best_floor:.2f}x, median pair {ratios[len(ratios) // 2]:.2f}x;"
            f" data {r['data_mb']:.0f} MB, peak RSS {r['peak_mb']:.0f} MB; "
            f"drifted {r['drifted']}")
        if "profile" in r:
            summary.append(r["profile"])
    print()
    print("\n".join(summary))
    print(f"load average at end: {load()}")


if __name__ == "__main__":
    main()
