"""The latency harness on CPU: its own cost per query, and its figures next to
torch.utils.benchmark's for the same models, in one run (target: overhead <= 1 us per query).

1. Harness overhead: a no-op timed through measure_latency's own loop (perf_counter_ns pair,
   the call, the preemption probe outside the window), against the bare floor of a
   ``perf_counter_ns(); f(); perf_counter_ns()`` loop. Best of ``--repeats``.
2. The same models timed by ``measure_latency`` (per-query p50/p99, one thread) and by
   ``torch.utils.benchmark.Timer.blocked_autorange`` (a median of block means, one thread),
   alternating, best of ``--repeats`` each.
3. Per batch size: p50 / p99 with their 99% intervals, throughput, cold call, preempted share.
4. A/A: the same model against an identical copy, interleaved, p50 and p99 ratios.

``--study`` instead prints the regression gate's A/A and +30% table (issue 12.3):
5. the seeded simulation of tests/latency/test_stored_baseline_study.py with ``--trials``;
6. real timing on this machine: K baseline runs of the 10-block MLP in separate processes
   (``measure_latency_runs``), then ``--trials`` current runs each of the same model and of a
   13-block one (+30% work), each a separate process, judged against the stored runs; and
   ``--trials`` interleaved measurements of base / same / heavy in one process.

    python benchmarks/latency_harness.py [--repeats 5]
    python benchmarks/latency_harness.py --study [--trials 400] [--real-trials 8] [--runs 6]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time

import numpy as np
import torch
import torch.utils.benchmark as tb

from mlqa.latency import (
    check_latency_regression,
    measure_latency,
    measure_latency_interleaved,
    measure_latency_runs,
)
from mlqa.latency.harness import Samples, Session, Settings

TARGET_NS = 1000.0


def mlp(blocks: int, width: int = 256) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(*[m for _ in range(blocks)
                                 for m in (torch.nn.Linear(width, width), torch.nn.ReLU())]).eval()


def settings(**changes) -> Settings:
    base = dict(batch_sizes=(1,), warmup_iters=20, warmup_time_s=0.2, min_iters=700,
                min_time_s=0.5, max_time_s=3.0, max_iters=1_000_000, target_rel_ci=0.02,
                quantiles=(0.5, 0.99), confidence=0.99, n_threads=1, mode="eager",
                throughput_time_s=0.1, overhead_iters=20_000)
    return Settings(**{**base, **changes})


def harness_overhead(iters: int) -> tuple[float, float, float]:
    """(in-window median ns, whole loop ns per query incl. probe, bare floor median ns)."""
    with Session("cpu", settings()) as session:
        noop = session.noop_for(torch.zeros(1, 4), 1)
        samples = Samples()
        start = time.perf_counter_ns()
        session.sample(noop, samples, iters, start + 10**10)
        loop_ns = (time.perf_counter_ns() - start) / len(samples.wall)
    pc, floor = time.perf_counter_ns, []
    append = floor.append
    for _ in range(iters):
        t0 = pc()
        noop()
        append(pc() - t0)
    return float(np.median(samples.wall)), loop_ns, float(np.median(floor))


def torch_benchmark_ms(model: torch.nn.Module, x: torch.Tensor) -> float:
    with torch.inference_mode():
        timer = tb.Timer(stmt="model(x)", globals={"model": model, "x": x}, num_threads=1)
        return timer.blocked_autorange(min_run_time=1.0).median * 1e3


def mlqa_ms(model: torch.nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """(per-query p50, per-query mean) in ms."""
    bs = x.shape[0]
    lat = measure_latency(model, x, device="cpu", batch_sizes=(bs,), warmup_time_s=0.2,
                          min_time_s=0.5, max_time_s=2.0, quantiles=(0.5,),
                          throughput_time_s=0.05, overhead_iters=200)
    return lat[bs].p50, float(lat[bs].samples_ms().mean())


def _simulation_module():
    """The simulated world lives beside its CI test; load it from there (one copy)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "tests" / "latency" / \
        "test_stored_baseline_study.py"
    spec = importlib.util.spec_from_file_location("stored_baseline_study", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


REAL = dict(device="cpu", batch_sizes=(32,), warmup_time_s=0.2, min_time_s=1.0, max_time_s=2.0,
            throughput_time_s=0.01, overhead_iters=100)


args_verbose = False


def real_series(trials: int, k: int) -> None:
    """A/A and +30% on real timing: separate processes against K stored runs, and interleaved."""
    x = torch.randn(32, 256, generator=torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    base = measure_latency_runs(mlp(10), x, runs=k, **REAL)
    pre = [round(r[32].preempted_fraction, 3) for r in base]
    print(f"   {k} baseline runs in separate processes ({time.perf_counter() - t0:.0f} s): "
          f"p50 {[round(r[32].p50, 3) for r in base]} ms, p99 "
          f"{[round(r[32].p99, 3) for r in base]} ms, preempted {pre}")
    rows = {(q, name): [] for q in (0.5, 0.99) for name in ("same", "heavy")}
    for t in range(trials):
        for name, blocks in (("same", 10), ("heavy", 13)):
            current = measure_latency_runs(mlp(blocks), x, runs=1, **REAL)[0]
            for q in (0.5, 0.99):
                r = check_latency_regression(current, base, quantile=q)
                rows[(q, name)].append((r.outcome.value, r.value, r.ci))
                if args_verbose:
                    print(f"     trial {t} {name} p{q * 100:g}: {r.outcome.value} "
                          f"preempted {current[32].preempted_fraction:.1%} | {r.message}")
    _print_rows("separate processes, 1 current run vs stored runs", rows, trials)
    rows = {(q, name): [] for q in (0.5, 0.99) for name in ("same", "heavy")}
    base_model = mlp(10)
    for t in range(trials):
        arms = measure_latency_interleaved(
            {"base": base_model, "same": copy.deepcopy(base_model), "heavy": mlp(13)}, x,
            device="cpu", batch_sizes=(32,), rounds=300, segment_time_s=0, segment_warmup=1,
            warmup_time_s=0.05, throughput_time_s=0.005, overhead_iters=50)
        for q in (0.5, 0.99):
            for name in ("same", "heavy"):
                r = check_latency_regression(arms[name], arms["base"], quantile=q,
                                             random_state=t)
                rows[(q, name)].append((r.outcome.value, r.value, r.ci))
    _print_rows("interleaved (300 one-query rounds)", rows, trials)


def _print_rows(title: str, rows: dict, trials: int) -> None:
    print(f"   {title}, {trials} trials each (FAIL / INCONCLUSIVE / PASS / ERROR; ratios):")
    for (q, name), got in rows.items():
        counts = {o: sum(g[0] == o for g in got) for o in ("fail", "inconclusive", "pass",
                                                            "error")}
        ratios = [g[1] for g in got if g[1] is not None]
        span = f"{min(ratios):.3f}-{max(ratios):.3f}" if ratios else "-"
        print(f"     p{q * 100:<3g} {name:5s}: {counts['fail']}/{counts['inconclusive']}/"
              f"{counts['pass']}/{counts['error']}  ratio range {span}")


def study(args: argparse.Namespace) -> None:
    sim = _simulation_module()
    print(f"5. simulated A/A and +30% ({args.trials} trials per cell, margin 1.10 at 99%; run "
          f"SD {sim.RUN_SD:.1%} level, tail factor SD {sim.TAIL_SD}):")
    cells = sim.study(args.trials, stored=((1, 5), (1, 10), (5, 10)))
    print("   " + sim.table(cells).replace("\n", "\n   "))
    print("6. real timing on this machine (MLP 10x256 vs 13x256, batch 32, one thread):")
    real_series(args.real_trials, args.runs)


def real_only(args: argparse.Namespace) -> None:
    global args_verbose
    args_verbose = True
    print("6. real timing on this machine (MLP 10x256 vs 13x256, batch 32, one thread):")
    real_series(args.real_trials, args.runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--study", action="store_true")
    parser.add_argument("--real-only", action="store_true", help="part 6 only, every trial")
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--real-trials", type=int, default=8)
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.study:
        study(args)
        return
    if args.real_only:
        real_only(args)
        return

    runs = [harness_overhead(100_000) for _ in range(args.repeats)]
    window, loop, floor = (min(r[i] for r in runs) for i in range(3))
    print(f"1. harness overhead per query (no-op, best of {args.repeats} x 100k queries):")
    print(f"   anchor: bare perf_counter_ns pair + call : {floor:7.0f} ns (median)")
    print(f"   mlqa timed window (what a sample holds)  : {window:7.0f} ns (median)  "
          f"ratio {window / floor:.2f}  target <= {TARGET_NS:.0f} ns  "
          f"{'OK' if window <= TARGET_NS else 'OVER'}")
    print(f"   mlqa whole loop incl. preemption probe   : {loop:7.0f} ns per query (mean)")

    print(f"2. same model, mlqa per-query p50 and mean vs torch.utils.benchmark "
          f"blocked_autorange (a median of block means), best of {args.repeats}, alternating:")
    cases = {"Linear(16,16), batch 1": (torch.nn.Linear(16, 16).eval(), torch.randn(1, 16)),
             "MLP 10x256, batch 1": (mlp(10), torch.randn(1, 256)),
             "MLP 10x256, batch 32": (mlp(10), torch.randn(32, 256))}
    for label, (model, x) in cases.items():
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(mlqa_ms(model, x))
            theirs.append(torch_benchmark_ms(model, x))
        p50, mean, b = min(o[0] for o in ours), min(o[1] for o in ours), min(theirs)
        print(f"   {label:22s} mlqa p50 {p50 * 1e3:8.2f} us, mean {mean * 1e3:8.2f} us | "
              f"torch.utils.benchmark {b * 1e3:8.2f} us | ratios p50 {p50 / b:.3f}, "
              f"mean {mean / b:.3f}")

    print("3. measure_latency per batch size (MLP 10x256, one thread):")
    lat = measure_latency(mlp(10), torch.randn(32, 256), device="cpu",
                          batch_sizes=(1, 8, 32), max_time_s=5.0)
    for bs, r in lat.items():
        p50, p99 = r.quantile(0.5), r.quantile(0.99)
        print(f"   batch {bs:2d}: n={r.n:6d} p50 {p50.value:.4f} ms [{p50.ci_low:.4f}, "
              f"{p50.ci_high:.4f}]  p99 {p99.value:.4f} ms [{p99.ci_low:.4f}, {p99.ci_high:.4f}]"
              f"  throughput {r.throughput_items_per_s:9.0f} items/s  cold "
              f"{r.cold_ns / 1e6:.2f} ms  preempted {r.preempted_fraction:.1%}  "
              f"overhead {r.overhead_ns:.0f} ns  stop {r.stop_reason}")

    print("4. A/A: MLP 10x256 batch 32 against an identical copy, interleaved (30 rounds):")
    base = mlp(10)
    ratios = {0.5: [], 0.99: []}
    for rep in range(args.repeats):
        arms = measure_latency_interleaved({"a": base, "b": copy.deepcopy(base)},
                                           torch.randn(32, 256), device="cpu",
                                           batch_sizes=(32,), segment_time_s=0.05)
        for q in ratios:
            r = check_latency_regression(arms["b"], arms["a"], quantile=q, random_state=rep)
            ratios[q].append((r.value, r.ci, r.outcome.value))
    for q, rows in ratios.items():
        values = [v for v, _, _ in rows]
        print(f"   p{q * 100:g} ratio: median {statistics.median(values):.4f}, range "
              f"{min(values):.4f}-{max(values):.4f}, widest CI "
              f"{min(c[0] for _, c, _ in rows):.4f}-{max(c[1] for _, c, _ in rows):.4f}, "
              f"outcomes {[o for _, _, o in rows]}")


if __name__ == "__main__":
    main()
