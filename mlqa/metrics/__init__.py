"""Metric thresholds."""

from mlqa.metrics.check import check_metric
from mlqa.metrics.registry import METRICS, Metric, resolve_metric

__all__ = ["check_metric", "resolve_metric", "Metric", "METRICS"]

from mlqa.expectations import expecting  # noqa: E402

expect_metric = expecting(check_metric, "metric")
__all__ += ["expect_metric"]
