"""Latency records of the load tools teams already run, as endpoint runs mlqa can gate.

* **Triton perf_analyzer**: the profile export (``--profile-export-file``, JSON) has every
  request's send timestamp and response timestamps, so quantiles are exact. Its CSV
  (``-f``) holds only per-experiment summaries (p50/p90/p95/p99 and averages, without the
  request count): no interval on a quantile can be built from it, so it is refused, naming
  the export that works.
* **MLPerf LoadGen**: ``mlperf_log_detail.txt`` holds summaries (percentiles, the count of
  queries over its latency bound, its own VALID/INVALID). The per-query latencies are in
  ``mlperf_log_trace.json`` (``LogSettings.enable_trace``): each ``Sample`` begin event has
  the query's scheduled time (``ts``, microseconds), its issue delay and its completion
  (``issue_start_ns``, ``complete_ns``, nanoseconds from the scheduled time: LoadGen, too,
  times from the intended send). The trace is read beside the detail log; without it the
  detail log is refused.

Both come back as :class:`~mlqa.latency.endpoint.EndpointRun`, so ``check_endpoint_latency``
and ``check_endpoint_latency_regression`` judge them as they judge mlqa's own runs. Neither
tool records a failed request per request here, so every imported request counts as answered.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlqa.errors import InputError
from mlqa.latency.endpoint import ENDPOINT_ENVIRONMENT, EndpointRun

_SUMMARY_COLUMNS = ("p50 latency", "p90 latency", "p95 latency", "p99 latency", "Avg latency")
_MLLOG = re.compile(r"^:::MLLOG (\{.*\})\s*$")
# One Sample begin event per line of LoadGen's Chrome trace (the file as a whole is not valid
# JSON: LoadGen writes some keys with doubled quotes), so events are read line by line.
_SAMPLE = re.compile(r'\{"name":"Sample".*?"ph":"b".*?"ts":([0-9.]+).*?"issue_start_ns":(\d+)'
                     r'.*?"complete_ns":(\d+)')


def read_perf_analyzer(path: str | os.PathLike[str], *, experiment: int | None = None
                       ) -> EndpointRun:
    """A perf_analyzer profile export (JSON) as an endpoint run; ``experiment`` picks one of
    several load levels (required when the file has more than one). A CSV export is refused:
    it holds only summaries."""
    path = Path(path)
    text = _read(path, "perf_analyzer export")
    if not text.lstrip().startswith("{"):
        return _refuse_perf_csv(path, text)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"perf_analyzer export {path} is not JSON: {exc}") from None
    experiments = doc.get("experiments") if isinstance(doc, Mapping) else None
    if not isinstance(experiments, list) or not experiments:
        raise InputError(f"perf_analyzer export {path} has no 'experiments' list (expected "
                         f"the --profile-export-file format)")
    if experiment is None:
        if len(experiments) > 1:
            levels = [_level(e) for e in experiments]
            raise InputError(f"perf_analyzer export {path} has {len(experiments)} experiments "
                             f"({', '.join(levels)}): pass experiment= (0-based)")
        experiment = 0
    if not 0 <= experiment < len(experiments):
        raise InputError(f"experiment {experiment} is not in {path} "
                         f"({len(experiments)} experiment(s))")
    exp = experiments[experiment]
    requests = exp.get("requests") if isinstance(exp, Mapping) else None
    if not isinstance(requests, list) or not requests:
        raise InputError(f"perf_analyzer export {path}, experiment {experiment}: no requests")
    try:
        sent = np.array([int(r["timestamp"]) for r in requests], dtype=np.int64)
        done = np.array([int(r["response_timestamps"][-1]) for r in requests], dtype=np.int64)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise InputError(f"perf_analyzer export {path}: a request lacks 'timestamp' or "
                         f"'response_timestamps' ({exc!r})") from None
    mode = str(exp.get("experiment", {}).get("mode", "unknown"))
    value = exp.get("experiment", {}).get("value")
    start = int(sent.min())
    intended = (sent - start) / 1e9
    duration = max(float(done.max() - start) / 1e9, 1e-9)
    rate = float(value) if mode == "request_rate" and value else len(sent) / duration
    # perf_analyzer records when it sent, not when it meant to: in concurrency mode (a closed
    # loop) the two differ exactly where a stall hides; the mode says which this was.
    return _run(f"perf_analyzer {path.name} ({_level(exp)})", "perf_analyzer", mode, rate,
                duration, intended, intended, (done - start) / 1e9)


def read_loadgen_log(path: str | os.PathLike[str]) -> EndpointRun:
    """An MLPerf LoadGen run (``mlperf_log_detail.txt``, or its folder) as an endpoint run,
    from the per-query ``mlperf_log_trace.json`` beside it."""
    path = Path(path)
    detail = path / "mlperf_log_detail.txt" if path.is_dir() else path
    fields = _mllog(detail)
    trace = detail.with_name("mlperf_log_trace.json")
    if not trace.exists():
        validity = fields.get("result_validity", "unknown")
        n = fields.get("result_query_count", "?")
        raise InputError(
            f"{detail} holds LoadGen's summaries only (its own verdict {validity}, "
            f"{n} queries, percentiles without their ranks): no per-query latency, so no "
            f"interval on a quantile can be built from it. Rerun LoadGen with "
            f"LogSettings.enable_trace = True and keep mlperf_log_trace.json beside it")
    samples = []
    with open(trace, encoding="utf-8") as fh:
        for line in fh:
            m = _SAMPLE.search(line)
            if m:
                samples.append((float(m.group(1)), int(m.group(2)), int(m.group(3))))
    if not samples:
        raise InputError(f"{trace} has no Sample events (was the run a LoadGen performance "
                         f"run with tracing on?)")
    arr = np.array(samples, dtype=np.float64)
    scheduled = (arr[:, 0] - arr[:, 0].min()) / 1e6
    scenario = str(fields.get("effective_scenario", "unknown"))
    qps = fields.get("effective_target_qps")
    span = float(scheduled.max()) if len(scheduled) > 1 else 1.0
    rate = float(qps) if isinstance(qps, int | float) and qps > 0 else len(arr) / span
    duration = max(span, len(arr) / rate)
    return _run(f"LoadGen {detail.parent.name or detail.name} ({scenario})", "mlperf_loadgen",
                scenario, rate, duration, scheduled, scheduled + arr[:, 1] / 1e9,
                scheduled + arr[:, 2] / 1e9, loadgen={
                    k: fields.get(k) for k in ("result_validity", "result_query_count",
                                               "result_overlatency_query_count",
                                               "effective_target_latency_ns",
                                               "result_99.00_percentile_latency_ns",
                                               "early_stopping_met")})


def _run(target: str, tool: str, mode: str, rate: float, duration: float,
         intended: np.ndarray, dispatched: np.ndarray, answered: np.ndarray,
         **extra: Any) -> EndpointRun:
    n = len(intended)
    env = {**ENDPOINT_ENVIRONMENT, "mode": f"{tool} {mode}", "tool": tool, **extra}
    return EndpointRun(target=target, protocol=tool, arrival=mode, rate=rate,
                       duration_s=duration, warmup_s=0.0, timeout_s=0.0,
                       max_in_flight=0, seed=0, arm=np.zeros(n, dtype=np.int64),
                       intended_s=intended, dispatched_s=dispatched, sent_s=dispatched,
                       answered_s=answered, status=np.full(n, 200), environment=env)


def _refuse_perf_csv(path: Path, text: str) -> EndpointRun:
    rows = list(csv.reader(text.splitlines()))
    header = rows[0] if rows else []
    if not any(c in header for c in _SUMMARY_COLUMNS):
        raise InputError(f"{path} is neither a perf_analyzer profile export (JSON) nor its "
                         f"CSV (no {_SUMMARY_COLUMNS[3]!r} column)")
    raise InputError(f"{path} is perf_analyzer's CSV: it holds per-experiment summaries "
                     f"({', '.join(c for c in _SUMMARY_COLUMNS if c in header)}) without the "
                     f"request count or per-request times, so no interval on a quantile can "
                     f"be built from it. Export per-request data with "
                     f"--profile-export-file profile.json and read that")


def _mllog(path: Path) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for line in _read(path, "LoadGen detail log").splitlines():
        m = _MLLOG.match(line)
        if not m:
            continue
        try:
            entry = json.loads(m.group(1))
        except json.JSONDecodeError:
            continue
        if isinstance(entry, Mapping) and "key" in entry:
            fields[str(entry["key"])] = entry.get("value")
    if not fields:
        raise InputError(f"{path} has no ':::MLLOG' lines: not an mlperf_log_detail.txt")
    return fields


def _level(exp: Any) -> str:
    e = exp.get("experiment", {}) if isinstance(exp, Mapping) else {}
    return f"{e.get('mode', '?')} {e.get('value', '?')}"


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{what} {path} could not be read: {exc}") from None
