"""Metrics by the names scikit-learn's scorers use.

A threshold needs three facts about a metric besides its function: what it is computed from
(hard labels, a score, class probabilities), which way is better, and its fixed arguments.
``neg_`` scorer names are accepted and mean the plain loss (a threshold on ``log_loss`` reads
as ``max=0.3``, not ``min=-0.3``).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from sklearn import metrics as skm

from mlqa.errors import InputError

LABELS, SCORES, PROBA = "labels", "scores", "proba"


CLASSIFICATION, REGRESSION = "classification", "regression"
# rows of a class an interval of the metric needs (``intervals.too_few_rows``)
POSITIVE, BOTH, BOTH_IF_BINARY, PREDICTED_POSITIVE, ALL = (
    "positive", "both", "both_if_binary", "predicted_positive", "all")


@dataclasses.dataclass(frozen=True)
class Metric:
    """A resolved metric: ``func(y_true, y_pred, **kwargs) -> float``.

    ``input`` is what ``y_pred`` must hold: ``labels`` (predicted classes or regression values),
    ``scores`` (a score or probability per row, or a 2-D array for multiclass), ``proba``
    (probabilities).

    A registry entry also carries its own facts, which the checks read instead of lists of
    names (a user's callable has none: unbounded, no kind):

    * ``kind``: ``"classification"`` or ``"regression"`` (its rows are right or wrong only
      for classification);
    * ``low``/``high``: the values it can take (None: unbounded on that side);
    * ``proportion``: it is one proportion k / n of the confusion cells (Wilson applies),
      of the rows right among ``"all"`` rows, the ``"positive"`` rows or the
      ``"predicted_positive"`` ones (``intervals.proportion_counts``);
    * ``bounded_rows``: its per-row loss is bounded (no tail-index test);
    * ``loss_power``: 1 for a loss of the error's magnitude, 2 for a squared one (the tail
      rule's Gaussian reference);
    * ``needs_rows``: the rows of a class no interval can do without (``"positive"``,
      ``"both"``, ``"both_if_binary"``, ``"predicted_positive"``; None: none);
    * ``denominator``: what it divides by that a constant ``y_true`` makes 0 (R², …).
    """

    name: str
    func: Callable[..., float]
    greater_is_better: bool
    input: str = LABELS
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    kind: str | None = None
    low: float | None = None
    high: float | None = None
    proportion: str | None = None
    bounded_rows: bool = False
    loss_power: float = 2.0
    needs_rows: str | None = None
    denominator: str | None = None

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        kwargs = dict(self.kwargs)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return float(self.func(y_true, y_pred, **kwargs))


@dataclasses.dataclass(frozen=True)
class _Facts:
    """A registry entry's facts (``Metric``'s): every entry states its kind and range."""

    kind: str
    low: float | None
    high: float | None
    proportion: str | None = None
    bounded_rows: bool = False
    loss_power: float = 2.0
    needs_rows: str | None = None
    denominator: str | None = None


def _m(name: str, func: Callable[..., float], better: bool, facts: _Facts,
       input: str = LABELS, **kwargs: Any) -> Metric:  # noqa: A002
    return Metric(name, func, better, input, MappingProxyType(kwargs),
                  **dataclasses.asdict(facts))


_UNIT = _Facts(CLASSIFICATION, 0.0, 1.0)
_CORRELATION = _Facts(CLASSIFICATION, -1.0, 1.0, needs_rows=BOTH_IF_BINARY)
_ERROR = _Facts(REGRESSION, 0.0, None)
_ABSOLUTE_ERROR = _Facts(REGRESSION, 0.0, None, loss_power=1.0)
_ACCURACY = dataclasses.replace(_UNIT, proportion=ALL)
_SCORE = _Facts(REGRESSION, None, 1.0, denominator="its variance")


def _averaged(base: str, func: Callable[..., float], binary: _Facts,
              micro: _Facts = _UNIT) -> list[Metric]:
    """The binary metric (class 1's; ``binary`` its facts) and its micro (``micro``), macro
    and weighted averages."""
    return [_m(base, func, True, binary), _m(f"{base}_micro", func, True, micro,
                                             average="micro"),
            *(_m(f"{base}_{avg}", func, True, _UNIT, average=avg)
              for avg in ("macro", "weighted"))]


_TABLE: list[Metric] = [
    _m("accuracy", skm.accuracy_score, True, _ACCURACY),
    _m("balanced_accuracy", skm.balanced_accuracy_score, True,
       dataclasses.replace(_UNIT, needs_rows=BOTH_IF_BINARY)),
    _m("matthews_corrcoef", skm.matthews_corrcoef, True, _CORRELATION),
    _m("cohen_kappa", skm.cohen_kappa_score, True, _CORRELATION),
    # micro precision, recall and F1 of single-label rows are the accuracy
    *_averaged("f1", skm.f1_score, dataclasses.replace(_UNIT, needs_rows=POSITIVE),
               _ACCURACY),
    *_averaged("precision", skm.precision_score,
               dataclasses.replace(_UNIT, proportion=PREDICTED_POSITIVE,
                                   needs_rows=PREDICTED_POSITIVE), _ACCURACY),
    *_averaged("recall", skm.recall_score,
               dataclasses.replace(_UNIT, proportion=POSITIVE, needs_rows=POSITIVE),
               _ACCURACY),
    *_averaged("jaccard", skm.jaccard_score, dataclasses.replace(_UNIT, needs_rows=POSITIVE)),
    _m("roc_auc", skm.roc_auc_score, True, dataclasses.replace(_UNIT, needs_rows=BOTH),
       SCORES),
    _m("roc_auc_ovr", skm.roc_auc_score, True, _UNIT, PROBA, multi_class="ovr"),
    _m("roc_auc_ovo", skm.roc_auc_score, True, _UNIT, PROBA, multi_class="ovo"),
    _m("roc_auc_ovr_weighted", skm.roc_auc_score, True, _UNIT, PROBA, multi_class="ovr",
       average="weighted"),
    _m("roc_auc_ovo_weighted", skm.roc_auc_score, True, _UNIT, PROBA, multi_class="ovo",
       average="weighted"),
    _m("average_precision", skm.average_precision_score, True,
       dataclasses.replace(_UNIT, needs_rows=POSITIVE), SCORES),
    # log loss is clipped at eps by scikit-learn and Brier lies in [0, 2]: bounded per row
    _m("log_loss", skm.log_loss, False, _Facts(CLASSIFICATION, 0.0, None, bounded_rows=True,
                                              needs_rows=BOTH_IF_BINARY), PROBA),
    _m("brier_score", skm.brier_score_loss, False,
       _Facts(CLASSIFICATION, 0.0, 2.0, bounded_rows=True, needs_rows=BOTH_IF_BINARY), PROBA),
    _m("r2", skm.r2_score, True, _SCORE),
    _m("explained_variance", skm.explained_variance_score, True, _SCORE),
    _m("max_error", skm.max_error, False, _ERROR),
    _m("mean_absolute_error", skm.mean_absolute_error, False, _ABSOLUTE_ERROR),
    _m("mean_squared_error", skm.mean_squared_error, False, _ERROR),
    _m("root_mean_squared_error", skm.root_mean_squared_error, False, _ERROR),
    _m("mean_squared_log_error", skm.mean_squared_log_error, False, _ERROR),
    _m("root_mean_squared_log_error", skm.root_mean_squared_log_error, False, _ERROR),
    _m("median_absolute_error", skm.median_absolute_error, False, _ABSOLUTE_ERROR),
    _m("mean_absolute_percentage_error", skm.mean_absolute_percentage_error, False,
       _ABSOLUTE_ERROR),
    _m("mean_poisson_deviance", skm.mean_poisson_deviance, False, _ERROR),
    _m("mean_gamma_deviance", skm.mean_gamma_deviance, False, _ERROR),
    _m("d2_absolute_error_score", skm.d2_absolute_error_score, True,
       dataclasses.replace(_SCORE, loss_power=1.0,
                           denominator="its absolute deviation from the median")),
]

METRICS: Mapping[str, Metric] = MappingProxyType({m.name: m for m in _TABLE})

ALIASES: Mapping[str, str] = MappingProxyType({
    "mae": "mean_absolute_error",
    "mse": "mean_squared_error",
    "rmse": "root_mean_squared_error",
    "msle": "mean_squared_log_error",
    "rmsle": "root_mean_squared_log_error",
    "mape": "mean_absolute_percentage_error",
    "brier_score_loss": "brier_score",
    "auc": "roc_auc",
    "mcc": "matthews_corrcoef",
})

# Names ending like these are losses/errors when a callable does not say which way is better.
_LOWER_IS_BETTER = ("loss", "error", "deviance")


def _infer_greater_is_better(name: str) -> bool | None:
    lowered = name.lower()
    if any(lowered.endswith(s) or f"_{s}" in lowered for s in _LOWER_IS_BETTER):
        return False
    if lowered.endswith(("score", "accuracy", "auc", "precision", "recall")):
        return True
    return None


def resolve_metric(metric: str | Callable[..., float], *,
                   greater_is_better: bool | None = None) -> Metric:
    """Look a metric up by scorer name or alias, or wrap a callable ``f(y_true, y_pred)``."""
    if isinstance(metric, Metric):
        return metric
    if callable(metric):
        name = getattr(metric, "__name__", type(metric).__name__)
        better = greater_is_better if greater_is_better is not None else \
            _infer_greater_is_better(name)
        if better is None:
            raise InputError(f"metric {name!r}: cannot tell whether greater is better from the "
                             "name; pass greater_is_better=True or False")
        return Metric(name, metric, better, SCORES if "score" in param_names(metric) else LABELS)
    if not isinstance(metric, str):
        raise InputError(f"metric must be a scikit-learn scorer name or a callable, "
                         f"got {type(metric).__name__}")
    key = metric.strip()
    if key.startswith("neg_"):
        key = key[4:]
    key = ALIASES.get(key, key)
    found = METRICS.get(key)
    if found is None:
        from mlqa._text import did_you_mean

        names = sorted(METRICS) + sorted(ALIASES)
        raise InputError(f"unknown metric {metric!r}{did_you_mean(key, names)}; known: "
                         f"{', '.join(names)}")
    if greater_is_better is not None and greater_is_better != found.greater_is_better:
        raise InputError(f"metric {found.name!r}: greater_is_better={greater_is_better} "
                         f"contradicts the metric ({found.greater_is_better})")
    return found


def metric_range(metric: Metric) -> tuple[float | None, float | None]:
    """The values ``metric`` can take (None: unbounded on that side), from its entry: a
    threshold outside it (``min=90`` for accuracy, a percentage typed by mistake) can never
    be met, so it is refused. A user's callable is unbounded."""
    return metric.low, metric.high


def accepts_sample_weight(func: Callable[..., Any]) -> bool:
    return "sample_weight" in param_names(func)


def param_names(func: Callable[..., Any]) -> tuple[str, ...]:
    try:
        return tuple(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return ()
