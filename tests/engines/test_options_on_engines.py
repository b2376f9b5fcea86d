"""One option table per check validates the call on every backend: the same bad option is
refused with the same message in memory, on DuckDB and on Spark, before any query runs."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

import mlqa

FRAME = pd.DataFrame({"y": np.arange(40) % 2, "p": (np.arange(40) // 3) % 2,
                      "q": np.arange(40) % 2, "x": np.linspace(0, 1, 40)})

# (the call on a table, the bad option, the message every backend gives)
CALLS = [
    (lambda data, **kw: mlqa.check_metric("y", "p", "accuracy", min=0.5, data=data, **kw),
     {"confidence": 1.5}, "confidence must be a number in (0, 1), got 1.5"),
    (lambda data, **kw: mlqa.check_metric("y", "p", "accuracy", min=0.5, data=data, **kw),
     {"ci": "wald"}, "ci must be one of 'auto', 'wilson', "),
    (lambda data, **kw: mlqa.check_regression("y", "p", "q", max_drop=0.1, data=data, **kw),
     {"test": "anova"}, "test must be one of 'auto', 'mcnemar', 'delong', 'bootstrap', "
                        "got 'anova'"),
    (lambda data, **kw: mlqa.check_regression("y", "p", "q", data=data, **kw),
     {"max_drop": -0.1}, "max_drop must be a number >= 0 or None, got -0.1; use min_gain="),
    (lambda data, **kw: mlqa.check_drift(data, data, columns=["x"], **kw),
     {"alpha": 0}, "alpha must be a number in (0, 1), got 0"),
    (lambda data, **kw: mlqa.check_drift(data, data, columns=["x"], **kw),
     {"correction": "bonferroni"}, "correction must be one of 'holm', 'bh' or None, got "
                                   "'bonferroni'"),
    (lambda data, **kw: mlqa.check_disparity("y", "p", "q", data=data, **kw),
     {"max_difference": 1.5}, "max_difference must be a number in (0, 1) or None, got 1.5"),
    (lambda data, **kw: mlqa.check_shadow("p", "q", data=data, **kw),
     {"max_disagreement": 0}, "max_disagreement must be a number in (0, 1) or None, got 0"),
]


def _message(call, data, bad) -> str:
    with pytest.raises(mlqa.InputError) as err:
        call(data, **bad)
    return str(err.value)


@pytest.mark.parametrize("call, bad, expected", CALLS)
def test_the_same_bad_option_is_refused_alike_in_memory_and_on_duckdb(call, bad, expected):
    memory = _message(call, FRAME, bad)
    assert expected in memory
    assert _message(call, duckdb.from_df(FRAME), bad) == memory


def test_the_same_bad_option_is_refused_alike_on_spark(spark):
    table = spark.createDataFrame(FRAME)  # one small table for every call
    for call, bad, expected in CALLS:
        message = _message(call, table, bad)
        assert expected in message and message == _message(call, FRAME, bad)
