"""Where the data lives: in memory, DuckDB (Parquet files, globs and folders; out of core) or
Apache Spark (pyspark DataFrames).

``check_drift``, ``check_metric`` and ``check_regression`` hand a DuckDB relation, a Spark
DataFrame or a Parquet path/glob/folder to an :class:`~mlqa.engines.base.Engine`; the engine
runs SQL that returns summaries (category counts, bin counts, moments, sums over the pooled
order, confusion cells, DeLong placements) and mlqa finishes the statistics from them. The
rows never leave the engine.

This module only recognises engine data: it imports neither duckdb nor pyspark (the pytest
plugin imports mlqa on every run).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from mlqa.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")


def kind_of(data: Any) -> str | None:
    """``"duckdb"``, ``"spark"``, ``"parquet"`` (a path for an engine to read) or None
    (in-memory data)."""
    module = type(data).__module__ or ""
    if module.startswith(("duckdb", "_duckdb")):
        return "duckdb"
    if module.startswith("pyspark.sql"):
        return "spark"
    if isinstance(data, str | os.PathLike):
        return "parquet" if is_engine_path(os.fspath(data)) else None
    return None


def is_engine_path(path: str) -> bool:
    """A folder, a glob (glob characters where nothing exists: an existing file or folder is
    itself, whatever its name holds; :mod:`mlqa.engines.paths`), or a Parquet file when
    DuckDB is installed (DuckDB is the default for Parquet: it streams the file instead of
    reading it whole)."""
    from mlqa.engines.paths import is_glob

    if is_glob(path) or os.path.isdir(path):
        return True
    return path.lower().endswith(PARQUET_SUFFIXES) and duckdb_installed()


def duckdb_installed() -> bool:
    return importlib.util.find_spec("duckdb") is not None


def on_engine(*data: Any) -> bool:
    """Whether any of ``data`` lives in an engine (then all of it must). A Parquet path beside
    in-memory data is read into memory instead, as checks did before engines existed."""
    kinds = {kind_of(d) for d in data if d is not None}
    if kinds == {"parquet", None} and all(
            not isinstance(d, str | os.PathLike) or _single_file(os.fspath(d)) for d in data):
        return False
    return any(k is not None for k in kinds)


def backend(*data: Any) -> str:
    """Where a check reads ``data``: ``"memory"``, ``"duckdb"`` or ``"spark"``. The one
    engine detection every family uses (a Parquet file beside in-memory data, or without
    DuckDB installed, is read into memory)."""
    if not on_engine(*data):
        return "memory"
    return "spark" if any(kind_of(d) == "spark" for d in data) else "duckdb"


def _single_file(path: str) -> bool:
    from mlqa.engines.paths import is_glob

    return not is_glob(path) and not os.path.isdir(path)


def engine_for(*data: Any, label: str = "data") -> Any:
    """The :class:`Engine` that runs queries over all of ``data`` (one DuckDB connection or
    one Spark session). InputError when the pieces live in different engines or in memory."""
    kinds = {kind_of(d) for d in data if d is not None}
    if None in kinds:
        raise InputError(f"{label}: one side is in memory and the other in an engine "
                         f"({sorted(k for k in kinds if k)}); pass both in the same form")
    if "spark" in kinds:
        if "duckdb" in kinds:
            raise InputError(f"{label}: a Spark DataFrame and a DuckDB relation cannot be "
                             f"compared in one query; pass both in one engine")
        from mlqa.engines.spark import SparkEngine

        return SparkEngine.for_data(data)
    from mlqa.engines.duckdb import DuckDBEngine

    return DuckDBEngine.for_data(data)
