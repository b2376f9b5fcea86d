"""Predictions from a model for a metric: ``check_metric(..., model=m, X=X)``.

Label metrics take ``model.predict(X)``; score metrics (ROC AUC, average precision) the
positive class's ``predict_proba`` column (``decision_function`` when there is no
``predict_proba``); probability metrics (log loss, Brier, multiclass AUC) ``predict_proba``.
The model's ``classes_`` name the probability columns.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any

import numpy as np

from mlqa.errors import InputError
from mlqa.metrics.registry import LABELS, SCORES, Metric, param_names


def model_predictions(metric: Metric, model: Any, X: Any) -> tuple[Any, np.ndarray | None]:
    """``(y_pred, classes)`` for ``metric`` from ``model`` on ``X``."""
    if model is None or X is None:
        raise InputError("model= and X= go together: pass both (or y_pred instead)")
    classes = getattr(model, "classes_", None)
    classes = None if classes is None else np.asarray(classes)
    if metric.input == LABELS:
        return _call(model, "predict", X), classes
    if hasattr(model, "predict_proba"):
        proba = np.asarray(_call(model, "predict_proba", X))
        binary = proba.ndim == 2 and proba.shape[1] == 2
        if binary and (metric.input == SCORES or metric.name == "brier_score"):
            return proba[:, 1], classes
        return proba, classes
    if metric.input == SCORES and hasattr(model, "decision_function"):
        return _call(model, "decision_function", X), classes
    raise InputError(f"metric {metric.name!r} needs scores, but {type(model).__name__} has "
                     f"no predict_proba{' or decision_function' if metric.input == SCORES else ''}")


def with_labels(metric: Metric, classes: np.ndarray | None) -> Metric:
    """``metric`` told the model's classes, where its function takes ``labels=`` for
    probability columns (log loss, multiclass ROC AUC)."""
    if classes is None or metric.input == LABELS or "labels" not in param_names(metric.func):
        return metric
    return dataclasses.replace(metric, kwargs=MappingProxyType({**metric.kwargs,
                                                                "labels": list(classes)}))


def _call(model: Any, method: str, X: Any) -> Any:
    func = getattr(model, method, None)
    if func is None:
        raise InputError(f"model {type(model).__name__} has no {method}()")
    return func(X)
