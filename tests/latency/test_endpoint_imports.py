"""perf_analyzer and MLPerf LoadGen records as endpoint runs mlqa gates: exact quantiles from
per-request data, a clear refusal where a file holds only summaries.

The sample files are written in the tools' documented formats: perf_analyzer's
``--profile-export-file`` JSON and ``-f`` CSV, and LoadGen 6.0.17's ``mlperf_log_detail.txt``
(``:::MLLOG`` lines) with the ``mlperf_log_trace.json`` that ``LogSettings.enable_trace``
writes beside it (one event per line; the file as a whole is not valid JSON).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import mlqa
from mlqa import InputError, Outcome

RNG = np.random.default_rng(7)
LATENCY_NS = (RNG.lognormal(np.log(3e6), 0.3, size=800)).astype(np.int64)  # ~3 ms
LATENCY_NS[400:420] += 250_000_000  # a 250 ms stall: 20 queries behind it


def _exact_p99_ms(ns):
    s = np.sort(ns)
    return s[math.ceil(0.99 * len(s)) - 1] / 1e6


def test_perf_analyzer_profile_export_gives_exact_quantiles(tmp_path):
    start = 1_682_625_453_862_345_987
    sent = start + np.arange(len(LATENCY_NS)) * 10_000_000  # request-rate 100/s
    doc = {"service_kind": "triton", "endpoint": "", "version": "2.41.0", "experiments": [{
        "experiment": {"mode": "request_rate", "value": 100},
        "requests": [{"timestamp": int(t), "sequence_id": 0,
                      "response_timestamps": [int(t + lat)]}
                     for t, lat in zip(sent, LATENCY_NS, strict=True)],
        "window_boundaries": [int(start), int(sent[-1] + 10**9)]}]}
    path = tmp_path / "profile_export.json"
    path.write_text(json.dumps(doc))
    run = mlqa.read_perf_analyzer(path)
    assert run.n() == len(LATENCY_NS) and run.rate == 100
    np.testing.assert_allclose(np.sort(run.latency_ms()), np.sort(LATENCY_NS) / 1e6,
                               rtol=1e-9, atol=1e-6)
    result = mlqa.check_endpoint_latency(run, quantile=0.99, max_ms=100)
    assert result.value == pytest.approx(_exact_p99_ms(LATENCY_NS))
    assert result.outcome is Outcome.FAIL  # 2.5% of queries took > 250 ms
    assert mlqa.check_endpoint_latency(run, quantile=0.5, max_ms=100).outcome is Outcome.PASS


def test_perf_analyzer_with_several_load_levels_asks_which(tmp_path):
    one = {"experiment": {"mode": "concurrency", "value": 1},
           "requests": [{"timestamp": 1, "response_timestamps": [3_000_001]}]}
    two = {**one, "experiment": {"mode": "concurrency", "value": 4}}
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"experiments": [one, two]}))
    with pytest.raises(InputError, match="experiment="):
        mlqa.read_perf_analyzer(path)
    assert mlqa.read_perf_analyzer(path, experiment=1).n() == 1


def test_perf_analyzer_csv_holds_only_summaries_and_is_refused(tmp_path):
    path = tmp_path / "perf.csv"
    path.write_text(
        "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,"
        "Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,"
        "p50 latency,p90 latency,p95 latency,p99 latency,Avg latency,request/response,"
        "response wait\n"
        "1,331.2,21,164,53,20,2712,14,4,2991,3102,3251,3764,3013,3013,0\n")
    with pytest.raises(InputError, match="summaries.*--profile-export-file"):
        mlqa.read_perf_analyzer(path)


def _mllog(key, value):
    return (":::MLLOG " + json.dumps({
        "key": key, "value": value, "time_ms": 10013.2, "namespace": "mlperf::logging",
        "event_type": "POINT_IN_TIME", "metadata": {"is_error": False, "is_warning": False,
                                                     "file": "results.cc", "line_no": 700,
                                                     "pid": 18481, "tid": 18666}}))


def _loadgen_files(folder, latency_ns):
    over = int((latency_ns > 20_000_000).sum())
    lines = [_mllog("loadgen_version", "6.0.17 @ d6147c7eb7"),
             _mllog("effective_scenario", "Server"), _mllog("effective_target_qps", 100),
             _mllog("effective_target_latency_ns", 20_000_000),
             _mllog("result_validity", "INVALID"),
             _mllog("early_stopping_met", False),
             _mllog("result_query_count", len(latency_ns)),
             _mllog("result_overlatency_query_count", over),
             _mllog("result_99.00_percentile_latency_ns",
                    int(np.sort(latency_ns)[int(len(latency_ns) * 0.99)]))]
    (folder / "mlperf_log_detail.txt").write_text("\n".join(lines) + "\n")
    trace = ['{"traceEvents":[',
             '{"name":"LogDetail","ph":"X","pid":18481,"tid":18666,"ts":10408.942,'
             '"dur":8.472,"args":{"key":""loadgen_version""}},']
    scheduled_us = np.cumsum(RNG.exponential(10_000, size=len(latency_ns)))
    for i, (ts, lat) in enumerate(zip(scheduled_us, latency_ns, strict=True)):
        delay = int(RNG.integers(100, 200_000))
        trace.append(f'{{"name":"Sample","cat":"default","ph":"b","pid":18481,"id":{i},'
                     f'"ts":{ts:.3f},"args":{{"sample_seq":{i},"query_seq":{i},'
                     f'"sample_idx":{i % 16},"issue_start_ns":{delay},'
                     f'"complete_ns":{int(lat)}}}}},')
        trace.append(f'{{"name":"Sample","cat":"default","ph":"e", "pid":18481,"id":{i},'
                     f'"ts":{ts + lat / 1000:.3f}}},')
    trace += ['{"name":"LastTrace"}', "],", '"displayTimeUnit":"ns"', "}"]
    (folder / "mlperf_log_trace.json").write_text("\n".join(trace) + "\n")


def test_loadgen_trace_gives_exact_quantiles_and_early_stopping(tmp_path):
    _loadgen_files(tmp_path, LATENCY_NS)
    run = mlqa.read_loadgen_log(tmp_path / "mlperf_log_detail.txt")
    assert run.n() == len(LATENCY_NS) and run.rate == 100
    np.testing.assert_allclose(run.latency_ms(), LATENCY_NS / 1e6, atol=1e-6)
    result = mlqa.check_endpoint_latency(run, quantile=0.99, max_ms=20)
    assert result.value == pytest.approx(_exact_p99_ms(LATENCY_NS))
    assert result.outcome is Outcome.FAIL
    assert run.environment["loadgen"]["result_validity"] == "INVALID"  # LoadGen's own verdict, kept


def test_loadgen_early_stopping_count_matches_loadgen(tmp_path):
    # LoadGen 6.0.17 on this project's machine: 190 queries, 6 over the 20 ms bound, "Would
    # need to run at least 1263 more queries" (mlperf_log_summary.txt).
    latency = np.full(190, 5_000_000)
    latency[:6] = 30_000_000
    _loadgen_files(tmp_path, latency)
    result = mlqa.check_endpoint_latency(mlqa.read_loadgen_log(tmp_path), max_ms=20)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "1263 more" in result.message


def test_loadgen_detail_log_alone_is_refused(tmp_path):
    _loadgen_files(tmp_path, LATENCY_NS)
    (tmp_path / "mlperf_log_trace.json").unlink()
    with pytest.raises(InputError, match="summaries only.*enable_trace"):
        mlqa.read_loadgen_log(tmp_path)
    (tmp_path / "mlperf_log_detail.txt").write_text("not a log\n")
    with pytest.raises(InputError, match="MLLOG"):
        mlqa.read_loadgen_log(tmp_path)
