"""The results bundle: one JSON line per expected check, in a folder a run leaves behind.

Each process writes its own part file (``results-<worker>.jsonl``: pytest-xdist workers never
share a file) and the controlling process merges the parts into ``results.jsonl`` at the end.
Lines are appended whole and flushed as checks finish, so a crashed run keeps what it recorded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlqa._atomic import write_atomic
from mlqa._plain import to_plain
from mlqa.errors import InputError

SCHEMA = 1
RESULTS_FILE = "results.jsonl"
_PART_GLOB = "results-*.jsonl"


def part_path(directory: Path, worker: str) -> Path:
    return Path(directory) / f"results-{worker}.jsonl"


def reset(directory: Path) -> None:
    """Start a run: create the folder and drop results a previous run left in it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in [directory / RESULTS_FILE, *directory.glob(_PART_GLOB)]:
        stale.unlink(missing_ok=True)


def append(directory: Path, worker: str, record: Mapping[str, Any]) -> None:
    """Append one record as a JSON line to this worker's part file."""
    line = dumps({"schema": SCHEMA, **record})
    with open(part_path(directory, worker), "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()


def dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(to_plain(record), ensure_ascii=True, allow_nan=False, sort_keys=True)


def merge(directory: Path) -> Path:
    """Merge the part files into ``results.jsonl`` (sorted by test, stable, last attempt of a
    rerun test only), remove the parts."""
    directory = Path(directory)
    parts = sorted(directory.glob(_PART_GLOB))
    records: list[dict[str, Any]] = []
    for part in parts:
        records.extend(_read_lines(part))
    records = latest(records)
    target = directory / RESULTS_FILE
    write_atomic(target, "".join(dumps(r) + "\n" for r in records))
    for part in parts:
        part.unlink()
    return target


def read(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Records of a bundle folder (merged file, or its parts if the run did not finish) or file."""
    path = Path(path)
    if path.is_dir():
        files = [path / RESULTS_FILE] if (path / RESULTS_FILE).exists() else \
            sorted(path.glob(_PART_GLOB))
        if not files:
            raise InputError(f"{path} holds no mlqa results ({RESULTS_FILE} or {_PART_GLOB})")
    elif path.exists():
        files = [path]
    else:
        raise InputError(f"results bundle {path} does not exist")
    records: list[dict[str, Any]] = []
    for f in files:
        records.extend(_read_lines(f))
    return latest(records)


def latest(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Last result wins: a test that ran several times (pytest-rerunfailures) keeps only its
    last attempt's records, and within it the last line per ``(nodeid, index)``. Each kept
    record carries ``reruns``, how many earlier attempts were dropped. Sorted by test, stable."""
    records = list(records)
    last: dict[str, int] = {}
    first: dict[str, int] = {}
    for r in records:
        node, attempt = str(r.get("nodeid", "")), int(r.get("attempt", 1))
        last[node] = max(last.get(node, attempt), attempt)
        first[node] = min(first.get(node, attempt), attempt)
    kept: dict[tuple[str, int], dict[str, Any]] = {}
    for r in records:
        node = str(r.get("nodeid", ""))
        if int(r.get("attempt", 1)) == last[node]:
            # A merged file already counted its reruns: reading it again keeps the count.
            reruns = max(int(r.get("reruns", 0)), last[node] - first[node])
            kept[(node, int(r.get("index", 0)))] = {**r, "reruns": reruns}
    return [kept[key] for key in sorted(kept)]


def _read_lines(path: Path) -> Iterable[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: not a JSON line ({exc.msg})") from None
            if not isinstance(record, dict) or "result" not in record:
                raise InputError(f"{path}:{lineno}: not an mlqa result record")
            if int(record.get("schema", 0)) > SCHEMA:
                raise InputError(f"{path}:{lineno}: schema {record['schema']} is newer than "
                                 f"this mlqa reads ({SCHEMA}); upgrade mlqa")
            yield record
