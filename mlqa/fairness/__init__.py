"""Fairness: a rate's gaps between groups, decided on simultaneous intervals."""

from mlqa.fairness.cells import pair_names
from mlqa.fairness.check import check_disparity
from mlqa.fairness.result import DisparityResult, GroupRate

__all__ = ["check_disparity", "DisparityResult", "GroupRate", "pair_names"]

from mlqa.expectations import expecting  # noqa: E402

expect_disparity = expecting(check_disparity, "disparity")
__all__ += ["expect_disparity"]
