"""``mlqa init``: a starter suite that validates and passes on the data it was written from."""

import subprocess
import sys

import jsonschema
import numpy as np
import pandas as pd
import pytest

from mlqa.cli import main
from mlqa.suite.spec import schema
from mlqa.suite.yamlpos import load_documents


@pytest.fixture
def customers(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"age": rng.integers(18, 90, n), "income": rng.lognormal(10, 1, n),
                       "plan": rng.choice(["basic", "plus", "pro"], n),
                       "user": [f"u{i}" for i in range(n)], "const": 1,
                       "flag": rng.random(n) < 0.3})
    df.loc[rng.random(n) < 0.05, "income"] = np.nan
    df.to_csv(tmp_path / "customers.csv", index=False)
    return tmp_path


def run_suite(path, suite):
    (path / "pytest.ini").write_text("[pytest]\njunit_family = xunit1\n")
    return subprocess.run([sys.executable, "-m", "pytest", suite, "-q", "-p", "no:cacheprovider",
                           "-W", "error::mlqa.InconclusiveWarning"],
                          cwd=path, capture_output=True, text=True, check=False)


def test_starter_suite_validates_and_passes(customers, monkeypatch, capsys):
    monkeypatch.chdir(customers)
    assert main(["init", "customers.csv"]) == 0
    text = (customers / "customers.mlqa.yaml").read_text()
    (doc,) = load_documents(text, "customers.mlqa.yaml")
    jsonschema.Draft202012Validator(schema()).validate(doc.value)
    checks = {c["id"]: c for c in doc.value["checks"]}
    assert list(checks) == ["schema", "missing", "ranges", "categories", "duplicates",
                            "row_count", "drift"]
    assert checks["ranges"]["ranges"]["age"] == {"min": 18, "max": 89}
    assert checks["categories"]["columns"] == ["plan", "flag"]
    # the identifier and the constant column cannot be tested for drift
    assert checks["drift"]["columns"] == ["age", "income", "plan", "flag"]
    # 300 rows cannot decide a 5-point change of missing share: the bound is widened to fit
    assert checks["missing"]["max_change"] > 0.05
    proc = run_suite(customers, "customers.mlqa.yaml")
    assert proc.returncode == 0 and "7 passed" in proc.stdout, proc.stdout[-3000:]


def test_with_a_model_file(customers, monkeypatch):
    skops_io = pytest.importorskip("skops.io")
    from sklearn.linear_model import LogisticRegression

    frame = pd.read_csv(customers / "customers.csv")
    X = frame[["age"]]
    skops_io.dump(LogisticRegression().fit(X, frame["flag"]), customers / "model.skops")
    monkeypatch.chdir(customers)
    assert main(["init", "customers.csv", "--model", "model.skops", "-o", "gate.mlqa.yaml"]) == 0
    text = (customers / "gate.mlqa.yaml").read_text()
    assert "model:\n  path: model.skops" in text and "# - id: accuracy" in text
    proc = run_suite(customers, "gate.mlqa.yaml")
    assert proc.returncode == 0 and "8 passed" in proc.stdout, proc.stdout[-3000:]


def test_refusals(customers, monkeypatch, capsys):
    monkeypatch.chdir(customers)
    assert main(["init", "missing.csv"]) == 2
    assert "DATA: no such file: 'missing.csv'" in capsys.readouterr().err
    assert main(["init", "customers.csv"]) == 0
    assert main(["init", "customers.csv"]) == 2
    assert "customers.mlqa.yaml exists; pass --force" in capsys.readouterr().err
