"""Baselines: records of approved runs and the stores that keep them.

``RecordBuilder`` collects what a run leaves (model identity, per-row predictions with the
fingerprint of the evaluation data, metric values with their configuration, latency samples,
drift references) and saves it to a store; ``load_record`` reads one back, verified.
"""

from mlqa.baseline.errors import (
    BaselineError,
    CorruptRecord,
    RecordNotFound,
    StoreError,
    UnsafeModelFormat,
)
from mlqa.baseline.fingerprint import DataFingerprint, fingerprint
from mlqa.baseline.records import (
    APPROVED,
    LATEST,
    BaselineRecord,
    LatencySamples,
    PredictionSet,
    RecordBuilder,
    load_record,
    record_ids,
    set_alias,
)
from mlqa.baseline.stores import HttpStore, LocalStore, Store, open_store

__all__ = [
    "APPROVED", "LATEST", "BaselineError", "BaselineRecord", "CorruptRecord", "DataFingerprint",
    "HttpStore", "LatencySamples", "LocalStore", "PredictionSet", "RecordBuilder",
    "RecordNotFound", "Store", "StoreError", "UnsafeModelFormat", "fingerprint", "load_record",
    "open_store", "record_ids", "set_alias",
]
