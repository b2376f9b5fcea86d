"""Bad MLflow model URIs and tracking URIs, dead and silent tracking servers, for the
``mlflow:`` baseline, ``mlqa gate --registry`` and ``mlqa baseline promote --registry``: each an
``InputError`` (a ``BaselineError`` subclass for a baseline) or exit 2 naming what was wrong,
within the stated deadline, never a raw MLflow exception, never a credential."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from _matrix import Case, cases, cli, input_error, refusal, run_case
from _silent_server import silent_server
from test_gate_cases import folder

from mlqa.baseline import BaselineError, StoreError
from mlqa.registry.mlflow import MlflowBaseline, timeout_setting

SECRET = ("s3cret",)
SPEC = "mlflow:models:/churn@champion"


def _dead_uri() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _approved(tmp: Path) -> Path:
    """A bundle the gate approves (one passed check, its session record, provenance)."""
    bundle = folder(tmp)
    (bundle / "provenance.json").write_text(json.dumps({"schema": 1}))
    return bundle


def _silent(action: Any) -> Any:
    def run(tmp: Path) -> Any:
        with silent_server("") as uri:
            return action(uri, tmp)
    return run


def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLQA_MLFLOW_TIMEOUT", "1")  # deadline 6 s per call


UNREACHABLE = "server down, unreachable or not answering (gave up after 3 attempts of 1 s each"

MLFLOW = [
    Case("mlflow-baseline-not-a-model-uri", lambda tmp: MlflowBaseline("mlflow:churn@champion"),
         input_error("is not an MLflow model URI: write models:/NAME@ALIAS", exc=BaselineError)),
    Case("mlflow-baseline-version-not-a-number",
         lambda tmp: MlflowBaseline("mlflow:models:/churn/latest"),
         input_error("write models:/NAME@ALIAS or models:/NAME/VERSION", exc=BaselineError)),
    Case("mlflow-baseline-no-tracking-uri", lambda tmp: MlflowBaseline(SPEC, env={}).load(),
         input_error("no MLflow tracking URI: give --tracking-uri or set MLFLOW_TRACKING_URI",
                     exc=StoreError)),
    Case("mlflow-baseline-sqlite-missing",
         lambda tmp: MlflowBaseline(SPEC, f"sqlite:///{tmp}/none.db").load(),
         input_error("no such database file", exc=StoreError)),
    Case("mlflow-baseline-file-store", lambda tmp: MlflowBaseline(SPEC, str(tmp)).load(),
         input_error("is not http(s)://, sqlite:/// or databricks", exc=StoreError)),
    Case("mlflow-baseline-credentials-in-uri",
         lambda tmp: MlflowBaseline(SPEC, "http://bob:s3cret@127.0.0.1:9/").load(),
         input_error("credentials in the URL would be shown in build logs", exc=StoreError,
                     absent=SECRET)),
    Case("mlflow-baseline-dead-server", lambda tmp: MlflowBaseline(SPEC, _dead_uri()).load(),
         input_error(UNREACHABLE, exc=StoreError)),
    Case("mlflow-baseline-silent-server",
         _silent(lambda uri, tmp: MlflowBaseline(SPEC, uri).load()),
         input_error("Read timed out. (read timeout=1)", exc=StoreError)),
    Case("mlflow-timeout-zero", lambda tmp: timeout_setting({"MLQA_MLFLOW_TIMEOUT": "0"}),
         input_error("MLQA_MLFLOW_TIMEOUT='0': whole seconds from 1 to 600 expected")),
    Case("mlflow-gate-bad-model-uri",
         lambda tmp: cli("gate", _approved(tmp), "--registry", "churn/1",
                         "--tracking-uri", _dead_uri()),
         refusal("'churn/1' is not an MLflow model URI")),
    Case("mlflow-gate-dead-server",
         lambda tmp: cli("gate", _approved(tmp), "--registry", "models:/churn/1",
                         "--tracking-uri", _dead_uri()),
         refusal(UNREACHABLE)),
    Case("mlflow-gate-silent-server",
         _silent(lambda uri, tmp: cli("gate", _approved(tmp), "--registry", "models:/churn/1",
                                      "--tracking-uri", uri)),
         refusal("Read timed out")),
    Case("mlflow-promote-no-tracking-uri",
         lambda tmp: cli("baseline", "promote", "--registry", "models:/churn@challenger",
                         "--tracking-uri", f"sqlite:///{tmp}/none.db"),
         refusal("no such database file")),
    Case("mlflow-promote-dead-server",
         lambda tmp: cli("baseline", "promote", "--registry", "models:/churn@challenger",
                         "--tracking-uri", _dead_uri()),
         refusal(UNREACHABLE)),
    Case("mlflow-promote-credentials-in-uri",
         lambda tmp: cli("baseline", "promote", "--registry", "models:/churn@challenger",
                         "--tracking-uri", "https://bob:s3cret@mlflow.example"),
         refusal("credentials in the URL", absent=SECRET)),
]


@pytest.mark.parametrize("case", cases(MLFLOW))
def test_case(case, tmp_path, record_property, monkeypatch):
    _quick(monkeypatch)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run_case(case, tmp_path, record_property)
