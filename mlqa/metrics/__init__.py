"""Metric thresholds decided on confidence intervals."""

from mlqa.metrics.check import MetricResult, check_metric
from mlqa.metrics.registry import METRICS, Metric, resolve_metric
from mlqa.metrics.slices import Slice, make_slices

__all__ = ["check_metric", "MetricResult", "Slice", "make_slices", "resolve_metric", "Metric",
           "METRICS"]

from mlqa.expectations import expecting  # noqa: E402

expect_metric = expecting(check_metric, "metric")
__all__ += ["expect_metric"]
