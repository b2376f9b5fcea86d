"""The record index of a store that cannot list folders (mlqa.baseline.journal), under bad
settings and broken servers (issue 24): every setting is refused before anything is written,
a writer whose clock runs slow cannot lose another's entry silently, and a server that
acknowledges writes before they are readable ends in a StoreError, not an endless claim loop.
The servers are real processes on 127.0.0.1 (tests/baseline/plain_server.py)."""

from __future__ import annotations

import json
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _matrix import Case, cases, cli, exit_code, input_error, run_case
from _repository import PLAIN_SERVER, plain_repository, serving

from mlqa.baseline import RecordBuilder, StoreError, record_ids
from mlqa.baseline.journal import BaselineIndexWarning, slot_key
from mlqa.baseline.records import _sealed
from mlqa.baseline.stores import HttpStore, LocalStore, open_store

URL = "http://127.0.0.1:9/x/"  # never contacted: the settings are refused first
RANGE = "must be a number of seconds > 0 and <= 300 (the wait after claiming a record-index slot)"


def _save(store: Any, version: str = "1") -> str:
    builder = RecordBuilder(model_name="m", model_version=version)
    builder.add_latency("cpu", np.ones(5))
    return builder.save(store, aliases=())


def _env_settle(value: str) -> Any:
    """Save into a real repository with MLQA_STORE_SETTLE=value in the environment (as the
    pytest plugin opens a store): refused, and nothing reaches the server."""
    def action(tmp: Path) -> Any:
        with serving(PLAIN_SERVER, tmp, "plain") as (root, port, _), \
                pytest.MonkeyPatch.context() as mp:
            mp.setenv("MLQA_STORE_SETTLE", value)
            try:
                return _save(open_store(f"http://127.0.0.1:{port}/repository/ml/"))
            finally:
                written = [p for p in root.rglob("*") if p.is_file()]
                assert not written, f"written before the setting was refused: {written}"
    return action


class _NoListing(LocalStore):
    """A folder store that, like a plain HTTP repository, cannot list: it keeps the journal."""
    children = None

    def __init__(self, path: Path, settle: Any):
        super().__init__(path)
        self.settle = settle


def _store_settle(tmp: Path) -> Any:
    """Any store kind carrying an infinite settle: refused before the record is written."""
    try:
        return _save(_NoListing(tmp / "s", float("inf")))
    finally:
        assert not (tmp / "s").exists(), "the record was written before settle was refused"


def _slow_clock(tmp: Path) -> Any:
    """Writer A's clock runs at 0.2x. A sees slot 0 free, then stalls (a GC pause, a suspended
    VM) until writer B has claimed slot 0, confirmed it and returned; A's PUT then lands on B's
    confirmed entry while A's clock says it took a fifth of the real time, under settle. Before
    the confirmation markers B's entry was lost with no warning. Now A finds B's marker: it
    warns, flags the slot and lists B's record again, so both are listed and the list warns."""
    settle = 0.3
    headed, b_done = threading.Event(), threading.Event()

    class SlowClock(HttpStore):
        def clock(self) -> float:
            return 0.2 * time.monotonic()

        def put(self, key: str, data: bytes) -> None:
            if key == slot_key(0) and not headed.is_set():
                headed.set()  # A has seen slot 0 free: let B save, then land on it
                b_done.wait(10)
            super().put(key, data)

    with plain_repository(tmp) as url:
        b = HttpStore(url, env={}, settle=settle, backoff=0.01)
        saved: dict[str, str] = {}

        def writer_b() -> None:
            assert headed.wait(10)
            saved["b"] = _save(b, "b")
            b_done.set()

        thread = threading.Thread(target=writer_b)
        thread.start()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            saved["a"] = _save(SlowClock(url, env={}, settle=settle, backoff=0.01), "a")
        thread.join(30)
        assert set(saved) == {"a", "b"}
        assert record_ids(b) == sorted(saved.values()), "an entry was lost"
        said = [str(w.message) for w in caught if issubclass(w.category, BaselineIndexWarning)]
        assert any(f"record {saved['b']} is listed again" in m for m in said), said
        return cli("baseline", "list", "--store", url)


def _write_behind(tmp: Path) -> Any:
    """A server that acknowledges a PUT at once and makes the file readable 1.5 s later."""
    with plain_repository(tmp, visible_after=1.5) as url:
        return _save(HttpStore(url, env={}, settle=0.05, backoff=0.01))


class _AlwaysOverwritten(_NoListing):
    """Every slot this writer claims is overwritten at once by another writer's entry (what
    endless contention, or a server that swaps files, looks like to one writer)."""

    def put(self, key: str, data: bytes) -> None:
        if key.startswith("index/0"):  # a slot, not a claim marker
            entry = json.loads(data)
            data = _sealed({**entry, "token": "someone-else"})
        super().put(key, data)


CASES = [
    *[Case(f"journal-settle-env-{name}", _env_settle(value),
           input_error(f"MLQA_STORE_SETTLE {RANGE}, got {value!r}"))
      for name, value in [("huge", "1e9"), ("inf", "inf"), ("zero", "0"), ("negative", "-1"),
                          ("nan", "nan"), ("empty", "")]],
    Case("journal-settle-arg-inf", lambda tmp: HttpStore(URL, settle=float("inf")),
         input_error(f"HttpStore settle= {RANGE}, got inf")),
    Case("journal-settle-store-attribute-inf", _store_settle,
         input_error(f"_NoListing settle {RANGE}, got inf")),
    Case("journal-timeout-nan", lambda tmp: HttpStore(URL, timeout=float("nan")),
         input_error("HttpStore timeout= must be a finite number of seconds > 0, got nan")),
    Case("journal-deadline-inf", lambda tmp: HttpStore(URL, deadline=float("inf")),
         input_error("HttpStore deadline= must be a finite number of seconds > 0, got inf")),
    Case("journal-backoff-negative", lambda tmp: HttpStore(URL, backoff=-1),
         input_error("HttpStore backoff= must be a finite number of seconds >= 0, got -1")),
    Case("journal-retries-fraction", lambda tmp: HttpStore(URL, retries=1.5),  # type: ignore
         input_error("HttpStore retries= must be a whole number >= 0, got 1.5")),
    Case("journal-writer-clock-slow", _slow_clock,
         exit_code(0, "warning: index slot 0 of http://127.0.0.1:")),
    Case("journal-server-write-behind", _write_behind,
         input_error("after 3 attempts: 3 time(s) the slot this writer had just written (and "
                     "the server had acknowledged) was missing 0.05 s later: the server "
                     "acknowledges writes before they are readable", exc=StoreError)),
    Case("journal-every-slot-lost", lambda tmp: _save(_AlwaysOverwritten(tmp, 0.001)),
         input_error("after 32 attempts: each slot went to another writer", exc=StoreError)),
]


@pytest.mark.parametrize("case", cases(CASES))
def test_case(case: Case, tmp_path: Path, record_property: Any) -> None:
    run_case(case, tmp_path, record_property)
