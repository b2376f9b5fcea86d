"""The link between a run's results bundle and the history: the run adds its rows, and leaves
``history.json`` in the bundle (the store and the entry), so that ``mlqa baseline promote``
can mark that build approved and ``mlqa report --history`` can highlight it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from mlqa._atomic import write_atomic
from mlqa.baseline.errors import BaselineError
from mlqa.baseline.stores import Store, open_store, redacted
from mlqa.errors import InputError
from mlqa.history.store import append_run

REFERENCE_FILE = "history.json"
REFERENCE_SCHEMA = 1


def record_run(results_dir: str | os.PathLike[str], store: Store | str | os.PathLike[str]
               ) -> str:
    """Add the run whose bundle is ``results_dir`` to ``store``'s history; returns its entry.
    The bundle must be merged (its ``results.jsonl`` and ``provenance.json`` written)."""
    from mlqa import provenance
    from mlqa.report import bundle

    folder = Path(results_dir)
    store = open_store(store)
    entry = append_run(store, bundle.read(folder), provenance.read(folder))
    write_atomic(folder / REFERENCE_FILE, json.dumps(
        {"schema": REFERENCE_SCHEMA, "store": redacted(store.location), "entry": entry}) + "\n")
    return entry


def forget(results_dir: str | os.PathLike[str]) -> None:
    """Drop an earlier run's reference, so that it is never taken for this run's."""
    (Path(results_dir) / REFERENCE_FILE).unlink(missing_ok=True)


def reference(results_dir: str | os.PathLike[str]) -> tuple[str, str] | None:
    """(store location, entry) of the run whose bundle is ``results_dir``, or None when the
    run added nothing to a history. A damaged reference is an InputError naming it."""
    folder = Path(results_dir)
    path = folder / REFERENCE_FILE if folder.is_dir() else folder.parent / REFERENCE_FILE
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        schema, store, entry = doc["schema"], doc["store"], doc["entry"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InputError(f"{path} is not a history reference (corrupt)") from None
    if type(schema) is not int or schema > REFERENCE_SCHEMA or not isinstance(store, str) \
            or not isinstance(entry, str):
        raise InputError(f"{path}: schema {schema!r} or its fields are not what this mlqa "
                         f"reads")
    return store, entry


def mark_run(results_dir: str | os.PathLike[str], flag: str, *, by: str | None = None,
             reason: str | None = None) -> tuple[str, str] | None:
    """Mark the build of the run whose bundle is ``results_dir`` (``approved`` by ``mlqa
    baseline promote``, ``released`` by ``mlqa publish maven``) in the history it added to;
    returns (store, entry), or None when the run added to no history."""
    from mlqa.history.store import mark

    found = reference(results_dir)
    if found is None:
        return None
    store, entry = found
    mark(store, entry, flag, by=by, reason=reason)
    return found


def mark_after(command: str, results_dir: str | os.PathLike[str], flag: str, *,
               by: str | None = None, reason: str | None = None) -> tuple[str, str] | None:
    """:func:`mark_run` as ``command`` (``mlqa baseline promote``, ``mlqa publish maven``) does
    it once its act is done: the line it prints, or a warning on stderr naming why the build
    could not be marked. The act (an alias moved, a release written) stands either way, so the
    command does not fail over the mark; the warning says the trend page lacks it."""
    try:
        marked = mark_run(results_dir, flag, by=by, reason=reason)
    except (InputError, BaselineError, OSError) as exc:
        print(f"{command}: warning: the build of {results_dir} was not marked {flag} in its "
              f"history (the trend page will not show it {flag}): {exc}", file=sys.stderr)
        return None
    if marked is not None:
        print(f"history: build {marked[1]} marked {flag} in {marked[0]}")
    return marked
