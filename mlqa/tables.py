"""``data=``: one meaning in every family.

``data=`` is the table the named columns are read from — a pandas DataFrame, a pyarrow Table,
a DuckDB relation, a Spark DataFrame or a Parquet path/glob/folder — and the check's column
arguments (``y_true``, ``y_pred``, ``candidate_pred``...) name columns of it. A model's inputs
are ``X=``. Which backend reads the table is decided by one function,
:func:`mlqa.engines.backend`; an in-memory table is read here, into the arrays the in-memory
check takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlqa.errors import InputError


def memory_columns(data: Any, named: Mapping[str, Any]) -> dict[str, Any]:
    """``named`` (argument -> value) with every string value replaced by that column of the
    in-memory table ``data`` (the other values are kept: an array or a stored baseline)."""
    from mlqa.quality.frames import as_frame, columns_hint

    frame = as_frame("data", data)
    out = dict(named)
    for arg, column in named.items():
        if isinstance(column, str):
            if column not in frame.columns:
                raise InputError(f"{arg}={column!r} is not a column of data= "
                                 f"({columns_hint(frame, column)})")
            out[arg] = frame[column]
    return out


def names_columns(*values: Any) -> bool:
    """Whether the column arguments name columns (strings) rather than carry arrays."""
    return any(isinstance(v, str) for v in values)
