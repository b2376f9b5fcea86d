"""Reading the two sides of a drift check into named 1-D columns.

Accepted: pandas DataFrames, numpy 2-D arrays (columns named ``"0"``, ``"1"``, ... unless
``column_names`` is given), pyarrow Tables and Parquet file paths. Nothing is copied that need
not be: a float64 DataFrame column is a view of its block.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlqa._optional import PARQUET_EXTRA, require
from mlqa.errors import InputError

Table = Mapping[str, pd.Series]


def read_table(name: str, data: Any, *, columns: Sequence[str] | None = None,
               column_names: Sequence[str] | None = None) -> dict[str, pd.Series]:
    """``data`` as ``{column: Series}``; ``columns`` selects (and must exist)."""
    if data is None:
        raise InputError(f"{name} is required, got None")
    if isinstance(data, str | os.PathLike):
        data = _read_parquet(name, data, columns)
    elif type(data).__module__.startswith("pyarrow"):
        data = _from_arrow(name, data, columns)
    if isinstance(data, np.ndarray):
        data = _from_array(name, data, column_names)
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{name} must be a pandas DataFrame, a 2-D numpy array, a pyarrow "
                         f"Table or a Parquet file path, got {type(data).__name__}")
    if data.columns.has_duplicates:
        dup = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
        raise InputError(f"{name} has duplicate column names: {dup}")
    if len(data) == 0 or len(data.columns) == 0:
        raise InputError(f"{name} is empty (shape {data.shape})")
    _check_names_stay_distinct(name, list(data.columns))
    table = {str(c): data[c] for c in data.columns}
    if columns is None:
        return table
    missing = [c for c in columns if c not in table]
    if missing:
        raise InputError(f"{name} lacks the columns {missing} asked for in columns=")
    return {c: table[c] for c in columns}


def _check_names_stay_distinct(name: str, labels: Sequence[Any]) -> None:
    """Columns are keyed by ``str(label)``: two labels with one text (``1`` and ``"1"``) would
    make one column shadow the other, and a drifted column would go untested."""
    seen: dict[str, Any] = {}
    for label in labels:
        key = str(label)
        if key in seen:
            raise InputError(f"{name} has columns {seen[key]!r} and {label!r} whose names are "
                             f"the same text {key!r}; rename one of them")
        seen[key] = label


def check_same_columns(reference: Sequence[str], current: Sequence[str]) -> None:
    """Without ``columns=``, both sides must hold the same columns; name those that differ."""
    missing = [c for c in reference if c not in set(current)]
    extra = [c for c in current if c not in set(reference)]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing from current: {missing}")
        if extra:
            parts.append(f"not in reference: {extra}")
        raise InputError("reference and current have different columns (" + "; ".join(parts)
                         + "); pass columns= to compare a subset")


def _from_array(name: str, data: np.ndarray, column_names: Sequence[str] | None
                ) -> pd.DataFrame:
    if data.ndim != 2:
        raise InputError(f"{name} must be 2-D (rows x columns), got shape {data.shape}")
    if column_names is None:
        column_names = [str(i) for i in range(data.shape[1])]
    elif len(column_names) != data.shape[1]:
        raise InputError(f"column_names has {len(column_names)} names but {name} has "
                         f"{data.shape[1]} columns")
    # A Fortran-ordered copy makes every column contiguous (what the sorts want); a
    # C-ordered array's columns would be strided views.
    _check_names_stay_distinct("column_names", list(column_names))
    return pd.DataFrame(np.asfortranarray(data), columns=list(map(str, column_names)),
                        copy=False)


def _from_arrow(name: str, data: Any, columns: Sequence[str] | None) -> pd.DataFrame:
    if not hasattr(data, "to_pandas") or not hasattr(data, "column_names"):
        raise InputError(f"{name}: a pyarrow object must be a Table, "
                         f"got {type(data).__name__}")
    if columns is not None:
        missing = [c for c in columns if c not in data.column_names]
        if missing:
            raise InputError(f"{name} lacks the columns {missing} asked for in columns=")
        data = data.select(list(columns))
    return data.to_pandas()


def _read_parquet(name: str, path: str | os.PathLike[str], columns: Sequence[str] | None
                  ) -> pd.DataFrame:
    if not os.path.exists(path):
        raise InputError(f"{name}: no such Parquet file: {os.fspath(path)!r}")
    # only for path inputs: pyarrow costs ~100 MB to import, and is an extra
    pq = require("pyarrow.parquet", PARQUET_EXTRA, f"{name}: reading {os.fspath(path)!r}")
    try:
        schema_names = pq.read_schema(path).names
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
        raise InputError(f"{name}: {os.fspath(path)!r} is not a readable Parquet file: "
                         f"{exc}") from None
    if columns is not None:
        missing = [c for c in columns if c not in schema_names]
        if missing:
            raise InputError(f"{name} lacks the columns {missing} asked for in columns=")
    return pq.read_table(path, columns=None if columns is None else list(columns)).to_pandas()
