"""Provenance: content hashes of models and datasets, and the run's environment."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from mlqa import provenance
from mlqa.errors import InputError


@pytest.fixture(autouse=True)
def fresh():
    provenance.clear()
    yield
    provenance.clear()


def test_model_hashes_follow_content_not_identity(tmp_path) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 2)), rng.integers(0, 2, 50)
    a = provenance.model(LogisticRegression().fit(X, y), name="lr")
    b = provenance.model(LogisticRegression().fit(X, y), name="lr")
    c = provenance.model(LogisticRegression(C=0.01).fit(X, y), name="lr")
    assert a.sha256 == b.sha256 != c.sha256 and a.source == "pickle"
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    t1 = provenance.model(net).sha256
    with torch.no_grad():
        net.weight[0, 0] += 1e-3
    assert provenance.model(net).sha256 != t1
    f = tmp_path / "model.bin"
    f.write_bytes(b"weights")
    ident = provenance.model(f)
    assert ident.sha256 == provenance.model(b"weights").sha256 and ident.name == "model.bin"
    hashes = provenance.model_hashes()
    assert hashes.count(a.sha256) == 1 and {c.sha256, t1, ident.sha256} <= set(hashes)
    with pytest.raises(InputError, match="does not exist"):
        provenance.model(tmp_path / "missing.onnx")


def test_dataset_hashes_values_columns_and_dtypes(tmp_path) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    h = provenance.dataset("holdout", df)
    assert (h.rows, h.columns, h.source) == (3, 2, "dataframe")
    assert provenance.dataset("holdout", df.copy()).sha256 == h.sha256
    assert provenance.dataset("holdout", df.assign(a=[1, 2, 4])).sha256 != h.sha256
    assert provenance.dataset("holdout", df.astype({"a": float})).sha256 != h.sha256
    assert provenance.dataset("holdout", df.rename(columns={"a": "c"})).sha256 != h.sha256
    arr = provenance.dataset("arr", np.arange(6).reshape(3, 2))
    assert (arr.rows, arr.columns) == (3, 2)
    with pytest.raises(InputError, match="dataset name"):
        provenance.dataset("", df)


def test_capture_reads_git_and_jenkins(tmp_path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "f.txt").write_text("1")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    env = {"JOB_NAME": "model/main", "BUILD_NUMBER": "42", "BUILD_URL": "https://ci/job/42/",
           "NODE_NAME": "gpu-1", "UNRELATED": "x"}
    doc = provenance.capture(repo, environ=env)
    assert len(doc["git"]["commit"]) == 40 and doc["git"]["dirty"] is False
    assert doc["jenkins"] == {k: v for k, v in env.items() if k != "UNRELATED"}
    assert doc["packages"]["mlqa"] and doc["python"].count(".") == 2
    (repo / "f.txt").write_text("2")
    assert provenance.capture(repo, environ={})["git"]["dirty"] is True
    (repo / "untracked.txt").write_text("bundle output")
    (repo / "f.txt").write_text("1")
    assert provenance.capture(repo, environ={})["git"]["dirty"] is False
    json.dumps(doc)  # plain JSON all the way down
