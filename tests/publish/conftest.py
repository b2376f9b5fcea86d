"""Fixtures of the publishing tests: real runs to publish, a hosted repository on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # maven_server.py and _mvn.py, by name
from maven_server import PASSWORD, USER, MavenServer  # noqa: E402

SUITE = '''
import os, pickle
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
import mlqa

@pytest.mark.mlqa
def test_accuracy_floor():
    X, y = make_classification(n_samples=600, n_features=6, random_state=0)
    model = LogisticRegression().fit(X[:400], y[:400])
    with open(os.environ["MODEL_OUT"], "wb") as fh:
        pickle.dump(model, fh)
    mlqa.expect_metric(y[400:], model.predict(X[400:]), "accuracy",
                       min=float(os.environ["FLOOR"]), ci=None)
'''

@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """(approved results folder, refused results folder, model file) from two real runs."""
    base = tmp_path_factory.mktemp("runs")
    (base / "test_model.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    procs = {}
    for name, floor in (("approved", "0.6"), ("refused", "0.999")):
        args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "-p", "no:faker", "-p", "no:anyio", "-p", "no:hypothesispytest",
                f"--mlqa-results={base / name}", str(base / "test_model.py")]
        procs[name] = subprocess.Popen(
            args, cwd=base, env={**env, "FLOOR": floor, "MODEL_OUT": str(base / f"{name}.pkl")},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == (0 if name == "approved" else 1), out
    return base / "approved", base / "refused", base / "approved.pkl"


@pytest.fixture
def maven_server(tmp_path, monkeypatch):
    """A hosted repository on 127.0.0.1 that wants USER/PASSWORD, given to mlqa through the
    environment as in a Jenkins withCredentials block."""
    monkeypatch.setenv("MLQA_MAVEN_USERNAME", USER)
    monkeypatch.setenv("MLQA_MAVEN_PASSWORD", PASSWORD)
    monkeypatch.delenv("MLQA_MAVEN_TOKEN", raising=False)
    with MavenServer(tmp_path / "served", user=USER, password=PASSWORD) as server:
        yield server
