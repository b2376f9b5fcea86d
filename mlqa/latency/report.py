"""Latency reports: what ``measure_latency`` returns, and their versioned JSON files.

A :class:`LatencyReport` holds one :class:`LatencyResult` per batch size plus the environment
they were measured in. Raw per-query samples are kept (integer nanoseconds), so a later check
can recompute any percentile or interval from a stored record.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlqa._atomic import write_atomic
from mlqa._plain import to_plain
from mlqa.errors import InputError
from mlqa.latency.quantiles import QuantileEstimate, check_quantile, estimate

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.baseline.identity import BaselineIdentity

# One versioning scheme for every file mlqa writes: an integer ``schema`` that a reader refuses
# when it is newer than it knows, plus a ``kind`` naming the document. Files written before
# this scheme carried ``"schema": "mlqa.latency/1"``; they are still read.
SCHEMA = 2
KIND_REPORT, KIND_RUNS = "mlqa.latency_report", "mlqa.latency_runs"
_LEGACY_SCHEMA = "mlqa.latency/1"
_NS_PER_MS = 1e6


@dataclasses.dataclass(frozen=True, eq=False)
class LatencyResult:
    """One batch size's measurement.

    ``samples_ns``: wall time per query (``perf_counter_ns`` around the call, plus
    ``torch.cuda.synchronize()`` on CUDA). ``device_samples_ns``: the time the device worked
    on the same queries: CUDA-event time on CUDA; on CPU with one thread, the thread's CPU
    time (the time it actually ran, so preemption is left out; its window also holds the two
    wall-clock reads, ~1-2 us where the thread clock is a system call); None otherwise.
    ``preempted``: per query, whether the OS took the CPU away during it (an involuntary
    context switch, or on one CPU thread wall time well above thread CPU time); None where the
    probe is unavailable. ``cold_ns``: the first call at this batch size, before
    warm-up, kept apart from the warm samples. ``overhead_ns``: the harness's own time per query,
    measured by timing a no-op through the same loop. ``rounds``: for arms of an interleaved
    run, the round each query was taken in (None otherwise).
    """

    batch_size: int
    samples_ns: np.ndarray
    preempted: np.ndarray | None = None
    device_samples_ns: np.ndarray | None = None
    cold_ns: int | None = None
    warmup_iters: int = 0
    warmup_s: float = 0.0
    duration_s: float = 0.0
    stop_reason: str = ""
    throughput_qps: float | None = None
    peak_memory_bytes: int | None = None
    memory_kind: str | None = None
    overhead_ns: float | None = None
    quantiles: tuple[float, ...] = (0.5, 0.9, 0.95, 0.99)
    confidence: float = 0.99
    rounds: np.ndarray | None = None
    _cache: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "samples_ns", np.asarray(self.samples_ns, dtype=np.int64))
        if len(self.samples_ns) == 0:
            raise InputError(f"batch size {self.batch_size}: no latency samples")
        for name in ("preempted", "device_samples_ns", "rounds"):
            arr = getattr(self, name)
            if arr is not None:
                arr = np.asarray(arr, dtype=bool if name == "preempted" else np.int64)
                if len(arr) != len(self.samples_ns):
                    raise InputError(f"batch size {self.batch_size}: {name} has {len(arr)} "
                                     f"values for {len(self.samples_ns)} samples")
                set_(self, name, arr)
        set_(self, "quantiles", tuple(check_quantile("quantiles", q) for q in self.quantiles))

    @property
    def n(self) -> int:
        return len(self.samples_ns)

    @property
    def preempted_fraction(self) -> float | None:
        return None if self.preempted is None else float(self.preempted.mean())

    @property
    def throughput_items_per_s(self) -> float | None:
        return None if self.throughput_qps is None else self.throughput_qps * self.batch_size

    def samples_ms(self, *, clean: bool = False, timing: str = "wall") -> np.ndarray:
        """Per-query latency in ms; ``clean`` leaves out the preempted queries (a CI-noise
        filter, not production truth: production tails include preemption). ``timing``:
        ``"wall"`` (the gated latency) or ``"device"`` (``device_samples_ns``)."""
        if timing == "wall":
            return self.samples_ns[self._kept(clean)] / _NS_PER_MS
        if timing != "device":
            raise InputError(f"timing must be 'wall' or 'device', got {timing!r}")
        if self.device_samples_ns is None:
            raise InputError(f"batch size {self.batch_size}: no device time was recorded "
                             f"(CUDA events, or CPU time with n_threads=1)")
        return self.device_samples_ns[self._kept(clean)] / _NS_PER_MS

    def rounds_of(self, *, clean: bool = False) -> np.ndarray | None:
        """The round of each sample ``samples_ms(clean=clean)`` returns (interleaved arms)."""
        return None if self.rounds is None else self.rounds[self._kept(clean)]

    def _kept(self, clean: bool) -> slice | np.ndarray:
        if clean and self.preempted is not None and not self.preempted.all():
            return ~self.preempted
        return slice(None)

    def quantile(self, q: float, *, clean: bool = False, confidence: float | None = None,
                 timing: str = "wall") -> QuantileEstimate:
        """The ``q``-quantile in ms with its exact order-statistic interval."""
        q = check_quantile("quantile", q)
        key = (q, clean, self.confidence if confidence is None else confidence, timing)
        if key not in self._cache:  # results are immutable: each figure is worked out once
            ms = np.sort(self.samples_ms(clean=clean, timing=timing))
            self._cache[key] = estimate(ms, q, key[2])
        return self._cache[key]

    @property
    def p50(self) -> float:
        return self.quantile(0.5).value

    @property
    def p90(self) -> float:
        return self.quantile(0.9).value

    @property
    def p95(self) -> float:
        return self.quantile(0.95).value

    @property
    def p99(self) -> float:
        return self.quantile(0.99).value

    def summary(self) -> dict[str, Any]:
        """Plain figures for reports and logs (no samples)."""
        out: dict[str, Any] = {"batch_size": self.batch_size, "n": self.n,
                               "stop_reason": self.stop_reason}
        for q in self.quantiles:
            est = self.quantile(q)
            key = quantile_label(q)
            out[f"{key}_ms"] = est.value
            out[f"{key}_ci_ms"] = [est.ci_low, est.ci_high]
        if self.device_samples_ns is not None:
            out["device_p50_ms"] = float(np.median(self.device_samples_ns)) / _NS_PER_MS
        out.update({
            "cold_ms": None if self.cold_ns is None else self.cold_ns / _NS_PER_MS,
            "throughput_qps": self.throughput_qps,
            "throughput_items_per_s": self.throughput_items_per_s,
            "preempted_fraction": self.preempted_fraction,
            "overhead_ns": self.overhead_ns,
            "peak_memory_bytes": self.peak_memory_bytes, "memory_kind": self.memory_kind,
        })
        return to_plain(out)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        return to_plain(d)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LatencyResult:
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs["quantiles"] = tuple(kwargs.get("quantiles", (0.5, 0.9, 0.95, 0.99)))
        return cls(**kwargs)


@dataclasses.dataclass(frozen=True, eq=False)
class LatencyReport(Mapping[int, LatencyResult]):
    """``measure_latency``'s result: a mapping batch size -> :class:`LatencyResult`.

    ``environment`` holds the device, versions, threads, clocks (see
    :mod:`mlqa.latency.environment`). ``pairing``: the id shared by the arms of one
    ``measure_latency_interleaved`` run (their samples were taken in alternating rounds, so
    they saw the same neighbours), else None. ``arm``: the arm's name in that run.
    """

    results: Mapping[int, LatencyResult]
    environment: Mapping[str, Any]
    model: str = ""
    created: str = ""
    pairing: str | None = None
    arm: str | None = None

    def __post_init__(self) -> None:
        if not self.results:
            raise InputError("a latency report needs at least one batch size")
        object.__setattr__(self, "results", dict(sorted(self.results.items())))

    def __getitem__(self, batch_size: int) -> LatencyResult:
        try:
            return self.results[batch_size]
        except KeyError:
            raise KeyError(f"batch size {batch_size} was not measured "
                           f"(measured: {list(self.results)})") from None

    def __iter__(self) -> Iterator[int]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def batch_sizes(self) -> tuple[int, ...]:
        return tuple(self.results)

    @property
    def device(self) -> str:
        return str(self.environment.get("device", "unknown"))

    def summary(self) -> dict[str, Any]:
        return {"device": self.device, "model": self.model,
                "batch_sizes": {bs: r.summary() for bs, r in self.results.items()}}

    def to_dict(self) -> dict[str, Any]:
        return to_plain({
            "schema": SCHEMA, "kind": KIND_REPORT, "model": self.model, "created": self.created,
            "pairing": self.pairing, "arm": self.arm, "environment": self.environment,
            "results": [r.to_dict() for r in self.results.values()],
        })

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LatencyReport:
        _check_schema(d, KIND_REPORT)
        results = [LatencyResult.from_dict(r) for r in d.get("results", [])]
        return cls(results={r.batch_size: r for r in results},
                   environment=dict(d.get("environment") or {}), model=d.get("model", ""),
                   created=d.get("created", ""), pairing=d.get("pairing"), arm=d.get("arm"))


def save_latency(report: LatencyReport | LatencyRuns, path: str | os.PathLike[str]) -> Path:
    """Write ``report`` (one run, or several as :class:`LatencyRuns`) as a versioned JSON
    record, atomically (a reader never sees half). A baseline store
    (``RecordBuilder.add_latency``) is the way to keep a baseline; this is for scripts."""
    if not isinstance(report, LatencyReport | LatencyRuns):
        raise InputError(f"save_latency takes a LatencyReport or LatencyRuns, "
                         f"got {type(report).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(report.to_dict(), allow_nan=False, separators=(",", ":")))
    return path


def load_latency(path: str | os.PathLike[str]) -> LatencyReport | LatencyRuns:
    """Read a record written by :func:`save_latency`."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise InputError(f"latency record not found: {path}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"latency record {path} could not be read: {exc}") from None
    if isinstance(data, dict) and data.get("kind") == KIND_RUNS:
        return LatencyRuns.from_dict(data)
    return LatencyReport.from_dict(data)


def _check_schema(d: Any, kind: str) -> None:
    """``d`` is a document of ``kind`` this version of mlqa can read."""
    if not isinstance(d, Mapping):
        raise InputError(f"not a latency document: got {type(d).__name__}")
    schema = d.get("schema")
    if kind == KIND_REPORT and schema == _LEGACY_SCHEMA:
        return
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise InputError(f"not a latency document ({kind}): schema is {schema!r}")
    if schema > SCHEMA:
        raise InputError(f"latency document schema {schema} is newer than this mlqa reads "
                         f"({SCHEMA}); upgrade mlqa")
    if d.get("kind") != kind:
        raise InputError(f"expected a latency document of kind {kind!r}, got {d.get('kind')!r}")


@dataclasses.dataclass(frozen=True, eq=False)
class LatencyRuns:
    """Several runs of one model in one environment: a latency baseline that knows its own
    run-to-run variance.

    Each run is a :class:`LatencyReport` from its own process (``measure_latency_runs``, or
    one per build). Against a baseline of runs, ``check_latency_regression`` treats the run as
    the unit (see :func:`mlqa.latency.quantiles.runs_ratio_interval`): one process's queries
    say nothing about how much the next process will differ.

    ``source``: the baseline record the runs were read from (``record.latency(name)`` sets
    it), which a comparison against them names in its result.
    """

    runs: tuple[LatencyReport, ...]
    source: BaselineIdentity | None = None

    def __post_init__(self) -> None:
        runs = self.runs
        if isinstance(runs, LatencyReport):
            runs = (runs,)
        runs = tuple(runs)
        if not runs:
            raise InputError("LatencyRuns needs at least one run")
        for i, run in enumerate(runs):
            if not isinstance(run, LatencyReport):
                raise InputError(f"LatencyRuns run {i} must be a LatencyReport, "
                                 f"got {type(run).__name__}")
        object.__setattr__(self, "runs", runs)

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[LatencyReport]:
        return iter(self.runs)

    def __getitem__(self, i: int) -> LatencyReport:
        return self.runs[i]

    @property
    def environment(self) -> Mapping[str, Any]:
        return self.runs[0].environment

    @property
    def device(self) -> str:
        return self.runs[0].device

    @property
    def batch_sizes(self) -> tuple[int, ...]:
        """The batch sizes every run measured."""
        common = set(self.runs[0].batch_sizes)
        for run in self.runs[1:]:
            common &= set(run.batch_sizes)
        return tuple(sorted(common))

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "kind": KIND_RUNS, "runs": [r.to_dict() for r in self.runs]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LatencyRuns:
        _check_schema(d, KIND_RUNS)
        runs = d.get("runs")
        if not isinstance(runs, list):
            raise InputError("latency runs document has no list of runs")
        return cls(tuple(LatencyReport.from_dict(r) for r in runs))


def quantile_label(q: float) -> str:
    """0.5 -> 'p50', 0.999 -> 'p99.9'."""
    pct = q * 100
    return f"p{pct:.0f}" if math.isclose(pct, round(pct)) else f"p{pct:g}"
