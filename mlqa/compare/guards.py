"""Comparability guards: a stored baseline is compared only with the same thing it measured.

Before any difference is computed against a :class:`~mlqa.baseline.PredictionSet`, the
evaluation must be the same rows (count, labels in row order, features when both sides have
them), the same label set, and the metric the same computation (name, fixed arguments, input
kind). Each guard returns the reason it failed, so the ERROR says *which* of them differs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlqa.baseline.fingerprint import fingerprint
from mlqa.baseline.records import PredictionSet, metric_config
from mlqa.metrics.registry import Metric

_FEW = 8  # label values listed in a message


def _listing(values: Any) -> str:
    values = list(values)
    shown = ", ".join(map(repr, values[:_FEW]))
    return "{" + shown + (f", … {len(values) - _FEW} more" if len(values) > _FEW else "") + "}"


def incomparable(baseline: PredictionSet, y_true: np.ndarray, metric: Metric,
                 data: Any = None) -> tuple[str, str] | None:
    """``(what, why)`` if ``baseline`` cannot be compared on this evaluation, else None.
    ``what`` is one of ``rows``, ``label_set``, ``labels``, ``features``, ``metric_config``."""
    rows = different_rows(baseline, len(y_true))
    if rows is not None:
        return rows
    recorded = baseline.fingerprint
    now = fingerprint(y_true, data)
    where = _where(baseline)
    if recorded.label_set is not None and now.label_set is not None and \
            set(now.label_set) != set(recorded.label_set):
        gone = sorted(set(recorded.label_set) - set(now.label_set), key=str)
        new = sorted(set(now.label_set) - set(recorded.label_set), key=str)
        return "label_set", (f"{where} has label set {_listing(recorded.label_set)}, this "
                             f"evaluation {_listing(now.label_set)} (missing now: "
                             f"{_listing(gone)}, new: {_listing(new)})")
    if now.labels_sha256 != recorded.labels_sha256:
        differ = int(np.count_nonzero(_as_text(baseline.y_true) != _as_text(y_true)))
        return "labels", (f"{where}: the labels differ on {differ} of {now.n_rows} rows (same "
                          f"count, different rows, order or labelling)")
    if now.features_sha256 and recorded.features_sha256 and \
            now.features_sha256 != recorded.features_sha256:
        return "features", (f"{where}: the feature rows differ from the ones the baseline was "
                            f"scored on (same labels, different data)")
    reason = _metric_mismatch(baseline, metric)
    if reason is not None:
        return "metric_config", f"{where}: {reason}"
    return None


def different_rows(baseline: PredictionSet, n_rows: int) -> tuple[str, str] | None:
    """The ``rows`` guard alone: it needs only the row count, so it runs before the inputs'
    lengths are checked against each other (a stored baseline of another size is this ERROR,
    not an InputError about inconsistent lengths)."""
    recorded = baseline.fingerprint.n_rows
    if n_rows == recorded:
        return None
    return "rows", (f"{_where(baseline)} was scored on {recorded} rows, this evaluation has "
                    f"{n_rows}: not the same rows")


def _where(baseline: PredictionSet) -> str:
    return f"baseline {baseline.name!r}" + (f" (record {baseline.record_id})"
                                            if baseline.record_id else "")


def _as_text(values: np.ndarray) -> np.ndarray:
    return values.astype(float) if values.dtype.kind in "biuf" else values.astype(str)


def _metric_mismatch(baseline: PredictionSet, metric: Metric) -> str | None:
    config = metric_config(metric)
    kinds = {m["config"].get("input") for m in baseline.metrics.values()}
    if kinds and config["input"] not in kinds:
        return (f"its predictions are {'/'.join(sorted(map(str, kinds)))}, but {metric.name} "
                f"needs {config['input']}")
    stored = baseline.metrics.get(metric.name)
    if stored is None:
        return None
    if stored["config"] != config:
        diff = {k: (stored["config"].get(k), v) for k, v in config.items()
                if stored["config"].get(k) != v}
        listed = ", ".join(f"{k} {old!r} then, {new!r} now" for k, (old, new) in diff.items())
        return f"metric configuration differs for {metric.name}: {listed}"
    recomputed = metric(baseline.y_true, baseline.y_pred)
    value = float(stored["value"])
    if not math.isclose(recomputed, value, rel_tol=1e-9, abs_tol=1e-12):
        return (f"{metric.name} recorded as {value!r} but the stored predictions give "
                f"{recomputed!r}: the metric's computation changed")
    return None
