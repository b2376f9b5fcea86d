"""A metric's history across builds: change points by E-Divisive means with a permutation test."""

from mlqa.trend.check import ChangePoint, TrendResult, check_trend

__all__ = ["check_trend", "expect_trend", "TrendResult", "ChangePoint"]

from mlqa.expectations import expecting  # noqa: E402

expect_trend = expecting(check_trend, "trend")
