"""Baseline records: what a passed run leaves for the next one to be compared against.

A record is ``records/<id>/record.json`` plus side files beside it (per-row predictions as
compressed ``.npz``, latency samples, drift reference frames as Parquet, the model file). The
JSON carries the sha256 of every side file and of its own canonical form, so a truncated,
corrupted or half-written record is refused on read instead of being compared against.

Write order makes a record appear whole: side files first, then ``record.json`` (each an atomic
``put``), then the index and the aliases (``latest``, ``approved``) that point at it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import gzip
import hashlib
import io
import json
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from mlqa import provenance
from mlqa._plain import to_plain
from mlqa._validation import as_1d, check_consistent_length
from mlqa.baseline.errors import BaselineError, CorruptRecord, RecordNotFound
from mlqa.baseline.fingerprint import DataFingerprint, fingerprint
from mlqa.baseline.identity import BaselineIdentity
from mlqa.baseline.stores import Store, open_store
from mlqa.errors import InputError

# Every document mlqa writes carries an integer "schema"; a reader refuses a newer one with an
# upgrade hint instead of misreading it. 2: latency entries may hold whole runs (gzipped JSON)
# and drift references ReferenceProfiles, which schema-1 readers would call corrupt.
SCHEMA = 2
RECORD_FILE = "record.json"
INDEX_FILE = "index.json"
APPROVED, LATEST = "approved", "latest"
_ID = re.compile(r"^\d{8}T\d{6}\d{6}Z-[0-9a-f]{10}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def canonical(doc: Mapping[str, Any]) -> bytes:
    """The bytes a checksum is taken over: sorted keys, no spaces, no NaN."""
    return json.dumps(to_plain(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sealed(doc: dict[str, Any]) -> bytes:
    """``doc`` with its own checksum added, as the (indented, readable) file content."""
    body = {k: v for k, v in doc.items() if k != "sha256"}
    return json.dumps({**to_plain(body), "sha256": sha256(canonical(body))}, sort_keys=True,
                      indent=1, ensure_ascii=True, allow_nan=False).encode("ascii") + b"\n"


def _unsealed(data: bytes, what: str) -> dict[str, Any]:
    """Parse and verify a sealed JSON document; clear errors for each way it can be wrong."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = getattr(exc, "msg", type(exc).__name__)
        raise CorruptRecord(f"{what} is not valid JSON ({reason}, {len(data)} bytes): truncated "
                            f"or corrupt") from None
    if not isinstance(doc, dict) or "schema" not in doc:
        raise CorruptRecord(f"{what} is not an mlqa baseline document")
    schema = doc.get("schema")
    if not isinstance(schema, int) or schema > SCHEMA:
        raise BaselineError(f"{what} has schema {schema!r}, newer than this mlqa reads "
                            f"({SCHEMA}); upgrade mlqa to use it")
    stated = doc.pop("sha256", None)
    if stated is None:
        raise CorruptRecord(f"{what} has no sha256 checksum")
    try:  # parsed JSON is plain already: canonical() without its to_plain walk (10x faster)
        actual = sha256(json.dumps(doc, sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=True, allow_nan=False).encode("ascii"))
    except ValueError:  # a NaN or Infinity literal: never written by mlqa
        raise CorruptRecord(f"{what} holds a non-finite number: modified or corrupt") from None
    if actual != stated:
        raise CorruptRecord(f"{what} failed its sha256 check (stated {stated[:12]}…, content "
                            f"{actual[:12]}…): modified or corrupt")
    return doc


def _check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(f"{kind} name must be 1-100 letters, digits, '.', '_' or '-' "
                         f"(starting with a letter or digit), got {name!r}")
    return name


# -- what a record holds ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class PredictionSet:
    """A model's per-row predictions on one evaluation set, with what a fair comparison needs:
    the fingerprint of the rows and labels, and the metric values recorded with their
    configuration. Pass it as ``baseline_pred`` to ``check_regression`` and the comparability
    guards run before anything is compared."""

    name: str
    y_true: np.ndarray
    y_pred: np.ndarray
    fingerprint: DataFingerprint
    metrics: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    source: BaselineIdentity | None = None

    @property
    def record_id(self) -> str | None:
        """The id of the record these predictions were read from (None when built by hand)."""
        return None if self.source is None else self.source.record

    def __len__(self) -> int:
        return len(self.y_pred)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.y_pred if dtype is None else self.y_pred.astype(dtype)


@dataclasses.dataclass(frozen=True, eq=False)
class LatencySamples:
    """Bare per-query latencies (ms) saved with ``add_latency(name, samples_ms)``: one run at
    one batch size (``info["batch_size"]``, else 1). Prefer saving a report or runs."""

    name: str
    samples_ms: np.ndarray
    environment: Mapping[str, Any]
    info: Mapping[str, Any]
    source: BaselineIdentity | None = None

    def as_latency_runs(self) -> Any:
        """One run, as ``check_latency_regression`` takes it (a single stored run is refused
        as a gate there: it cannot show run-to-run variance)."""
        from mlqa.latency.report import LatencyReport, LatencyResult, LatencyRuns

        batch = self.info.get("batch_size", self.info.get("batch", 1))
        result = LatencyResult(int(batch), np.round(self.samples_ms * 1e6))
        return LatencyRuns((LatencyReport({int(batch): result}, dict(self.environment),
                                          model=self.name),), source=self.source)


def metric_config(metric: Any) -> dict[str, Any]:
    """What identifies a metric's computation: name, fixed arguments, input kind, direction."""
    from mlqa.metrics.registry import resolve_metric

    m = resolve_metric(metric) if not hasattr(metric, "kwargs") else metric
    return {"name": m.name, "kwargs": to_plain(dict(m.kwargs)), "input": m.input,
            "greater_is_better": bool(m.greater_is_better)}


# -- writing ------------------------------------------------------------------------------------


class RecordBuilder:
    """Collects what a run leaves behind, then ``save(store)`` writes it as one record."""

    def __init__(self, *, model_name: str | None = None, model_version: str | None = None):
        self.model: dict[str, Any] = {"name": model_name, "version": model_version}
        self._model_file: tuple[str, bytes] | None = None
        self.evaluations: dict[str, dict[str, Any]] = {}
        self.latency: dict[str, dict[str, Any]] = {}
        self.drift_references: dict[str, dict[str, Any]] = {}
        self._files: dict[str, bytes] = {}

    def __bool__(self) -> bool:
        return bool(self.evaluations or self.latency or self.drift_references
                    or self.model.get("sha256"))

    def set_model(self, model: Any = None, *, name: str | None = None,
                  version: str | None = None, path: str | os.PathLike[str] | None = None,
                  format: str | None = None, store_file: bool = True) -> None:  # noqa: A002
        """Identify the model (name, version, content hash). ``model`` is serialised in a format
        that loads without running code (skops for scikit-learn, safetensors for a torch
        state dict); ``path`` takes an existing file (its format is read from its content)."""
        from mlqa.baseline import models

        if name is not None:
            self.model["name"] = name
        if version is not None:
            self.model["version"] = version
        if model is None and path is None:
            return
        data, fmt, filename = models.serialize(model, path=path, format=format)
        self.model.update(sha256=sha256(data), format=fmt, bytes=len(data))
        self._model_file = (f"model/{filename}", data) if store_file else None

    def add_predictions(self, name: str, y_true: Any, y_pred: Any, *, data: Any = None,
                        metrics: Sequence[Any] = ("accuracy",)) -> PredictionSet:
        """Per-row predictions on an evaluation set, its fingerprint (labels, and features when
        ``data`` is given) and the value of each metric with its configuration."""
        from mlqa.metrics.registry import resolve_metric

        _check_name("evaluation", name)
        y_true_arr = _storable(as_1d("y_true", y_true))
        y_pred_arr = _storable(as_1d("y_pred", y_pred, allow_2d=True))
        check_consistent_length(y_true=y_true_arr, y_pred=y_pred_arr)
        recorded: dict[str, dict[str, Any]] = {}
        for metric in metrics:
            resolved = resolve_metric(metric)
            try:
                value = resolved(y_true_arr, y_pred_arr)
            except (ValueError, TypeError) as exc:
                raise InputError(f"evaluation {name!r}: metric {resolved.name!r} could not be "
                                 f"computed on these predictions: {exc}") from None
            recorded[resolved.name] = {"value": value, "config": metric_config(resolved)}
        fp = fingerprint(y_true_arr, data)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, y_true=y_true_arr, y_pred=y_pred_arr)
        file = f"predictions/{name}.npz"
        self._files[file] = buffer.getvalue()
        self.evaluations[name] = {"fingerprint": fp.to_dict(), "metrics": recorded,
                                  "file": file, "n": len(y_true_arr)}
        return PredictionSet(name, y_true_arr, y_pred_arr, fp, MappingProxyType(recorded))

    def add_latency(self, name: str, samples_ms: Any, *,
                    environment: Mapping[str, Any] | None = None, **info: Any) -> None:
        """Latency results with the environment they were measured in.

        ``samples_ms`` is what ``measure_latency`` returned (a ``LatencyReport``: one run),
        ``LatencyRuns`` from ``measure_latency_runs`` or a list of reports (several runs: what a
        stored latency gate needs), or bare per-query milliseconds (one run, with
        ``environment`` and ``batch_size=`` given here). Reports are kept whole (every batch
        size, samples, preemption flags, environment), gzipped JSON under ``latency/``.
        """
        _check_name("latency", name)
        runs = _latency_runs(samples_ms)
        if runs is not None:
            if environment is not None or info:
                raise InputError("add_latency: a report carries its own environment; pass "
                                 "environment= and other details only with bare samples")
            data = gzip.compress(json.dumps(runs.to_dict(), allow_nan=False,
                                            separators=(",", ":")).encode("ascii"), mtime=0)
            file = f"latency/{name}.json.gz"
            self._files[file] = data
            self.latency[name] = {"file": file, "kind": "runs", "runs": len(runs),
                                  "batch_sizes": list(runs.batch_sizes),
                                  "environment": to_plain(dict(runs.environment)),
                                  "n": [sum(r[bs].n for bs in r.batch_sizes) for r in runs]}
            return
        samples = as_1d("samples_ms", samples_ms).astype(float)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, samples_ms=samples)
        file = f"latency/{name}.npz"
        self._files[file] = buffer.getvalue()
        self.latency[name] = {"file": file, "kind": "samples", "n": len(samples),
                              "environment": to_plain(dict(environment or {})),
                              "info": to_plain(info)}

    def add_drift_reference(self, name: str, frame: Any) -> None:
        """A drift reference: a ``ReferenceProfile`` (``mlqa.drift.profile(reference)``: the
        summaries ``check_drift`` needs, saved with the drift family's own format), or the
        reference data frame itself, stored as Parquet."""
        import pandas as pd

        _check_name("drift reference", name)
        if _is_profile(frame):
            data = _profile_bytes(frame)
            file = f"drift/{name}.profile.npz"
            self._files[file] = data
            self.drift_references[name] = {"file": file, "kind": "profile",
                                           "rows": int(frame.n_rows),
                                           "columns": [str(c) for c in frame.columns]}
            return
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"drift reference {name!r} must be a ReferenceProfile "
                             f"(mlqa.drift.profile) or a pandas DataFrame, got "
                             f"{type(frame).__name__}")
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        file = f"drift/{name}.parquet"
        self._files[file] = buffer.getvalue()
        self.drift_references[name] = {"file": file, "kind": "frame", "rows": len(frame),
                                       "columns": [str(c) for c in frame.columns]}

    def merge(self, record: BaselineRecord) -> None:
        """Take over everything ``record`` holds (parts written by pytest-xdist workers)."""
        for key, value in record.model.items():
            if value is not None and self.model.get(key) is None:
                self.model[key] = value
        if record.model.get("file") and self._model_file is None:
            self._model_file = (record.model["file"], record.file(record.model["file"]))
        for section in ("evaluations", "latency", "drift_references"):
            mine = getattr(self, section)
            for name, entry in record.doc.get(section, {}).items():
                if name in mine:
                    raise BaselineError(f"two parts of this run recorded {section} {name!r}")
                mine[name] = dict(entry)
                self._files[entry["file"]] = record.file(entry["file"])

    def save(self, store: Store | str | os.PathLike[str] | None = None, *,
             aliases: Iterable[str] = (LATEST,)) -> str:
        """Write the record (side files, then the record, then the aliases); returns its id."""
        store = open_store(store)
        files = dict(self._files)
        model = dict(self.model)
        if self._model_file is not None:
            files[self._model_file[0]] = self._model_file[1]
            model["file"] = self._model_file[0]
        now = _dt.datetime.now(_dt.timezone.utc)
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "created": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "model": model,
            "evaluations": self.evaluations,
            "latency": self.latency,
            "drift_references": self.drift_references,
            "provenance": provenance.capture(),
            "files": {rel: {"sha256": sha256(data), "bytes": len(data)}
                      for rel, data in sorted(files.items())},
        }
        record_id = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{sha256(canonical(doc))[:10]}"
        doc["id"] = record_id
        _check_index_settings(store)  # before the first write: a bad setting writes nothing
        for rel, data in files.items():
            store.put(f"records/{record_id}/{rel}", data)
        store.put(f"records/{record_id}/{RECORD_FILE}", _sealed(doc))
        _add_to_index(store, record_id)
        for alias in aliases:
            set_alias(store, alias, record_id)
        return record_id


def _latency_runs(value: Any) -> Any:
    """``value`` as LatencyRuns when it is a report, runs or a list of reports, else None.
    The latency module is imported only when a report can be there (it is already loaded)."""
    import sys

    report = sys.modules.get("mlqa.latency.report")
    if report is None:
        return None
    if isinstance(value, report.LatencyRuns):
        return value
    if isinstance(value, report.LatencyReport):
        return report.LatencyRuns((value,))
    if isinstance(value, list | tuple) and value and \
            all(isinstance(v, report.LatencyReport) for v in value):
        return report.LatencyRuns(tuple(value))
    return None


def _is_profile(value: Any) -> bool:
    import sys

    module = sys.modules.get("mlqa.drift.profile")  # not loaded: value cannot be a profile
    return module is not None and isinstance(value, module.ReferenceProfile)


def _profile_bytes(profile: Any) -> bytes:
    """The drift family's own file format for a profile, as bytes (it writes to a path)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mlqa-profile-") as folder:
        path = os.path.join(folder, "profile.npz")
        profile.save(path)
        with open(path, "rb") as fh:
            return fh.read()


def _storable(arr: np.ndarray) -> np.ndarray:
    """Arrays ``np.load(allow_pickle=False)`` can read back: object labels become strings."""
    if arr.dtype.kind == "O":
        return arr.astype(str)
    return arr


# -- reading ------------------------------------------------------------------------------------


def _identity(doc: Mapping[str, Any], alias: Mapping[str, Any] | None) -> BaselineIdentity:
    """The record as comparisons name it: its id and model, and, when it was read through an
    alias, who promoted it there, when and why (the alias file keeps them)."""
    model = doc.get("model") or {}
    said = alias or {}

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    return BaselineIdentity(record=str(doc["id"]), alias=text(said.get("alias")),
                            model=text(model.get("name")),
                            model_version=text(model.get("version")),
                            promoted_by=text(said.get("by")), promoted_at=text(said.get("updated")),
                            reason=text(said.get("reason")))


class BaselineRecord:
    """A record read from a store, its checksum verified. Side files are fetched on first use
    and verified against the sha256 the record states for them."""

    def __init__(self, doc: dict[str, Any], store: Store, *,
                 alias: Mapping[str, Any] | None = None):
        self.doc = doc
        self.store = store
        self._cache: dict[str, bytes] = {}
        self.identity = _identity(doc, alias)

    id = property(lambda self: self.doc["id"])
    created = property(lambda self: self.doc.get("created"))
    model = property(lambda self: dict(self.doc.get("model", {})))
    provenance = property(lambda self: dict(self.doc.get("provenance", {})))

    def __repr__(self) -> str:
        return f"BaselineRecord({self.id!r}, store={self.store!r})"

    def file(self, rel: str) -> bytes:
        if rel in self._cache:
            return self._cache[rel]
        stated = self.doc.get("files", {}).get(rel)
        if stated is None:
            raise CorruptRecord(f"record {self.id} lists no file {rel!r}")
        data = self.store.get(f"records/{self.id}/{rel}")
        if len(data) != stated["bytes"] or sha256(data) != stated["sha256"]:
            raise CorruptRecord(f"record {self.id}: {rel} failed its sha256 check "
                                f"({len(data)} of {stated['bytes']} bytes): truncated or corrupt")
        self._cache[rel] = data
        return data

    def _entry(self, section: str, name: str) -> dict[str, Any]:
        entries = self.doc.get(section, {})
        if name not in entries:
            have = ", ".join(sorted(entries)) or "none"
            raise RecordNotFound(f"baseline record {self.id} has no {section} entry {name!r} "
                                 f"(it has: {have})")
        return entries[name]

    def _arrays(self, rel: str) -> dict[str, np.ndarray]:
        try:
            with np.load(io.BytesIO(self.file(rel)), allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        except (ValueError, OSError) as exc:
            raise CorruptRecord(f"record {self.id}: {rel} cannot be read: {exc}") from None

    @property
    def evaluations(self) -> list[str]:
        return sorted(self.doc.get("evaluations", {}))

    def predictions(self, name: str) -> PredictionSet:
        entry = self._entry("evaluations", name)
        arrays = self._arrays(entry["file"])
        return PredictionSet(name, arrays["y_true"], arrays["y_pred"],
                             DataFingerprint.from_dict(entry["fingerprint"]),
                             MappingProxyType(dict(entry.get("metrics", {}))), self.identity)

    def metric(self, evaluation: str, metric: str) -> float:
        recorded = self._entry("evaluations", evaluation).get("metrics", {})
        if metric not in recorded:
            raise RecordNotFound(f"baseline record {self.id}: evaluation {evaluation!r} has no "
                                 f"metric {metric!r} (it has: {', '.join(sorted(recorded))})")
        return float(recorded[metric]["value"])

    def latency(self, name: str) -> Any:
        """The stored latency ``name``: ``LatencyRuns`` (pass it as ``baseline`` to
        ``check_latency_regression``) for reports and runs, ``LatencySamples`` for bare
        samples (which the check also takes)."""
        entry = self._entry("latency", name)
        if entry.get("kind") == "runs":
            from mlqa.latency.report import LatencyRuns

            try:
                doc = json.loads(gzip.decompress(self.file(entry["file"])))
                return dataclasses.replace(LatencyRuns.from_dict(doc), source=self.identity)
            except (OSError, ValueError, EOFError) as exc:
                raise CorruptRecord(f"record {self.id}: {entry['file']} cannot be read: "
                                    f"{exc}") from None
        return LatencySamples(name, self._arrays(entry["file"])["samples_ms"],
                              MappingProxyType(entry.get("environment", {})),
                              MappingProxyType(entry.get("info", {})), self.identity)

    def drift_reference(self, name: str) -> Any:
        """The stored drift reference: a ``ReferenceProfile`` or a data frame, as saved;
        either is what ``check_drift`` takes as its reference."""
        import pandas as pd

        entry = self._entry("drift_references", name)
        data = self.file(entry["file"])
        if entry.get("kind") == "profile":
            import tempfile

            from mlqa.drift import load_profile

            with tempfile.TemporaryDirectory(prefix="mlqa-profile-") as folder:
                path = os.path.join(folder, "profile.npz")
                with open(path, "wb") as fh:
                    fh.write(data)
                return load_profile(path)
        return pd.read_parquet(io.BytesIO(data))

    def load_model(self, *, trust: bool = False) -> Any:
        """The stored model, loaded only from formats that cannot run code on load (skops,
        safetensors, TorchScript, ONNX) unless ``trust=True``."""
        from mlqa.baseline import models

        rel = self.model.get("file")
        if not rel:
            raise RecordNotFound(f"baseline record {self.id} holds no model file")
        return models.load(self.file(rel), name=rel, trust=trust)


def record_key(record_id: str) -> str:
    return f"records/{record_id}/{RECORD_FILE}"


def _alias_key(alias: str) -> str:
    return f"aliases/{_check_name('alias', alias)}.json"


def resolve(store: Store, ref: str) -> str:
    """The record id ``ref`` names: an id as it is, otherwise an alias."""
    return ref if _ID.match(ref) else str(_alias(store, ref)["record"])


def _alias(store: Store, ref: str) -> dict[str, Any]:
    return _read_shared(store, _alias_key(ref), f"alias {ref!r} in {store.location}")


def load_record(store: Store | str | os.PathLike[str] | None = None,
                ref: str = APPROVED) -> BaselineRecord:
    """Read and verify the record ``ref`` (an id or an alias, default ``approved``)."""
    store = open_store(store)
    try:
        alias = None if _ID.match(ref) else _alias(store, ref)
    except RecordNotFound:
        raise RecordNotFound(f"no baseline {ref!r} in {store.location}: record one with "
                             f"--mlqa-save-baseline, then 'mlqa baseline promote'") from None
    record_id = ref if alias is None else str(alias["record"])
    doc = _unsealed(store.get(record_key(record_id)), f"record {record_id}")
    if doc.get("id") != record_id:
        raise CorruptRecord(f"record {record_id} names itself {doc.get('id')!r}")
    _check_files(record_id, doc.get("files", {}))
    return BaselineRecord(doc, store, alias=alias)


def _check_files(record_id: str, files: Any) -> None:
    """Every side file the record lists states its size and sha256 (what ``file`` verifies
    against): a record sealed without them is refused by name, not a KeyError later."""
    if not isinstance(files, dict):
        raise CorruptRecord(f"record {record_id}: 'files' is {type(files).__name__}, not a "
                            f"mapping of side files")
    for rel, stated in files.items():
        if not isinstance(stated, dict):
            raise CorruptRecord(f"record {record_id}: files entry {rel!r} is not a mapping")
        for field, kind in (("bytes", int), ("sha256", str)):
            if type(stated.get(field)) is not kind:
                got = "missing" if field not in stated else f"{stated[field]!r}"
                raise CorruptRecord(f"record {record_id}: files entry {rel!r} field "
                                    f"{field!r} is {got}, must be {kind.__name__}")


def set_alias(store: Store | str | os.PathLike[str] | None, alias: str, ref: str, *,
              by: str | None = None, reason: str | None = None) -> str:
    """Point ``alias`` at the record ``ref`` names (verified first); returns the record id."""
    store = open_store(store)
    record = load_record(store, ref)
    doc = {"schema": SCHEMA, "alias": alias, "record": record.id,
           "record_sha256": sha256(canonical(record.doc)),
           "updated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
           "by": by, "reason": reason}
    # Any whole alias read back will do: a later writer's 'latest' wins, as it should.
    _put_shared(store, _alias_key(alias), lambda current: doc, lambda found: True)
    return record.id


def aliases(store: Store, names: Iterable[str] = (APPROVED, LATEST)) -> dict[str, str]:
    """alias -> record id for the aliases that exist."""
    found = {}
    for name in names:
        try:
            found[name] = resolve(store, name)
        except RecordNotFound:
            continue
    return found


def record_ids(store: Store) -> list[str]:
    """All record ids, oldest first."""
    return listing(store)[0]


def listing(store: Store) -> tuple[list[str], list[int]]:
    """(record ids oldest first, late index slots). A store that lists folders (a local
    folder, a WebDAV server) lists the records themselves; any other keeps the journal of
    :mod:`mlqa.baseline.journal`, whose late slots may have lost a concurrent entry."""
    children = getattr(store, "children", None)
    if children is not None:
        return sorted(i for i in children("records") if _ID.match(i)), []
    from mlqa.baseline import journal

    return journal.read(store)


def _check_index_settings(store: Store) -> None:
    if getattr(store, "children", None) is None:
        from mlqa.baseline import journal

        journal.settle_of(store)


def _add_to_index(store: Store, record_id: str) -> None:
    """Stores that cannot list folders (plain HTTP repositories) keep a journal of the records
    (:mod:`mlqa.baseline.journal`). Records never depend on it; it serves ``list``."""
    if getattr(store, "children", None) is not None:
        return
    from mlqa.baseline import journal

    journal.append(store, record_id)


# Aliases are the only keys several writers overwrite. A WebDAV server writes a PUT
# into the file in place, so two concurrent PUTs can interleave into a torn file (measured
# against wsgidav). Writers therefore read back what they wrote and write again until a whole
# document that satisfies them is there; readers retry a torn read briefly before calling the
# document corrupt. Record files have unique keys and are never shared.
_SHARED_ATTEMPTS = 8


def _read_shared(store: Store, key: str, what: str) -> dict[str, Any]:
    for attempt in range(_SHARED_ATTEMPTS):
        try:
            return _unsealed(store.get(key), what)
        except CorruptRecord:
            if attempt == _SHARED_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * 2 ** attempt * (1 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover


def _put_shared(store: Store, key: str, build: Callable[[dict[str, Any] | None], dict],
                accept: Callable[[dict[str, Any]], bool]) -> None:
    for attempt in range(_SHARED_ATTEMPTS):
        try:
            current: dict[str, Any] | None = _unsealed(store.get(key), key)
        except (RecordNotFound, CorruptRecord):
            current = None
        if current is not None and attempt and accept(current):
            return
        store.put(key, _sealed(build(current)))
        time.sleep(0.01 * (1 + random.random()))  # let a concurrent PUT finish, then verify
        try:
            found = _unsealed(store.get(key), key)
        except CorruptRecord:
            continue
        if accept(found):
            return
    raise BaselineError(f"could not write {key} to {store.location}: concurrent writers kept "
                        f"tearing it after {_SHARED_ATTEMPTS} attempts")
