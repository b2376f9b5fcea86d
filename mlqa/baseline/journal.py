"""The record list of a store that cannot list its folders (a plain HTTP repository).

Nexus raw and Artifactory generic repositories take PUT, GET and HEAD, and a PUT replaces a
file whole; they offer no folder listing mlqa can rely on and no conditional PUT (``If-Match``)
to update a shared file safely. A shared ``index.json`` updated by read-modify-write loses
entries when runs save at once (three writers x 5 records left 9 of 15 listed). So the list is
a **journal of numbered slots**, ``index/00000000.json``, ``index/00000001.json``, ...: each
save claims the first free slot for its record, and a reader reads slots from 0 until the first
one that does not exist. A slot is written once and never deleted, so slots have no gaps.

Claiming a slot (Fischer's timed mutual exclusion, with HEAD as the read and PUT as the write):

1. ``a`` = now; HEAD slot ``n``; taken -> try ``n + 1``.
2. PUT ``{record, token}`` (a random token); ``b`` = now.
3. Wait ``settle`` seconds, GET the slot: our token -> the slot is ours; another -> try ``n + 1``.

If every writer's HEAD-to-PUT-answer time ``b - a`` is at most ``settle``, an entry that was
read back after the wait is never overwritten: a writer that could still overwrite it saw the
slot free before that entry landed, so its PUT landed within ``settle`` of then, which is before
the read-back (which would then have seen it). Each writer measures its own ``b - a`` on its own
monotonic clock (no clock agreement between machines is needed). A writer that took longer may
have overwritten a concurrent writer's entry: it marks its slot ``late`` and warns, and
``mlqa baseline list`` names every late slot, so a possible loss is loud, never silent.

``index.json`` remains as a cache of the slots read so far (``records``, ``slots``: how many
slots it covers), so a reader does not GET every slot; it is only ever extended from slots that
can no longer change, so losing a cache update costs readers a few GETs and never an entry.
Records listed by an index.json of mlqa before the journal stay listed.
"""

from __future__ import annotations

import secrets
import time
import warnings
from typing import Any

from mlqa.baseline.errors import BaselineError, CorruptRecord, RecordNotFound, StoreError
from mlqa.baseline.stores import DEFAULT_SETTLE, Store

_MAX_SLOTS = 10_000_000  # 8 digits


def slot_key(n: int) -> str:
    return f"index/{n:08d}.json"


def append(store: Store, record_id: str) -> int:
    """Claim a slot for ``record_id`` (see the module docstring); returns its number."""
    from mlqa.baseline import records

    settle = float(getattr(store, "settle", DEFAULT_SETTLE))
    token = secrets.token_hex(8)
    if store.exists(f"index/absent-{token}.json"):  # a server that says 200 to any path
        raise StoreError(f"{store.location} reports a file that was never written "
                         f"(index/absent-{token}.json) as present: the record index, which "
                         f"finds free slots with HEAD, cannot be kept there")
    cache = _cache(store)
    n = int(cache.get("slots", 0)) if cache else 0
    slow_heads = 0
    while n < _MAX_SLOTS:
        key = slot_key(n)
        started = time.monotonic()
        if store.exists(key):
            n += 1
            continue
        if time.monotonic() - started > settle / 2 and slow_heads < 3:
            slow_heads += 1  # a slow HEAD: look again, to PUT in time (then go on regardless)
            continue
        entry = {"schema": records.SCHEMA, "record": record_id, "token": token}
        store.put(key, records._sealed(entry))
        took = time.monotonic() - started
        time.sleep(settle)
        try:
            found = _slot(store, n)
        except (RecordNotFound, CorruptRecord):  # a torn concurrent write: the slot is not ours
            found = {}
        if found.get("token") != token:
            n += 1
            continue
        if took > settle:
            store.put(key, records._sealed({**entry, "late": round(took, 3)}))  # ours alone
            warnings.warn(
                f"baseline index slot {n} in {store.location} took {took:.3g} s to claim, "
                f"longer than settle={settle:g} s: a record saved at the same moment may be "
                f"missing from 'mlqa baseline list' (it stays in the store under records/); "
                f"raise the store's settle time", BaselineIndexWarning, stacklevel=3)
        _extend_cache(store, n + 1)
        return n
    raise BaselineError(f"baseline index of {store.location} is full ({_MAX_SLOTS} slots)")


class BaselineIndexWarning(UserWarning):
    """An index slot was claimed more slowly than the store's settle time allows."""


def read(store: Store) -> tuple[list[str], list[int]]:
    """(record ids, late slots): the cache, then every slot after it up to the first free."""
    ids, late, n = _cached(_cache(store))
    while n < _MAX_SLOTS:
        try:
            _add_slot(store, n, ids, late)
        except RecordNotFound:
            break
        n += 1
    return sorted(ids), sorted(late)


def _cached(cache: dict[str, Any] | None) -> tuple[set[str], set[int], int]:
    """(record ids, late slots, slots covered) of a cache (or of none)."""
    if not cache:
        return set(), set(), 0
    return set(cache.get("records", [])), set(cache.get("late", [])), int(cache.get("slots", 0))


def _add_slot(store: Store, n: int, ids: set[str], late: set[int]) -> None:
    entry = _slot(store, n)
    ids.add(entry["record"])
    if entry.get("late"):
        late.add(n)


def _slot(store: Store, n: int) -> dict[str, Any]:
    from mlqa.baseline import records

    key = slot_key(n)
    entry = records._read_shared(store, key, f"index slot {key} of {store.location}")
    if not isinstance(entry.get("record"), str) or not records._ID.match(entry["record"]):
        raise CorruptRecord(f"index slot {key} of {store.location} names no record id")
    return entry


def _cache(store: Store) -> dict[str, Any] | None:
    from mlqa.baseline import records

    try:
        doc = records._read_shared(store, records.INDEX_FILE, f"index of {store.location}")
    except RecordNotFound:
        return None
    if not isinstance(doc.get("records", []), list) or \
            not isinstance(doc.get("slots", 0), int) or not isinstance(doc.get("late", []), list):
        raise CorruptRecord(f"index of {store.location} is malformed")
    return doc


def _extend_cache(store: Store, upto: int) -> None:
    """Add slots ``[cached, upto)`` to the cache. Called after the claim's wait, when those
    slots can no longer change. One read and one write: a concurrent update may replace this
    one, but every version holds everything the version it was built from held."""
    from mlqa.baseline import records

    try:
        current = _cache(store)
    except CorruptRecord:
        return  # leave it for a reader to report; the slots hold the truth
    ids, late, start = _cached(current)
    if start >= upto:
        return
    for m in range(start, upto):
        _add_slot(store, m, ids, late)
    store.put(records.INDEX_FILE, records._sealed({"schema": records.SCHEMA,
                                                    "records": sorted(ids), "slots": upto,
                                                    "late": sorted(late)}))
