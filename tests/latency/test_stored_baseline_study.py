"""A/A and +30% series for the latency regression gate: separate runs vs interleaved (issue 12.3).

Separate processes running the same model differ systematically: measured on this machine, the
same-model p50 ratio between two processes spread over 0.945-1.066 and the clean p99 ratio over
0.88-1.39 (docs/latency.md, research/latency.md 5.3), while the queries of one run pin their own
quantile to within ~1%. The simulated world below reproduces that structure, seeded:

* a run (one process) draws a level shift ``a ~ N(0, RUN_SD)`` and a tail factor
  ``b ~ N(0, TAIL_SD)``; its queries are lognormal with median ``m * exp(a)`` and log-SD
  ``QUERY_SD * exp(b)`` (so p99 varies between runs more than p50: ~6.3% vs 2.5% SD);
* an interleaved run gives both arms the same ``a`` and ``b`` (one process) and every round a
  shared contention factor ``c_r ~ N(0, ROUND_SD)``;
* "+30%" multiplies the candidate's latencies by 1.3; the gate's margin is 1.10 at 99%.

Designs compared (each a real call of the gate where it still exists):
* ``single``: one current run against one stored run, queries resampled (the block bootstrap the
  gate used before: it now returns ERROR "not offered as a gate" for this design);
* ``runs K``: one current run against K stored runs, the run as the unit (the gate now);
* ``interleaved``: both arms in one process, rounds resampled jointly.

``benchmarks/latency_harness.py --study`` prints the same table with more trials plus a real
timing series (separate processes and interleaved) on this machine.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import mlqa
from mlqa.latency import LatencyReport, LatencyResult, LatencyRuns, check_latency_regression
from mlqa.latency.quantiles import ratio_interval

ENV = {"device": "cpu", "device_type": "cpu", "device_name": "sim", "torch": "x", "cuda": None,
       "n_threads": 1, "mode": "eager"}
MEDIAN_MS, QUERY_SD, RUN_SD, TAIL_SD, ROUND_SD = 1.0, 0.1, 0.025, 0.25, 0.03
N_QUERIES, ROUNDS, MARGIN = 1000, 30, 1.10


@dataclasses.dataclass
class Tally:
    """Outcomes of one cell: how often FAIL / PASS, and how often the interval held the truth."""

    fail: int = 0
    passed: int = 0
    covered: int = 0
    trials: int = 0

    def add(self, outcome: str, ci: tuple[float, float] | None, truth: float) -> None:
        self.trials += 1
        self.fail += outcome == "fail"
        self.passed += outcome == "pass"
        self.covered += ci is not None and ci[0] <= truth <= ci[1]

    def rate(self, what: str) -> float:
        return getattr(self, what) / self.trials


def _queries(rng: np.random.Generator, n: int, factor: float, a: float, b: float) -> np.ndarray:
    return MEDIAN_MS * factor * np.exp(a + QUERY_SD * np.exp(b) * rng.standard_normal(n))


def _report(ms: np.ndarray, *, pairing: str | None = None,
            rounds: np.ndarray | None = None) -> LatencyReport:
    result = LatencyResult(1, np.round(ms * 1e6), rounds=rounds, stop_reason="sim")
    return LatencyReport(results={1: result}, environment=ENV, pairing=pairing)


def separate_run(rng: np.random.Generator, factor: float = 1.0) -> LatencyReport:
    """One process: its own level and tail, then its queries."""
    a, b = rng.normal(0, RUN_SD), rng.normal(0, TAIL_SD)
    return _report(_queries(rng, N_QUERIES, factor, a, b))


def interleaved_pair(rng: np.random.Generator, factor: float, pairing: str
                     ) -> tuple[LatencyReport, LatencyReport]:
    """(candidate, baseline) measured in alternating rounds of one process."""
    a, b = rng.normal(0, RUN_SD), rng.normal(0, TAIL_SD)
    per = N_QUERIES // ROUNDS
    rounds = np.repeat(np.arange(ROUNDS), per)
    shared = np.repeat(rng.normal(0, ROUND_SD, ROUNDS), per)
    arms = [_queries(rng, len(rounds), f, a, b) * np.exp(shared) for f in (factor, 1.0)]
    return (_report(arms[0], pairing=pairing, rounds=rounds),
            _report(arms[1], pairing=pairing, rounds=rounds))


def study(trials: int, *, quantiles=(0.5, 0.99), factors=(1.0, 1.3),
          stored=((1, 10),), seed: int = 0, n_resamples: int = 200
          ) -> dict[tuple[str, float, float], Tally]:
    """Tallies per (design, quantile, factor); ``stored`` lists (current runs, baseline runs)."""
    rng = np.random.default_rng(seed)
    cells: dict[tuple[str, float, float], Tally] = {}
    for t in range(trials):
        for q in quantiles:
            for f in factors:
                # one stored run: the old gate (a moving-block bootstrap of the queries)
                cur, ref = separate_run(rng, f), separate_run(rng)
                ratio, ci = ratio_interval(cur[1].samples_ms(), ref[1].samples_ms(), q, 0.99,
                                           draws=n_resamples, seed=t)
                outcome = mlqa.result.decide(ratio, max=MARGIN, ci=ci).value
                cells.setdefault(("single", q, f), Tally()).add(outcome, ci, f)
                for m, k in stored:
                    base = LatencyRuns(tuple(separate_run(rng) for _ in range(k)))
                    now = [separate_run(rng, f) for _ in range(m)]
                    r = check_latency_regression(now, base, quantile=q, max_slowdown=MARGIN)
                    cells.setdefault((f"runs {m}v{k}", q, f), Tally()).add(r.outcome.value,
                                                                          r.ci, f)
                cand, base_arm = interleaved_pair(rng, f, f"pair{t}")
                r = check_latency_regression(cand, base_arm, quantile=q, max_slowdown=MARGIN,
                                             n_resamples=n_resamples, random_state=t)
                cells.setdefault(("interleaved", q, f), Tally()).add(r.outcome.value, r.ci, f)
    return cells


def table(cells: dict[tuple[str, float, float], Tally]) -> str:
    lines = ["design        quantile  A/A FAIL  A/A covers 1.0  +30% FAIL  +30% PASS"]
    for design in dict.fromkeys(k[0] for k in cells):
        for q in sorted({k[1] for k in cells if k[0] == design}):
            aa, ab = cells[(design, q, 1.0)], cells[(design, q, 1.3)]
            lines.append(f"{design:13s} p{q * 100:<7g} {aa.rate('fail'):8.1%}  "
                         f"{aa.rate('covered'):14.1%}  {ab.rate('fail'):9.1%}  "
                         f"{ab.rate('passed'):9.1%}")
    return "\n".join(lines)


TRIALS = 40
pytestmark = pytest.mark.slow  # ~10 s of CPU


@pytest.fixture(scope="module")
def cells() -> dict[tuple[str, float, float], Tally]:
    return study(TRIALS, stored=((1, 5), (1, 10), (5, 10)))


def test_one_stored_run_has_an_a_a_false_alarm_rate_above_five_percent(cells):
    """Why the single-run comparison is no longer offered: its query-level interval misses the
    run-to-run difference, so at p99 an identical model FAILs well above 5%, and its intervals
    cover the true ratio far below 99%."""
    aa99, aa50 = cells[("single", 0.99, 1.0)], cells[("single", 0.5, 1.0)]
    assert aa99.rate("fail") > 0.05, table(cells)
    assert aa50.rate("covered") < 0.6 and aa99.rate("covered") < 0.8, table(cells)


@pytest.mark.parametrize("design", ["runs 1v5", "runs 1v10", "runs 5v10", "interleaved"])
@pytest.mark.parametrize("q", [0.5, 0.99])
def test_a_a_false_alarm_rate_stays_within_five_percent(cells, design, q):
    aa = cells[(design, q, 1.0)]
    # nominal one-sided error 0.5%; 40 trials: 2 FAILs would already be 5%
    assert aa.fail <= 1, table(cells)
    assert aa.rate("covered") >= 0.9, table(cells)


@pytest.mark.parametrize("design, q, least", [
    ("interleaved", 0.5, 0.95), ("interleaved", 0.99, 0.95),
    ("runs 1v10", 0.5, 0.9), ("runs 1v5", 0.5, 0.5), ("runs 5v10", 0.99, 0.9),
])
def test_thirty_percent_slower_is_detected(cells, design, q, least):
    ab = cells[(design, q, 1.3)]
    assert ab.rate("fail") >= least, table(cells)
    assert ab.passed == 0, table(cells)  # never approved, whatever the design


def test_one_current_run_cannot_establish_a_p99_regression_against_stored_runs(cells):
    """The current run's own process deviation (~6% SD at p99) cannot be averaged away by more
    baseline runs: one current run against 10 stored runs leaves +30% mostly INCONCLUSIVE
    (never PASS); five current runs detect it."""
    one, five = cells[("runs 1v10", 0.99, 1.3)], cells[("runs 5v10", 0.99, 1.3)]
    assert one.passed == 0 and one.rate("fail") < 0.6, table(cells)
    assert five.rate("fail") >= 0.9, table(cells)


def test_real_timing_small_series():
    """Real timing, kept small for CI: five stored runs of a 10-block MLP (in this process,
    a fresh copy each; benchmarks/latency_harness.py --study uses separate processes), then
    two runs each of an identical model and a 13-block one (+30% work), at p50 and p99; and two
    interleaved measurements. On this shared machine most stored comparisons come out
    INCONCLUSIVE (contention); whatever the load, an identical model is never FAILed and the
    heavier one never PASSes, and interleaved arms detect +30% of work at p50."""
    import copy

    import torch

    from mlqa.latency import measure_latency, measure_latency_interleaved, measure_latency_runs

    def mlp(blocks: int) -> torch.nn.Module:
        torch.manual_seed(0)
        return torch.nn.Sequential(*[m for _ in range(blocks)
                                     for m in (torch.nn.Linear(256, 256), torch.nn.ReLU())])

    x = torch.randn(32, 256, generator=torch.Generator().manual_seed(0))
    fast = dict(device="cpu", batch_sizes=(32,), warmup_time_s=0.05, min_time_s=0.3,
                max_time_s=0.6, throughput_time_s=0.005, overhead_iters=50)
    base = measure_latency_runs(mlp(10), x, runs=5, isolate=False, **fast)
    seen = []
    for blocks, never in ((10, "fail"), (13, "pass"), (10, "fail"), (13, "pass")):
        current = measure_latency(mlp(blocks), x, **fast)
        for q in (0.5, 0.99):
            r = check_latency_regression(current, base, quantile=q)
            seen.append((blocks, q, r.outcome.value, r.value))
            assert r.outcome.value != never, r.message
            assert r.details["method"] == "runs" and r.details["runs"] == [1, 5]
    model = mlp(10)
    for rep in range(2):
        arms = measure_latency_interleaved(
            {"base": model, "same": copy.deepcopy(model), "heavy": mlp(13)}, x, device="cpu",
            batch_sizes=(32,), rounds=150, segment_time_s=0, segment_warmup=1,
            warmup_time_s=0.02, throughput_time_s=0.005, overhead_iters=20)
        for q in (0.5, 0.99):
            same = check_latency_regression(arms["same"], arms["base"], quantile=q,
                                            random_state=rep)
            heavy = check_latency_regression(arms["heavy"], arms["base"], quantile=q,
                                             random_state=rep)
            seen.append(("interleaved", q, same.outcome.value, heavy.outcome.value))
            assert same.outcome.value != "fail", same.message
            assert heavy.outcome.value != "pass", heavy.message
        # detection on device time (the thread's CPU time: preemption adds nothing to it);
        # wall-time detection depends on the load (tests/latency/test_validation.py)
        work = check_latency_regression(arms["heavy"], arms["base"], random_state=rep,
                                        timing="device")
        assert work.outcome is mlqa.Outcome.FAIL, (work.message, seen)
