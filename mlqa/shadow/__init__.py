"""Shadow comparison: a candidate against the champion on the same unlabelled rows."""

from mlqa.shadow.check import ShadowResult, check_shadow

__all__ = ["check_shadow", "ShadowResult"]

from mlqa.expectations import expecting  # noqa: E402

expect_shadow = expecting(check_shadow, "shadow")
__all__ += ["expect_shadow"]
