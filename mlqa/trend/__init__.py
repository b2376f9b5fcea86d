"""A metric's history across builds: change points by E-Divisive means with a permutation test,
on a list of figures (``check_trend``) or on a check's history in a baseline store
(``check_history_trend``)."""

from mlqa.trend.check import ChangePoint, TrendResult, check_trend
from mlqa.trend.history import check_history_trend

__all__ = ["check_trend", "expect_trend", "check_history_trend", "expect_history_trend",
           "TrendResult", "ChangePoint"]

from mlqa.expectations import expecting  # noqa: E402

expect_trend = expecting(check_trend, "trend")
expect_history_trend = expecting(check_history_trend, "trend")
