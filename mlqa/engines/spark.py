"""Apache Spark: the session the team already runs (a cluster or ``local[*]``) is handed in
through its DataFrames; mlqa never starts one.

Each side becomes a temporary view in that session; the summary queries are Spark SQL and
``collect()`` only their few result rows.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from typing import Any

from mlqa.engines.base import Engine, Table, canonical, fresh_name
from mlqa.engines.failures import session_stopped, stage, translated
from mlqa.errors import InputError


class SparkEngine(Engine):
    name = "spark"

    def __init__(self, session: Any) -> None:
        self.session = session

    @classmethod
    def for_data(cls, data: Sequence[Any]) -> SparkEngine:
        frames = [d for d in data if d is not None and not isinstance(d, str | os.PathLike)]
        session = frames[0].sparkSession if frames else None
        if session is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError:
                raise InputError("pyspark is not installed: pip install 'mlqa[spark]'") \
                    from None
            session = SparkSession.getActiveSession()
        if session is None:
            raise InputError("no Spark session: pass Spark DataFrames (their session runs "
                             "the queries)")
        if session_stopped(session):
            raise InputError("spark: the Spark session of these DataFrames is stopped; "
                             "start a new SparkSession and make the DataFrames in it")
        return cls(session)

    batches_columns = True  # a query is a job with its own shuffles and task waves

    def unpivot(self, source: str, values: Sequence[str]) -> str:
        """One scan: Spark's ``stack`` generator emits a row per expression."""
        pairs = ", ".join(f"{i}, {v}" for i, v in enumerate(values))
        return f"SELECT stack({len(values)}, {pairs}) AS (col, v) FROM {source}"

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with translated(self.name, query=sql, session=self.session):
            return [tuple(r) for r in self.session.sql(sql).collect()]

    def table(self, data: Any, label: str) -> Table:
        name = fresh_name(label)
        with stage(f"reading the {label}"), translated(self.name, session=self.session):
            if isinstance(data, str | os.PathLike):
                from mlqa.engines.paths import spark_path

                data = self.session.read.parquet(spark_path(os.fspath(data)))
            if data.isLocal():
                data = _scanned_once(self, data)
            data.createOrReplaceTempView(name)
            types = {c: canonical(t) for c, t in data.dtypes}
        if not types:
            raise InputError(f"{label} has no columns")
        return Table(label, name, types)


def _scanned_once(engine: SparkEngine, frame: Any) -> Any:
    """A frame whose rows live in the driver (``createDataFrame`` of pandas or a list) is
    a local relation that Spark's optimizer copies into every query (it folds each query's
    filter and projection into a new local relation: a copy of every row per query, which
    ran a default 1 GB driver out of heap at 200,000 rows x 22 columns). One persisted copy
    (memory, then disk) is scanned instead, and released when the engine is (the end of the
    check)."""
    from pyspark import StorageLevel

    kept = frame.persist(StorageLevel.MEMORY_AND_DISK)
    weakref.finalize(engine, _release, kept)
    return kept


def _release(frame: Any) -> None:
    try:
        frame.unpersist(blocking=False)
    except Exception:  # noqa: BLE001 (the session may be gone at exit: nothing to release)
        pass
