"""When a metric is undefined on the data, and why.

scikit-learn turns 0/0 into 0 (``zero_division="warn"``) or a warning, so ``f1([0]*200,
[0]*200)`` is "0" and a recall without positives is "0": figures a gate would then PASS or FAIL
with a confident interval. mlqa decides instead that such a metric is *undefined* and the check
is an ERROR naming the reason (issue 11.3). The rules, by metric:

=========================================  ===================================================
binary precision                           no row predicted as the positive class (``tp+fp=0``)
binary recall, F1, Jaccard, average        no row of the positive class in y_true (``tp+fn=0``)
precision
macro recall/F1/Jaccard                    a label (from y_pred) has no rows in y_true
macro and weighted precision               a label of y_true is never predicted
balanced accuracy                          y_true holds a single class
MCC                                        y_true or y_pred holds a single class (0/0)
Cohen's kappa                              both hold the same single class (``p_e = 1``)
ROC AUC (any averaging)                    y_true holds a single class, or a class has no rows
R^2, explained variance, D^2               y_true is constant (the denominator is 0)
=========================================  ===================================================

``confusion_undefined`` works from confusion cell counts alone, so an engine that summarises
rows into counts (Spark, DuckDB) asks the same question of the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlqa.metrics import confusion

_KINDS = ("precision", "recall", "f1", "jaccard")


def positive_index(labels: np.ndarray | None) -> int | None:
    """Index of scikit-learn's default positive label (1) among ``labels``, if there."""
    if labels is None or labels.dtype.kind not in "biuf":
        return None
    hits = np.flatnonzero(labels == 1)
    return int(hits[0]) if len(hits) else None


def _binary_without_positive(labels: np.ndarray) -> bool:
    """Numeric 0/1 labels where class 1 never appears: binary metrics about class 1 then have
    no positive class at all (scikit-learn still answers 0)."""
    return labels.dtype.kind in "biuf" and bool(np.isin(labels, (0, 1)).all())


def confusion_undefined(name: str, counts: np.ndarray, labels: np.ndarray) -> str | None:
    """Why confusion-matrix metric ``name`` is undefined on ``counts`` (``(K, K)``, rows true,
    columns predicted, over ``labels``), or None when it is defined."""
    counts = np.asarray(counts)
    true, pred = counts.sum(axis=1), counts.sum(axis=0)
    if counts.sum() == 0:
        return "there are no rows"
    kind, _, average = name.partition("_")
    if kind in _KINDS and average in ("", "micro", "macro", "weighted"):
        if average == "":
            pos = positive_index(labels)
            if pos is None and not _binary_without_positive(labels):
                return None  # scikit-learn's own pos_label error says what is wrong
            if kind == "precision":
                if pos is None or pred[pos] == 0:
                    return "no row is predicted as the positive class 1"
            elif pos is None or true[pos] == 0:
                return "y_true has no rows of the positive class 1"
            return None
        if average == "macro" and kind != "precision":
            missing = labels[true == 0]
            if len(missing):
                return f"class {_show(missing[0])} has no rows in y_true (it is only predicted)"
        if average in ("macro", "weighted") and kind == "precision":
            never = labels[(pred == 0) & ((true > 0) if average == "weighted" else True)]
            if len(never):
                return f"class {_show(never[0])} is never predicted"
        return None
    if name == "balanced_accuracy" and np.count_nonzero(true) < 2:
        return f"y_true has a single class ({_show(labels[np.argmax(true)])})"
    if name == "matthews_corrcoef":
        if np.count_nonzero(true) < 2:
            return f"y_true has a single class ({_show(labels[np.argmax(true)])})"
        if np.count_nonzero(pred) < 2:
            return f"y_pred is constant (every row predicted {_show(labels[np.argmax(pred)])})"
    if name == "cohen_kappa" and np.count_nonzero(true) < 2 and np.count_nonzero(pred) < 2 \
            and np.argmax(true) == np.argmax(pred):
        return (f"y_true has a single class ({_show(labels[np.argmax(true)])}) and y_pred "
                f"predicts only it (kappa is 0/0)")
    return None


def undefined_reason(metric: Any, y_true: np.ndarray, y_pred: np.ndarray,
                     labels: np.ndarray | None, weight: np.ndarray | None = None) -> str | None:
    """Why ``metric`` (a registry :class:`~mlqa.metrics.registry.Metric`) is undefined on these
    rows, or None. A user's callable is never judged here: its own NaN is the signal."""
    from mlqa.metrics.registry import METRICS

    name = metric.name
    known = METRICS.get(name)
    if known is None or known.func is not metric.func:
        return None
    if weight is not None:
        keep = weight > 0
        y_true, y_pred = y_true[keep], y_pred[keep]
        weight = None
    if len(y_true) == 0:
        return "every row has zero weight"
    if name in confusion.FORMULAS and labels is not None:
        return confusion_undefined(name, confusion.confusion_counts(y_true, y_pred, labels),
                                   labels)
    if name.startswith("roc_auc") or name == "average_precision":
        present = np.unique(y_true)
        if name.startswith("roc_auc") and len(present) < 2:
            return single_class(present)
        if name == "average_precision" and (present.dtype.kind not in "biuf"
                                            or not (present == 1).any()):
            return "y_true has no rows of the positive class 1"
        if labels is not None and y_pred.ndim == 2:
            missing = np.setdiff1d(labels, present)
            if len(missing):
                return f"class {_show(missing[0])} has no rows in y_true"
        return None
    if known.denominator is not None and y_true.dtype.kind in "biuf" and \
            np.ptp(y_true) == 0:
        return (f"y_true is constant ({_show(y_true[0])}); {name} divides by "
                f"{known.denominator}")
    return None


def single_class(present: Any) -> str:
    """Why a metric of both classes (ROC AUC) is undefined on a ``y_true`` whose distinct
    values are ``present`` (one value; an engine counts them)."""
    return f"y_true has a single class ({_show(present[0])})"


def _show(value: Any) -> str:
    return repr(np.asarray(value).tolist())


def undefined_cells(name: str, counts: np.ndarray, pos: int | None) -> np.ndarray:
    """Which of a batch of confusion matrices ``(B, K, K)`` leave metric ``name`` undefined
    (the vectorised form of ``confusion_undefined``, for resamples): True where the metric is a
    0/0 that scikit-learn would report as 0."""
    true, pred = counts.sum(axis=2), counts.sum(axis=1)
    total = counts.sum(axis=(1, 2))
    bad = total == 0
    kind, _, average = name.partition("_")
    if kind in _KINDS and average in ("", "micro", "macro", "weighted"):
        if average == "":
            if pos is None:
                return np.ones(len(counts), dtype=bool)
            side = pred if kind == "precision" else true
            return bad | (side[:, pos] == 0)
        if average == "macro":
            return bad | ((pred if kind == "precision" else true) == 0).any(axis=1)
        if average == "weighted" and kind == "precision":
            return bad | ((pred == 0) & (true > 0)).any(axis=1)
        return bad
    if name in ("balanced_accuracy", "matthews_corrcoef", "cohen_kappa"):
        bad = bad | (np.count_nonzero(true, axis=1) < 2)
        if name == "matthews_corrcoef":
            bad = bad | (np.count_nonzero(pred, axis=1) < 2)
    return bad
