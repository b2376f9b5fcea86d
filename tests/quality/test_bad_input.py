"""Bad input to the data-quality family: an InputError naming what is wrong, never a pass."""

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.quality import (
    check_categories,
    check_duplicates,
    check_missing,
    check_ranges,
    check_row_count,
    check_schema,
)

DF = pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": ["x", "y", "x"]})


@pytest.mark.parametrize("call, needle", [
    (lambda: check_missing(None, DF), "needs reference= (for max_change) or max_share="),
    (lambda: check_missing(DF, None), "current is required, got None"),
    (lambda: check_missing(DF, [1, 2, 3]), "current must be a pandas DataFrame"),
    (lambda: check_missing(DF, np.zeros(3)), "current must be 2-D"),
    (lambda: check_missing(DF, "nope.csv"), "current: no such file: 'nope.csv'"),
    (lambda: check_missing(DF, DF, max_change=1.5),
     "max_change must be a number in [0, 1] or None, got 1.5"),
    (lambda: check_missing(DF, DF, max_change="5%"), "max_change must be a number"),
    (lambda: check_missing(DF, DF, confidence=1), "confidence must be a number in (0, 1), got 1"),
    (lambda: check_missing(DF, DF, columns=["zz"]), "lacks the columns ['zz']"),
    (lambda: check_missing(DF, DF, max_share={"zz": 0.1}), "max_share names columns"),
    (lambda: check_missing(DF, DF, max_share=True), "max_share must be a number"),
    (lambda: check_missing(DF.iloc[:0], DF), "reference has no rows"),
    (lambda: check_missing(DF, pd.DataFrame({"a": [1], 1: [2], "1": [3]})),
     "column names that collide as text: ['1']"),
    (lambda: check_missing(DF, DF, max_change=None), "needs max_change= or max_share="),
    (lambda: mlqa.check_data(DF, DF, columns=["zz"]), "reference lacks the columns ['zz']"),
    (lambda: check_schema({"a": "vector"}, DF), "schema kinds must be one of"),
    (lambda: check_schema(DF, DF, extra_columns="ignore"),
     "extra_columns must be one of 'fail', 'allow', got 'ignore'"),
    (lambda: check_ranges(DF, {}), "ranges must be a non-empty mapping"),
    (lambda: check_ranges(DF, {"a": (3, 1)}), "ranges['a']: min 3.0 > max 1.0"),
    (lambda: check_ranges(DF, {"a": {"low": 1}}), "ranges['a'] takes min and max"),
    (lambda: check_ranges(DF, {"a": (None, None)}), "ranges['a'] needs min or max"),
    (lambda: check_ranges(DF, {"b": (0, 1)}), "column 'b' is not numeric"),
    (lambda: check_ranges(DF, {"zz": (0, 1)}), "current lacks the columns ['zz']"),
    (lambda: check_categories(DF), "needs allowed= or a reference"),
    (lambda: check_categories(DF, allowed={"b": "xy"}),
     "allowed['b'] must be a list of values, got 'xy'"),
    (lambda: check_categories(DF, reference=DF, vanished="warn"),
     "vanished must be one of 'fail', 'report', got 'warn'"),
    (lambda: check_duplicates(DF, max_share=-0.1),
     "max_share must be a number in [0, 1], got -0.1"),
    (lambda: check_duplicates(DF.iloc[:0]), "current has no rows"),
    (lambda: check_row_count(DF), "needs min= or max="),
    (lambda: check_row_count(DF, min=5, max=2), "min=5 is above max=2"),
    (lambda: mlqa.check_drift(DF, DF, max_missing_change=2),
     "max_missing_change must be a number in [0, 1] or None, got 2"),
])
def test_bad_input_names_the_problem(call, needle):
    with pytest.raises(mlqa.InputError) as err:
        call()
    assert needle in str(err.value)


def test_expect_data_turns_bad_input_into_a_recorded_error():
    with mlqa.recording.capture() as seen, pytest.raises(mlqa.CheckError):
        mlqa.expect_data(DF, DF.assign(a=["p", "q", "r"]), ranges={"a": (0, 1)})
    assert seen[0].outcome is mlqa.Outcome.ERROR and "is not numeric" in seen[0].message


def test_an_unreadable_column_is_an_error_not_a_pass():
    r = check_ranges(pd.DataFrame({"a": [np.nan, np.nan]}), {"a": (0, 1)})
    assert r.outcome is mlqa.Outcome.ERROR and "no values to check" in r.message
    r = check_missing(DF, DF.drop(columns=["a"]))
    assert r.outcome is mlqa.Outcome.ERROR and "absent from current" in r.message
