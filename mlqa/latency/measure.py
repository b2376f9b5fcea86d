"""``measure_latency`` and ``measure_latency_interleaved``: the measurement protocol.

Per batch size: one cold call (timed, kept apart), warm-up until both ``warmup_iters`` calls
and ``warmup_time_s`` seconds have passed (cuDNN autotuning, allocator growth and lazy
library loading are per input shape), then timed queries until every requested percentile's
exact interval is within ``target_rel_ci`` of its estimate (after at least ``min_iters``
queries and ``min_time_s``), or ``max_time_s`` / ``max_iters`` is reached. Then throughput
back to back, the harness overhead (a no-op through the same loop) and peak memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from mlqa import progress
from mlqa._validation import UNSET, renamed
from mlqa.errors import DeviceUnavailable, InputError
from mlqa.latency.harness import Samples, Session, Settings, resolve_device
from mlqa.latency.report import LatencyReport, LatencyResult, LatencyRuns

QUANTILES = (0.5, 0.9, 0.95, 0.99)
_CHECK_EVERY = 50  # the stop rule is looked at every max(50, n/10) queries


def measure_latency(model: Any, example_inputs: Any, *, device: str = "cuda",
                    batch_sizes: Any = (1,), warmup_iters: int = 20,
                    warmup_time_s: float = 0.5, min_iters: int = 700, min_time_s: float = 1.0,
                    max_time_s: float = 10.0, max_iters: int = 1_000_000,
                    target_rel_ci: float = 0.02, quantiles: Any = QUANTILES,
                    confidence: float = 0.99, n_threads: int | None = 1,
                    mode: str = "eager", throughput_time_s: float = 0.25,
                    overhead_iters: int = 1000, num_threads: Any = UNSET) -> LatencyReport:
    """Per-query latency of ``model`` at each batch size, with trustworthy percentiles.

    ``model``: a torch ``nn.Module`` (put in eval mode and moved to the device), a TorchScript
    module or function, or any callable. ``example_inputs``: the model's arguments (a tuple or
    list: positional, a dict: keyword, else the one argument) whose tensors and arrays have the
    batch as first dimension, rows repeated cyclically to each batch size; or a callable
    ``f(batch_size)`` returning them.

    ``device``: ``"cuda"`` (or ``"cuda:<i>"``), ``"cpu"`` or ``"auto"`` (CUDA when usable);
    ``--mlqa-device`` overrides it. Asking for CUDA without a usable GPU raises
    ``mlqa.DeviceUnavailable`` (a skip under pytest), never a silent CPU run.

    A query's latency is wall time (``perf_counter_ns``) around the call plus
    ``torch.cuda.synchronize()`` on CUDA; CUDA events give its device time. Percentile ``q``
    is the ``ceil(q n)``-th smallest of ``n`` queries; its interval is the exact
    order-statistic ``confidence`` interval (a finite bound on p99 at 99% needs 528 queries,
    hence ``min_iters=700``). ``n_threads`` pins torch's intra-op threads and every OpenMP and
    BLAS pool (threadpoolctl: scikit-learn, numpy, XGBoost, LightGBM) while measuring; 1, the
    default, is per-query latency without oversubscription on a shared CPU; None leaves them
    (``num_threads=`` is its deprecated name). The value is recorded in the environment, and
    runs with unlike settings are not compared.
    ``mode="cuda_graph"`` captures the model in a CUDA graph and times its replay.

    Returns a :class:`~mlqa.latency.report.LatencyReport` (``report[batch_size]`` is a
    :class:`~mlqa.latency.report.LatencyResult`) carrying the environment.
    """
    n_threads = renamed("num_threads", num_threads, "n_threads", n_threads, default=1,
                        where="measure_latency")
    settings = _settings(locals())
    resolved = resolve_device(device)
    with Session(resolved, settings) as session:
        model = session.prepare(model)
        before = session.gpu_state()
        results = {}
        for bs in settings.batch_sizes:
            with _naming_failures(model, bs), \
                    progress.task(_task_label(model, bs, resolved)) as task:
                results[bs] = _measure_batch(session, model, example_inputs, bs, task)
        env = session.environment(before)
    return LatencyReport(results=results, environment=env, model=_model_name(model),
                         created=_now())


def measure_latency_interleaved(models: Mapping[str, Any], example_inputs: Any, *,
                                device: str = "cuda", batch_sizes: Any = (1,),
                                rounds: int = 30, segment_time_s: float = 0.1,
                                segment_warmup: int = 3, warmup_iters: int = 20,
                                warmup_time_s: float = 0.5, quantiles: Any = QUANTILES,
                                confidence: float = 0.99, n_threads: int | None = 1,
                                mode: str = "eager", throughput_time_s: float = 0.25,
                                overhead_iters: int = 1000,
                                num_threads: Any = UNSET) -> dict[str, LatencyReport]:
    """Measure several models in alternating rounds in one process (A/B testing).

    ``models`` maps a name to a model, e.g. ``{"baseline": m0, "candidate": m1}``. Each round
    gives every model a segment of ``segment_time_s`` seconds (at least one query; 0 gives
    exactly one), in an order that rotates every round (ABC, BCA, CAB, ...), so all arms see
    the same neighbours and the same drift; each segment starts with ``segment_warmup`` untimed
    queries because the first query after a switch runs with the other model's weights in
    cache (without them the arm scheduled after a switch showed a +3.4% p99 bias). On a
    heavily loaded machine, many one-query rounds (``rounds=500, segment_time_s=0,
    segment_warmup=1``) pair the arms closest in time and judge most reliably.

    Returns one report per name, sharing a ``pairing`` id that ``check_latency_regression``
    recognises: paired reports are compared round by round, without the contention downgrade
    a stored baseline needs.

    The other arguments are as for :func:`measure_latency`.
    """
    n_threads = renamed("num_threads", num_threads, "n_threads", n_threads, default=1,
                        where="measure_latency_interleaved")
    if not isinstance(models, Mapping) or len(models) < 2:
        raise InputError("models must be a mapping of at least two names to models, "
                         "e.g. {'baseline': m0, 'candidate': m1}")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise InputError(f"rounds must be a positive int, got {rounds!r}")
    if isinstance(segment_warmup, bool) or not isinstance(segment_warmup, int) \
            or segment_warmup < 0:
        raise InputError(f"segment_warmup must be a non-negative int, got {segment_warmup!r}")
    if isinstance(segment_time_s, bool) or not isinstance(segment_time_s, float | int) or \
            not segment_time_s >= 0:
        raise InputError(f"segment_time_s must be >= 0, got {segment_time_s!r}")
    # The stop rule does not apply (rounds decide); max_time_s only bounds a slow warm-up.
    settings = _settings({**locals(), "min_iters": 1, "min_time_s": 0.0, "max_iters": 1,
                          "max_time_s": max(segment_time_s, 1.0), "target_rel_ci": 0.0})
    names = [str(name) for name in models]
    resolved = resolve_device(device)
    pairing = uuid.uuid4().hex
    per_arm: dict[str, dict[int, LatencyResult]] = {name: {} for name in names}
    with Session(resolved, settings) as session:
        prepared = {name: session.prepare(m) for name, m in zip(names, models.values(),
                                                                  strict=True)}
        before = session.gpu_state()
        for bs in settings.batch_sizes:
            arms = {}
            for name in names:
                with _naming_failures(name, bs):
                    arms[name] = _Arm(session, prepared[name], example_inputs, bs)
            start = time.perf_counter()
            label = _task_label("interleaved " + " vs ".join(names), bs, resolved)
            with progress.task(label) as task:
                for r in range(rounds):
                    # Rotate the order (ABC, BCA, CAB): every arm takes every position
                    # equally often and, from three arms on, always follows another model.
                    # Reversing (ABC, CBA) would leave B always right after a switch and A, C
                    # half the time after themselves: a +3-4% bias on B's median, measured.
                    k = r % len(names)
                    for name in names[k:] + names[:k]:
                        arm = arms[name]
                        before_n = len(arm.samples.wall)
                        with _naming_failures(name, bs):
                            session.run_for(arm.call, segment_warmup, 0.0)
                            session.sample(arm.call, arm.samples, 10**9,
                                           time.perf_counter_ns() + int(segment_time_s * 1e9))
                        arm.rounds += [r] * (len(arm.samples.wall) - before_n)
                    task.update(f"round {r + 1} of {rounds}", (r + 1) / rounds)
            duration = time.perf_counter() - start
            overhead = session.overhead_ns(session.noop_for(example_inputs, bs))
            for name, arm in arms.items():
                per_arm[name][bs] = arm.result(duration, f"{rounds}_rounds", overhead)
        env = session.environment(before)
    created = _now()
    return {name: LatencyReport(results=per_arm[name], environment=env,
                                model=_model_name(prepared[name]), created=created,
                                pairing=pairing, arm=name) for name in names}


class _Arm:
    """One model at one batch size: cold call, warm-up, samples, then throughput."""

    def __init__(self, session: Session, model: Any, example_inputs: Any, bs: int, *,
                 solo: bool = False) -> None:
        # solo: the only arm measured, so the device's peak memory at the end is its own;
        # interleaved arms take theirs right after their warm-up.
        self.session, self.batch_size, self.solo = session, bs, solo
        session.reset_peak_memory()
        eager = session.call_for(model, example_inputs, bs)
        self.cold_ns = session.time_once(eager)
        session.pin_pools()  # a pool the first call loaded (a lazy import) is limited too
        self.call = session.in_mode(eager)
        t0 = time.perf_counter()
        s = session.settings
        self.warmup_iters = session.run_for(self.call, s.warmup_iters, s.warmup_time_s)
        self.warmup_s = time.perf_counter() - t0
        self.peak = session.peak_memory()
        self.samples = Samples()
        self.rounds: list[int] = []  # interleaved runs: the round of each sample

    def result(self, duration_s: float, stop_reason: str, overhead_ns: float | None
               ) -> LatencyResult:
        session, s, samples = self.session, self.session.settings, self.samples
        if not samples.wall:
            raise InputError(f"batch size {self.batch_size}: no query finished within the "
                             f"time limit; raise max_time_s")
        qps = session.throughput(self.call, float(np.median(samples.wall)) / 1e9)
        peak, kind = session.peak_memory() if self.solo else self.peak
        return LatencyResult(
            batch_size=self.batch_size, samples_ns=np.asarray(samples.wall),
            preempted=np.asarray(samples.preempted) if samples.preempted else None,
            device_samples_ns=np.asarray(samples.device) if samples.device else None,
            cold_ns=self.cold_ns, warmup_iters=self.warmup_iters, warmup_s=self.warmup_s,
            duration_s=duration_s, stop_reason=stop_reason, throughput_qps=qps,
            peak_memory_bytes=peak, memory_kind=kind, overhead_ns=overhead_ns,
            quantiles=s.quantiles, confidence=s.confidence,
            rounds=np.asarray(self.rounds) if self.rounds else None)


def _measure_batch(session: Session, model: Any, example_inputs: Any, bs: int,
                   task: progress.Task) -> LatencyResult:
    s = session.settings
    task.update("warming up")
    arm = _Arm(session, model, example_inputs, bs, solo=True)
    start = time.perf_counter_ns()
    deadline = start + int(s.max_time_s * 1e9)
    min_end = start + int(s.min_time_s * 1e9)
    while True:
        n = len(arm.samples.wall)
        chunk = min(max(_CHECK_EVERY, n // 10), s.max_iters - n)
        if not session.sample(arm.call, arm.samples, chunk, deadline):
            reason = "max_time"
            break
        n = len(arm.samples.wall)
        spent = (time.perf_counter_ns() - start) / 1e9
        task.update(f"{n} queries in {spent:.1f} s (at most {s.max_time_s:g} s)",
                    spent / s.max_time_s)
        if n >= s.max_iters:
            reason = "max_iters"
            break
        if n >= s.min_iters and time.perf_counter_ns() >= min_end and \
                arm.samples.tight(s.quantiles, s.confidence, s.target_rel_ci):
            reason = "ci_target_met"
            break
    duration = (time.perf_counter_ns() - start) / 1e9
    task.update(f"{len(arm.samples.wall)} queries in {duration:.1f} s, {reason}", 1.0)
    overhead = session.overhead_ns(session.noop_for(example_inputs, bs))
    return arm.result(duration, reason, overhead)


def measure_latency_runs(model: Any, example_inputs: Any, *, runs: int = 5,
                         isolate: bool = True, **kwargs: Any) -> LatencyRuns:
    """``runs`` separate measurements of ``model``: a baseline that knows its run-to-run
    variance (what ``check_latency_regression`` needs against a stored baseline; at least
    3 runs, better 5-10: a t interval on 2 runs is very wide).

    ``isolate=True`` measures each run in a fresh Python process (``spawn``; one after the
    other, never in parallel), because separate processes differ by a few percent (memory
    placement, allocator and cache state), and the next CI build is a separate process too;
    ``model`` and ``example_inputs`` must then pickle (an ``nn.Module``, a TorchScript
    module, a top-level function). ``isolate=False`` measures in this process, a fresh copy of
    the model each run: cheaper, but it understates the variance between processes.
    ``kwargs`` are :func:`measure_latency`'s options.
    """
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise InputError(f"runs must be a positive int, got {runs!r}")
    if not isinstance(isolate, bool):
        raise InputError(f"isolate must be True or False, got {isolate!r}")
    kwargs["device"] = resolve_device(kwargs.get("device", "cuda"))  # the parent's policy
    if not isolate:
        import copy

        return _warn_if_contended(LatencyRuns(tuple(
            measure_latency(copy.deepcopy(model), example_inputs, **kwargs)
            for _ in range(runs))))
    import multiprocessing
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    try:
        payload = pickle.dumps((model, example_inputs, kwargs))
    except Exception as exc:  # noqa: BLE001 - pickle raises many types for unpicklable objects
        raise InputError(f"measure_latency_runs(isolate=True) sends model and example_inputs to "
                         f"a fresh process, but they cannot be pickled ({exc}); pass a picklable "
                         f"model (nn.Module, TorchScript, top-level function) or isolate=False"
                         ) from None
    context = multiprocessing.get_context("spawn")
    reports = []
    # A child's own progress stays in the child: the parent reports run by run.
    with progress.task(f"{runs} latency runs of {_model_name(model)}, one process each, "
                       f"{kwargs['device']}") as task:
        for i in range(runs):
            task.update(f"run {i + 1} of {runs}", i / runs)
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                reports.append(LatencyReport.from_dict(pool.submit(_measure_in_child,
                                                                   payload).result()))
        task.update(f"{runs} runs", 1.0)
    return _warn_if_contended(LatencyRuns(tuple(reports)))


def _warn_if_contended(runs: LatencyRuns) -> LatencyRuns:
    """Runs a stored comparison will leave out (over 5% of queries preempted) are said so
    now, when the baseline is recorded, not first when a later gate cannot judge."""
    from mlqa.latency.checks import STORED_CONTENTION

    busy = sum(any((r[bs].preempted_fraction or 0) > STORED_CONTENTION
                   for bs in r.batch_sizes) for r in runs)
    if busy:
        import warnings

        warnings.warn(f"measure_latency_runs: {busy} of {len(runs)} runs had more than "
                      f"{STORED_CONTENTION:.0%} of their queries preempted; a stored comparison "
                      f"leaves such runs out. Record the baseline on a quiet agent, or compare "
                      f"interleaved (measure_latency_interleaved)", UserWarning, stacklevel=3)
    return runs


def _measure_in_child(payload: bytes) -> dict[str, Any]:
    import pickle

    model, example_inputs, kwargs = pickle.loads(payload)  # noqa: S301 - our own parent's bytes
    return measure_latency(model, example_inputs, **kwargs).to_dict()


@contextlib.contextmanager
def _naming_failures(model: Any, batch_size: int) -> Iterator[None]:
    """A model that raises mid-measurement: the exception keeps its type (the test errors, it
    never passes) and gains a note saying which model and batch size it came from."""
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, InputError | DeviceUnavailable):
            label = model if isinstance(model, str) else _model_name(model)
            exc.add_note(f"mlqa: raised while measuring {label} at batch size {batch_size}; "
                         f"no latency was recorded")
        raise


def _settings(args: Mapping[str, Any]) -> Settings:
    return Settings(**{f.name: args[f.name] for f in dataclasses.fields(Settings)})


def _task_label(model: Any, batch_size: int, device: str) -> str:
    label = model if isinstance(model, str) else _model_name(model)
    return f"latency of {label}, batch {batch_size}, {device}"


def _model_name(model: Any) -> str:
    name = getattr(model, "original_name", None) or getattr(model, "__name__", None)
    return str(name or type(model).__name__)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
