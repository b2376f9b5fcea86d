"""The keyword options of the latency checks and measurements, declared once
(:mod:`mlqa.options`): each validates its call with its table and :mod:`mlqa.suite.spec`
generates the YAML kinds' options from them. ``confidence`` of a latency percentile is at
least 0.5: the exact order-statistic interval of a percentile is two-sided."""

from __future__ import annotations

from numbers import Real

from mlqa._validation import MIN_RESAMPLES
from mlqa.options import (
    LEVEL,
    NON_NEGATIVE,
    POSITIVE,
    SHARE,
    Interval,
    ListOf,
    MappingOf,
    Options,
    OptionTable,
    Param,
    Text,
    at_least,
    param,
    seeds,
)

POLICIES = ("no_false_alarm", "certify")
ARRIVALS = ("poisson", "constant")
PROTOCOLS = ("http-json", "kserve-v2")
MODES = ("eager", "cuda_graph")
_CONFIDENCE = param(Interval(Real, 0.5, 1, closed="left"))
_QUANTILE = param(LEVEL)


def _table(caller: str, params: dict[str, Param]) -> OptionTable:
    return OptionTable(caller, {**params, "name": param(Text(), None, suite=False)})


CHECK_LATENCY = _table("check_latency", {
    "quantile": _QUANTILE,
    "max_ms": param(POSITIVE, MappingOf(POSITIVE, key="batch size"), None),
    "policy": param(Options(*POLICIES)),
    "batch_size": param(at_least(1), None, suite=False),
})
CHECK_LATENCY_REGRESSION = _table("check_latency_regression", {
    "max_slowdown": param(POSITIVE),
    "quantile": _QUANTILE,
    # a suite's confidence: is its measurement's (the percentiles'), not this comparison's
    "confidence": param(Interval(Real, 0.5, 1, closed="left"), suite=False),
    "batch_size": param(at_least(1), None, suite=False),
    "max_contention": param(SHARE, None, suite=False),
    "timing": param(Options("wall", "device"), suite=False),
    "n_resamples": param(at_least(MIN_RESAMPLES), suite=False),
    "random_state": param(*seeds(), suite=False),
})
_LAG = param(NON_NEGATIVE, None, suite=False)
CHECK_ENDPOINT_LATENCY = _table("check_endpoint_latency", {
    "quantile": _QUANTILE,
    "max_ms": param(POSITIVE),
    "max_error_rate": param(SHARE),
    "policy": param(Options(*POLICIES)),
    "confidence": _CONFIDENCE,
    "max_schedule_lag_ms": _LAG,
})
CHECK_ENDPOINT_LATENCY_REGRESSION = _table("check_endpoint_latency_regression", {
    "max_slowdown": param(POSITIVE),
    "quantile": _QUANTILE,
    "confidence": _CONFIDENCE,
    "max_error_rate": param(SHARE),
    "max_schedule_lag_ms": _LAG,
    "n_resamples": param(at_least(MIN_RESAMPLES), suite=False),
    "random_state": param(*seeds(), suite=False),
})

# The measurements a YAML latency kind runs before its check. ``device`` and the distinctness
# of ``batch_sizes`` are read by the harness itself (``cuda:<i>`` forms, duplicates).
_SIZE = at_least(1)
MEASURE_LATENCY = OptionTable("measure_latency", {
    "batch_sizes": param(_SIZE, ListOf(_SIZE, min_items=1)),
    "device": param(Text()),
    "confidence": param(*_CONFIDENCE.constraints, doc="of the latency percentiles"),
    "min_iters": param(at_least(0)),
    "max_time_s": param(POSITIVE),
    "n_threads": param(at_least(1), None, doc="threads of torch and every OpenMP/BLAS pool "
                                              "while measuring (default 1; null leaves them "
                                              "as they are)"),
    "warmup_iters": param(at_least(0), suite=False),
    "max_iters": param(at_least(1), suite=False),
    "overhead_iters": param(at_least(0), suite=False),
    "warmup_time_s": param(NON_NEGATIVE, suite=False),
    "min_time_s": param(NON_NEGATIVE, suite=False),
    "throughput_time_s": param(NON_NEGATIVE, suite=False),
    "target_rel_ci": param(NON_NEGATIVE, suite=False),
    "quantiles": param(ListOf(LEVEL, min_items=1), suite=False),
    "mode": param(Options(*MODES), suite=False),
})
MEASURE_ENDPOINT_LATENCY = OptionTable("measure_endpoint_latency", {
    "rate": param(POSITIVE),
    "duration_s": param(POSITIVE),
    "warmup_s": param(NON_NEGATIVE),
    "arrival": param(Options(*ARRIVALS)),
    "protocol": param(Options(*PROTOCOLS)),
    "max_in_flight": param(at_least(1)),
    "timeout_s": param(POSITIVE),
    # the schedule's seed (a suite's ``seed:``); numpy refuses a negative one
    "random_state": param(at_least(0)),
})
