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


# -- the first hour: --target, a working metric, blocks that load, a baseline of its own -------


@pytest.fixture
def loans(tmp_path):
    """A labelled table and a scikit-learn model of it, saved as skops."""
    skops_io = pytest.importorskip("skops.io")
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    n = 600
    df = pd.DataFrame({"amount": rng.lognormal(8, 0.7, n).round(2),
                       "rate": rng.uniform(0.021, 0.1937, n),
                       "term": rng.choice([36, 60], n), "grade": rng.choice(list("ABCD"), n)})
    logit = 0.9 * (df["rate"] - 0.1) / 0.05 + (df["term"] == 60) + rng.normal(0, 1, n)
    df["default"] = (logit > 0.5).astype(int)
    df.to_csv(tmp_path / "loans.csv", index=False)
    model = LogisticRegression(max_iter=500).fit(df[["amount", "rate", "term"]],
                                                 df["default"])
    skops_io.dump(model, tmp_path / "model.skops")
    return tmp_path


def written(path, *args):
    assert main(["init", *args]) == 0
    (doc,) = load_documents((path / args[-1]).read_text(), args[-1])
    jsonschema.Draft202012Validator(schema()).validate(doc.value)
    return {c["id"]: c for c in doc.value["checks"]}


def test_target_stays_out_of_the_data_checks_and_gets_a_metric_that_passes(loans,
                                                                         monkeypatch):
    monkeypatch.chdir(loans)
    checks = written(loans, "loans.csv", "--target", "default", "--model", "model.skops",
                     "-o", "loans.mlqa.yaml")
    assert "default" not in checks["ranges"]["ranges"]
    features = ["amount", "rate", "term", "grade"]
    assert checks["missing"]["columns"] == checks["duplicates"]["columns"] == features
    assert checks["drift"]["columns"] == features
    assert "default" not in checks["categories"]["columns"]
    metric = checks["accuracy"]
    assert {k: metric[k] for k in ("kind", "target", "metric")} == {
        "kind": "metric", "target": "default", "metric": "accuracy"}
    frame = pd.read_csv(loans / "loans.csv")
    import skops.io as skops_io

    from mlqa.baseline.models import load

    model = load((loans / "model.skops").read_bytes(), name="model.skops")
    accuracy = float((model.predict(frame[features[:3]]) == frame["default"]).mean())
    assert 0.5 < metric["min"] < accuracy and metric["min"] == round(metric["min"], 2)
    assert skops_io  # the model the suite names is the one measured
    latency = checks["latency_p99"]
    assert latency["target"] == "default" and latency["max_time_s"] >= 3
    # that this suite passes as written, with no INCONCLUSIVE, is the first run of
    # test_a_yaml_only_project_saves_promotes_and_compares_against_its_own_baseline (the same
    # init arguments): one pytest run of it, not two


def test_ranges_are_rounded_outward_to_three_significant_digits(loans, monkeypatch):
    monkeypatch.chdir(loans)
    ranges = written(loans, "loans.csv", "-o", "r.mlqa.yaml")["ranges"]["ranges"]
    frame = pd.read_csv(loans / "loans.csv")
    for column, bounds in ranges.items():
        low, high = frame[column].min(), frame[column].max()
        assert bounds["min"] <= low and bounds["max"] >= high, column
        for bound in bounds.values():  # 3 significant digits: 0.021, 0.194, 35300, 36
            assert float(f"{bound:.3g}") == bound, (column, bounds)
        for bound, x in ((bounds["min"], low), (bounds["max"], high)):  # and no looser
            unit = 10 ** (np.floor(np.log10(abs(x))) - 2) if x else 0
            assert abs(bound - x) <= unit, (column, bounds)
    assert ranges["rate"]["max"] == 0.194  # from 0.1936...
    assert ranges["term"] == {"min": 36, "max": 60}


def uncommented_blocks(text):
    """Each commented list item of the suite (``# - id: ...`` and the ``#   key: ...`` lines
    under it), as the suite with that block alone uncommented."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("# - id: ")]
    out = []
    for start in starts:
        end = start + 1
        while end < len(lines) and lines[end].startswith("#   "):
            end += 1
        block = [line[2:] for line in lines[start:end]]
        out.append("".join(lines[:start] + block + lines[end:]))
    return out


@pytest.mark.parametrize("args", [
    [], ["--target", "default"], ["--model", "model.skops"],
    ["--target", "default", "--model", "model.skops"],
    ["--target", "default", "--model", "model.pkl"],  # cannot be loaded without trust
], ids=["data", "target", "model", "target+model", "untrusted model"])
def test_every_commented_block_loads_when_uncommented(loans, monkeypatch, args):
    import pickle

    import skops.io as skops_io

    from mlqa.suite import load_suites

    (loans / "model.pkl").write_bytes(pickle.dumps(skops_io.load(
        loans / "model.skops", trusted=skops_io.get_untrusted_types(
            file=loans / "model.skops"))))
    monkeypatch.chdir(loans)
    assert main(["init", "loans.csv", *args, "-o", "s.mlqa.yaml"]) == 0
    text = (loans / "s.mlqa.yaml").read_text()
    variants = uncommented_blocks(text)
    assert variants, text
    for variant in variants:
        path = loans / "v.mlqa.yaml"
        path.write_text(variant)
        (suite,) = load_suites(path)  # raises SuiteError (file:line:column) if it does not
        assert len(suite.checks) == text.count("\n- id: ") + 1


def test_a_yaml_only_project_saves_promotes_and_compares_against_its_own_baseline(
        loans, pytester, monkeypatch):
    """The suite init writes for a labelled table and a model passes as written (9 checks, none
    INCONCLUSIVE). No Python test file: the metric check records its predictions under
    --mlqa-save-baseline, the record is promoted, and the regression block init wrote (now
    uncommented) compares the next run against it."""
    from mlqa.baseline import load_record
    from mlqa.baseline.records import aliases, record_ids
    from mlqa.baseline.stores import LocalStore

    for name in ("loans.csv", "model.skops"):
        (pytester.path / name).write_bytes((loans / name).read_bytes())
    monkeypatch.chdir(pytester.path)
    assert main(["init", "loans.csv", "--target", "default", "--model", "model.skops",
                 "-o", "loans.mlqa.yaml"]) == 0
    suite = pytester.path / "loans.mlqa.yaml"
    store = pytester.path / "store"
    first = pytester.runpytest_subprocess(f"--mlqa-baseline={store}", "--mlqa-save-baseline",
                                          "-p", "no:cacheprovider",
                                          "-W", "error::mlqa.InconclusiveWarning")
    first.assert_outcomes(passed=9)  # init's suite passes as written, none INCONCLUSIVE
    first.stdout.fnmatch_lines(["*mlqa: baseline record * saved to *store (alias latest)*"])
    saved = load_record(store, "latest")
    assert saved.evaluations == ["accuracy"] and saved.model["name"] == "model"
    assert saved.model["format"] == "skops"
    assert mlqa_promote(store, saved.id) == 0
    (with_regression,) = uncommented_blocks(suite.read_text())
    suite.write_text(with_regression)
    second = pytester.runpytest_subprocess(f"--mlqa-baseline={store}", "--junitxml=j.xml",
                                           "-p", "no:cacheprovider")
    second.assert_outcomes(passed=10)
    import xml.etree.ElementTree as ET

    (case,) = [c for c in ET.parse(pytester.path / "j.xml").iter("testcase")
               if c.get("name") == "accuracy_vs_baseline"]
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["mlqa.outcome"] == "pass" and props["mlqa.check"] == "regression"
    assert float(props["mlqa.value"]) == 0.0  # the same model on the same rows
    assert record_ids(LocalStore(store)) == [saved.id]  # the second run saved nothing
    assert aliases(LocalStore(store))["approved"] == saved.id


def mlqa_promote(store, record_id):
    return main(["baseline", "promote", record_id, "--store", str(store), "--by", "gk"])


@pytest.mark.slow
def test_latency_of_a_slow_model_reaches_a_finite_p99_bound_on_first_run(loans, monkeypatch):
    """A ~10 ms model: a 3 s budget measured ~300 queries, too few for any p99 bound at 99%
    (INCONCLUSIVE, infinite upper bound); init now times the model and budgets for
    measure_latency's min_iters."""
    import xml.etree.ElementTree as ET

    import skops.io as skops_io
    from sklearn.ensemble import RandomForestClassifier

    frame = pd.read_csv(loans / "loans.csv")
    forest = RandomForestClassifier(n_estimators=120, random_state=0, n_jobs=1)
    skops_io.dump(forest.fit(frame[["amount", "rate", "term"]], frame["default"]),
                  loans / "forest.skops")
    monkeypatch.chdir(loans)
    checks = written(loans, "loans.csv", "--target", "default", "--model", "forest.skops",
                     "-o", "slow.mlqa.yaml")
    assert checks["latency_p99"]["max_time_s"] > 3
    proc = subprocess.run([sys.executable, "-m", "pytest", "slow.mlqa.yaml", "-q", "-k",
                           "latency_p99", "-p", "no:cacheprovider", "--junitxml=j.xml",
                           "-W", "error::mlqa.InconclusiveWarning"],
                          cwd=loans, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    (case,) = ET.parse(loans / "j.xml").iter("testcase")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["mlqa.outcome"] == "pass"
    assert np.isfinite(float(props["mlqa.ci_high"])), props
