"""Metrics that are functions of a few weighted sums over rows.

Each entry gives the per-row columns whose weighted sums determine the metric, and the function
of those sums. Column 0 is always the row weight itself, so ``sums[:, 0]`` is the total weight.
A bootstrap replicate is then the function of Poisson-weighted column sums
(``mlqa.stats.bootstrap.weighted_sums``): one matrix product per chunk of resamples::

    mean loss (mae, mse, mape, msle, deviances, log loss, brier) = S(loss) / S(1)
    rmse, rmsle = sqrt(mean squared error)
    r2 = 1 - S(e^2) / (S(y^2) - S(y)^2 / S(1))            (y centred first, for precision)
    explained_variance = 1 - Var_w(e) / Var_w(y)
    d2_absolute_error = 1 - S(|e|) / S(|y - median(y)|)    (the median held at the sample's:
                                                          its own sampling error moves the
                                                          denominator only to second order)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlqa.errors import InputError

Columns = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]
Finish = Callable[[np.ndarray], np.ndarray]

_EPS = np.finfo(np.float64).eps


def _stack(*cols: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(cols[0])), *cols])


def _mean_of(loss: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> tuple[Columns, Finish]:
    return (lambda y, p, labels: _stack(loss(y, p)), lambda s: s[:, 1] / s[:, 0])


def _root_mean_of(loss: Callable[[np.ndarray, np.ndarray], np.ndarray]
                  ) -> tuple[Columns, Finish]:
    return (lambda y, p, labels: _stack(loss(y, p)), lambda s: np.sqrt(s[:, 1] / s[:, 0]))


def _squared(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return (y - p) ** 2


def _squared_log(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return (np.log1p(y) - np.log1p(p)) ** 2


def _poisson_deviance(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / p), 0.0)
    return 2 * (ylogy - y + p)


def _gamma_deviance(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return 2 * (np.log(p / y) + y / p - 1)


def _r2_columns(y: np.ndarray, p: np.ndarray, labels: object) -> np.ndarray:
    yc = y - y.mean()
    return _stack((y - p) ** 2, yc, yc**2)


def _r2(s: np.ndarray) -> np.ndarray:
    ss_tot = s[:, 3] - s[:, 2] ** 2 / s[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - s[:, 1] / ss_tot


def _explained_variance_columns(y: np.ndarray, p: np.ndarray, labels: object) -> np.ndarray:
    e, yc = y - p, y - y.mean()
    return _stack(e - e.mean(), (e - e.mean()) ** 2, yc, yc**2)


def _explained_variance(s: np.ndarray) -> np.ndarray:
    var_e = s[:, 2] - s[:, 1] ** 2 / s[:, 0]
    var_y = s[:, 4] - s[:, 3] ** 2 / s[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - var_e / var_y


def _proba_of_true(y: np.ndarray, p: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Probability given to each row's true class (1-D ``p`` is the positive class's)."""
    index = np.searchsorted(labels, y)
    if p.ndim == 1:
        return np.where(index == len(labels) - 1, p, 1 - p)
    return p[np.arange(len(y)), index]


def _need_labels(name: str, labels: np.ndarray | None) -> np.ndarray:
    """Probability losses score the true class's column: the class labels are required."""
    if labels is None:
        raise InputError(f"{name} needs the class labels to find each row's true class")
    return labels


def _log_loss_columns(y: np.ndarray, p: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    labels = _need_labels("log_loss", labels)
    # scikit-learn clips probabilities to [eps, 1 - eps] before taking logs
    return _stack(-np.log(np.clip(_proba_of_true(y, p, labels), _EPS, 1 - _EPS)))


def _brier_columns(y: np.ndarray, p: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    labels = _need_labels("brier_score", labels)
    if p.ndim == 1:
        return _stack(((np.searchsorted(labels, y) == len(labels) - 1) - p) ** 2)
    onehot = np.searchsorted(labels, y)[:, None] == np.arange(p.shape[1])
    return _stack(((onehot - p) ** 2).sum(axis=1))


def _d2_columns(y: np.ndarray, p: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    return _stack(np.abs(y - p), np.abs(y - np.median(y)))


def _d2(s: np.ndarray) -> np.ndarray:  # noqa: D103
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - s[:, 1] / s[:, 2]


SUMS: dict[str, tuple[Columns, Finish]] = {
    "mean_absolute_error": _mean_of(lambda y, p: np.abs(y - p)),
    "mean_squared_error": _mean_of(_squared),
    "root_mean_squared_error": _root_mean_of(_squared),
    "mean_squared_log_error": _mean_of(_squared_log),
    "root_mean_squared_log_error": _root_mean_of(_squared_log),
    "mean_absolute_percentage_error": _mean_of(
        lambda y, p: np.abs(y - p) / np.maximum(np.abs(y), _EPS)),
    "mean_poisson_deviance": _mean_of(_poisson_deviance),
    "mean_gamma_deviance": _mean_of(_gamma_deviance),
    "r2": (_r2_columns, _r2),
    "explained_variance": (_explained_variance_columns, _explained_variance),
    "d2_absolute_error_score": (_d2_columns, _d2),
    "log_loss": (_log_loss_columns, lambda s: s[:, 1] / s[:, 0]),
    "brier_score": (_brier_columns, lambda s: s[:, 1] / s[:, 0]),
}
