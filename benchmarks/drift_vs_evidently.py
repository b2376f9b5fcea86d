"""mlqa.check_drift against evidently 0.7.23's DataDriftPreset and against the sort floor.

    python benchmarks/drift_vs_evidently.py [--repeats 5] [--scenarios 100k 1m 1m22 5m22]

Scenarios (reference and current of equal size, seeded): 100k rows x (20 numerical + 5
categorical, object strings with 4 levels), 1M rows x 20 numerical, and 1M / 5M rows x (20
numerical + 2 categorical) for mlqa's own mode (issue 14.0; evidently is left out there, it
takes minutes and gigabytes). In current, a quarter of the numerical columns move by 0.1 sd
and the first 2 categorical columns change shares. 20M rows x 22 columns is not a default
scenario: its data alone (2 x 20M x 20 float64 = 6.4 GB) exceeds the 6 GB cap each engine
process runs under (``--memory-cap-gb``, RLIMIT_AS) on this shared 24 GB machine.

Every engine runs in its own process, which builds the data, imports what it needs, then
resets the peak-RSS counter (``/proc/self/clear_refs``) so the reported peak is the
engine's, with the data resident:

* ``evidently``: Dataset.from_pandas x2 + Report([DataDriftPreset()]).run + snapshot.dict()
* ``scipy``: the same statistics in plain scipy (wasserstein_distance / std, JS distance of
  value counts), what the research measured as the floor of a straightforward rewrite
* ``sort``: the floor: every numerical column of both sides sorted once (numpy) and every
  categorical column hashed once (``pd.factorize``), on the same threads check_drift uses
  (one per core): what any exact rank/ECDF test must at least do. Every line prints its
  time as a multiple of this floor.
* ``mlqa_auto``: check_drift(reference, current) -- the default ``tests="auto"`` (KS and
  Anderson-Darling per numerical column read from the two sorted sides without a merge,
  chi-square / z per categorical column, Holm, materiality on an effect bound);
  ``benchmarks/drift_sort_floor.py`` times it against the floor in one process, 20M rows
  included
* ``mlqa``: check_drift(reference, current, tests="evidently")
* ``mlqa_profile``: check_drift(profile, current, tests="evidently") with the reference profile
  loaded from a file saved beforehand (the reference data is not in memory)
* ``mlqa_category``: as ``mlqa``, with the string columns held as pandas ``category`` (as a
  Parquet dictionary column reads); the conversion is not timed. Object-dtype strings cost a
  hash pass per column and side; this line shows what that costs.

Times are the best of ``--repeats`` (evidently: 1 repeat at 1M, it takes minutes); ratios are
against evidently in the same run. The machine is shared: read the table beside ``uptime``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

SCENARIOS = {"100k": (100_000, 20, 5), "1m": (1_000_000, 20, 0),
             "1m22": (1_000_000, 20, 2), "5m22": (5_000_000, 20, 2),
             "20m22": (20_000_000, 20, 2)}
DEFAULT_SCENARIOS = ("100k", "1m", "1m22", "5m22")
ENGINES = ("evidently", "scipy", "sort", "mlqa", "mlqa_auto", "mlqa_profile", "mlqa_category")
# mlqa's own mode at scale: evidently and the plain-scipy rewrite are left out there.
SCALE_ENGINES = ("sort", "mlqa_auto", "mlqa")


def make_side(n: int, n_num: int, n_cat: int, current: bool, seed: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed + (1 if current else 0))
    num = np.empty((n, n_num), order="F")  # one block, each column contiguous, no copy below
    for i in range(n_num):
        num[:, i] = rng.normal(0.1 if current and i < n_num // 4 else 0.0, 1.0, n)
    frame = pd.DataFrame(num, columns=[f"num_{i}" for i in range(n_num)], copy=False)
    levels = np.array(["alpha", "beta", "gamma", "delta"], dtype=object)
    for j in range(n_cat):
        p = [0.4, 0.3, 0.2, 0.1] if not (current and j < 2) else [0.3, 0.3, 0.25, 0.15]
        frame[f"cat_{j}"] = levels[rng.choice(4, n, p=p)]
    return frame


def peak_reset() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def rss_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_engine(engine: str, scenario: str, repeats: int, profile_path: str) -> dict:
    import numpy as np

    n, n_num, n_cat = SCENARIOS[scenario]
    cur = make_side(n, n_num, n_cat, True, 0)
    ref = None if engine == "mlqa_profile" else make_side(n, n_num, n_cat, False, 0)
    if engine == "mlqa_category":
        for frame in (ref, cur):
            for c in frame.columns[n_num:]:
                frame[c] = frame[c].astype("category")
    scores: dict[str, float] = {}
    if engine == "evidently":
        import warnings

        os.environ.setdefault("DO_NOT_TRACK", "1")
        warnings.simplefilter("ignore")
        from evidently import Dataset, Report
        from evidently.presets import DataDriftPreset

        def once():
            snap = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur),
                                                   Dataset.from_pandas(ref))
            d = snap.dict()
            return {m["config"]["column"]: float(m["value"]) for m in d["metrics"]
                    if m["config"]["type"].endswith("ValueDrift")}
    elif engine == "scipy":
        from scipy.spatial.distance import jensenshannon
        from scipy.stats import wasserstein_distance

        def once():
            out = {}
            for c in ref.columns:
                r, k = ref[c].dropna(), cur[c].dropna()
                if c.startswith("num"):
                    out[c] = wasserstein_distance(r, k) / max(float(np.std(r)), 0.001)
                else:
                    keys = sorted(set(r) | set(k))
                    vr = r.value_counts().reindex(keys, fill_value=0) / len(r)
                    vk = k.value_counts().reindex(keys, fill_value=0) / len(k)
                    out[c] = float(jensenshannon(vr.to_numpy(), vk.to_numpy()))
            return out
    elif engine == "sort":
        import pandas as pd

        from mlqa.drift.columns import map_columns

        def floor(column):
            for frame in (ref, cur):
                if column.startswith("num"):
                    np.sort(frame[column].to_numpy())
                else:
                    pd.factorize(frame[column])

        def once():
            map_columns(floor, list(ref.columns), None)
            return {}
    else:
        import mlqa.drift

        reference = mlqa.drift.load_profile(profile_path) if engine == "mlqa_profile" else ref
        mlqa.check_drift(cur.iloc[:2000], cur.iloc[2000:4000], tests="evidently")  # imports

        tests = "auto" if engine == "mlqa_auto" else "evidently"

        def once():
            r = mlqa.check_drift(reference, cur, tests=tests)
            return {c: d.score for c, d in r.columns.items()} | {
                "_drifted": len(r.drifted_columns)}

    data_mb = rss_mb("VmRSS")
    peak_reset()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        scores = once()
        times.append(time.perf_counter() - t0)
    return {"engine": engine, "scenario": scenario, "best_s": min(times), "times": times,
            "peak_mb": rss_mb("VmHWM"), "before_mb": data_mb, "scores": scores}


def save_profile(scenario: str, path: str) -> None:
    import mlqa.drift

    n, n_num, n_cat = SCENARIOS[scenario]
    mlqa.drift.profile(make_side(n, n_num, n_cat, False, 0)).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scenarios", nargs="+", default=list(DEFAULT_SCENARIOS),
                        choices=list(SCENARIOS))
    parser.add_argument("--engines", nargs="+", default=None,
                        help="default: all for 100k/1m, sort + mlqa_auto + mlqa above")
    parser.add_argument("--memory-cap-gb", type=float, default=6.0,
                        help="address-space cap of each engine process (RLIMIT_AS)")
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--profile", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        import resource

        cap = int(args.memory_cap_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        print(json.dumps(run_engine(args.engine, args.scenario, args.repeats, args.profile)))
        return
    print(f"load average before: {os.getloadavg()}")
    for scenario in args.scenarios:
        rows = {}
        engines = args.engines or (ENGINES if scenario in ("100k", "1m") else SCALE_ENGINES)
        with tempfile.TemporaryDirectory() as tmp:
            profile_path = os.path.join(tmp, "reference.profile")
            if "mlqa_profile" in engines:
                save_profile(scenario, profile_path)
            for engine in engines:
                repeats = 1 if (engine == "evidently" and scenario == "1m") else \
                    min(args.repeats, 2) if engine in ("evidently", "scipy") else args.repeats
                proc = subprocess.run(
                    [sys.executable, __file__, "--engine", engine, "--scenario", scenario,
                     "--repeats", str(repeats), "--profile", profile_path,
                     "--memory-cap-gb", str(args.memory_cap_gb)],
                    capture_output=True, text=True, check=False)
                if proc.returncode:
                    tail = proc.stderr.strip().splitlines()[-1:] or ["(no message)"]
                    print(f"{scenario}: {engine} failed (exit {proc.returncode}; "
                          f"memory cap {args.memory_cap_gb} GB): {tail[0]}")
                    continue
                out = proc.stdout
                rows[engine] = json.loads(out.strip().splitlines()[-1])
        report(scenario, rows)
    print(f"load average after: {os.getloadavg()}")


def report(scenario: str, rows: dict) -> None:
    base = rows.get("evidently")
    floor = rows.get("sort")
    print(f"\n## {scenario}: {SCENARIOS[scenario]} (rows, numerical, categorical) per side")
    print("| engine | best s | all runs s | peak RSS MB | RSS before MB | evidently / engine "
          "| engine / sort floor |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        ratio = f"{base['best_s'] / r['best_s']:.1f}x" if base else "n/a"
        over = f"{r['best_s'] / floor['best_s']:.2f}x" if floor else "n/a"
        runs = ", ".join(f"{t:.3f}" for t in r["times"])
        print(f"| {name} | {r['best_s']:.3f} | {runs} | {r['peak_mb']:.0f} | "
              f"{r['before_mb']:.0f} | {ratio} | {over} |")
    if base:
        for name in ("mlqa", "mlqa_profile", "mlqa_category", "scipy"):
            if name not in rows:
                continue
            theirs, ours = base["scores"], rows[name]["scores"]
            diff = max(abs(theirs[c] - ours[c]) for c in theirs)
            print(f"max |score difference| evidently vs {name}: {diff:.3g} "
                  f"over {len(theirs)} columns")
        if "mlqa" in rows:
            flagged = rows["mlqa"]["scores"]["_drifted"]
            print(f"mlqa drifted columns: {flagged}")


if __name__ == "__main__":
    main()
