"""Fingerprints of evaluation data: which rows, in which order, with which labels.

A paired comparison is only meaningful on the same rows. The fingerprint stores the row count,
the label set, a hash of the labels in row order and (when the features are given) a hash of the
feature rows, so a guard can say *which* of them differs instead of comparing unlike things.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np

from mlqa._validation import as_1d


@dataclasses.dataclass(frozen=True)
class DataFingerprint:
    n_rows: int
    labels_sha256: str
    label_set: tuple[Any, ...] | None  # None for continuous targets (regression)
    features_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"n_rows": self.n_rows, "labels_sha256": self.labels_sha256,
                "label_set": None if self.label_set is None else list(self.label_set),
                "features_sha256": self.features_sha256}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataFingerprint:
        labels = d.get("label_set")
        return cls(n_rows=int(d["n_rows"]), labels_sha256=str(d["labels_sha256"]),
                   label_set=None if labels is None else tuple(labels),
                   features_sha256=d.get("features_sha256"))


# Above this many distinct values a numeric target is treated as continuous: its "label set" is
# not a set of classes and listing it would bloat the record.
MAX_CLASSES = 1000


def fingerprint(y_true: Any, data: Any = None) -> DataFingerprint:
    """Fingerprint of the evaluation rows: labels (in order) and, optionally, the features."""
    y = as_1d("y_true", y_true)
    classes = np.unique(y)
    continuous = y.dtype.kind == "f" and not np.all(np.mod(classes, 1) == 0)
    label_set = None if continuous or len(classes) > MAX_CLASSES else \
        tuple(_plain_label(c) for c in classes)
    features = None if data is None else _hash_features(data)
    return DataFingerprint(n_rows=int(len(y)), labels_sha256=_hash_values(y),
                           label_set=label_set, features_sha256=features)


def _plain_label(value: Any) -> Any:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 1 and 1.0 are the same class
    return value


def _hash_values(values: np.ndarray) -> str:
    """sha256 of values so that equal data hashes equally whatever its dtype width (int32 vs
    int64, 1 vs 1.0); strings and objects hash by their text."""
    h = hashlib.sha256()
    if values.dtype.kind in "biuf":
        h.update(b"num\0")
        h.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
    else:
        h.update(b"str\0")
        h.update("\x1f".join(map(str, values.tolist())).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _hash_features(data: Any) -> str:
    h = hashlib.sha256()
    if hasattr(data, "columns") and hasattr(data, "iloc"):  # pandas DataFrame
        import pandas as pd

        h.update("\x1f".join(map(str, data.columns)).encode())
        h.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
        return h.hexdigest()
    arr = np.asarray(data)
    h.update(repr(arr.shape).encode())
    if arr.ndim == 1:
        h.update(_hash_values(arr).encode())
    else:
        for j in range(arr.shape[1] if arr.ndim == 2 else 1):
            h.update(_hash_values(arr[:, j] if arr.ndim == 2 else arr.ravel()).encode())
    return h.hexdigest()
