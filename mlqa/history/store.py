"""The history in a baseline store: one file per run, written once, listed without a shared
file that concurrent writers could clobber.

Layout (under the store's root)::

    history/runs/<entry>/rows.json      one sealed document per run: its Build and its rows
    history/marks/<entry>/<flag>.json   approved (promote) / released (publish), set later

A run writes a key nobody else writes, so two runs never overwrite each other. The list of
runs is the store's own: a folder or WebDAV store lists ``history/runs/``; a plain HTTP
repository (no listing) registers each entry in the journal of numbered slots that the record
list uses (:mod:`mlqa.baseline.journal`, under ``history/index``), which loses no entry to a
concurrent writer. Documents are sealed with a sha256 like baseline records, so a torn or
edited file is refused naming it, never read as a shorter history.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from mlqa.baseline import journal, records
from mlqa.baseline.errors import BaselineError, CorruptRecord, RecordNotFound
from mlqa.baseline.stores import Store, open_store
from mlqa.errors import InputError
from mlqa.history.row import (
    FLAGS,
    Build,
    HistoryRow,
    build_of,
    check_ids,
    from_columns,
    to_columns,
)
from mlqa.result import FieldReader

RUNS, MARKS = "history/runs", "history/marks"
_JOURNALS = {RUNS: "history/index", MARKS: "history/marks-index"}
ROWS_FILE = "rows.json"


def rows_key(entry: str) -> str:
    return f"{RUNS}/{entry}/{ROWS_FILE}"


def mark_key(entry: str, flag: str) -> str:
    return f"{MARKS}/{entry}/{flag}.json"


def append_run(store: Store | str | os.PathLike[str], results: Sequence[Any],
               provenance: Mapping[str, Any], *, now: dt.datetime | None = None) -> str:
    """Add one run to the history: a row per check result of ``results`` (the run's
    :class:`~mlqa.report.bundle.BundleRecord` list; tests skipped before their check leave
    none) with the run's :class:`Build` from ``provenance``. Returns the entry id."""
    store = open_store(store)
    keyed = [(r.nodeid, r.check_result) for r in results if r.check_result is not None]
    ids = check_ids(keyed)
    labels = _labels(keyed)
    rows = [HistoryRow.from_result(i, label, result)
            for i, label, (_, result) in zip(ids, labels, keyed, strict=True)]
    now = now or dt.datetime.now(dt.timezone.utc)
    body = {"columns": to_columns(rows)}
    entry = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{records.sha256(records.canonical(body))[:10]}"
    build = build_of(entry, now.isoformat(timespec="seconds"), provenance)
    _add(store, RUNS, entry, rows_key(entry), _sealed({"build": build.to_dict(), **body}))
    return entry


def _labels(keyed: Sequence[tuple[str, Any]]) -> list[str]:
    """The report's label of each result: node id, and its name when a test has several."""
    per_node: dict[str, int] = {}
    for nodeid, _ in keyed:
        per_node[nodeid] = per_node.get(nodeid, 0) + 1
    return [f"{n} \u203a {r.name}" if per_node[n] > 1 else n for n, r in keyed]


def mark(store: Store | str | os.PathLike[str], entry: str, flag: str, *,
         by: str | None = None, reason: str | None = None) -> None:
    """Mark a build of the history as approved (``mlqa baseline promote``) or released
    (``mlqa publish maven``). The build must be in the history."""
    store = open_store(store)
    if flag not in FLAGS:
        raise InputError(f"history mark must be one of {', '.join(FLAGS)}, got {flag!r}")
    if not records._ID.match(entry) or not store.exists(rows_key(entry)):
        raise InputError(f"history of {store.location} has no run {entry!r} to mark {flag}")
    doc = {"schema": records.SCHEMA, "entry": entry, "flag": flag, "by": by, "reason": reason,
           "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    _add(store, MARKS, entry, mark_key(entry, flag),
         records._sealed({k: v for k, v in doc.items() if v is not None}))


def _add(store: Store, kind: str, entry: str, key: str, data: bytes) -> None:
    if getattr(store, "children", None) is None:
        journal.settle_of(store)  # a bad setting is refused before anything is written
    store.put(key, data)
    if getattr(store, "children", None) is None:
        journal.append(store, entry, prefix=_JOURNALS[kind])


# A run's file: one header line {"schema", "sha256" of the rest} and the compact JSON body.
# The checksum is over the body's bytes (not a canonical re-encoding as baseline records
# use), so checking it costs one sha256 pass; a reader of 1,000 runs pays milliseconds.
def _sealed(body: dict[str, Any]) -> bytes:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")
    head = {"schema": records.SCHEMA, "kind": "mlqa-history-run",
            "sha256": records.sha256(data)}
    return json.dumps(head, sort_keys=True).encode("ascii") + b"\n" + data + b"\n"


def _unsealed(data: bytes, where: str) -> dict[str, Any]:
    head_line, _, body = data.partition(b"\n")
    try:
        head = json.loads(head_line)
    except (ValueError, UnicodeDecodeError):
        head = None
    if not isinstance(head, dict) or head.get("kind") != "mlqa-history-run":
        raise InputError(f"{where} is not an mlqa history file ({len(data)} bytes): corrupt")
    schema = head.get("schema")
    if not isinstance(schema, int) or schema > records.SCHEMA:
        raise InputError(f"{where} has schema {schema!r}, newer than this mlqa reads "
                         f"({records.SCHEMA}); upgrade mlqa to read it")
    body = body.rstrip(b"\n")
    if records.sha256(body) != head.get("sha256"):
        raise InputError(f"{where} failed its sha256 check: truncated, modified or corrupt")
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{where} is not valid JSON: corrupt") from None
    if not isinstance(doc, dict):
        raise InputError(f"{where} is not an mlqa history file: corrupt")
    return doc


def entries(store: Store, kind: str = RUNS) -> list[str]:
    """Entry ids under ``kind`` (runs or marks), oldest first."""
    children = getattr(store, "children", None)
    if children is not None:
        return sorted(i for i in children(kind) if records._ID.match(i))
    try:
        return journal.read(store, prefix=_JOURNALS[kind])[0]
    except CorruptRecord as exc:
        raise InputError(f"history list of {store.location}: {exc}") from None


def read_run(store: Store, entry: str) -> tuple[Build, list[HistoryRow]]:
    """One run's build and rows; a missing or damaged file is an InputError naming it."""
    key = rows_key(entry)
    where = f"history file {key} in {store.location}"
    try:
        data = store.get(key)
    except RecordNotFound:
        raise InputError(f"{where} is missing (the run is listed in the history): the "
                         f"history cannot be read without it") from None
    except BaselineError as exc:  # the store could not be read
        raise InputError(f"{where}: {exc}") from None
    doc = _unsealed(data, where)
    fields = FieldReader(doc, where)
    build = fields.nested("build", Build.read)
    if build is None or build.entry != entry:
        raise InputError(f"{where} names another run ({None if build is None else build.entry})")
    return build, from_columns(doc.get("columns"), where)


def flags(store: Store) -> dict[str, set[str]]:
    """Entry -> the marks set on it."""
    marked: dict[str, set[str]] = {}
    for entry in entries(store, MARKS):
        for flag in FLAGS:
            if store.exists(mark_key(entry, flag)):
                marked.setdefault(entry, set()).add(flag)
    return marked
