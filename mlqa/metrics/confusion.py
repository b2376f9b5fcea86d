"""Confusion-matrix metrics computed from counts, for a whole batch of matrices at once.

Every label metric in this table depends on the rows only through the confusion matrix
``C[t, p]`` (weight of rows with true class ``t`` predicted ``p``), so a bootstrap replicate is
the formula applied to a resampled matrix (``mlqa.stats.bootstrap.multinomial_counts``). The
formulas follow scikit-learn's, including its ``zero_division="warn"`` convention (an undefined
ratio counts as 0), so on the observed matrix they give scikit-learn's figure::

    tp_k = C[k, k]   pred_k = sum_t C[t, k]   true_k = sum_p C[k, p]
    precision_k = tp_k / pred_k    recall_k = tp_k / true_k
    f1_k = 2 tp_k / (pred_k + true_k)    jaccard_k = tp_k / (pred_k + true_k - tp_k)
    micro: the ratio of the summed counts; macro: the mean over labels; weighted: by true_k;
    binary: class ``pos_label`` (1) only
    balanced_accuracy = mean of recall_k over classes present in y_true
    MCC = (c s - t.p) / sqrt((s^2 - p.p)(s^2 - t.t))   (c = trace, s = total)
    kappa = (p_o - p_e) / (1 - p_e),  p_o = c / s,  p_e = t.p / s^2
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# name -> f(C (B, K, K) float, pos (index of the positive class or None)) -> (B,)
Formula = Callable[[np.ndarray, "int | None"], np.ndarray]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's zero_division='warn')."""
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _parts(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.diagonal(c, axis1=1, axis2=2), c.sum(axis=1), c.sum(axis=2)


def _per_class(kind: str, tp: np.ndarray, pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    if kind == "precision":
        return _ratio(tp, pred)
    if kind == "recall":
        return _ratio(tp, true)
    if kind == "f1":
        return _ratio(2 * tp, pred + true)
    return _ratio(tp, pred + true - tp)  # jaccard


def _averaged(kind: str, average: str | None) -> Formula:
    def formula(c: np.ndarray, pos: int | None) -> np.ndarray:
        tp, pred, true = _parts(c)
        if average is None:  # binary: the positive class only
            return _per_class(kind, tp[:, pos], pred[:, pos], true[:, pos])
        if average == "micro":
            return _per_class(kind, tp.sum(1), pred.sum(1), true.sum(1))
        scores = _per_class(kind, tp, pred, true)
        if average == "macro":
            return scores.mean(axis=1)
        return _ratio((scores * true).sum(1), true.sum(1))  # weighted by support

    return formula


def accuracy(c: np.ndarray, pos: int | None = None) -> np.ndarray:
    tp, _, _ = _parts(c)
    return _ratio(tp.sum(1), c.sum(axis=(1, 2)))


def balanced_accuracy(c: np.ndarray, pos: int | None = None) -> np.ndarray:
    tp, _, true = _parts(c)
    present = true > 0
    recall = _ratio(tp, true)
    with np.errstate(invalid="ignore"):
        return np.where(present, recall, 0).sum(1) / present.sum(1)


def matthews_corrcoef(c: np.ndarray, pos: int | None = None) -> np.ndarray:
    tp, pred, true = _parts(c)
    s = c.sum(axis=(1, 2))
    cov_tp = tp.sum(1) * s - (true * pred).sum(1)
    cov_pp = s**2 - (pred * pred).sum(1)
    cov_tt = s**2 - (true * true).sum(1)
    return _ratio(cov_tp, np.sqrt(cov_tt * cov_pp))


def cohen_kappa(c: np.ndarray, pos: int | None = None) -> np.ndarray:
    tp, pred, true = _parts(c)
    s = c.sum(axis=(1, 2))
    p_o = tp.sum(1) / s
    p_e = (true * pred).sum(1) / s**2
    with np.errstate(invalid="ignore", divide="ignore"):
        return (p_o - p_e) / (1 - p_e)


FORMULAS: dict[str, Formula] = {
    "accuracy": accuracy,
    "balanced_accuracy": balanced_accuracy,
    "matthews_corrcoef": matthews_corrcoef,
    "cohen_kappa": cohen_kappa,
}
for _kind in ("precision", "recall", "f1", "jaccard"):
    FORMULAS[_kind] = _averaged(_kind, None)
    for _avg in ("micro", "macro", "weighted"):
        FORMULAS[f"{_kind}_{_avg}"] = _averaged(_kind, _avg)


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray,
                     sample_weight: np.ndarray | None = None) -> np.ndarray:
    """``(K, K)`` confusion matrix over ``labels`` (rows true, columns predicted); integer
    counts without weights, summed weights with them."""
    k = len(labels)
    cells = np.bincount(cell_index(y_true, y_pred, labels), weights=sample_weight,
                        minlength=k * k).reshape(k, k)
    return cells if sample_weight is not None else cells.astype(np.int64)


def cell_index(y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Flat confusion-cell index of every row (``true * K + pred``)."""
    k = len(labels)
    return np.searchsorted(labels, y_true) * k + np.searchsorted(labels, y_pred)
