"""DuckDB: embedded, streams Parquet files/globs/folders and spills sorts and aggregates to
disk, so a check needs memory for its summaries, not for the rows.

A DuckDB relation lives in the connection that made it; queries about it run through
``relation.query`` on a view of it, so the user's connection (with its settings and any
attached catalogs) does the work. Parquet paths alone get a private connection whose
``memory_limit``, ``threads`` and spill folder come from ``MLQA_DUCKDB_MEMORY_LIMIT`` (default
1GB: with the process around it, about 1.3 GB peak RSS whatever the data size) /
``MLQA_DUCKDB_THREADS`` (default: the cores this process may use) /
``MLQA_DUCKDB_TEMP_DIRECTORY`` (default: a folder under the system temporary directory, never
the working directory); a value DuckDB refuses is an InputError naming the variable. A
connection the user hands in (through its relations) keeps its own
settings: mlqa changes nothing in it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from mlqa.engines.base import Engine, Table, canonical, fresh_name, literal
from mlqa.engines.failures import translated
from mlqa.errors import InputError

DEFAULT_MEMORY_LIMIT = "1GB"


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise InputError("DuckDB is not installed: pip install 'mlqa[duckdb]' to check "
                         "Parquet globs/folders and DuckDB relations") from None
    return duckdb


def parquet_source(path: str) -> str:
    """``read_parquet([...])`` for a file, a folder (all Parquet files below it) or a glob;
    an existing file or folder is read as itself whatever its name holds
    (:mod:`mlqa.engines.paths`)."""
    from mlqa.engines.paths import duckdb_paths

    return f"read_parquet([{', '.join(literal(p) for p in duckdb_paths(path))}])"


def _cores() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def settings_from_environment() -> list[tuple[str, str, Any]]:
    """(variable, DuckDB option, value) for mlqa's private connection: memory limit, spill
    folder and threads, from ``MLQA_DUCKDB_*`` or their defaults. A thread count that is not
    a positive integer is an InputError naming the variable."""
    memory = os.environ.get("MLQA_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    # DuckDB spills to "./.tmp" by default: that would be the user's repository
    temp = os.environ.get("MLQA_DUCKDB_TEMP_DIRECTORY") or \
        os.path.join(tempfile.gettempdir(), f"mlqa-duckdb-{os.getpid()}")
    # one thread per core (DuckDB's own default, made explicit: a container's cgroup may
    # show fewer cores than the host)
    given = os.environ.get("MLQA_DUCKDB_THREADS", "").strip()
    try:
        threads = int(given) if given else _cores()
    except ValueError:
        threads = 0
    if threads < 1:
        raise InputError(f"MLQA_DUCKDB_THREADS={given!r} must be a positive integer (the "
                         f"threads DuckDB may use); unset it for one per core")
    return [("MLQA_DUCKDB_MEMORY_LIMIT", "memory_limit", memory),
            ("MLQA_DUCKDB_TEMP_DIRECTORY", "temp_directory", temp),
            ("MLQA_DUCKDB_THREADS", "threads", threads)]


class DuckDBEngine(Engine):
    name = "duckdb"
    streams_window_order = False  # its partitioned windows sort again

    def __init__(self, anchor: Any | None = None, connection: Any | None = None) -> None:
        self._anchor = anchor  # a relation whose connection runs the queries
        self._anchor_view: str | None = None
        self._connection = connection

    @classmethod
    def for_data(cls, data: Sequence[Any]) -> DuckDBEngine:
        _duckdb()
        relations = [d for d in data if d is not None and not isinstance(d, str | os.PathLike)]
        if relations:
            return cls(anchor=relations[0])
        duckdb = _duckdb()
        settings = settings_from_environment()
        # summaries only: no row order to keep (less memory in sorts)
        connection = duckdb.connect(config={"preserve_insertion_order": False})
        for variable, option, value in settings:
            try:  # DuckDB's own parser judges the value; the error names the variable
                connection.execute(f"SET {option} = {literal(value)}")
            except duckdb.Error as exc:
                connection.close()
                raise InputError(f"{variable}={value!r} is not a valid DuckDB {option}: "
                                 f"{exc}") from None
        connection.execute("SET enable_progress_bar = false")  # a per-session option
        return cls(connection=connection)

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def _relation(self, sql: str) -> Any:
        if self._connection is not None:
            return self._connection.sql(sql)
        assert self._anchor is not None  # one of connection/anchor is always set
        if self._anchor_view is None:
            self._anchor_view = fresh_name("anchor")
            self._anchor.create_view(self._anchor_view, replace=True)
        return self._anchor.query(self._anchor_view, sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with translated(self.name, query=sql):
            return self._relation(sql).fetchall()

    def interrupt(self) -> None:
        # mlqa's own connection only: a user's relation shares their connection, where an
        # interrupt could stop a query of theirs
        if self._connection is not None:
            self._connection.interrupt()

    def sorted_batches(self, sql: str) -> Iterator[tuple[np.ndarray, ...]]:
        """Arrow record batches of ``sql`` streamed in order (DuckDB's ORDER BY is a parallel
        sort that spills past the memory limit; the result is read back batch by batch)."""
        from mlqa.engines.streamed import BATCH_ROWS

        with translated(self.name, query=sql):
            for batch in self._relation(sql).to_arrow_reader(BATCH_ROWS):
                yield tuple(np.asarray(column.to_numpy(zero_copy_only=False),
                                       dtype=np.float64) for column in batch.columns)

    def table(self, data: Any, label: str) -> Table:
        duckdb = _duckdb()
        if isinstance(data, str | os.PathLike):
            source = parquet_source(os.fspath(data))
        else:
            if self._anchor is not None and data is not self._anchor:
                pass  # another relation: it must share the anchor's connection (checked below)
            source = fresh_name(label)
            try:
                data.create_view(source, replace=True)
            except duckdb.Error as exc:
                raise InputError(f"{label}: cannot use this DuckDB relation: {exc}") from None
        try:
            described = self.rows(f"DESCRIBE SELECT * FROM {source}")
        except InputError as exc:
            raise InputError(f"{label}: {exc} (DuckDB relations must come from one "
                             f"connection; Parquet paths must exist)") from None
        types = {str(r[0]): canonical(str(r[1])) for r in described}
        if not types:
            raise InputError(f"{label} has no columns")
        return Table(label, source, types)
