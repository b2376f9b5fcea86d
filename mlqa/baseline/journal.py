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

That rule rests on one clock: a writer whose clock runs slow (a VM's drifting clock; a process
suspended between HEAD and PUT, which a monotonic clock does not count) measures a short time
and overwrites silently. So a second rule, with no clock in it:

4. GET the marker ``index/claims/<n>.json``: another writer's -> that writer had confirmed the
   slot before our PUT landed (or raced us to it): an overlap.
5. PUT the marker (our entry), then GET the slot again: not ours -> try ``n + 1``.

A writer returns only after its marker landed and the slot still held its entry; a PUT landing
after that is read back by its writer after the marker, so the overwriter always finds another's
marker. It marks its slot (``overlap``: the other record), warns (``BaselineIndexWarning``) and
claims a new slot for the overlapped record, so the entry is listed again.

A save gives up with ``StoreError`` after 32 claims, or after three of its own acknowledged
PUTs were missing when read back: a server that acknowledges a write before it is readable
(write-behind) would otherwise drive a writer from slot to slot without end.

``index.json`` remains as a cache of the slots read so far (``records``, ``slots``: how many
slots it covers), so a reader does not GET every slot; it is only ever extended from slots that
can no longer change, so losing a cache update costs readers a few GETs and never an entry.
Records listed by an index.json of mlqa before the journal stay listed.
"""

from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Callable
from typing import Any

from mlqa.baseline.errors import BaselineError, CorruptRecord, RecordNotFound, StoreError
from mlqa.baseline.stores import DEFAULT_SETTLE, SETTLE_ENV, Store, check_settle

_MAX_SLOTS = 10_000_000  # 8 digits
# Slots a save tries to claim before it gives up: each attempt lost to another writer means
# that writer got a slot, so 32 is far more writers at one moment than a CI fleet saves.
_MAX_ATTEMPTS = 32
# Own acknowledged PUTs found missing after settle: never on a server that keeps what it
# acknowledges, so three is a server that will not (it drove one writer through 24 slots).
_MAX_UNREADABLE = 3


# A journal lives under a prefix: ``<prefix>/<n>.json`` slots, ``<prefix>/claims/<n>.json``
# markers and the ``<prefix>.json`` cache. The record list is ``index``; the run history
# (:mod:`mlqa.history.store`) keeps its own journals under ``history/``.
INDEX = "index"


def slot_key(n: int, prefix: str = INDEX) -> str:
    return f"{prefix}/{n:08d}.json"


def cache_key(prefix: str = INDEX) -> str:
    return f"{prefix}.json"


def settle_of(store: Store) -> float:
    """The store's settle time, checked (``records.save`` asks before it writes anything)."""
    return check_settle(getattr(store, "settle", DEFAULT_SETTLE),
                        source=f"{type(store).__name__} settle")


def append(store: Store, record_id: str, *, prefix: str = INDEX, _repairs: int = 2) -> int:
    """Claim a slot for ``record_id`` (see the module docstring); returns its number.

    This writer's HEAD-to-PUT time is measured on ``store.clock`` where a store has one
    (seconds; the tests give a writer a clock that runs slow), else ``time.monotonic``."""
    from mlqa.baseline import records

    settle = settle_of(store)
    clock: Callable[[], float] = getattr(store, "clock", time.monotonic)
    token = secrets.token_hex(8)
    if store.exists(f"{prefix}/absent-{token}.json"):  # a server that says 200 to any path
        raise StoreError(f"{store.location} reports a file that was never written "
                         f"({prefix}/absent-{token}.json) as present: the journal, which "
                         f"finds free slots with HEAD, cannot be kept there")
    cache = _cache(store, prefix)
    n = int(cache.get("slots", 0)) if cache else 0
    slow_heads = attempts = unreadable = 0
    while n < _MAX_SLOTS:
        key = slot_key(n, prefix)
        started = clock()
        if store.exists(key):
            n += 1
            continue
        if clock() - started > settle / 2 and slow_heads < 3:
            slow_heads += 1  # a slow HEAD: look again, to PUT in time (then go on regardless)
            continue
        if attempts == _MAX_ATTEMPTS:
            raise StoreError(_gave_up(store, attempts, unreadable, settle))
        attempts += 1
        entry = {"schema": records.SCHEMA, "record": record_id, "token": token}
        store.put(key, records._sealed(entry))
        took = clock() - started
        time.sleep(settle)
        found = _read_back(store, n, prefix)
        if found is None:  # our acknowledged PUT is not there: the server did not keep it (yet)
            unreadable += 1
            if unreadable == _MAX_UNREADABLE:
                raise StoreError(_gave_up(store, attempts, unreadable, settle))
        if found is None or found.get("token") != token:
            n += 1
            continue
        # The second rule (the timed rule above rests on this writer's clock alone): a writer
        # that confirms a slot leaves a marker, then reads the slot again. A writer whose PUT
        # lands on a slot someone had confirmed reads that writer's marker after its own wait:
        # it overlapped, whatever its clock said.
        other = _confirmed_by_other(store, n, token, prefix)
        store.put(claim_key(n, prefix), records._sealed(entry))
        again = _read_back(store, n, prefix)
        if again is None or again.get("token") != token:
            n += 1  # overwritten after our read-back: whoever did it finds our marker
            continue
        if took > settle or other is not None:
            _flag(store, n, entry, took, settle, other, prefix)
        _extend_cache(store, n + 1, prefix)
        if other not in (None, "?", record_id) and _repairs:
            # List the overlapped record again (a duplicate is harmless: the list is a set).
            append(store, other, prefix=prefix, _repairs=_repairs - 1)
        return n
    raise BaselineError(f"baseline index of {store.location} is full ({_MAX_SLOTS} slots)")


def claim_key(n: int, prefix: str = INDEX) -> str:
    """Where the writer that confirmed slot ``n`` leaves its marker (a copy of its entry)."""
    return f"{prefix}/claims/{n:08d}.json"


def _read_back(store: Store, n: int, prefix: str) -> dict[str, Any] | None:
    """Slot ``n`` as read back now: None when it is missing, {} when torn or damaged (a
    concurrent write: the slot is not ours)."""
    try:
        return _slot(store, n, prefix)
    except RecordNotFound:
        return None
    except CorruptRecord:
        return {}


def _confirmed_by_other(store: Store, n: int, token: str, prefix: str) -> str | None:
    """The record of another writer's marker on slot ``n`` (it confirmed the slot before our
    PUT landed, or raced us to it), else None."""
    from mlqa.baseline import records

    key = claim_key(n, prefix)
    try:
        marker = records._read_shared(store, key, f"index claim {key} of {store.location}")
    except RecordNotFound:
        return None
    except CorruptRecord:
        return "?"  # someone wrote a marker: an overlap, though we cannot tell whose record
    if marker.get("token") == token:
        return None
    record = marker.get("record")
    return record if isinstance(record, str) and records._ID.match(record) else "?"


def _flag(store: Store, n: int, entry: dict[str, Any], took: float, settle: float,
          other: str | None, prefix: str) -> None:
    """Mark slot ``n`` (ours alone now) so that every ``mlqa baseline list`` warns, and warn.

    A warning, not an error: the save itself succeeded (the record is whole under records/),
    and the overlapped writer's record is listed again right after this; failing the run would
    not undo the overwrite, and would reject a model for a fault of the network or the clock.
    The mark keeps the possible loss in sight of whoever reads the list later."""
    from mlqa.baseline import records

    mark: dict[str, Any] = {"late": round(took, 3)}
    if other is not None:
        mark["overlap"] = other
    store.put(slot_key(n, prefix), records._sealed({**entry, **mark}))
    if other is None:
        why = (f"took {took:.3g} s to claim, longer than settle={settle:g} s: a record saved "
               f"at the same moment may be missing from 'mlqa baseline list'")
    else:
        again = ("a record saved at the same moment may be missing from 'mlqa baseline "
                 "list'" if other == "?" else
                 f"record {other} is listed again in a later slot")
        why = (f"was claimed over another writer's confirmed entry although this writer's "
               f"clock measured {took:.3g} s (settle={settle:g} s: its clock runs slow, or "
               f"the process was suspended between HEAD and PUT); {again}, and 'mlqa "
               f"baseline list' warns about slot {n}")
    warnings.warn(f"baseline index slot {n} in {store.location} {why} (the record stays in the "
                  f"store under records/); raise the store's settle time",
                  BaselineIndexWarning, stacklevel=4)


def _gave_up(store: Store, attempts: int, unreadable: int, settle: float) -> str:
    if unreadable:
        cause = (f"{unreadable} time(s) the slot this writer had just written (and the server "
                 f"had acknowledged) was missing {settle:g} s later: the server acknowledges "
                 f"writes before they are readable (write-behind caching, an eventually "
                 f"consistent proxy); raise {SETTLE_ENV} above that delay or point the store at "
                 f"the repository itself")
    else:
        cause = ("each slot went to another writer: more writers saving at once than the "
                 "index is built for, or a server that does not keep what it acknowledges")
    return (f"could not claim a slot in the record index of {store.location} after {attempts} "
            f"attempt{'s' * (attempts != 1)}: {cause}")


class BaselineIndexWarning(UserWarning):
    """An index slot was claimed more slowly than the store's settle time allows."""


def read(store: Store, *, prefix: str = INDEX) -> tuple[list[str], list[int]]:
    """(record ids, late slots): the cache, then every slot after it up to the first free."""
    ids, late, n = _cached(_cache(store, prefix))
    while n < _MAX_SLOTS:
        try:
            _add_slot(store, n, ids, late, prefix)
        except RecordNotFound:
            break
        n += 1
    return sorted(ids), sorted(late)


def _cached(cache: dict[str, Any] | None) -> tuple[set[str], set[int], int]:
    """(record ids, late slots, slots covered) of a cache (or of none)."""
    if not cache:
        return set(), set(), 0
    return set(cache.get("records", [])), set(cache.get("late", [])), int(cache.get("slots", 0))


def _add_slot(store: Store, n: int, ids: set[str], late: set[int], prefix: str) -> None:
    entry = _slot(store, n, prefix)
    ids.add(entry["record"])
    if entry.get("late") or entry.get("overlap"):
        late.add(n)


def _slot(store: Store, n: int, prefix: str) -> dict[str, Any]:
    from mlqa.baseline import records

    key = slot_key(n, prefix)
    entry = records._read_shared(store, key, f"index slot {key} of {store.location}")
    if not isinstance(entry.get("record"), str) or not records._ID.match(entry["record"]):
        raise CorruptRecord(f"index slot {key} of {store.location} names no record id")
    return entry


def _cache(store: Store, prefix: str) -> dict[str, Any] | None:
    from mlqa.baseline import records

    try:
        doc = records._read_shared(store, cache_key(prefix), f"{prefix} of {store.location}")
    except RecordNotFound:
        return None
    if not isinstance(doc.get("records", []), list) or \
            not isinstance(doc.get("slots", 0), int) or not isinstance(doc.get("late", []), list):
        raise CorruptRecord(f"{prefix} of {store.location} is malformed")
    return doc


def _extend_cache(store: Store, upto: int, prefix: str) -> None:
    """Add slots ``[cached, upto)`` to the cache, and slot ``upto - 1`` (the one just claimed)
    again: a cache built while another writer held it before an overlap names that writer's
    record, not ours. Called after the claim's wait, when those slots can no longer change.
    One read and one write: a concurrent update may replace this one, but every version holds
    everything the version it was built from held."""
    from mlqa.baseline import records

    try:
        current = _cache(store, prefix)
    except CorruptRecord:
        return  # leave it for a reader to report; the slots hold the truth
    ids, late, start = _cached(current)
    held = (set(ids), set(late))
    for m in range(min(start, upto - 1), upto):
        _add_slot(store, m, ids, late, prefix)
    if start >= upto and (ids, late) == held:
        return
    store.put(cache_key(prefix), records._sealed({"schema": records.SCHEMA,
                                                  "records": sorted(ids),
                                                  "slots": max(start, upto),
                                                  "late": sorted(late)}))
