"""Reference profiles: the reference side prepared once (sorted values, category counts,
column types) and reused across runs, in memory or from a file.

The file is a numpy ``.npz`` archive written and read without pickle, so loading one cannot
run code. It is verified before use: its ``meta`` entry holds a schema (format, version,
rows, and per column its name, type, dtype family, and the dtype, shape and SHA-256 of each
array) and a SHA-256 of that schema; a truncated file, an edited type or a replaced value
array is an ``InputError`` naming the file, never a profile that silently compares
something else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from mlqa._validation import UNSET, renamed
from mlqa.drift import columns as col
from mlqa.drift.tables import read_table
from mlqa.errors import InputError

FORMAT = "mlqa.drift.profile"
# 2: the schema and checksums (version 1 had neither and is refused: profile again)
VERSION = 2


@dataclasses.dataclass(frozen=True)
class ColumnProfile:
    """One reference column: its type (``numerical``, ``categorical``, ``binary`` as given,
    or an excluded type), the dtype family the current side must match, and the prepared
    sample (None for excluded columns)."""

    name: str
    type: str
    family: str
    sample: col.Sample | None

    @property
    def kind(self) -> str:
        """The type as evidently sees it (binary columns are categorical)."""
        return col.CATEGORICAL if self.type == col.BINARY else self.type


@dataclasses.dataclass(frozen=True)
class ReferenceProfile:
    """The reference side of ``check_drift``, prepared. Pass it in place of the reference."""

    columns: Mapping[str, ColumnProfile]
    n_rows: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the profile to ``path`` (an ``.npz`` archive, no pickle), with its schema and
        checksums."""
        meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "n_rows": self.n_rows,
                                "columns": []}
        arrays: dict[str, np.ndarray] = {}
        for i, c in enumerate(self.columns.values()):
            entry: dict[str, Any] = {"name": c.name, "type": c.type, "family": c.family}
            s = c.sample
            if s is not None:
                entry.update(kind=s.kind, n_rows=s.n_rows, integer=s.integer, std=s.std)
                own: dict[str, np.ndarray]
                if s.values is not None:
                    own = {f"values_{i}": s.values}
                else:
                    categories, counts = s.category_counts()
                    own = {f"categories_{i}": _saveable(c.name, categories),
                           f"counts_{i}": counts}
                entry["arrays"] = {k: _describe(np.ascontiguousarray(a)) for k, a in own.items()}
                arrays.update(own)
            meta["columns"].append(entry)
        meta["checksum"] = _checksum(meta)
        arrays["meta"] = np.array(json.dumps(meta))
        with open(path, "wb") as fh:  # np.savez would append ".npz" to a bare path
            # numpy's stub types savez(..., allow_pickle: bool, **kwds): mypy cannot tell that
            # no key of ``arrays`` is "allow_pickle", so it checks the arrays against bool
            np.savez(fh, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReferenceProfile:
        """Read and verify a profile written by ``save``; InputError naming ``path`` when it
        is not one, is truncated, or was edited after it was written."""
        where = repr(os.fspath(path))
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                arrays = {k: z[k] for k in z.files if k != "meta"}
        except FileNotFoundError:
            raise InputError(f"drift profile {where}: no such file") from None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error,
                json.JSONDecodeError) as exc:
            raise InputError(f"drift profile {where} is unreadable (truncated, or not a "
                             f"drift profile): {type(exc).__name__}: {exc}") from None
        return cls._verified(where, meta, arrays)

    @classmethod
    def _verified(cls, where: str, meta: Any, arrays: dict[str, np.ndarray]
                  ) -> ReferenceProfile:
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise InputError(f"drift profile {where}: not an mlqa drift profile")
        if meta.get("version") != VERSION:
            raise InputError(f"drift profile {where}: version {meta.get('version')!r}, this "
                             f"mlqa reads version {VERSION} (with checksums); profile the "
                             f"reference again")
        if meta.get("checksum") != _checksum(meta):
            raise InputError(f"drift profile {where}: schema checksum mismatch (the file was "
                             f"edited or damaged after it was written)")
        n_rows, entries = meta.get("n_rows"), meta.get("columns")
        if not (isinstance(n_rows, int) and n_rows > 0 and isinstance(entries, list)):
            raise InputError(f"drift profile {where}: 'n_rows' and 'columns' are malformed")
        profiles = {}
        for i, e in enumerate(entries):
            column = _verified_column(where, i, e, arrays, n_rows)
            profiles[column.name] = column
        unused = sorted(set(arrays) - {k for e in entries for k in e.get("arrays", {})})
        if unused:
            raise InputError(f"drift profile {where}: arrays {unused} belong to no column")
        return cls(profiles, n_rows)


def _describe(array: np.ndarray) -> dict[str, Any]:
    return {"dtype": array.dtype.str, "shape": list(array.shape),
            "sha256": hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()}


def _checksum(meta: dict[str, Any]) -> str:
    body = {k: v for k, v in meta.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


_ENTRY_FIELDS: dict[str, type] = {"name": str, "type": str, "family": str}
_SAMPLE_FIELDS: dict[str, type] = {"kind": str, "n_rows": int, "integer": bool}


def _verified_column(where: str, i: int, e: Any, arrays: dict[str, np.ndarray],
                     n_rows: int) -> ColumnProfile:
    if not isinstance(e, dict):
        raise InputError(f"drift profile {where}: column entry {i} is not an object")
    label = f"drift profile {where}, column {e.get('name', i)!r}"
    for field, kind in _ENTRY_FIELDS.items():
        if not isinstance(e.get(field), kind):
            raise InputError(f"{label}: field {field!r} must be a {kind.__name__}")
    if e["type"] not in col.TYPES:
        raise InputError(f"{label}: unknown type {e['type']!r}")
    if e["type"] in col.EXCLUDED:
        return ColumnProfile(e["name"], e["type"], e["family"], None)
    for field, kind in _SAMPLE_FIELDS.items():
        if not isinstance(e.get(field), kind):
            raise InputError(f"{label}: field {field!r} must be a {kind.__name__}")
    expected_kind = col.CATEGORICAL if e["type"] == col.BINARY else e["type"]
    if e["kind"] != expected_kind:
        raise InputError(f"{label}: kind {e['kind']!r} does not fit type {e['type']!r}")
    std = e.get("std")
    if std is not None and not (isinstance(std, int | float) and np.isfinite(std)):
        raise InputError(f"{label}: field 'std' must be a finite number")
    names = ({f"values_{i}"} if expected_kind == col.NUMERICAL
             else {f"categories_{i}", f"counts_{i}"})
    described = e.get("arrays")
    if not isinstance(described, dict) or set(described) != names:
        raise InputError(f"{label}: arrays must be {sorted(names)}")
    for key in sorted(names):
        if key not in arrays:
            raise InputError(f"{label}: array {key!r} is missing from the file")
        if _describe(arrays[key]) != described[key]:
            raise InputError(f"{label}: array {key!r} does not match its checksum (the "
                             f"file was edited or damaged after it was written)")
    sample = col.Sample(e["kind"], e["n_rows"], values=arrays.get(f"values_{i}"),
                        categories=arrays.get(f"categories_{i}"),
                        counts=arrays.get(f"counts_{i}"), integer=e["integer"], std=std)
    if not 0 < sample.n_rows <= n_rows or sample.n > sample.n_rows:
        raise InputError(f"{label}: row counts are inconsistent ({sample.n} values, "
                         f"{sample.n_rows} rows, profile of {n_rows})")
    return ColumnProfile(e["name"], e["type"], e["family"], sample)


def _saveable(name: str, categories: np.ndarray) -> np.ndarray:
    if categories.dtype != object:
        return categories
    kinds = {type(v) for v in categories.tolist()}
    if kinds <= {str}:
        return categories.astype(str)
    if all(issubclass(k, int | float) and not issubclass(k, bool) for k in kinds):
        return categories.astype(float)
    raise InputError(f"column {name!r} mixes category types {sorted(k.__name__ for k in kinds)}"
                     f"; a profile file cannot hold them without pickle")


def profile(reference: Any, columns: Sequence[str] | None = None, *,
            column_types: Mapping[str, str] | None = None,
            column_names: Sequence[str] | None = None, n_threads: int | None = None,
            n_jobs: Any = UNSET) -> ReferenceProfile:
    """Prepare the reference side of ``check_drift`` once.

    Types are inferred from the reference (see ``mlqa.drift.columns.infer_type``) unless
    ``column_types`` names them: ``numerical``, ``categorical``, ``binary``, or ``text``/
    ``id``/``datetime`` to leave a column out. Columns are prepared on ``n_threads`` threads
    (None: one per core; ``n_jobs=`` is its deprecated name).
    """
    n_threads = renamed("n_jobs", n_jobs, "n_threads", n_threads, default=None, where="profile")
    table = read_table("reference", reference, columns=columns, column_names=column_names)
    types = validated_types(column_types, table)
    prepared = col.map_columns(lambda n: profile_column(n, table[n], types.get(n)), table,
                               n_threads)
    return ReferenceProfile({c.name: c for c in prepared}, len(next(iter(table.values()))))


def validated_types(column_types: Mapping[str, str] | None, names: Iterable[str]
                    ) -> dict[str, str]:
    column_types = dict(column_types or {})
    unknown = sorted(set(column_types) - set(names))
    if unknown:
        raise InputError(f"column_types names columns the reference lacks: {unknown}")
    bad = {c: t for c, t in column_types.items() if t not in col.TYPES}
    if bad:
        raise InputError(f"column_types: unknown types {bad}; use one of {list(col.TYPES)}")
    return column_types


def profile_column(name: str, series: pd.Series, given_type: str | None) -> ColumnProfile:
    """One reference column prepared: its type (given or inferred), family and sample."""
    # One hash pass over a text-like column serves its family, its type and its counts.
    counted = col.categorical_sample(name, series) \
        if col.is_text_like(series) and not col.is_vector_column(series) else None
    family = col.dtype_family(series, None if counted is None else counted.categories)
    type_ = given_type or col.infer_type(series, family, counted)
    sample = None
    if type_ not in col.EXCLUDED:
        kind = col.CATEGORICAL if type_ == col.BINARY else type_
        if kind == col.NUMERICAL and family not in ("number", "empty"):
            raise InputError(f"column {name!r} is given as numerical but holds "
                             f"{series.dtype} values")
        if kind == col.CATEGORICAL and counted is not None:
            sample = counted
        else:
            sample = col.prepare(name, series, kind).with_std()
    return ColumnProfile(name, type_, family, sample)
