"""The metric and regression part of the bad-input matrix (issue 11.3, 12.1).

Metrics undefined on the data (no positives, none predicted, one class, constant target, a
slice without the class it needs) are ERROR naming why, never PASS or INCONCLUSIVE; label types
of the compared arrays must agree; pandas inputs with different indexes are refused (mlqa never
silently computes on positions, nor re-orders rows behind the user's back).

The case format is the matrix's (tests/matrix/README.md); a small stand-in of it keeps this file
runnable on a branch without ``_matrix``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa import check_metric, check_regression

try:
    from _matrix import Case, cases, error_outcome, input_error, run_case
except ImportError:  # the matrix framework lives on another branch until the merge
    import dataclasses

    from mlqa.errors import InputError

    @dataclasses.dataclass(frozen=True)
    class _Expect:
        kind: str
        text: str
        outcome: str = "error"

    @dataclasses.dataclass(frozen=True)
    class Case:  # type: ignore[no-redef]
        id: str
        action: Any
        expect: _Expect

    def input_error(text: str) -> _Expect:  # type: ignore[no-redef]
        return _Expect("input_error", text)

    def error_outcome(text: str, outcome: str = "error") -> _Expect:  # type: ignore[no-redef]
        return _Expect("error_outcome", text, outcome)

    def cases(table: Any) -> list[Any]:  # type: ignore[no-redef]
        return [pytest.param(c, id=c.id) for c in table]

    def run_case(case: Any, tmp_path: Path, record_property: Any) -> None:  # type: ignore[no-redef]
        if case.expect.kind == "input_error":
            with pytest.raises(InputError) as info:
                case.action(tmp_path)
            text = str(info.value)
        else:
            returned = case.action(tmp_path)
            assert returned.outcome.value == case.expect.outcome, repr(returned)
            text = returned.message
        assert case.expect.text in text, text


RNG = np.random.default_rng(11)
N = 400
Y = (RNG.random(N) < 0.4).astype(int)
SCORE = Y + RNG.normal(size=N)
PRED = (SCORE > 0.5).astype(int)
ZEROS = np.zeros(N, dtype=int)
Y3 = RNG.integers(0, 3, N)
PROBA3 = np.eye(3)[Y3] * 0.6 + 0.4 / 3
TARGET = RNG.normal(10, 2, N)
REGION = np.where(np.arange(N) < N // 2, "north", "south")
# a slice ("south") whose rows are all negatives
Y_SLICED = np.where(REGION == "south", 0, Y)


def metric(*args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's zero-division warnings
        return check_metric(*args, **kwargs)


def regression(*args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check_regression(*args, **kwargs)


def series(values: Any, index: Any = None) -> pd.Series:
    return pd.Series(values, index=np.arange(len(values)) if index is None else index)


PERMUTED = RNG.permutation(N)
UNDEFINED = "is undefined on this data"

CASES = [
    # --- binary metrics without the class they need -> ERROR naming why ----------------------
    Case("metric-f1-no-positives", lambda tmp: metric([0] * 200, [0] * 200, "f1", min=0.5),
         error_outcome("y_true has no rows of the positive class 1")),
    Case("metric-recall-no-positives", lambda tmp: metric(ZEROS, PRED, "recall", min=0.5),
         error_outcome("y_true has no rows of the positive class 1")),
    Case("metric-jaccard-no-positives", lambda tmp: metric(ZEROS, ZEROS, "jaccard", min=0.5),
         error_outcome("y_true has no rows of the positive class 1")),
    Case("metric-f1-no-positives-but-predicted",
         lambda tmp: metric(ZEROS, PRED, "f1", max=0.5),
         error_outcome("y_true has no rows of the positive class 1")),
    Case("metric-precision-none-predicted", lambda tmp: metric(Y, ZEROS, "precision", min=0.5),
         error_outcome("no row is predicted as the positive class 1")),
    Case("metric-precision-none-predicted-exact",
         lambda tmp: metric(Y, ZEROS, "precision", min=0.5, ci="exact"),
         error_outcome("no row is predicted as the positive class 1")),
    Case("metric-f1-no-positives-point-decision",
         lambda tmp: metric(ZEROS, ZEROS, "f1", min=0.5, ci=None),
         error_outcome(UNDEFINED)),
    Case("metric-recall-macro-class-only-predicted",
         lambda tmp: metric(np.r_[Y, 0], np.r_[PRED, 2], "recall_macro", min=0.5),
         error_outcome("class 2 has no rows in y_true")),
    Case("metric-precision-macro-class-never-predicted",
         lambda tmp: metric(Y3, np.where(Y3 == 2, 1, Y3), "precision_macro", min=0.5),
         error_outcome("class 2 is never predicted")),
    Case("metric-f1-macro-class-absent-from-y-true",
         lambda tmp: metric(np.r_[Y, 0], np.r_[PRED, 2], "f1_macro", min=0.5),
         error_outcome("class 2 has no rows in y_true")),
    Case("metric-balanced-accuracy-one-class",
         lambda tmp: metric(ZEROS, PRED, "balanced_accuracy", min=0.5),
         error_outcome("y_true has a single class")),
    Case("metric-mcc-constant-y-true", lambda tmp: metric(ZEROS, PRED, "mcc", min=0.1),
         error_outcome("y_true has a single class")),
    Case("metric-mcc-constant-prediction", lambda tmp: metric(Y, ZEROS, "mcc", min=0.1),
         error_outcome("y_pred is constant")),
    Case("metric-kappa-one-class-everywhere",
         lambda tmp: metric(ZEROS, ZEROS, "cohen_kappa", min=0.1),
         error_outcome("y_true has a single class")),
    # --- score metrics ------------------------------------------------------------------------
    Case("metric-roc-auc-one-class", lambda tmp: metric(ZEROS, SCORE, "roc_auc", min=0.5),
         error_outcome("y_true has a single class")),
    Case("metric-roc-auc-one-class-point",
         lambda tmp: metric(np.ones(N, int), SCORE, "roc_auc", min=0.5, ci=None),
         error_outcome("y_true has a single class")),
    Case("metric-average-precision-no-positives",
         lambda tmp: metric(ZEROS, SCORE, "average_precision", min=0.5),
         error_outcome("y_true has no rows of the positive class 1")),
    Case("metric-roc-auc-ovr-class-without-rows",
         lambda tmp: metric(np.where(Y3 == 2, 1, Y3), PROBA3, "roc_auc_ovr", min=0.5),
         input_error("y_pred has 3 probability columns but there are 2 classes")),
    # --- regression targets -------------------------------------------------------------------
    Case("metric-r2-constant-y-true",
         lambda tmp: metric(np.ones(40), np.ones(40), "r2", min=0.5),
         error_outcome("y_true is constant")),
    Case("metric-r2-constant-y-true-noisy-pred",
         lambda tmp: metric(np.full(N, 3.0), TARGET, "r2", min=0.5),
         error_outcome("y_true is constant")),
    Case("metric-explained-variance-constant",
         lambda tmp: metric(np.full(N, 3.0), TARGET, "explained_variance", min=0.5),
         error_outcome("y_true is constant")),
    Case("metric-d2-absolute-error-constant",
         lambda tmp: metric(np.full(N, 3.0), TARGET, "d2_absolute_error_score", min=0.5),
         error_outcome("y_true is constant")),
    # --- slices: a slice without the class it needs makes the whole check ERROR ---------------
    Case("metric-slice-recall-without-positives",
         lambda tmp: metric(Y_SLICED, PRED, "recall", min=0.1, slices=REGION),
         error_outcome("recall[south] is undefined")),
    Case("metric-slice-roc-auc-one-class",
         lambda tmp: metric(Y_SLICED, SCORE, "roc_auc", min=0.5, slices=REGION),
         error_outcome("roc_auc[south] is undefined")),
    Case("metric-slice-f1-dict-masks",
         lambda tmp: metric(Y_SLICED, PRED, "f1", min=0.1,
                            slices={"all": np.ones(N, bool), "south": REGION == "south"}),
         error_outcome("f1[south] is undefined")),
    # --- defined edge cases keep working ------------------------------------------------------
    Case("metric-accuracy-one-class-is-defined",
         lambda tmp: metric(ZEROS, ZEROS, "accuracy", min=0.5),
         error_outcome("accuracy 1", outcome="pass")),
    Case("metric-precision-defined-without-true-positives-fails",
         lambda tmp: metric(ZEROS, PRED, "precision", min=0.5),
         error_outcome("precision 0 < min 0.5", outcome="fail")),
    Case("metric-roc-auc-ovo-has-an-interval",
         lambda tmp: metric(Y3, PROBA3, "roc_auc_ovo", min=0.8),
         error_outcome("CI", outcome="pass")),
    Case("metric-roc-auc-ovo-weighted-has-an-interval",
         lambda tmp: metric(Y3, PROBA3, "roc_auc_ovo_weighted", min=0.8),
         error_outcome("CI", outcome="pass")),
    Case("metric-roc-auc-ovo-fails-a-bad-model",
         lambda tmp: metric(Y3, np.full((N, 3), 1 / 3), "roc_auc_ovo", min=0.8),
         error_outcome("roc_auc_ovo 0.5 < min 0.8", outcome="fail")),
    # --- label types ---------------------------------------------------------------------------
    Case("regression-string-labels-int-predictions",
         lambda tmp: regression(np.where(Y == 1, "pos", "neg"), Y, 1 - Y, max_drop=0.01),
         input_error("label types differ: y_true holds strings, candidate_pred numbers")),
    Case("regression-int-labels-string-candidate",
         lambda tmp: regression(Y, np.where(PRED == 1, "pos", "neg"), PRED, max_drop=0.01),
         input_error("label types differ: y_true holds numbers, candidate_pred strings")),
    Case("regression-string-baseline",
         lambda tmp: regression(Y, PRED, np.where(PRED == 1, "1", "0"), max_drop=0.01),
         input_error("label types differ: y_true holds numbers, baseline_pred strings")),
    Case("metric-string-labels-int-predictions",
         lambda tmp: metric(np.where(Y == 1, "pos", "neg"), PRED, "accuracy", min=0.5),
         input_error("label types differ: y_true holds strings, y_pred numbers")),
    # --- pandas indexes -------------------------------------------------------------------------
    Case("metric-series-permuted-index",
         lambda tmp: metric(series(Y), series(PRED[PERMUTED], PERMUTED), "accuracy", min=0.5),
         input_error("y_pred's index differs from y_true's")),
    Case("metric-series-other-labels",
         lambda tmp: metric(series(Y), series(PRED, np.arange(N) + 1), "accuracy", min=0.5),
         input_error("y_pred's index differs from y_true's")),
    Case("metric-sample-weight-index",
         lambda tmp: metric(series(Y), PRED, "accuracy", min=0.5,
                            sample_weight=series(np.ones(N), PERMUTED)),
         input_error("sample_weight's index differs from y_true's")),
    Case("metric-proba-frame-index",
         lambda tmp: metric(series(Y3), pd.DataFrame(PROBA3, index=PERMUTED), "roc_auc_ovr",
                            min=0.5),
         input_error("y_pred's index differs from y_true's")),
    Case("metric-slices-series-index",
         lambda tmp: metric(series(Y), series(PRED), "accuracy", min=0.5,
                            slices=series(REGION, PERMUTED)),
         input_error("slices's index differs from y_true's")),
    Case("metric-same-index-passes",
         lambda tmp: metric(series(Y, PERMUTED), series(Y, PERMUTED), "accuracy", min=0.5),
         error_outcome("accuracy 1", outcome="pass")),
    Case("regression-baseline-permuted-index",
         lambda tmp: regression(series(Y), series(PRED), series(PRED[PERMUTED], PERMUTED),
                                max_drop=0.01),
         input_error("baseline_pred's index differs from y_true's")),
    Case("regression-candidate-other-index",
         lambda tmp: regression(series(Y), series(PRED, np.arange(N) + 5), PRED,
                                max_drop=0.01),
         input_error("candidate_pred's index differs from y_true's")),
    # --- regression against the baseline on undefined metrics ----------------------------------
    Case("regression-f1-no-positives",
         lambda tmp: regression(ZEROS, PRED, ZEROS, "f1", max_drop=0.01),
         error_outcome("y_true has no rows of the positive class 1")),
    Case("regression-recall-no-positives",
         lambda tmp: regression(ZEROS, PRED, PRED, "recall", max_drop=0.01),
         error_outcome("y_true has no rows of the positive class 1")),
    Case("regression-precision-candidate-predicts-none",
         lambda tmp: regression(Y, ZEROS, PRED, "precision", max_drop=0.01),
         error_outcome("candidate_pred: no row is predicted as the positive class 1")),
    Case("regression-r2-constant",
         lambda tmp: regression(np.full(N, 2.0), TARGET, TARGET + 1, "r2", max_drop=0.01),
         error_outcome("y_true is constant")),
    Case("regression-roc-auc-one-class",
         lambda tmp: regression(ZEROS, SCORE, SCORE + 1, "roc_auc", max_drop=0.01),
         error_outcome("y_true has a single class")),
    Case("regression-average-precision-no-positives",
         lambda tmp: regression(ZEROS, SCORE, -SCORE, "average_precision", max_drop=0.01),
         error_outcome("y_true has no rows of the positive class 1")),
    Case("regression-balanced-accuracy-one-class",
         lambda tmp: regression(ZEROS, PRED, 1 - PRED, "balanced_accuracy", max_drop=0.01),
         error_outcome("y_true has a single class")),
]


@pytest.mark.parametrize("case", cases(CASES))
def test_case(case: Case, tmp_path: Path, record_property: Any) -> None:
    run_case(case, tmp_path, record_property)


def test_undefined_metric_fails_expect_metric() -> None:
    with pytest.raises(mlqa.CheckError, match="positive class"):
        mlqa.expect_metric([0] * 200, [0] * 200, "f1", min=0.5)
