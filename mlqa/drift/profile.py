"""Reference profiles: the reference side prepared once (sorted values, category counts,
column types) and reused across runs, in memory or from a file.

The file is a numpy ``.npz`` archive written and read without pickle, so loading one cannot
run code.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from mlqa.drift import columns as col
from mlqa.drift.tables import read_table
from mlqa.errors import InputError

FORMAT = "mlqa.drift.profile"
VERSION = 1


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
        """Write the profile to ``path`` (an ``.npz`` archive, no pickle)."""
        meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "n_rows": self.n_rows,
                                "columns": []}
        arrays: dict[str, np.ndarray] = {}
        for i, c in enumerate(self.columns.values()):
            entry: dict[str, Any] = {"name": c.name, "type": c.type, "family": c.family}
            s = c.sample
            if s is not None:
                entry.update(kind=s.kind, n_rows=s.n_rows, integer=s.integer, std=s.std)
                if s.values is not None:
                    arrays[f"values_{i}"] = s.values
                else:
                    arrays[f"categories_{i}"] = _saveable(c.name, s.categories)
                    arrays[f"counts_{i}"] = s.counts
            meta["columns"].append(entry)
        arrays["meta"] = np.array(json.dumps(meta))
        with open(path, "wb") as fh:  # np.savez would append ".npz" to a bare path
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReferenceProfile:
        """Read a profile written by ``save``."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                arrays = {k: z[k] for k in z.files if k != "meta"}
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{os.fspath(path)!r} is not a drift profile: {exc}") from None
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise InputError(f"{os.fspath(path)!r} is not a version-{VERSION} drift profile")
        profiles = {}
        for i, e in enumerate(meta["columns"]):
            sample = None
            if "kind" in e:
                sample = col.Sample(e["kind"], e["n_rows"], values=arrays.get(f"values_{i}"),
                                    categories=arrays.get(f"categories_{i}"),
                                    counts=arrays.get(f"counts_{i}"), integer=e["integer"],
                                    std=e.get("std"))
            profiles[e["name"]] = ColumnProfile(e["name"], e["type"], e["family"], sample)
        return cls(profiles, meta["n_rows"])


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
            column_names: Sequence[str] | None = None, n_jobs: int | None = None
            ) -> ReferenceProfile:
    """Prepare the reference side of ``check_drift`` once.

    Types are inferred from the reference (see ``mlqa.drift.columns.infer_type``) unless
    ``column_types`` names them: ``numerical``, ``categorical``, ``binary``, or ``text``/
    ``id``/``datetime`` to leave a column out. Columns are prepared on ``n_jobs`` threads
    (None: one per core).
    """
    table = read_table("reference", reference, columns=columns, column_names=column_names)
    types = validated_types(column_types, table)
    prepared = col.map_columns(lambda n: profile_column(n, table[n], types.get(n)), table,
                               n_jobs)
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
    counted = col.categorical_sample(name, series) if col.is_text_like(series) else None
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
