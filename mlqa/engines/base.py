"""The one small interface every engine implements: name a table, run a query, get rows.

Everything else (which summaries to ask for, how to finish a statistic from them) is plain SQL
written once in :mod:`mlqa.engines.sql` and shared by DuckDB and Spark: both take ANSI
window functions, ``GROUP BY``, ``UNION ALL`` and ``CASE``; the few places where they differ
(quoting identifiers, reading Parquet) are methods here.
"""

from __future__ import annotations

import abc
import dataclasses
import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from mlqa.errors import InputError

# Canonical column types an engine reports (from its own schema, never from the rows).
DOUBLE, INTEGER, BOOLEAN, STRING, DATETIME, OTHER = (
    "double", "integer", "boolean", "string", "datetime", "other")

_counter = itertools.count()


def fresh_name(stem: str) -> str:
    """A view name no user table has: mlqa_<stem>_<n>."""
    return f"mlqa_{stem}_{next(_counter)}"


@dataclasses.dataclass(frozen=True)
class Table:
    """One side's data inside an engine: ``source`` is what a ``FROM`` clause takes (a view
    name), ``types`` the canonical type of each column from the engine's schema."""

    label: str
    source: str
    types: Mapping[str, str]

    def require(self, columns: Sequence[str], option: str = "columns=") -> None:
        missing = [c for c in columns if c not in self.types]
        if missing:
            raise InputError(f"{self.label} lacks the columns {missing} asked for in {option} "
                             f"(it has {list(self.types)})")


class Engine(abc.ABC):
    """Runs SQL where the data lives and returns rows of summaries."""

    name: str = "engine"
    # Whether a window partitioned like the one below it, with no ORDER BY, reads each
    # partition's rows in the order that window emitted them (Spark: a window keeps its
    # child's order, so no second sort). Else the pooled-order query orders its later windows
    # by the first one's row number. Either way the query checks the order it saw.
    streams_window_order: bool = True

    @abc.abstractmethod
    def table(self, data: Any, label: str) -> Table:
        """Register ``data`` (this engine's frame/relation or a Parquet path) as a view."""

    @abc.abstractmethod
    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one query, return its (few) rows as tuples."""

    @abc.abstractmethod
    def quote(self, identifier: str) -> str:
        """An identifier quoted for this engine's SQL."""

    # Whether several columns' pooled orders are better summarised in one query
    # (:func:`mlqa.engines.sql.pooled_sums_many`): where each query costs a job and its
    # shuffles (Spark), yes; where one query already uses every thread and a sort of many
    # columns at once would only spill more (DuckDB), no.
    batches_columns: bool = False

    def unpivot(self, source: str, values: Sequence[str]) -> str:
        """SQL of rows ``(col, v)``: for every row of ``source``, ``col = i`` and ``v`` the
        value of the expression ``values[i]``, for each ``i`` (here ``UNION ALL``: one scan
        per expression; an engine with a generator scans once)."""
        return " UNION ALL ".join(f"SELECT {i} AS col, {v} AS v FROM {source}"
                                  for i, v in enumerate(values))

    def one(self, sql: str) -> tuple[Any, ...]:
        out = self.rows(sql)
        return out[0]

    def sorted_batches(self, sql: str) -> Iterator[tuple[np.ndarray, ...]] | None:
        """The rows of ``sql`` (an ``ORDER BY`` query of numeric columns) as batches of numpy
        columns, in order, where the engine and mlqa share a process (DuckDB): the pooled
        order is then one sort and a pass here (:mod:`mlqa.engines.streamed`). None where
        the rows should stay in the engine (Spark: its driver is not where they belong)."""
        return None

    def interrupt(self) -> None:
        """Stop the query running now from another thread, where the engine can (DuckDB's
        own connection); else nothing."""
        return None


def canonical(type_name: str) -> str:
    """Map an engine's type name (DuckDB ``DOUBLE``/``BIGINT``..., Spark ``double``/``bigint``
    ...) to a canonical type."""
    t = type_name.strip().lower()
    if t.startswith(("double", "float", "real", "decimal", "numeric")):
        return DOUBLE
    if t.startswith(("tinyint", "smallint", "int", "bigint", "hugeint", "utinyint",
                     "usmallint", "uinteger", "ubigint", "uhugeint", "long", "short", "byte")):
        return INTEGER
    if t.startswith(("bool",)):
        return BOOLEAN
    if t.startswith(("varchar", "string", "char", "text", "enum")):
        return STRING
    if t.startswith(("timestamp", "date", "time", "interval")):
        return DATETIME
    return OTHER


def literal(value: Any) -> str:
    """A SQL literal for a Python value that both engines read back exactly: floats go
    through their shortest round-trip text and an explicit cast (a bare ``0.1`` is a DECIMAL
    in DuckDB)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"CAST('{value!r}' AS DOUBLE)"
    text = str(value).replace("'", "''")
    return f"'{text}'"
