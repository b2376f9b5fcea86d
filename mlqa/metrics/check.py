"""``check_metric``: a metric against a threshold."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from mlqa._validation import as_1d, check_consistent_length, check_finite, check_no_missing_labels
from mlqa.errors import InputError
from mlqa.metrics.registry import LABELS, PROBA, Metric, resolve_metric
from mlqa.result import CheckResult, decide, describe, requirement


def check_metric(y_true: Any, y_pred: Any, metric: str | Callable[..., float] = "accuracy", *,
                 min: float | None = None, max: float | None = None,  # noqa: A002
                 sample_weight: Any = None, greater_is_better: bool | None = None,
                 name: str | None = None) -> CheckResult:
    """Score ``y_pred`` against ``y_true`` with ``metric`` and hold it to ``min`` and/or ``max``.

    ``metric`` is a scikit-learn scorer name (``"roc_auc"``, ``"f1_macro"``, ``"neg_log_loss"``
    or its plain ``"log_loss"``, aliases ``mae``/``mse``/``rmse``/``mape``) or a callable
    ``f(y_true, y_pred) -> float``. Score metrics (``roc_auc``, ``average_precision``) take a
    score or probability per row; ``log_loss``/``brier_score`` take probabilities.

    Decision on the point estimate: PASS when ``min <= value <= max`` (each bound optional),
    FAIL otherwise. A value the metric leaves undefined (NaN) is an ERROR.
    """
    resolved = resolve_metric(metric, greater_is_better=greater_is_better)
    _check_bounds(min, max)
    y_true_arr, y_pred_arr, weight = _validated(resolved, y_true, y_pred, sample_weight)
    try:
        value = resolved(y_true_arr, y_pred_arr, sample_weight=weight)
    except (ValueError, TypeError) as exc:
        raise InputError(f"metric {resolved.name!r} could not be computed: {exc}") from None
    label = name or resolved.name
    threshold, comparison = requirement(min, max)
    outcome = decide(value, min=min, max=max)
    message = describe(label, value, min=min, max=max, n=len(y_true_arr))
    if not math.isfinite(value):
        message = f"{label} is undefined on this data (n={len(y_true_arr)})"
    return CheckResult(
        name=label, outcome=outcome, message=message, check="metric", metric=resolved.name,
        value=value, threshold=threshold, comparison=comparison, n=len(y_true_arr),
        details={"min": min, "max": max, "greater_is_better": resolved.greater_is_better,
                 "input": resolved.input},
    )


def _check_bounds(min: float | None, max: float | None) -> None:  # noqa: A002
    if min is None and max is None:
        raise InputError("check_metric needs a requirement: pass min= and/or max=")
    for label, bound in (("min", min), ("max", max)):
        if bound is not None and not (isinstance(bound, int | float | np.number)
                                      and math.isfinite(bound)):
            raise InputError(f"{label} must be a finite number, got {bound!r}")
    if min is not None and max is not None and min > max:
        raise InputError(f"min ({min}) is greater than max ({max})")


def _validated(metric: Metric, y_true: Any, y_pred: Any, sample_weight: Any
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    y_true_arr = as_1d("y_true", y_true)
    y_pred_arr = as_1d("y_pred", y_pred, allow_2d=metric.input != LABELS)
    weight = None if sample_weight is None else as_1d("sample_weight", sample_weight)
    check_consistent_length(y_true=y_true_arr, y_pred=y_pred_arr, sample_weight=weight)
    check_no_missing_labels("y_true", y_true_arr)
    if metric.input != LABELS:
        if y_pred_arr.dtype.kind not in "biuf":
            raise InputError(f"metric {metric.name!r} needs numeric scores in y_pred, "
                             f"got dtype {y_pred_arr.dtype}")
        check_finite("y_pred", y_pred_arr)
    else:
        check_no_missing_labels("y_pred", y_pred_arr)
    if metric.input == PROBA and (y_pred_arr.min() < 0 or y_pred_arr.max() > 1):
        raise InputError(f"metric {metric.name!r} needs probabilities in [0, 1] in y_pred, "
                         f"got values in [{y_pred_arr.min():.4g}, {y_pred_arr.max():.4g}]")
    if metric.name.startswith(("roc_auc", "average_precision")):
        present = np.unique(y_true_arr)
        if len(present) < 2:
            raise InputError(f"metric {metric.name!r} needs at least two classes in y_true, "
                             f"only {present.tolist()} present")
    if weight is not None:
        check_finite("sample_weight", weight.astype(float))
        if (weight < 0).any():
            raise InputError("sample_weight has negative values")
    return y_true_arr, y_pred_arr, weight
