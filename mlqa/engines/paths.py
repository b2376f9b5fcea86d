"""Parquet paths: an existing file or folder is always itself, whatever characters its name
holds; a path is a glob only when nothing exists at it.

Both engines glob what they are given: DuckDB reads ``cur[1]`` as the character class
``[1]`` (so the folder ``cur1`` beside it), and so does Spark's Hadoop reader. A folder
``cur[1]`` drifted by 3 sd would be judged by ``cur1``'s rows. So an existing path reaches
each engine escaped in that engine's glob syntax, and a folder reaches DuckDB as the list of
its Parquet files (found here, recursively, as ``<folder>/**/*.parquet`` found them before)
and Spark as the folder itself (its reader lists it, with partition discovery).
"""

from __future__ import annotations

import os

from mlqa.errors import InputError

GLOB_CHARS = "*?["


def is_glob(path: str) -> bool:
    """A pattern for the engine to expand: glob characters, and nothing exists at ``path``."""
    return any(ch in path for ch in GLOB_CHARS) and not os.path.exists(path)


def parquet_files(folder: str) -> list[str]:
    """Every ``*.parquet`` file below ``folder`` (recursively, hidden entries skipped, as
    Spark and Hadoop skip ``_``/``.`` files), in a stable order."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        found += [os.path.join(root, f) for f in sorted(files)
                  if f.endswith(".parquet") and not f.startswith((".", "_"))]
    if not found:
        raise InputError(f"no Parquet files (*.parquet) under the folder {folder!r}")
    return found


def duckdb_escape(path: str) -> str:
    """``path`` matched literally by DuckDB's glob: each glob character as a one-character
    class (``[`` -> ``[[]``, ``*`` -> ``[*]``, ``?`` -> ``[?]``)."""
    return "".join(f"[{ch}]" if ch in GLOB_CHARS else ch for ch in path)


def duckdb_paths(path: str) -> list[str]:
    """What DuckDB's ``read_parquet`` is given for ``path``: the escaped files of an existing
    folder, the escaped file, or the glob as written."""
    if os.path.isdir(path):
        return [duckdb_escape(f) for f in parquet_files(path)]
    if os.path.exists(path):
        return [duckdb_escape(path)]
    if is_glob(path):
        return [path]
    raise InputError(f"no such Parquet file or folder: {path!r}")


def hadoop_escape(path: str) -> str:
    """``path`` matched literally by Hadoop's glob (Spark's reader): a backslash before each
    of its special characters."""
    return "".join("\\" + ch if ch in "{}[]*?\\" else ch for ch in path)


def spark_path(path: str) -> str:
    """What Spark's ``read.parquet`` is given: an existing file or folder escaped, a glob as
    written."""
    if os.path.exists(path):
        return hadoop_escape(os.path.abspath(path))
    if is_glob(path):
        return path
    raise InputError(f"no such Parquet file or folder: {path!r}")
