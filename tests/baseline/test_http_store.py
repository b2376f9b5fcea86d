"""HttpStore against a real HTTP repository process (wsgidav + cheroot on 127.0.0.1)."""

from __future__ import annotations

import concurrent.futures
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlqa.baseline import (
    HttpStore,
    RecordBuilder,
    RecordNotFound,
    StoreError,
    load_record,
    record_ids,
    set_alias,
)
from mlqa.baseline.records import aliases
from mlqa.errors import InputError


def _builder(seed: int = 0) -> tuple[RecordBuilder, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    builder = RecordBuilder(model_name="churn", model_version=f"1.{seed}")
    builder.set_model(model)
    builder.add_predictions("holdout", y, model.predict(X), X=X, metrics=["accuracy", "f1"])
    builder.add_predictions("holdout_scores", y, model.predict_proba(X)[:, 1],
                            metrics=["roc_auc"])
    builder.add_latency("cpu_b1", rng.gamma(4, 0.5, 700), environment={"device": "cpu"})
    builder.add_drift_reference("features", pd.DataFrame(X, columns=list("abcd")))
    return builder, X, y


def test_round_trip_through_the_server(dav_server):
    store = HttpStore(dav_server.url, env=dav_server.env(), backoff=0.01)
    builder, X, y = _builder()
    record_id = builder.save(store)
    assert record_ids(store) == [record_id]
    assert aliases(store) == {"latest": record_id}
    set_alias(store, "approved", "latest", by="gatekeeper")

    record = load_record(HttpStore(dav_server.url, env=dav_server.env()))  # a fresh client
    assert record.id == record_id
    preds = record.predictions("holdout")
    model = record.load_model()
    assert np.array_equal(preds.y_pred, model.predict(X))
    assert np.array_equal(preds.y_true, y)
    assert record.metric("holdout", "accuracy") == pytest.approx((model.predict(X) == y).mean())
    assert record.latency("cpu_b1").samples_ms.shape == (700,)
    assert record.latency("cpu_b1").environment["device"] == "cpu"
    assert list(record.drift_reference("features").columns) == list("abcd")
    # the files really are on the server's disk
    assert (dav_server.root / "baselines" / "records" / record_id / "record.json").is_file()


def test_wrong_password_is_a_clear_401_without_the_password(dav_server):
    store = HttpStore(dav_server.url, env=dav_server.env("not-the-" + dav_server.password))
    with pytest.raises(StoreError) as info:
        store.put("records/x/record.json", b"{}")
    message = str(info.value)
    assert "401" in message and "authentication failed" in message
    assert "MLQA_STORE_USER/MLQA_STORE_PASSWORD" in message
    assert dav_server.password not in message and dav_server.password not in repr(store)
    with pytest.raises(StoreError, match="401"):
        load_record(store, "approved")


def test_credentials_in_the_url_are_used_and_never_shown(dav_server):
    url = dav_server.url.replace("http://", f"http://{dav_server.user}:{dav_server.password}@")
    store = HttpStore(url, env={})
    store.put("probe.txt", b"x")
    assert store.get("probe.txt") == b"x"
    assert dav_server.password not in repr(store) and dav_server.password not in store.location
    with pytest.raises(RecordNotFound) as info:
        store.get("missing.txt")
    assert dav_server.password not in str(info.value)


def test_server_stopped_mid_run_is_a_clear_error(dav_server):
    store = HttpStore(dav_server.url, env=dav_server.env(), retries=2, backoff=0.01, timeout=5)
    builder, _, _ = _builder()
    record_id = builder.save(store)
    dav_server.stop()
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        load_record(store, record_id)
    assert "could not connect" in str(info.value) and "after 3 attempts" in str(info.value)
    assert time.monotonic() - started < 20  # bounded retries, no hang (30 s timeout x 4)
    assert dav_server.password not in str(info.value)


def test_server_errors_are_retried_then_succeed(dav_server):
    store = HttpStore(dav_server.url, env=dav_server.env(), retries=3, backoff=0.01)
    dav_server.fault(500, 2)  # the next two requests fail
    store.put("probe.bin", b"payload")
    assert store.get("probe.bin") == b"payload"


def test_server_errors_beyond_the_retries_fail_clearly(dav_server):
    store = HttpStore(dav_server.url, env=dav_server.env(), retries=2, backoff=0.01)
    dav_server.fault(503, 10)
    with pytest.raises(StoreError, match=r"failed after 3 attempts: HTTP 503"):
        store.get("probe.bin")


def test_missing_baseline_says_how_to_make_one(dav_server):
    store = HttpStore(dav_server.url, env=dav_server.env())
    with pytest.raises(RecordNotFound, match="--mlqa-save-baseline"):
        load_record(store, "approved")


def test_concurrent_writers_never_leave_a_torn_record(dav_server):
    store = HttpStore(dav_server.url, env=dav_server.env(), backoff=0.01)

    def write(seed: int) -> str:
        builder, _, _ = _builder(seed)
        return builder.save(store)  # also moves 'latest' concurrently

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        written = list(pool.map(write, range(6)))
    assert len(set(written)) == 6
    for record_id in written:
        record = load_record(store, record_id)  # checksums of record and side files verified
        assert record.predictions("holdout").y_pred.shape == (300,)
    assert load_record(store, "latest").id in written


def test_head_probes_and_bearer_token_is_never_shown(dav_server):
    store = HttpStore(dav_server.url, env=dav_server.env())
    assert not store.exists("probe.txt")
    store.put("probe.txt", b"x")
    assert store.exists("probe.txt")
    token = "tok-7Hh2-very-secret"
    bearer = HttpStore(dav_server.url, env={"MLQA_STORE_TOKEN": token}, retries=0)
    assert bearer._session().headers["Authorization"] == f"Bearer {token}"
    with pytest.raises(StoreError) as info:  # this server only takes basic auth
        bearer.get("probe.txt")
    assert "credentials from MLQA_STORE_TOKEN" in str(info.value)
    assert token not in str(info.value) and token not in repr(bearer)


def test_a_server_that_never_answers_times_out(tmp_path):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def accept_and_hang():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # never answers
            except OSError:
                continue

    thread = threading.Thread(target=accept_and_hang, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        store = HttpStore(f"http://127.0.0.1:{port}/x/", env={}, timeout=0.3, retries=1,
                          backoff=0.01)
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"after 2 attempts: timed out after 0.3 s"):
            store.get("record.json")
        assert time.monotonic() - started < 20  # not the default 30 s x 4 attempts
    finally:
        stop.set()
        thread.join(5)
        for conn in accepted:
            conn.close()
        listener.close()


def _trickling_server(stop):
    """A server that answers headers at once, then its body one byte every 0.3 s."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                for _ in range(100):
                    if stop.wait(0.3):
                        break
                    conn.sendall(b"x")
            except OSError:
                pass
            finally:
                conn.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


@pytest.mark.parametrize("deadline", [2.0, None], ids=["explicit", "default"])
def test_a_trickling_server_cannot_hold_an_operation_past_its_deadline(deadline):
    import threading

    stop = threading.Event()
    port = _trickling_server(stop)
    try:
        store = HttpStore(f"http://127.0.0.1:{port}/x/", env={}, timeout=1, retries=0,
                          deadline=deadline)
        assert store.deadline == 2.0  # the default: one 1 s attempt and a second to spare
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"no complete answer within the 2 s deadline"):
            store.get("record.json")
        assert time.monotonic() - started < 3.0  # was 30 s (100 bytes x 0.3 s)
    finally:
        stop.set()


def test_concurrent_writers_never_lose_a_record_from_the_list(dav_server):
    """Three clients save five records each at once: the list shows all fifteen (on a WebDAV
    server it comes from the records themselves, not a shared index file)."""

    def write(client: int) -> list[str]:
        store = HttpStore(dav_server.url, env=dav_server.env(), backoff=0.01)
        ids = []
        for i in range(5):
            builder = RecordBuilder(model_name="m", model_version=f"{client}.{i}")
            builder.add_latency("cpu", np.full(10, 1.0 + client + i / 10))
            ids.append(builder.save(store))
        return ids

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        written = [i for ids in pool.map(write, range(3)) for i in ids]
    store = HttpStore(dav_server.url, env=dav_server.env())
    assert store.children is not None  # the test server speaks WebDAV
    assert sorted(record_ids(store)) == sorted(written) and len(set(written)) == 15


def test_no_credential_in_a_session_repr_or_a_store_error():
    from mlqa.baseline.session import BaselineSession

    session = BaselineSession("https://alice:s3cret@repo.example/ml/")
    assert "s3cret" not in repr(session) and "alice" not in repr(session)
    assert repr(session) == "BaselineSession(store='https://repo.example/ml/', ref='approved')"
    with pytest.raises(InputError) as info:
        HttpStore("https://alice@repo.example:s3cret/ml/")  # password where the port goes
    assert "s3cret" not in str(info.value)


def test_no_credential_reaches_the_console_or_junit_under_showlocals(pytester, jenkins_check,
                                                                    monkeypatch):
    monkeypatch.setenv("STORE_URL", "https://alice:s3cret@127.0.0.1:9/ml/")
    pytester.makepyfile(test_leak='''
import os

from mlqa.baseline.session import BaselineSession


def test_fails_with_a_session_in_its_locals():
    session = BaselineSession(os.environ["STORE_URL"], ref="approved")
    session.record
''')
    result = pytester.runpytest_subprocess("-l", "--junitxml=j.xml", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)  # a store it cannot reach: the check could not run
    text = result.stdout.str() + result.stderr.str()
    assert "BaselineSession(store='https://127.0.0.1:9/ml/'" in text
    assert "s3cret" not in text
    assert b"s3cret" not in (pytester.path / "j.xml").read_bytes()
    jenkins_check(pytester.path / "j.xml")
