"""Candidate vs baseline (not built yet: issue 3)."""

from mlqa._unbuilt import unbuilt

check_regression = unbuilt("check_regression", "issue 3, regression against the previous model")

from mlqa.expectations import expecting  # noqa: E402

expect_regression = expecting(check_regression, "regression")
