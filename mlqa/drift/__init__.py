"""Data drift (not built yet: issue 6)."""

from mlqa._unbuilt import unbuilt
from mlqa.result import CheckResult

check_drift = unbuilt("check_drift", "issue 6, data drift")
check_multivariate_drift = unbuilt("check_multivariate_drift", "issue 6, data drift")


class DriftResult(CheckResult):
    """Placeholder type until issue 6 lands."""


class ColumnDrift:
    """Placeholder type until issue 6 lands."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("mlqa.ColumnDrift is not built yet (issue 6, data drift)")

from mlqa.expectations import expecting  # noqa: E402

expect_drift = expecting(check_drift, "drift")
