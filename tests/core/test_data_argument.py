"""``data=`` has one meaning in every check: the table the named columns are read from (in
memory or in an engine); a model's inputs are ``X=``."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.engines import backend

RNG = np.random.default_rng(7)
N = 400
Y = RNG.integers(0, 2, N)
FRAME = pd.DataFrame({
    "y": Y,
    "cand": np.where(RNG.random(N) < 0.85, Y, 1 - Y),
    "base": np.where(RNG.random(N) < 0.80, Y, 1 - Y),
    "w": RNG.random(N) + 0.5,
    "f1": RNG.normal(size=N),
})


def _same(a, b):
    assert (a.outcome, a.value, a.ci, a.n) == (b.outcome, b.value, b.ci, b.n)


def test_check_metric_reads_named_columns_of_an_in_memory_table():
    arrays = mlqa.check_metric(FRAME["y"], FRAME["cand"], "accuracy", min=0.8,
                               sample_weight=FRAME["w"])
    _same(mlqa.check_metric("y", "cand", "accuracy", min=0.8, sample_weight="w", data=FRAME),
          arrays)
    with pytest.raises(mlqa.InputError, match=r"y_pred='cnd' is not a column of data= "
                                              r"\(5 columns \(did you mean 'cand'\?\)\)"):
        mlqa.check_metric("y", "cnd", "accuracy", min=0.8, data=FRAME)


def test_check_regression_reads_named_columns_of_a_table_in_memory_and_on_duckdb():
    arrays = mlqa.check_regression(FRAME["y"], FRAME["cand"], FRAME["base"], max_drop=0.05)
    _same(mlqa.check_regression("y", "cand", "base", max_drop=0.05, data=FRAME), arrays)
    on_duckdb = mlqa.check_regression("y", "cand", "base", max_drop=0.05,
                                      data=duckdb.from_df(FRAME))
    assert on_duckdb.value == pytest.approx(arrays.value, abs=1e-12)
    assert on_duckdb.outcome is arrays.outcome


def test_features_are_x_and_the_old_data_use_warns_instead_of_changing_meaning():
    X = FRAME[["f1"]]
    with_x = mlqa.check_regression(Y, FRAME["cand"], FRAME["base"], max_drop=0.05, X=X)
    with pytest.warns(FutureWarning, match="pass them as X="):
        old = mlqa.check_regression(Y, FRAME["cand"], FRAME["base"], max_drop=0.05, data=X)
    _same(old, with_x)
    with pytest.raises(mlqa.InputError, match="pass the model's features as X= only"):
        mlqa.check_regression(Y, FRAME["cand"], FRAME["base"], max_drop=0.05, data=X, X=X)


def test_one_function_says_where_data_is_read():
    assert backend(FRAME) == "memory"
    assert backend(duckdb.from_df(FRAME)) == "duckdb"
    assert backend(FRAME, None) == "memory"


def test_a_baseline_records_the_model_inputs_as_x():
    from mlqa.baseline import RecordBuilder

    X = FRAME[["f1"]]
    with_x = RecordBuilder().add_predictions("holdout", Y, FRAME["base"], X=X)
    with pytest.warns(DeprecationWarning, match="data= is deprecated.*use X="):
        old = RecordBuilder().add_predictions("holdout", Y, FRAME["base"], data=X)
    assert old.fingerprint == with_x.fingerprint and with_x.fingerprint.features_sha256
    with pytest.raises(mlqa.InputError, match="pass X= only"):
        RecordBuilder().add_predictions("holdout", Y, FRAME["base"], X=X, data=X)
