"""An engine that fails gives a result, never a raw traceback.

Every call mlqa makes into DuckDB or Spark (registering a table, running a summary query) goes
through :func:`translated`, which turns the engine's own failure into an ``InputError`` naming
the engine, the stage of the check it was in, and the setting to change: out of memory
(``spark.driver.memory``, ``MLQA_DUCKDB_MEMORY_LIMIT``), a Spark session that is gone (stopped,
or its JVM died: the next call gets ``ConnectionRefusedError``), or any other error of the
engine (a ``Py4JJavaError``, a captured Spark exception, a DuckDB error). A Python error of
mlqa's own is not an engine failure and is raised as it is.

The stage is what the check was doing, set by the check around its engine calls
(``with stage("column 'x'")``), plus the first words of the query.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from mlqa.errors import InputError

_STAGE: contextvars.ContextVar[str] = contextvars.ContextVar("mlqa_engine_stage", default="")

# Where an engine's own message says it ran out of memory (Spark's SparkOutOfMemoryError and
# its [*_OUT_OF_MEMORY] error classes, the JVM's heap errors, DuckDB's OutOfMemoryException).
_OUT_OF_MEMORY = ("outofmemory", "out_of_memory", "out of memory", "java heap space",
                  "gc overhead limit")
_MEMORY_SETTING = {
    "spark": "spark.driver.memory (local mode) or spark.executor.memory, or more "
             "spark.sql.shuffle.partitions so that each task holds less",
    "duckdb": "MLQA_DUCKDB_MEMORY_LIMIT (mlqa's own connection) or SET memory_limit / "
              "temp_directory on the connection of your relations",
}


@contextlib.contextmanager
def stage(what: str) -> Iterator[None]:
    """Name what the check is doing for any engine failure inside (nested stages join)."""
    outer = _STAGE.get()
    token = _STAGE.set(f"{outer}: {what}" if outer else what)
    try:
        yield
    finally:
        _STAGE.reset(token)


@contextlib.contextmanager
def translated(engine: str, *, query: str | None = None, session: Any = None
               ) -> Iterator[None]:
    """Run engine calls; an engine failure becomes an ``InputError`` naming ``engine``, the
    stage and the setting to change. ``session`` is the Spark session (to tell a stopped one
    from a failed query)."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:
        error = failure(engine, exc, query=query, session=session)
        if error is None:
            raise
        raise error from None


def failure(engine: str, exc: BaseException, *, query: str | None = None,
            session: Any = None) -> InputError | None:
    """The ``InputError`` for ``exc`` raised inside ``engine``; None when ``exc`` is not the
    engine's (a bug of mlqa's own stays itself)."""
    where = _where(query)
    said = _first_line(exc)
    if engine == "spark" and (_lost(exc) or session_stopped(session)):
        return InputError(
            f"spark: the Spark session is gone {where} (it was stopped, or its JVM died: a "
            f"driver out of memory ends it too); start a new SparkSession, with more "
            f"spark.driver.memory if it ran out of memory ({said})")
    if not _from_engine(engine, exc):
        return None
    if any(word in said.lower() or word in type(exc).__name__.lower()
           for word in _OUT_OF_MEMORY):
        return InputError(f"{engine} ran out of memory {where}: raise "
                          f"{_MEMORY_SETTING.get(engine, 'its memory limit')} ({said})")
    return InputError(f"{engine} could not run mlqa's query {where}: {said}")


def _where(query: str | None) -> str:
    current = _STAGE.get() or "a summary query"
    words = " ".join((query or "").split())
    shown = f" [{words[:100]}{'...' if len(words) > 100 else ''}]" if words else ""
    return f"during {current}{shown}"


def _first_line(exc: BaseException) -> str:
    """The engine's own one-line reason: the first line of a Java exception (not py4j's
    "An error occurred while calling o37.sql" wrapper), or the error's text."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a Py4JJavaError's text asks the JVM, which may be gone
        text = ""
    lines = [ln.strip().lstrip(":").strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("An error occurred while calling")]
    return (lines[0][:300] if lines else "") or type(exc).__name__


def _lost(exc: BaseException) -> bool:
    """A broken connection to the JVM (refused, reset, py4j's network error)."""
    if isinstance(exc, ConnectionError):
        return True
    names = {c.__name__ for c in type(exc).__mro__}
    return "Py4JNetworkError" in names


def session_stopped(session: Any) -> bool:
    """Whether ``session``'s SparkContext is stopped (its calls then fail in odd ways, such as
    an AttributeError inside pyspark)."""
    # a classic session keeps its SparkContext in _sc, whose _jsc is None once stopped; a
    # Spark Connect session has neither (its server tells through its own errors)
    context = getattr(session, "_sc", None)
    return context is not None and getattr(context, "_jsc", True) is None


def _from_engine(engine: str, exc: BaseException) -> bool:
    """Whether ``exc`` is the engine's own error class (by module: no engine import here)."""
    module = type(exc).__module__ or ""
    if engine == "spark":
        return module.startswith(("py4j", "pyspark"))
    if engine == "duckdb":
        return module.startswith(("duckdb", "_duckdb"))
    return False
