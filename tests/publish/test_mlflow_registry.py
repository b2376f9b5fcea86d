"""The MLflow registry round trip against a real sqlite-backed tracking store: a run saves its
baseline record, the pipeline logs and registers the model, ``mlqa gate --registry`` approves
it (tags, evidence artifacts, alias ``challenger``), ``mlqa baseline promote --registry`` moves
``champion``, and the next run reads ``mlflow:models:/churn@champion`` as its baseline: the
champion's own predictions, compared paired, without rescoring."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _silent_server import silent_server
from test_maven_baseline import SUITE  # saves model, predictions, latency; COMPARE=1 compares

from mlqa.baseline import CorruptRecord, RecordNotFound, StoreError, load_record
from mlqa.cli import main
from mlqa.history import read_history
from mlqa.registry.mlflow import MlflowBaseline, deadline


def _pytest(base: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "COMPARE")}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:faker",
           "-p", "no:anyio", "-p", "no:hypothesispytest", *args, str(base / "test_model.py")]
    return subprocess.run(cmd, cwd=base, env={**clean, **env}, capture_output=True, text=True,
                          timeout=300, check=False)


def _outcomes(results: Path) -> dict[str, str]:
    lines = [json.loads(x) for x in (results / "results.jsonl").read_text().splitlines()]
    return {r["nodeid"].split("::")[-1]: r["result"]["outcome"] for r in lines}


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    """A passed run that saved its baseline record: its store, results bundle and suite in
    ``work/``, and a pristine copy of them. Made once per module (4-5 s), not once per test."""
    base = tmp_path_factory.mktemp("saved-run")
    work = base / "work"
    work.mkdir()
    (work / "test_model.py").write_text(SUITE)
    ran = _pytest(work, f"--mlqa-baseline={work / 'store'}", "--mlqa-save-baseline",
                  f"--mlqa-results={work / 'run1'}")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    shutil.copytree(work, base / "pristine")
    return work


@pytest.fixture
def first_run(saved_run, mlflow_store):
    """The saved run, as it was made (restored at the same path: the bundle names its store),
    and its model logged and registered as version 1 of churn (what the training pipeline
    does before the gate)."""
    shutil.rmtree(saved_run)
    shutil.copytree(saved_run.parent / "pristine", saved_run)
    tmp_path = saved_run
    model = tmp_path / "model.skops"
    model.write_bytes(b"the model file")
    run_id = mlflow_store.log_model_run(model)
    assert mlflow_store.register("churn", run_id) == "1"
    return tmp_path, run_id


def test_round_trip_gate_promote_and_champion_as_baseline(first_run, mlflow_store, capsys,
                                                          monkeypatch):
    base, run_id = first_run
    monkeypatch.setenv("BUILD_URL", "https://jenkins.example/job/churn/7/")
    assert main(["gate", str(base / "run1"), "--registry", "models:/churn/1"]) == 0
    out = capsys.readouterr().out
    assert "alias challenger set" in out
    version = mlflow_store.version("churn", "1")
    bundle_sha = version.tags["mlqa.bundle_sha256"]
    assert bundle_sha == hashlib.sha256((base / "run1/results.jsonl").read_bytes()).hexdigest()
    assert version.tags["mlqa.verdict"] == "APPROVE"
    assert version.tags["mlqa.build_url"] == "https://jenkins.example/job/churn/7/"
    assert mlflow_store.aliases("churn") == {"challenger": "1"}
    logged = {f.path for f in mlflow_store.client.list_artifacts(run_id, "mlqa")}
    assert {"mlqa/verdict.json", "mlqa/evidence", "mlqa/baseline"} <= logged

    assert main(["baseline", "promote", "--registry", "models:/churn@challenger",
                 "--by", "alice", "--reason", "beats the rules model"]) == 0
    assert mlflow_store.aliases("churn") == {"challenger": "1", "champion": "1"}
    tags = mlflow_store.version("churn", "1").tags
    assert (tags["mlqa.promoted_by"], tags["mlqa.promote_reason"]) == \
        ("alice", "beats the rules model")

    # the next run compares with the champion's own predictions, paired
    spec = "--mlqa-baseline=mlflow:models:/churn@champion"
    good = _pytest(base, spec, f"--mlqa-results={base / 'run2'}", "--junitxml=run2.xml",
                   COMPARE="1", MLFLOW_TRACKING_URI=mlflow_store.uri)
    assert good.returncode == 0, good.stdout + good.stderr
    assert _outcomes(base / "run2") == {"test_accuracy": "pass", "test_no_regression": "pass"}
    junit = (base / "run2.xml").read_text()
    assert 'name="mlqa.baseline_alias" value="mlflow champion"' in junit
    assert 'name="mlqa.baseline_model" value="churn 1"' in junit  # the registry's version
    assert 'name="mlqa.baseline_promoted_by" value="alice"' in junit
    bad = _pytest(base, spec, f"--mlqa-results={base / 'run3'}", COMPARE="1", DEGRADE="1",
                  MLFLOW_TRACKING_URI=mlflow_store.uri)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert _outcomes(base / "run3")["test_no_regression"] == "fail"

    record = MlflowBaseline("mlflow:models:/churn@champion", mlflow_store.uri).load()
    saved = load_record(base / "store", "latest")
    assert (record.predictions("holdout").y_pred == saved.predictions("holdout").y_pred).all()
    assert list(record.latency("predict").samples_ms) == [1.0, 1.25, 0.9, 1.1]


def test_a_refused_bundle_writes_nothing(runs, mlflow_store, tmp_path):
    run_id = mlflow_store.log_model_run(runs[2])
    mlflow_store.register("churn", run_id)
    assert main(["gate", str(runs[1]), "--registry", "models:/churn/1"]) == 1
    assert mlflow_store.version("churn", "1").tags == {}
    assert mlflow_store.aliases("churn") == {}
    assert mlflow_store.client.list_artifacts(run_id, "mlqa") == []
    # nor can an ungated version be promoted
    assert main(["baseline", "promote", "--registry", "models:/churn/1"]) == 2
    assert mlflow_store.aliases("churn") == {}


def test_a_champion_without_predictions_is_an_error_naming_what_to_log(first_run, mlflow_store):
    base, _ = first_run
    mlflow_store.client.set_registered_model_alias("churn", "champion", "1")  # not gated
    ran = _pytest(base, "--mlqa-baseline=mlflow:models:/churn@champion",
                  f"--mlqa-results={base / 'run2'}", COMPARE="1",
                  MLFLOW_TRACKING_URI=mlflow_store.uri)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert _outcomes(base / "run2")["test_no_regression"] == "error"
    assert "holds no predictions mlqa logged: gate it with `mlqa gate BUNDLE --registry " \
           "models:/churn/1` after a run saved with --mlqa-save-baseline" in ran.stdout


def test_an_approved_run_that_saved_no_record_is_no_baseline(runs, mlflow_store):
    mlflow_store.register("churn", mlflow_store.log_model_run(runs[2]))
    assert main(["gate", str(runs[0]), "--registry", "models:/churn/1"]) == 0
    with pytest.raises(RecordNotFound, match="holds no baseline record"):
        MlflowBaseline("mlflow:models:/churn@challenger", mlflow_store.uri).load()


def test_promote_with_a_bundle_judges_it_and_wants_the_bundle_the_version_was_approved_for(
        first_run, runs, mlflow_store, capsys):
    base, _ = first_run
    assert main(["gate", str(base / "run1"), "--registry", "models:/churn/1"]) == 0
    promote = ["baseline", "promote", "--registry", "models:/churn@challenger", "--by", "bob"]
    assert main([*promote, "--bundle", str(runs[1])]) == 1  # the gate refuses that bundle
    assert main([*promote, "--bundle", str(runs[0])]) == 2  # approved, but not version 1's
    assert "was approved for bundle sha256" in capsys.readouterr().err
    assert "champion" not in mlflow_store.aliases("churn")
    assert main([*promote, str(base / "run1")]) == 0  # the bundle as REF
    assert mlflow_store.aliases("churn")["champion"] == "1"
    # the run's build is approved in its history, as a plain promote marks it
    assert "marked approved" in capsys.readouterr().out
    (build,) = read_history(base / "store").builds
    assert (build.approved, build.released) == (True, False)


def test_evidence_altered_on_the_run_is_refused(first_run, mlflow_store, tmp_path):
    base, run_id = first_run
    assert main(["gate", str(base / "run1"), "--registry", "models:/churn/1"]) == 0
    art = tmp_path / "mlflow/artifacts"
    npz = next(art.rglob("predictions/holdout.npz"))
    npz.write_bytes(npz.read_bytes()[:-1] + bytes([npz.read_bytes()[-1] ^ 1]))
    with pytest.raises(CorruptRecord, match="differs from the verdict's SHA-256"):
        MlflowBaseline("mlflow:models:/churn@challenger", mlflow_store.uri).load()


@pytest.mark.parametrize("server", ["dead", "silent"])
def test_a_tracking_server_that_does_not_answer_is_an_error_within_the_deadline(
        monkeypatch, server):
    """MLflow's own client would retry for about 4 minutes; mlqa's calls give up within
    ``deadline()`` (3 attempts of MLQA_MLFLOW_TIMEOUT s plus 2 s of backoff, + 1 s)."""
    import mlflow.tracking  # noqa: F401 - the import (seconds) is not the call being timed

    monkeypatch.setenv("MLQA_MLFLOW_TIMEOUT", "1")
    with contextlib.ExitStack() as stack:
        if server == "silent":
            uri = stack.enter_context(silent_server(""))
        else:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                uri = f"http://127.0.0.1:{s.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(StoreError, match="server down, unreachable or not answering"):
            MlflowBaseline("mlflow:models:/churn@champion", uri).load()
        took = time.monotonic() - started
    assert took < deadline(1) == 6
