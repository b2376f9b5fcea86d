"""Data quality: schema, missing values, ranges, categories, duplicate rows, row count, dates.

Shares of rows are decided on intervals (Wilson for one share, Newcombe for the change of a
share against the reference), never on the bare figure: see ``mlqa.quality.shares``.
"""

from mlqa.quality.check import check_data, expect_data
from mlqa.quality.dates import check_dates
from mlqa.quality.missing import check_missing
from mlqa.quality.result import ColumnQuality, DataQualityResult, QualityResult
from mlqa.quality.rules import (
    check_categories,
    check_duplicates,
    check_ranges,
    check_row_count,
    check_schema,
)

__all__ = ["check_data", "expect_data", "check_missing", "check_schema", "check_ranges",
           "check_categories", "check_duplicates", "check_row_count", "check_dates",
           "QualityResult", "DataQualityResult", "ColumnQuality"]
