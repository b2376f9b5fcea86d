"""Baseline records in a LocalStore: round trip, checksums, truncation, newer schemas, model
formats, fingerprints, concurrent writers."""

from __future__ import annotations

import concurrent.futures
import json
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.tree import DecisionTreeClassifier

from mlqa.baseline import (
    BaselineError,
    CorruptRecord,
    LocalStore,
    RecordBuilder,
    RecordNotFound,
    UnsafeModelFormat,
    fingerprint,
    load_record,
    open_store,
    record_ids,
    set_alias,
)
from mlqa.baseline import models as model_files
from mlqa.baseline.records import SCHEMA, aliases
from mlqa.errors import InputError


def _save(store, seed=0, **kwargs) -> str:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 500)
    pred = np.where(rng.random(500) < 0.8, y, rng.integers(0, 3, 500))
    builder = RecordBuilder(model_name="m", model_version=str(seed))
    builder.add_predictions("holdout", y, pred, metrics=["accuracy", "f1_macro"])
    builder.add_latency("gpu_b8", rng.gamma(3, 1, 1000), environment={"gpu": "H100"}, batch=8)
    builder.add_drift_reference("ref", pd.DataFrame({"a": rng.normal(size=50),
                                                     "b": rng.choice(["x", "y"], 50)}))
    return builder.save(store, **kwargs)


def test_round_trip_and_layout(tmp_path):
    store = LocalStore(tmp_path)
    record_id = _save(store)
    record = load_record(store, "latest")
    assert record.id == record_id and record_ids(store) == [record_id]
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["aliases/latest.json", *(f"records/{record_id}/{f}" for f in (
        "drift/ref.parquet", "latency/gpu_b8.npz", "predictions/holdout.npz", "record.json"))]
    assert record.metric("holdout", "accuracy") == pytest.approx(
        (record.predictions("holdout").y_true == record.predictions("holdout").y_pred).mean())
    lat = record.latency("gpu_b8")
    assert lat.samples_ms.shape == (1000,) and lat.environment == {"gpu": "H100"}
    assert lat.info["batch"] == 8
    assert record.drift_reference("ref").shape == (50, 2)
    doc = json.loads((tmp_path / "records" / record_id / "record.json").read_text())
    assert doc["schema"] == SCHEMA and len(doc["sha256"]) == 64
    assert doc["evaluations"]["holdout"]["metrics"]["f1_macro"]["config"] == {
        "name": "f1_macro", "kwargs": {"average": "macro"}, "input": "labels",
        "greater_is_better": True}
    assert doc["provenance"]["python"] and "git" in doc["provenance"]  # mlqa.provenance
    with pytest.raises(RecordNotFound, match="has no evaluations entry 'other'.*holdout"):
        record.predictions("other")


def _record_file(tmp_path, record_id):
    return tmp_path / "records" / record_id / "record.json"


def test_truncated_record_is_a_clear_error(tmp_path):
    record_id = _save(LocalStore(tmp_path))
    path = _record_file(tmp_path, record_id)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CorruptRecord, match="not valid JSON.*truncated or corrupt"):
        load_record(tmp_path, record_id)


def test_edited_record_fails_its_checksum(tmp_path):
    record_id = _save(LocalStore(tmp_path))
    path = _record_file(tmp_path, record_id)
    doc = json.loads(path.read_text())
    doc["evaluations"]["holdout"]["metrics"]["accuracy"]["value"] = 0.99
    path.write_text(json.dumps(doc))
    with pytest.raises(CorruptRecord, match="failed its sha256 check"):
        load_record(tmp_path, record_id)


def test_corrupt_and_truncated_side_files(tmp_path):
    record_id = _save(LocalStore(tmp_path))
    side = tmp_path / "records" / record_id / "predictions" / "holdout.npz"
    data = side.read_bytes()
    side.write_bytes(data[:-10])
    record = load_record(tmp_path, record_id)  # the record itself is fine
    with pytest.raises(CorruptRecord, match=r"holdout.npz failed its sha256 check \(\d+ of"):
        record.predictions("holdout")
    side.write_bytes(data[:100] + b"X" + data[101:])
    with pytest.raises(CorruptRecord, match="truncated or corrupt"):
        load_record(tmp_path, record_id).predictions("holdout")


def test_newer_schema_is_refused_with_upgrade_hint(tmp_path):
    from mlqa.baseline.records import _sealed

    record_id = _save(LocalStore(tmp_path))
    path = _record_file(tmp_path, record_id)
    doc = json.loads(path.read_text())
    doc["schema"] = SCHEMA + 1
    path.write_bytes(_sealed(doc))
    with pytest.raises(BaselineError, match=f"schema {SCHEMA + 1}, newer.*upgrade mlqa"):
        load_record(tmp_path, record_id)


@pytest.mark.parametrize("edit, said", [
    (lambda entry: entry.pop("bytes"), "field 'bytes' is missing, must be int"),
    (lambda entry: entry.update(sha256=None), "field 'sha256' is None, must be str"),
], ids=["no bytes", "sha256 null"])
def test_sealed_files_entry_without_its_size_or_hash_is_refused_by_name(tmp_path, edit, said):
    """A record sealed (valid checksum) with a files entry lacking 'bytes' was a raw KeyError
    when its predictions were read; it is refused when loaded, naming record, file and field."""
    from mlqa.baseline.records import _sealed

    record_id = _save(LocalStore(tmp_path))
    path = _record_file(tmp_path, record_id)
    doc = json.loads(path.read_text())
    edit(doc["files"]["predictions/holdout.npz"])
    path.write_bytes(_sealed(doc))
    with pytest.raises(CorruptRecord) as info:
        load_record(tmp_path, record_id).predictions("holdout")
    assert str(info.value) == (f"record {record_id}: files entry 'predictions/holdout.npz' "
                               f"{said}")
    assert isinstance(info.value, InputError)


def test_promoting_a_bundle_reference_of_a_newer_schema_is_refused(tmp_path, capsys):
    """The run's baseline.json (the record to promote) was read whatever its schema."""
    from mlqa.baseline.reference import REFERENCE_SCHEMA
    from mlqa.cli import main

    store = tmp_path / "store"
    record_id = _save(LocalStore(store))
    bundle = tmp_path / "results"
    bundle.mkdir()
    reference = {"schema": REFERENCE_SCHEMA + 1, "store": str(store), "record": record_id}
    (bundle / "baseline.json").write_text(json.dumps(reference))
    assert main(["baseline", "promote", str(bundle)]) == 2
    assert (f"baseline.json has schema {REFERENCE_SCHEMA + 1}, newer than this mlqa reads "
            f"({REFERENCE_SCHEMA})") in capsys.readouterr().err
    assert "approved" not in aliases(LocalStore(store))


def test_not_a_record_and_missing_alias(tmp_path):
    record_id = _save(LocalStore(tmp_path))
    _record_file(tmp_path, record_id).write_text("[1, 2]")
    with pytest.raises(CorruptRecord, match="not an mlqa baseline document"):
        load_record(tmp_path, record_id)
    with pytest.raises(RecordNotFound, match="no baseline 'approved'"):
        load_record(tmp_path)
    with pytest.raises(InputError, match="alias name"):
        load_record(tmp_path, "../../etc/passwd")


def test_aliases_point_at_verified_records(tmp_path):
    store = LocalStore(tmp_path)
    first = _save(store)
    second = _save(store, seed=1)
    assert aliases(store) == {"latest": second}
    assert set_alias(store, "approved", first, by="gk", reason="signed off") == first
    assert load_record(store).id == first
    doc = json.loads((tmp_path / "aliases" / "approved.json").read_text())
    assert doc["by"] == "gk" and doc["reason"] == "signed off"
    _record_file(tmp_path, second).write_text("{")
    with pytest.raises(CorruptRecord):
        set_alias(store, "approved", second)  # a broken record is never promoted
    assert load_record(store).id == first


_WRITER = """
import sys
import numpy as np
from mlqa.baseline import RecordBuilder
y = np.arange(500) % 3
builder = RecordBuilder(model_name="m", model_version=sys.argv[2])
builder.add_predictions("holdout", y, y, metrics=())
print(builder.save(sys.argv[1]))
"""


def test_concurrent_writers_threads_and_processes(tmp_path):
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda s: _save(LocalStore(tmp_path), seed=s), range(8)))
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(s)],
                              stdout=subprocess.PIPE, text=True) for s in range(2)]
    spawned = [p.communicate(timeout=120)[0].strip() for p in procs]
    written = threaded + spawned
    assert sorted(written) == record_ids(LocalStore(tmp_path))
    for record_id in written:
        assert load_record(tmp_path, record_id).predictions("holdout").y_pred.shape == (500,)
    assert load_record(tmp_path, "latest").id in written
    assert not list(tmp_path.rglob("*.tmp"))  # no temp file left behind


def test_fingerprint_is_about_values_not_dtypes():
    y = np.array([0, 1, 1, 1])
    assert fingerprint(y) == fingerprint(y.astype(np.int32)) == fingerprint(y.astype(float))
    assert fingerprint(y).label_set == (0, 1)
    assert fingerprint(y) != fingerprint(y[::-1])
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": list("wxyz")})
    assert fingerprint(y, frame).features_sha256 != fingerprint(y, frame.iloc[::-1]).features_sha256
    assert fingerprint(np.linspace(0, 1, 50)).label_set is None  # continuous target


def test_open_store_picks_the_kind():
    assert isinstance(open_store("some/dir"), LocalStore)
    assert open_store("http://127.0.0.1:1/x").location == "http://127.0.0.1:1/x/"
    with pytest.raises(InputError, match="unsupported scheme 's3'"):
        open_store("s3://bucket/x")


# -- model files ------------------------------------------------------------------------------


def test_sklearn_model_is_stored_as_skops_and_loads(tmp_path):
    X = np.random.default_rng(0).normal(size=(100, 3))
    model = DecisionTreeClassifier(random_state=0).fit(X, X[:, 0] > 0)
    builder = RecordBuilder(model_name="tree", model_version="7")
    builder.set_model(model)
    builder.save(tmp_path)
    record = load_record(tmp_path, "latest")
    assert record.model["format"] == "skops" and len(record.model["sha256"]) == 64
    assert np.array_equal(record.load_model().predict(X), model.predict(X))


def test_pickles_are_refused_unless_trusted(tmp_path):
    model = DecisionTreeClassifier().fit([[0], [1]], [0, 1])
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    builder = RecordBuilder()
    builder.set_model(path=path, name="legacy")
    builder.save(tmp_path / "store")
    record = load_record(tmp_path / "store", "latest")
    assert record.model["format"] == "pickle"
    with pytest.raises(UnsafeModelFormat, match="loading a pickle runs whatever code"):
        record.load_model()
    assert record.load_model(trust=True).predict([[1]])[0] == 1
    # the name does not decide: a pickle called model.skops is still a pickle
    assert model_files.sniff(pickle.dumps(model), "model.skops") == "pickle"
    assert model_files.sniff(pickle.dumps(model), "model.onnx") == "pickle"


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.linear(x)


@pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")
def test_torch_formats(tmp_path):
    net = _Net()
    weights, fmt, name = model_files.serialize(net)
    assert fmt == "safetensors" and name == "model.safetensors"
    state = model_files.load(weights)
    assert torch.equal(state["linear.weight"], net.linear.weight.detach())
    scripted, fmt, _ = model_files.serialize(net, format="torchscript")
    assert fmt == "torchscript" and model_files.sniff(scripted) == "torchscript"
    x = torch.ones(1, 4)
    assert torch.allclose(model_files.load(scripted)(x), net(x))
    path = tmp_path / "net.pt"
    torch.save(net, path)  # a full pickle inside torch's zip
    assert model_files.sniff(path.read_bytes()) == "pickle"
    with pytest.raises(UnsafeModelFormat):
        model_files.load(path.read_bytes(), name="net.pt")


def _custom_feature(x):
    return x * 2


def test_skops_file_with_an_unknown_callable_is_refused(tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    model = make_pipeline(FunctionTransformer(_custom_feature),
                          DecisionTreeClassifier()).fit(np.array([[0], [1]]), [0, 1])
    data, fmt, _ = model_files.serialize(model)
    assert fmt == "skops"
    with pytest.raises(UnsafeModelFormat, match="_custom_feature"):
        model_files.load(data, name="model.skops")
    assert model_files.load(data, trust=True).predict(np.array([[1]]))[0] == 1


def _latency_run(median, seed, env=None):
    from mlqa.latency import LatencyReport, LatencyResult

    rng = np.random.default_rng(seed)
    env = {"device": "cpu", "device_type": "cpu", "device_name": "Test CPU", "torch": "2.13.0",
           "cuda": None, "n_threads": 1, "mode": "eager", **(env or {})}
    results = {bs: LatencyResult(bs, np.round(rng.lognormal(np.log(median * bs ** 0.5), 0.1,
                                                             1200) * 1e6),
                                 preempted=rng.random(1200) < 0.01) for bs in (1, 8)}
    return LatencyReport(results=results, environment=env, model="mlp")


def test_one_record_holds_all_four_families_and_each_check_takes_what_it_returns(tmp_path):
    """Metric values, predictions, latency runs (with environment) and a drift reference
    profile in one record; check_regression, check_latency_regression and check_drift each take
    what the record returns."""
    import mlqa
    from mlqa.drift import profile
    from mlqa.latency import LatencyRuns, check_latency_regression

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    pred = np.where(rng.random(400) < 0.85, y, 1 - y)
    reference = pd.DataFrame({"a": rng.normal(size=800), "b": rng.choice(["x", "y"], 800)})
    runs = LatencyRuns(tuple(_latency_run(1.0, seed) for seed in range(6)))
    builder = RecordBuilder(model_name="m")
    builder.add_predictions("holdout", y, pred, metrics=["accuracy"])
    builder.add_latency("cpu", runs)
    builder.add_drift_reference("features", profile(reference))
    with pytest.raises(InputError, match="carries its own environment"):
        builder.add_latency("again", runs, environment={"x": 1})
    store = LocalStore(tmp_path)
    record = load_record(store, builder.save(store))

    stored = record.latency("cpu")
    assert isinstance(stored, LatencyRuns) and len(stored) == 6
    assert stored.environment["device_name"] == "Test CPU" and stored.batch_sizes == (1, 8)
    assert np.array_equal(stored[3][8].samples_ns, runs[3][8].samples_ns)
    assert np.array_equal(stored[3][8].preempted, runs[3][8].preempted)
    entry = record.doc["latency"]["cpu"]
    assert entry["kind"] == "runs" and entry["runs"] == 6 and entry["batch_sizes"] == [1, 8]

    same = check_latency_regression(_latency_run(1.0, 99), stored)
    assert same.outcome is mlqa.Outcome.PASS and same.details["runs"] == [1, 6]
    slow = check_latency_regression(_latency_run(1.5, 98), record.latency("cpu"))
    assert slow.outcome is mlqa.Outcome.FAIL
    gpu = check_latency_regression(_latency_run(1.0, 97, {"device_type": "cuda",
                                                           "device_name": "H100"}), stored)
    assert gpu.outcome is mlqa.Outcome.ERROR and gpu.details["incomparable"] == "environment"

    drift = mlqa.check_drift(record.drift_reference("features"), reference.sample(
        frac=1.0, random_state=1))
    assert drift.outcome is mlqa.Outcome.PASS
    assert record.doc["drift_references"]["features"]["kind"] == "profile"

    regression = mlqa.check_regression(y, pred, record.predictions("holdout"),
                                       metric="accuracy", max_drop=0.05)
    assert regression.outcome is mlqa.Outcome.PASS
    bad = mlqa.check_regression(1 - y, pred, record.predictions("holdout"),
                                metric="accuracy", max_drop=0.05)
    assert bad.outcome is mlqa.Outcome.ERROR and bad.details["incomparable"] == "labels"


def test_bare_latency_samples_are_one_run_the_gate_refuses(tmp_path):
    import mlqa
    from mlqa.latency import check_latency_regression

    builder = RecordBuilder()
    base = _latency_run(1.0, 1)
    builder.add_latency("b1", base[1].samples_ms(), environment=dict(base.environment),
                        batch_size=1)
    record = load_record(LocalStore(tmp_path), builder.save(LocalStore(tmp_path)))
    r = check_latency_regression(_latency_run(1.0, 2), record.latency("b1"))
    assert r.outcome is mlqa.Outcome.ERROR and "not offered as a gate" in r.message
