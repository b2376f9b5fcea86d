"""evidently 0.7.23's catalogue of drift tests, by the same names, plus ``chi2_homogeneity``."""

from mlqa.drift.stattests.registry import REGISTRY, ColumnTestError, StatTest, get

__all__ = ["REGISTRY", "ColumnTestError", "StatTest", "get"]
