"""Reading a data-quality input into a pandas DataFrame.

Accepted: DataFrames, 2-D numpy arrays (columns ``"0"``, ``"1"``...), pyarrow Tables, and paths
of Parquet or CSV files (chosen by the extension). Column names are kept as strings; names that
collide once made strings are refused rather than one of them silently dropped.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from mlqa._optional import PARQUET_EXTRA, require
from mlqa.errors import InputError

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")


def as_frame(name: str, data: Any) -> pd.DataFrame:
    """``data`` as a DataFrame with string column names; ``name`` is the argument's name."""
    if data is None:
        raise InputError(f"{name} is required, got None")
    if isinstance(data, str | os.PathLike):
        data = read_path(name, os.fspath(data))
    elif type(data).__module__.startswith("pyarrow"):
        if not hasattr(data, "to_pandas"):
            raise InputError(f"{name}: a pyarrow object must be a Table, "
                             f"got {type(data).__name__}")
        data = data.to_pandas()
    elif isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise InputError(f"{name} must be 2-D (rows x columns), got shape {data.shape}")
        data = pd.DataFrame(data, columns=[str(i) for i in range(data.shape[1])])
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{name} must be a pandas DataFrame, a 2-D numpy array, a pyarrow "
                         f"Table or a CSV/Parquet path, got {type(data).__name__}")
    names = [str(c) for c in data.columns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"{name} has column names that collide as text: {dup}")
    if len(data.columns) == 0:
        raise InputError(f"{name} has no columns")
    if names != list(data.columns):
        data = data.set_axis(names, axis=1)
    return data


def file_format(path: str, format: str | None = None) -> str | None:  # noqa: A002
    """``csv`` or ``parquet``: ``format`` when given, else the extension's (None: neither)."""
    if format is not None:
        return format
    lower = path.lower()
    if lower.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return "csv" if lower.endswith(CSV_SUFFIXES) else None


def read_path(name: str, path: str, format: str | None = None) -> pd.DataFrame:  # noqa: A002
    """A CSV or Parquet file (by ``format``, else by extension) as a DataFrame; a problem
    names the file."""
    lower = path.lower()
    if not os.path.exists(path):
        raise InputError(f"{name}: no such file: {path!r}")
    kind = file_format(path, format)
    if kind == "parquet":
        require("pyarrow", PARQUET_EXTRA, f"{name}: reading {path!r}")
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        if kind == "csv":
            return pd.read_csv(path, sep="\t" if lower.endswith(".tsv") else ",")
    except Exception as exc:  # noqa: BLE001 - pandas/pyarrow raise many types for bad files
        raise InputError(f"{name}: {path!r} could not be read: {exc}") from None
    raise InputError(f"{name}: {path!r} is neither CSV ({', '.join(CSV_SUFFIXES)}) nor Parquet "
                     f"({', '.join(PARQUET_SUFFIXES)})")


def columns_hint(frame: pd.DataFrame, wanted: str) -> str:
    """What an error message may say of a frame's columns when ``wanted`` is not one: how
    many there are, and the one close to ``wanted`` (a misspelling). Never the list: a file
    that was not the table it was declared to be (an environment read as CSV) has content
    for a header, and a message names a file, never echoes it."""
    from mlqa._text import did_you_mean

    n = len(frame.columns)
    return f"{n} column{'s' * (n != 1)}{did_you_mean(wanted, frame.columns)}"


def select(name: str, frame: pd.DataFrame, columns: Any) -> list[str]:
    """The columns to look at: all when ``columns`` is None; else they must exist."""
    if columns is None:
        return list(frame.columns)
    if isinstance(columns, str):
        columns = [columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{name} lacks the columns {missing} asked for in columns=")
    return list(columns)


def kind_of(series: pd.Series) -> str:
    """What a column holds, for the schema: ``number``, ``bool``, ``string``, ``datetime``,
    ``category`` or ``other``. Integers and floats are both ``number``: an integer column
    becomes float as soon as it holds a missing value, which is the missing rule's business."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred in ("string", "empty"):
            return "string"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "number"
        if inferred == "boolean":
            return "bool"
        return "other"
    return "other"


KINDS = ("number", "bool", "string", "datetime", "category", "other")
