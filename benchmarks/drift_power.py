"""False alarms and power of ``check_drift(tests="auto")``: a seeded simulation.

    python benchmarks/drift_power.py [--replicates 200] [--sizes 1000 100000]

Each replicate draws a reference and a current frame of n rows with 8 columns: 4 normal,
2 Student t(3), 2 categorical with 8 levels (shares .30 .20 .15 .10 .10 .05 .05 .05), and
runs ``check_drift`` on them. Under "no drift" both frames come from the same distributions
and the line reports the family-wise false-alarm rate (any column flagged), with and
without the materiality floor. Under each alternative exactly one column changes and the
line reports how often that column is flagged (power) and how often any *other* column is
(false alarms). Alternatives: a location shift of the normal column (0.1 sd is exactly the
default floor of 0.1 normed Wasserstein, so about alpha is the promise there, not power), a
scale change (variance x1.5) of a normal and of a t(3) column, and a move of 5 and 10
percentage points of share between the two largest categories (total variation 0.05, 0.10;
the categorical floor is 0.02).

Also "ks only": the same decision with the companion Cramér-von Mises test left out of the
family (``tests={"*": "auto", <numerical columns>: "ks"}``), to show what the companion buys.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

LEVELS = np.array(list("abcdefgh"))
SHARES = np.array([0.30, 0.20, 0.15, 0.10, 0.10, 0.05, 0.05, 0.05])
NUMERICAL = ["x0", "x1", "x2", "x3", "t0", "t1"]
# name -> (changed column, change)
SCENARIOS = {
    "no drift": (None, {}),
    "location +0.1 sd (at floor)": ("x0", {"shift": 0.1}),
    "location +0.2 sd": ("x0", {"shift": 0.2}),
    "location +0.5 sd": ("x0", {"shift": 0.5}),
    "scale var x1.5 (normal)": ("x1", {"scale": 1.5 ** 0.5}),
    "scale var x1.5 (t3)": ("t0", {"scale": 1.5 ** 0.5}),
    "share +0.05 (TVD 0.05)": ("c0", {"share": 0.05}),
    "share +0.10 (TVD 0.10)": ("c0", {"share": 0.10}),
}


def frame(rng: np.random.Generator, n: int, column: str | None = None,
          shift: float = 0.0, scale: float = 1.0, share: float = 0.0) -> pd.DataFrame:
    """One side; ``column`` (if given) gets the change."""
    data: dict[str, np.ndarray] = {}
    for name in NUMERICAL:
        base = rng.normal(size=n) if name.startswith("x") else rng.standard_t(3, n)
        if name == column:
            base = base * scale + shift
        data[name] = base
    for name in ("c0", "c1"):
        p = SHARES.copy()
        if name == column:
            p[0] += share
            p[1] -= share
        data[name] = LEVELS[rng.choice(len(LEVELS), n, p=p)]
    return pd.DataFrame(data)


def simulate(scenario: str, n: int, replicates: int, random_state: int = 0,
             ks_only: bool = False) -> dict[str, float]:
    """Rates over ``replicates`` seeded runs: ``flagged`` (the changed column drifted),
    ``others`` (any unchanged column drifted: the false alarms), ``others_no_floor`` (the
    same with ``min_effect=0``: the multiple-testing layer alone)."""
    import mlqa

    column, change = SCENARIOS[scenario]
    rng = np.random.default_rng(random_state)
    tests: object = {"*": "auto", **dict.fromkeys(NUMERICAL, "ks")} if ks_only else "auto"
    flagged = others = others_no_floor = 0
    for _ in range(replicates):
        ref, cur = frame(rng, n), frame(rng, n, column, **change)
        r = mlqa.check_drift(ref, cur, tests=tests, n_threads=1)
        drifted = set(r.drifted_columns)
        flagged += column in drifted
        others += bool(drifted - {column})
        bare = mlqa.check_drift(ref, cur, tests=tests, min_effect=0.0, n_threads=1)
        others_no_floor += bool(set(bare.drifted_columns) - {column})
    return {"flagged": flagged / replicates, "others": others / replicates,
            "others_no_floor": others_no_floor / replicates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--ks-only", action="store_true", help="also the KS-only decision")
    args = parser.parse_args()
    print(f"alpha 0.05, Holm; {args.replicates} replicates per cell "
          f"(+-{2 * (0.05 * 0.95 / args.replicates) ** 0.5:.3f} 2SE at 5%)")
    print("| scenario | n | changed column flagged | any other column flagged | "
          "other, floor off | ks only: flagged |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        reps = args.replicates if n <= 10_000 else max(20, args.replicates // 5)
        for scenario in SCENARIOS:
            t0 = time.perf_counter()
            r = simulate(scenario, n, reps)
            ks = simulate(scenario, n, reps, ks_only=True)["flagged"] if args.ks_only \
                and SCENARIOS[scenario][0] in NUMERICAL else None
            flagged = "-" if SCENARIOS[scenario][0] is None else f"{r['flagged']:.3f}"
            print(f"| {scenario} | {n} (R={reps}) | {flagged} | {r['others']:.3f} | "
                  f"{r['others_no_floor']:.3f} | {'-' if ks is None else f'{ks:.3f}'} |"
                  f"  <!-- {time.perf_counter() - t0:.0f} s -->", flush=True)


if __name__ == "__main__":
    main()
