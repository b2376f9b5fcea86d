"""A/A false FAILs of CPU latency gates on a scikit-learn model, across fresh processes
(issue 19.5; target: at most 1 in 20 with the default n_threads=1 and OMP_NUM_THREADS unset).

One HistGradientBoostingClassifier is fitted once and pickled. Each run is a fresh ``python``
process, started with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS removed from its
environment, that loads the same model and measures ``predict`` on one row with
``measure_latency(device="cpu", n_threads=...)``. Per setting of ``n_threads`` (1: the default,
which pins OpenMP/BLAS with torch; and ``none``: mlqa leaves the pools alone, as before):

* the first ``--baseline-runs`` processes are the baseline: their p99s fix the SLO bound
  (``--slo-factor`` x their largest p99) and they are the stored runs of the regression gate;
* each of the next ``--trials`` processes is judged by ``check_latency(quantile=0.99,
  max_ms=bound)`` (the YAML latency check's gate) and by ``check_latency_regression(quantile=
  0.99, max_slowdown=1.10)`` against the stored runs. Same model, same machine: every FAIL is a
  false FAIL.
* runs of a later setting are also held to the first setting's bound (``first SLO``): the SLO a
  team sets from a pinned run, as the issue's user did, met by unpinned runs.

Prints each run's p99 (ms, with its 99% interval and the share of preempted queries) and the
false FAIL rate of each gate.

    python benchmarks/latency_aa_threads.py [--trials 20] [--threads 1 none]
"""

from __future__ import annotations

import argparse
import collections
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def child(model_path: str, out: str, n_threads: str, max_time_s: float) -> None:
    """One run: load the model, measure predict on one row, save the latency record."""
    import numpy as np

    from mlqa.latency import measure_latency, save_latency

    with open(model_path, "rb") as fh:
        model, rows = pickle.load(fh)  # noqa: S301 - the parent's own file
    lat = measure_latency(model.predict, np.asarray(rows), device="cpu",
                          n_threads=None if n_threads == "none" else int(n_threads),
                          max_time_s=max_time_s, quantiles=(0.5, 0.99))
    save_latency(lat, out)


def run(model_path: Path, folder: Path, n_threads: str, i: int, max_time_s: float) -> Path:
    out = folder / f"run_{n_threads}_{i}.json"
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    subprocess.run([sys.executable, __file__, "--child", str(model_path), str(out), n_threads,
                    str(max_time_s)], env=env, check=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--threads", nargs="+", default=["1", "none"])
    parser.add_argument("--max-time-s", type=float, default=2.0)
    parser.add_argument("--slo-factor", type=float, default=2.0)
    args = parser.parse_args()

    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier

    from mlqa.latency import LatencyRuns, check_latency, check_latency_regression, load_latency

    X, y = make_classification(n_samples=20_000, n_features=20, random_state=0)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, y)
    print(f"cpu_count={os.cpu_count()} load={os.getloadavg()} "
          f"OMP_NUM_THREADS in children: unset")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_path = folder / "model.pkl"
        model_path.write_bytes(pickle.dumps((model, X[:1])))
        first_bound = None
        for n in args.threads:
            start = time.perf_counter()
            base = [load_latency(run(model_path, folder, n, i, args.max_time_s))
                    for i in range(args.baseline_runs)]
            bound = args.slo_factor * max(r[1].p99 for r in base)
            print(f"\nn_threads={n}: baseline p99 ms "
                  f"{', '.join(f'{r[1].p99:.3g}' for r in base)}; SLO bound {bound:.3g} ms")
            first_bound = bound if first_bound is None else first_bound
            slo, reg, cross = collections.Counter(), collections.Counter(), collections.Counter()
            for i in range(args.trials):
                lat = load_latency(run(model_path, folder, n, args.baseline_runs + i,
                                       args.max_time_s))
                r = lat[1]
                q = r.quantile(0.99)
                a = check_latency(lat, quantile=0.99, max_ms=bound)
                b = check_latency_regression(lat, LatencyRuns(tuple(base)), quantile=0.99,
                                             max_slowdown=1.10)
                c = check_latency(lat, quantile=0.99, max_ms=first_bound).outcome.value
                slo[a.outcome.value] += 1
                reg[b.outcome.value] += 1
                cross[c] += 1
                print(f"  run {i + 1:2d}: p99 {r.p99:9.3f} ms [{_ms(q.ci_low)}, {_ms(q.ci_high)}]"
                      f" n={r.n:5d} preempted {r.preempted_fraction or 0:5.1%}  "
                      f"SLO {a.outcome.value:12s} regression {b.outcome.value:12s} "
                      f"first SLO {c}", flush=True)
            print(f"n_threads={n}: false FAIL rate: SLO {slo['fail']}/{args.trials}, "
                  f"regression {reg['fail']}/{args.trials}  (SLO {dict(slo)}; "
                  f"regression {dict(reg)}; held to the first setting's bound "
                  f"{first_bound:.3g} ms: {dict(cross)}; {time.perf_counter() - start:.0f} s)")


def _ms(x: float | None) -> str:
    return "inf" if x is None else f"{x:.3f}"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
    else:
        main()
