"""Latency: trustworthy per-query percentiles, SLO gates and noise-aware regression.

``measure_latency`` times a model per query (wall clock plus ``torch.cuda.synchronize()`` on
CUDA) and returns a :class:`LatencyReport`; ``check_latency`` holds a percentile to an SLO on
its exact order-statistic interval; ``check_latency_regression`` bounds the ratio of
quantiles against a baseline run with a block bootstrap; ``measure_latency_interleaved``
measures A/B arms in alternating rounds. torch is imported only when a measurement runs.
"""

from mlqa.expectations import expecting
from mlqa.latency.checks import LatencyCheckResult, check_latency, check_latency_regression
from mlqa.latency.endpoint import EndpointRun, load_payloads, measure_endpoint_latency
from mlqa.latency.endpoint_checks import (
    EndpointLatencyResult,
    check_endpoint_latency,
    check_endpoint_latency_regression,
)
from mlqa.latency.endpoint_imports import read_loadgen_log, read_perf_analyzer
from mlqa.latency.harness import resolve_device
from mlqa.latency.measure import (
    measure_latency,
    measure_latency_interleaved,
    measure_latency_runs,
)
from mlqa.latency.report import (
    LatencyReport,
    LatencyResult,
    LatencyRuns,
    load_latency,
    save_latency,
)

expect_latency = expecting(check_latency, "latency")
expect_endpoint_latency = expecting(check_endpoint_latency, "endpoint latency")

__all__ = [
    "EndpointLatencyResult",
    "EndpointRun",
    "check_endpoint_latency",
    "check_endpoint_latency_regression",
    "expect_endpoint_latency",
    "load_payloads",
    "measure_endpoint_latency",
    "read_loadgen_log",
    "read_perf_analyzer",
    "LatencyCheckResult",
    "LatencyReport",
    "LatencyResult",
    "LatencyRuns",
    "check_latency",
    "check_latency_regression",
    "expect_latency",
    "load_latency",
    "measure_latency",
    "measure_latency_interleaved",
    "measure_latency_runs",
    "resolve_device",
    "save_latency",
]
