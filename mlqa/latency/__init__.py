"""Latency (not built yet: issue 5)."""

from mlqa._unbuilt import unbuilt

measure_latency = unbuilt("measure_latency", "issue 5, GPU latency")
check_latency = unbuilt("check_latency", "issue 5, GPU latency")
check_latency_regression = unbuilt("check_latency_regression", "issue 5, GPU latency")

from mlqa.expectations import expecting  # noqa: E402

expect_latency = expecting(check_latency, "latency")
