"""Data drift: evidently's catalogue of two-sample tests, its default choice of test, and
mlqa's corrected, materiality-aware mode; text, embedding and datetime columns tested from
their rows (``mlqa.drift.rich``); reference profiles; multivariate drift."""

from mlqa.drift.check import adjust, check_drift
from mlqa.drift.multivariate import check_multivariate_drift
from mlqa.drift.profile import ReferenceProfile, profile
from mlqa.drift.result import ColumnDrift, DriftResult
from mlqa.expectations import expecting

load_profile = ReferenceProfile.load
expect_drift = expecting(check_drift, "drift")

__all__ = ["ColumnDrift", "DriftResult", "ReferenceProfile", "adjust", "check_drift",
           "check_multivariate_drift", "expect_drift", "load_profile", "profile"]
