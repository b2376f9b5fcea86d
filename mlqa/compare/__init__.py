"""Candidate vs baseline: paired tests of the difference against non-inferiority margins."""

from mlqa.compare.check import RegressionResult, check_regression

__all__ = ["check_regression", "expect_regression", "RegressionResult"]

from mlqa.expectations import expecting  # noqa: E402

expect_regression = expecting(check_regression, "regression")
