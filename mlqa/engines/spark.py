"""Apache Spark: the session the team already runs (a cluster or ``local[*]``) is handed in
through its DataFrames; mlqa never starts one.

Each side becomes a temporary view in that session; the summary queries are Spark SQL and
``collect()`` only their few result rows.
"""

from __future__ import annotations

import os
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
            data.createOrReplaceTempView(name)
            types = {c: canonical(t) for c, t in data.dtypes}
        if not types:
            raise InputError(f"{label} has no columns")
        return Table(label, name, types)
