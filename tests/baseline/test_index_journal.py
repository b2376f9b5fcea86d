"""The record list of a store without folder listing (Nexus raw, Artifactory generic): a journal
of numbered slots (mlqa.baseline.journal) instead of a shared index.json that concurrent writers
overwrote (3 writers x 5 records left 9 of 15 listed)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from mlqa.baseline import HttpStore, LocalStore, RecordBuilder, record_ids
from mlqa.baseline.journal import BaselineIndexWarning, slot_key
from mlqa.baseline.records import SCHEMA, _sealed, listing
from mlqa.cli import main

WRITER = """
import json, pathlib, sys, time
import numpy as np
from mlqa.baseline import HttpStore, RecordBuilder

url, client, barrier = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
(barrier / str(client)).touch()  # imports done: wait for the others, then all save at once
while len(list(barrier.iterdir())) < 4:
    time.sleep(0.005)
store = HttpStore(url, env={}, settle=1.0, backoff=0.01)
ids = []
for i in range(5):
    builder = RecordBuilder(model_name="m", model_version=f"{client}.{i}")
    builder.add_latency("cpu", np.full(10, 1.0 + client + i / 10))
    ids.append(builder.save(store, aliases=()))  # back to back: the index is the contention
print(json.dumps(ids))
"""


def test_concurrent_writer_processes_never_lose_a_record_without_listing(plain_server, capsys,
                                                                         tmp_path):
    """Four processes save five records each at once into a repository that can neither list
    folders nor honour conditional requests: all twenty are listed. (The index.json
    read-modify-write this replaced lost entries here in 2 of 4 runs.)"""
    store = HttpStore(plain_server, env={})
    assert store.children is None  # no WebDAV: the journal is what is under test
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, plain_server, str(client),
                                 str(barrier)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for client in range(4)]
    written = []
    for proc in writers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "BaselineIndexWarning" not in err  # every claim was in time: the promise holds
        written += json.loads(out)
    assert len(set(written)) == 20
    assert record_ids(store) == sorted(written)

    capsys.readouterr()
    assert main(["baseline", "list", "--store", plain_server]) == 0
    captured = capsys.readouterr()
    assert sorted(line.split()[0] for line in captured.out.splitlines()) == sorted(written)
    assert "warning" not in captured.err


class StallingStore(HttpStore):
    """A client that stalls between reading the index and writing it (a GC pause, a slow
    network) until another writer's save has returned, or ``stall`` seconds have passed."""

    def __init__(self, url: str, *, read: threading.Event, other_done: threading.Event,
                 stall: float, settle: float):
        super().__init__(url, env={}, settle=settle, backoff=0.01)
        self.read, self.other_done, self.stall = read, other_done, stall

    def put(self, key: str, data: bytes) -> None:
        if key.startswith("index") and not self.read.is_set():
            self.read.set()  # this writer has read the index: let the other one run
            self.other_done.wait(self.stall)
        super().put(key, data)


def test_a_writer_stalled_between_read_and_write_loses_no_entry(plain_server):
    """The lost update itself, made to happen: writer A reads the index, stalls while writer B
    saves completely, then writes. A read-modify-write index.json loses B's record here every
    time; the journal lists both because B's slot is not its own until ``settle`` has passed."""
    a_read, b_done = threading.Event(), threading.Event()
    stalling = StallingStore(plain_server, read=a_read, other_done=b_done, stall=0.3,
                             settle=0.8)
    plain = HttpStore(plain_server, env={}, settle=0.8, backoff=0.01)
    saved: dict[str, str] = {}

    def writer_b() -> None:
        assert a_read.wait(30)
        saved["b"] = _save(plain, "b")
        b_done.set()

    thread = threading.Thread(target=writer_b)
    thread.start()
    saved["a"] = _save(stalling, "a")
    thread.join(60)
    assert record_ids(plain) == sorted(saved.values())


class NoListing(LocalStore):
    """A folder store that, like a plain HTTP repository, cannot list (so keeps the journal)."""
    children = None

    def __init__(self, path, settle: float = 0.2):
        super().__init__(path)
        self.settle = settle


def _save(store, version: str) -> str:
    builder = RecordBuilder(model_name="m", model_version=version)
    builder.add_latency("cpu", np.ones(5))
    return builder.save(store, aliases=())


def test_slots_are_read_past_the_cache_and_old_index_entries_stay(tmp_path):
    store = NoListing(tmp_path)
    first = _save(store, "1")
    # an index.json written before the journal existed lists a record no slot names
    legacy = "20200101T000000000000Z-0123456789"
    store.put("index.json", _sealed({"schema": SCHEMA, "records": [legacy, first]}))
    second, third = _save(store, "2"), _save(store, "3")
    assert record_ids(store) == sorted([legacy, first, second, third])
    # the cache is only a shortcut: slots written after it are still found
    store.put("index.json", _sealed({"schema": SCHEMA, "records": [legacy, first], "slots": 1}))
    assert record_ids(store) == sorted([legacy, first, second, third])
    assert json.loads(store.get(slot_key(2)))["record"] == third


def test_a_claim_slower_than_settle_is_loud_at_save_and_in_the_list(plain_server, capsys):
    store = HttpStore(plain_server, env={}, settle=1e-9)  # any real HEAD + PUT takes longer
    with pytest.warns(BaselineIndexWarning, match=r"slot 0 .* longer than settle=1e-09 s"):
        record = _save(store, "1")
    assert listing(store) == ([record], [0])
    capsys.readouterr()
    assert main(["baseline", "list", "--store", plain_server]) == 0
    captured = capsys.readouterr()
    assert captured.out.split()[0] == record
    assert "warning: index slot 0" in captured.err and "may be missing" in captured.err


def test_settle_is_validated_and_read_from_the_environment():
    assert HttpStore("http://127.0.0.1:9/x/", env={"MLQA_STORE_SETTLE": "0.25"}).settle == 0.25
    assert HttpStore("http://127.0.0.1:9/x/", env={}).settle == 5.0
    with pytest.raises(ValueError, match="MLQA_STORE_SETTLE must be a number of seconds"):
        HttpStore("http://127.0.0.1:9/x/", env={"MLQA_STORE_SETTLE": "soon"})
    with pytest.raises(ValueError, match="settle= must be a number of seconds > 0 and <= 300"):
        HttpStore("http://127.0.0.1:9/x/", env={}, settle=0)
