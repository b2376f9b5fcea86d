"""The keyword options of the latency checks, declared once (:mod:`mlqa.options`): each check
validates its call with its table and :mod:`mlqa.suite.spec` generates the YAML kinds'
options from them. ``confidence`` of a latency decision is at least 0.5: the exact
order-statistic interval of a percentile is two-sided."""

from __future__ import annotations

from numbers import Real

from mlqa._validation import MIN_RESAMPLES
from mlqa.options import (
    LEVEL,
    NON_NEGATIVE,
    POSITIVE,
    SHARE,
    Interval,
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
