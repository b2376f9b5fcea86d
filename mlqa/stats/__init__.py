"""Statistical primitives shared by the check families (intervals, tests, resampling)."""
