"""The metric gate's validation grid (issue 12.2): does a 95% interval keep its promise?

For every metric × n ∈ {100, 500, 5000} × positive rate π ∈ {0.5, 0.1, 0.02} (regression
metrics: Gaussian vs t(3) errors), ``--reps`` evaluation sets of n rows are drawn with
replacement from a seeded population of ``--population`` rows whose metric is the truth, and
the real ``check_metric`` is run with the requirement *at* the truth (``min=truth`` for a
score, ``max=truth`` for a loss). Per cell it prints:

- ``pass``: the share of PASS, the one-sided false approval; promise ≤ α/2 + 2 SE (α = 5%);
- ``cover``: the share of given intervals that contain the truth; promise 93-97% (± 2 SE);
- ``refused``: the share without an interval (INCONCLUSIVE naming why, or ERROR for an
  undefined metric), with the most common reason; a cell mostly refused keeps its promise by
  refusing.

The population: ``y ~ Bernoulli(π)``, a score ``s = 1.5 y + N(0, 1)`` (AUC 0.856), its
calibrated probability ``P(y = 1 | s)`` (for log loss and Brier), and labels ``s > 0.75``.
Regression: ``y ~ N(0, 3²)``, prediction ``y + e`` with ``e`` standard normal or t(3) scaled to
unit variance (squared errors of infinite variance).

    python benchmarks/metric_grid.py [--reps 400] [--population 1000000]

``tests/metrics/test_grid.py`` runs a small seeded version of the same code in CI.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import math
import time
import warnings
import zlib
from collections.abc import Iterable

import numpy as np

ALPHA = 0.05
CLASSIFICATION = ("accuracy", "recall", "precision", "f1", "balanced_accuracy",
                  "matthews_corrcoef", "roc_auc", "average_precision", "log_loss",
                  "brier_score")
REGRESSION = ("rmse", "mae", "r2")
LOSSES = {"log_loss", "brier_score", "rmse", "mae"}
SIZES = (100, 500, 5000)
RATES = (0.5, 0.1, 0.02)
ERRORS = ("gauss", "t3")
_SHIFT = 1.5
_CUT = 0.75


@dataclasses.dataclass(frozen=True)
class Cell:
    metric: str
    n: int
    setting: str  # "pi=0.1" or "gauss"/"t3"
    reps: int
    passes: int
    covered: int
    intervals: int
    refused: int
    reason: str
    truth: float
    method: str

    @property
    def pass_rate(self) -> float:
        return self.passes / self.reps

    @property
    def pass_bound(self) -> float:
        """α/2 plus two binomial standard errors at α/2."""
        half = ALPHA / 2
        return half + 2 * math.sqrt(half * (1 - half) / self.reps)

    @property
    def coverage(self) -> float | None:
        return self.covered / self.intervals if self.intervals else None

    @property
    def mostly_refused(self) -> bool:
        return self.refused >= self.reps / 2

    @property
    def coverage_ok(self) -> bool:
        if self.mostly_refused or self.coverage is None:
            return True
        se = math.sqrt(0.95 * 0.05 / self.intervals)
        return 0.93 - 2 * se <= self.coverage <= 0.97 + 2 * se

    @property
    def ok(self) -> bool:
        return self.pass_rate <= self.pass_bound and self.coverage_ok


def population(setting: str, size: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, size, zlib.crc32(setting.encode())])
    if setting in ERRORS:
        y = rng.normal(0, 3, size)
        e = rng.standard_normal(size) if setting == "gauss" else \
            rng.standard_t(3, size) / math.sqrt(3)
        return {"y": y, "pred": y + e}
    pi = float(setting.split("=")[1])
    y = (rng.random(size) < pi).astype(int)
    s = _SHIFT * y + rng.standard_normal(size)
    logit = math.log(pi / (1 - pi)) + _SHIFT * s - _SHIFT**2 / 2
    proba = 1 / (1 + np.exp(-logit))
    return {"y": y, "score": s, "proba": proba, "pred": (s > _CUT).astype(int)}


def _inputs(metric: str, pop: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if metric in ("roc_auc", "average_precision"):
        return pop["y"], pop["score"]
    if metric in ("log_loss", "brier_score"):
        return pop["y"], pop["proba"]
    return pop["y"], pop["pred"]


def truth_of(metric: str, pop: dict[str, np.ndarray]) -> float:
    from mlqa.metrics.registry import resolve_metric

    y, p = _inputs(metric, pop)
    return resolve_metric(metric)(y, p)


def run_cell(metric: str, n: int, setting: str, reps: int, pop: dict[str, np.ndarray],
             truth: float, seed: int = 0) -> Cell:
    from mlqa import Outcome, check_metric

    y_all, p_all = _inputs(metric, pop)
    rng = np.random.default_rng([seed, n, reps])
    bound = {"max": truth} if metric in LOSSES else {"min": truth}
    passes = covered = intervals = refused = 0
    reasons: collections.Counter[str] = collections.Counter()
    methods: collections.Counter[str] = collections.Counter()
    for r in range(reps):
        idx = rng.integers(0, len(y_all), n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = check_metric(y_all[idx], p_all[idx], metric, random_state=r, **bound)
        passes += res.outcome is Outcome.PASS
        if res.ci is not None:
            intervals += 1
            covered += res.ci[0] <= truth <= res.ci[1]
            methods[res.ci_method or "-"] += 1
        else:
            refused += 1
            why = res.details.get("reason") or res.details.get("undefined") or \
                res.outcome.value
            reasons[_short(str(why))] += 1
    reason = reasons.most_common(1)[0][0] if reasons else ""
    method = "/".join(m for m, _ in methods.most_common(2))
    return Cell(metric, n, setting, reps, passes, covered, intervals, refused, reason, truth,
                method)


def _short(reason: str) -> str:
    for word, short in (("tail index", "tail index"), ("top 1%", "tail share"),
                        ("only", "too few rows"),
                        ("undefined on", "undefined resamples"), ("no rows of", "no positives"),
                        ("predicted", "none predicted"), ("single class", "one class")):
        if word in reason:
            return short
    return reason[:24]


def grid(metrics: Iterable[str], sizes: Iterable[int], settings: Iterable[str], reps: int,
         population_size: int, seed: int = 0, show: bool = False) -> list[Cell]:
    cells = []
    pops = {}
    for setting in settings:
        pops[setting] = population(setting, population_size, seed)
    for metric in metrics:
        regression = metric in REGRESSION
        for setting in settings:
            if regression != (setting in ERRORS):
                continue
            truth = truth_of(metric, pops[setting])
            for n in sizes:
                cells.append(run_cell(metric, n, setting, reps, pops[setting], truth, seed))
                if show:
                    print(table(cells[-1:]).splitlines()[-1], flush=True)
    return cells


def table(cells: list[Cell]) -> str:
    head = (f"{'metric':18s} {'setting':8s} {'n':>5s} {'truth':>7s} {'method':18s} "
            f"{'pass':>6s} {'bound':>6s} {'cover':>6s} {'refused':>7s}  {'reason':18s} ok")
    rows = [head, "-" * len(head)]
    for c in cells:
        cover = "-" if c.coverage is None else f"{c.coverage:.3f}"
        rows.append(f"{c.metric:18s} {c.setting:8s} {c.n:5d} {c.truth:7.4f} {c.method:18s} "
                    f"{c.pass_rate:6.3f} {c.pass_bound:6.3f} {cover:>6s} "
                    f"{c.refused / c.reps:7.3f}  {c.reason:18s} "
                    f"{'yes' if c.ok else 'NO'}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--metrics", default=",".join(CLASSIFICATION + REGRESSION))
    args = parser.parse_args()
    metrics = args.metrics.split(",")
    start = time.perf_counter()
    settings = [f"pi={p}" for p in RATES] + list(ERRORS)
    print(table([]).splitlines()[0], flush=True)
    cells = grid(metrics, SIZES, settings, args.reps, args.population, show=True)
    print(f"validation grid: {args.reps} replicates per cell, population {args.population} "
          f"rows, 95% intervals, requirement at the truth; {time.perf_counter() - start:.0f} s")
    print(table(cells))
    bad = [c for c in cells if not c.ok]
    print(f"{len(cells) - len(bad)} of {len(cells)} cells keep their promise")


if __name__ == "__main__":
    main()
