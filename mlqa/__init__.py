"""mlqa: model quality as a build result.

Checks for data drift, metric thresholds, regression against the previous model and latency,
each returning a :class:`CheckResult`; ``expect_*`` helpers raise ``QualityGateFailure`` for
use in pytest tests. ``import mlqa`` is cheap: each family (and scikit-learn, evidently,
torch behind it) is imported on first use.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Outcome": "mlqa.result",
    "CheckResult": "mlqa.result",
    "MlqaError": "mlqa.errors",
    "InputError": "mlqa.errors",
    "QualityGateFailure": "mlqa.errors",
    "CheckError": "mlqa.errors",
    "CheckWaived": "mlqa.errors",
    "DeviceUnavailable": "mlqa.errors",
    "InconclusiveWarning": "mlqa.errors",
    "expect": "mlqa.expectations",
    "check_metric": "mlqa.metrics",
    "expect_metric": "mlqa.metrics",
    "check_drift": "mlqa.drift",
    "check_multivariate_drift": "mlqa.drift",
    "DriftResult": "mlqa.drift",
    "ColumnDrift": "mlqa.drift",
    "expect_drift": "mlqa.drift",
    "check_regression": "mlqa.compare",
    "expect_regression": "mlqa.compare",
    "measure_latency": "mlqa.latency",
    "check_latency": "mlqa.latency",
    "check_latency_regression": "mlqa.latency",
    "measure_latency_interleaved": "mlqa.latency",
    "expect_latency": "mlqa.latency",
    "measure_endpoint_latency": "mlqa.latency",
    "check_endpoint_latency": "mlqa.latency",
    "check_endpoint_latency_regression": "mlqa.latency",
    "expect_endpoint_latency": "mlqa.latency",
    "read_perf_analyzer": "mlqa.latency",
    "read_loadgen_log": "mlqa.latency",
    "check_data": "mlqa.quality",
    "expect_data": "mlqa.quality",
    "DataQualityResult": "mlqa.quality",
    "check_trend": "mlqa.trend",
    "expect_trend": "mlqa.trend",
    "TrendResult": "mlqa.trend",
    "check_history_trend": "mlqa.trend",
    "expect_history_trend": "mlqa.trend",
    "check_disparity": "mlqa.fairness",
    "expect_disparity": "mlqa.fairness",
    "DisparityResult": "mlqa.fairness",
    "check_shadow": "mlqa.shadow",
    "expect_shadow": "mlqa.shadow",
    "ShadowResult": "mlqa.shadow",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        # a public subpackage or module (``mlqa.latency.measure_latency_interleaved``,
        # ``mlqa.baseline.load_record``), imported on first use as the families are
        if name.isidentifier() and not name.startswith("_") and \
                importlib.util.find_spec(f"mlqa.{name}") is not None:
            return importlib.import_module(f"mlqa.{name}")
        raise AttributeError(f"module 'mlqa' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - names for type checkers and IDEs
    from mlqa.compare import check_regression, expect_regression
    from mlqa.drift import (
        ColumnDrift,
        DriftResult,
        check_drift,
        check_multivariate_drift,
        expect_drift,
    )
    from mlqa.errors import (
        CheckError,
        CheckWaived,
        DeviceUnavailable,
        InconclusiveWarning,
        InputError,
        MlqaError,
        QualityGateFailure,
    )
    from mlqa.expectations import expect
    from mlqa.fairness import DisparityResult, check_disparity, expect_disparity
    from mlqa.latency import (
        check_endpoint_latency,
        check_endpoint_latency_regression,
        check_latency,
        check_latency_regression,
        expect_endpoint_latency,
        expect_latency,
        measure_endpoint_latency,
        measure_latency,
        read_loadgen_log,
        read_perf_analyzer,
    )
    from mlqa.metrics import check_metric, expect_metric
    from mlqa.quality import DataQualityResult, check_data, expect_data
    from mlqa.result import CheckResult, Outcome
    from mlqa.shadow import ShadowResult, check_shadow, expect_shadow
    from mlqa.trend import (
        TrendResult,
        check_history_trend,
        check_trend,
        expect_history_trend,
        expect_trend,
    )
