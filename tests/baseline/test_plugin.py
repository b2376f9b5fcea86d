"""The plugin and the CLI end to end: record a passing run, promote it, compare the next run
against it; errors for a missing baseline; xdist parts merged; secrets never in any output."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

# Imported here so pytester's in-process runs find them loaded (numpy's extension modules
# cannot be loaded twice in one process, and pytester unloads what a run imported).
import joblib  # noqa: F401
import numpy.fft  # noqa: F401
import requests  # noqa: F401
import sklearn.datasets  # noqa: F401
import sklearn.linear_model  # noqa: F401
import skops.io  # noqa: F401

from mlqa.baseline import load_record
from mlqa.cli import main as mlqa_main

SUITE = textwrap.dedent("""
    import os
    import numpy as np
    import pytest
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    import mlqa

    X, y = make_classification(n_samples=3000, n_features=8, random_state=0)
    X_train, y_train, X_test, y_test = X[:1500], y[:1500], X[1500:], y[1500:]
    model = LogisticRegression(max_iter=300).fit(X_train, y_train)

    def predict(X):
        pred = model.predict(X)
        if os.environ.get("DEGRADE") == "1":  # a broken candidate: every 12th answer flipped
            pred = pred.copy()
            pred[::12] = 1 - pred[::12]
        return pred

    def test_record_this_run(mlqa_baseline):
        mlqa_baseline.save_model(model, name="clf", version=os.environ.get("VERSION", "1"))
        mlqa_baseline.save_predictions("holdout", y_test, model.predict(X_test), X=X_test)

    @pytest.mark.skipif(os.environ.get("COMPARE") != "1", reason="first run")
    def test_no_regression(mlqa_baseline):
        mlqa.expect_regression(y_test, predict(X_test),
                               mlqa_baseline.predictions("holdout"), max_drop=0.02,
                               data=X_test)
""")


def _run(pytester, *args, env=None, monkeypatch=None):
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    return pytester.runpytest(*args)


def _cases(xml_path: Path) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in ET.parse(xml_path).iter("testcase")}


def test_save_promote_compare(pytester, monkeypatch, jenkins_check, capsys):
    pytester.makepyfile(test_suite=SUITE)
    store = pytester.path / "store"
    first = pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-save-baseline")
    first.assert_outcomes(passed=1, skipped=1)
    first.stdout.fnmatch_lines(["*mlqa: baseline record * saved to *store (alias latest)*"])
    latest = load_record(store, "latest")
    assert latest.model["name"] == "clf" and latest.model["format"] == "skops"
    assert latest.evaluations == ["holdout"]

    assert mlqa_main(["baseline", "promote", "latest", "--store", str(store), "--by", "gk"]) == 0
    assert mlqa_main(["baseline", "list", "--store", str(store)]) == 0
    assert mlqa_main(["baseline", "show", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert f"approved -> {latest.id}" in out and "[approved, latest]" in out
    assert "eval     holdout: n=1500  accuracy" in out

    monkeypatch.setenv("COMPARE", "1")
    second = pytester.runpytest(f"--mlqa-baseline={store}", "--junitxml=report.xml")
    second.assert_outcomes(passed=2)
    case = _cases(pytester.path / "report.xml")["test_no_regression"]
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["mlqa.check"] == "regression" and props["mlqa.test"].startswith("mcnemar")
    assert float(props["mlqa.value"]) == 0.0 and props["mlqa.outcome"] == "pass"
    assert "mlqa.negative_flip_rate" in props and "mlqa.baseline" in props
    jenkins_check(pytester.path / "report.xml")


def test_regressed_candidate_fails_and_is_not_saved(pytester, monkeypatch, jenkins_check):
    pytester.makepyfile(test_suite=SUITE)
    store = pytester.path / "store"
    pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-save-baseline").assert_outcomes(
        passed=1, skipped=1)
    mlqa_main(["baseline", "promote", "--store", str(store)])
    monkeypatch.setenv("COMPARE", "1")
    monkeypatch.setenv("DEGRADE", "1")
    result = pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-save-baseline",
                                "--junitxml=report.xml", "--mlqa-results=results")
    result.assert_outcomes(passed=1, failed=1)
    # a gatekeeper promoting with the run's results bundle is refused
    assert mlqa_main(["baseline", "promote", "--store", str(store), "--alias", "release",
                      "--bundle", str(pytester.path / "results")]) == 1
    assert not (store / "aliases" / "release.json").exists()
    result.stdout.fnmatch_lines(["*mlqa: baseline not saved: the run did not pass*"])
    assert len(list((store / "records").iterdir())) == 1
    failure = _cases(pytester.path / "report.xml")["test_no_regression"].find("failure")
    assert failure is not None and "accuracy change" in failure.get("message")
    jenkins_check(pytester.path / "report.xml")


def test_missing_baseline_is_an_error_not_a_failure(pytester, monkeypatch, jenkins_check):
    pytester.makepyfile(test_suite=SUITE)
    monkeypatch.setenv("COMPARE", "1")
    result = pytester.runpytest(f"--mlqa-baseline={pytester.path / 'empty'}",
                                "--junitxml=report.xml")
    result.assert_outcomes(passed=1, errors=1)
    case = _cases(pytester.path / "report.xml")["test_no_regression"]
    error = case.find("error")
    assert error is not None and "no baseline 'approved'" in error.get("message")
    jenkins_check(pytester.path / "report.xml")


def test_ini_key_and_ref_option(pytester, monkeypatch):
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeini("[pytest]\nmlqa_baseline = ini-store\n")
    pytester.runpytest("--mlqa-save-baseline").assert_outcomes(passed=1, skipped=1)
    record_id = load_record(pytester.path / "ini-store", "latest").id
    monkeypatch.setenv("COMPARE", "1")
    # no 'approved' yet, but a record id (or any alias) can be named
    pytester.runpytest(f"--mlqa-baseline-ref={record_id}").assert_outcomes(passed=2)
    pytester.runpytest("--mlqa-baseline-ref=latest").assert_outcomes(passed=2)


XDIST_SUITE = textwrap.dedent("""
    import numpy as np
    import pytest

    @pytest.mark.parametrize("i", range(6))
    def test_part(mlqa_baseline, i):
        y = np.arange(200) % 2
        mlqa_baseline.save_predictions(f"part{i}", y, y)
""")


def test_xdist_workers_parts_become_one_record(pytester):
    pytester.makepyfile(test_parts=XDIST_SUITE)
    store = pytester.path / "store"
    result = pytester.runpytest("-n", "2", f"--mlqa-baseline={store}", "--mlqa-save-baseline")
    result.assert_outcomes(passed=6)
    record = load_record(store, "latest")
    assert record.evaluations == [f"part{i}" for i in range(6)]
    assert len(list((store / "records").iterdir())) == 1


def test_pickled_model_is_refused_unless_trusted(pytester, monkeypatch):
    pytester.makepyfile(test_pickle=textwrap.dedent("""
        import joblib
        from sklearn.linear_model import LogisticRegression
        from mlqa.baseline import UnsafeModelFormat

        def test_save(mlqa_baseline, tmp_path):
            path = tmp_path / "model.joblib"
            joblib.dump(LogisticRegression().fit([[0], [1]], [0, 1]), path)
            mlqa_baseline.save_model(path=path, name="legacy")

        def test_load(mlqa_baseline, pytestconfig):
            if mlqa_baseline.record.model.get("name") is None:
                return
            if pytestconfig.getoption("mlqa_trust_model"):
                assert mlqa_baseline.load_model().predict([[1]])[0] == 1
            else:
                try:
                    mlqa_baseline.load_model()
                except UnsafeModelFormat as exc:
                    assert "loading a pickle runs whatever code" in str(exc)
                else:
                    raise AssertionError("a pickle loaded without --mlqa-trust-model")
    """))
    store = pytester.path / "store"
    save, load = (pytester.path / "test_pickle.py").read_text().split("def test_load")
    (pytester.path / "test_pickle.py").write_text(save)
    pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-save-baseline",
                       "--mlqa-baseline-ref=latest").assert_outcomes(passed=1)
    (pytester.path / "test_pickle.py").write_text(save + "def test_load" + load)
    pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-baseline-ref=latest",
                       "-k", "load").assert_outcomes(passed=1)
    pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-baseline-ref=latest",
                       "--mlqa-trust-model", "-k", "load").assert_outcomes(passed=1)


def test_secret_never_appears_in_any_output(pytester, monkeypatch, dav_server, capsys):
    """Save, promote and compare through the HTTP store, then a wrong password; grep stdout,
    stderr, JUnit, the results bundle, the records and the logs for the password."""
    pytester.makepyfile(test_suite=SUITE)
    for key, value in dav_server.env().items():
        monkeypatch.setenv(key, value)
    common = [f"--mlqa-baseline={dav_server.url}", "--log-level=DEBUG", "-rA",
              "--junitxml=report.xml", "--mlqa-results=results"]
    outputs = []
    first = pytester.runpytest(*common, "--mlqa-save-baseline")
    first.assert_outcomes(passed=1, skipped=1)
    outputs += [first.stdout.str(), first.stderr.str()]
    assert mlqa_main(["baseline", "promote", "--store", dav_server.url]) == 0
    monkeypatch.setenv("COMPARE", "1")
    second = pytester.runpytest(*common)
    second.assert_outcomes(passed=2)
    outputs += [second.stdout.str(), second.stderr.str()]
    outputs += [(pytester.path / "report.xml").read_text()]
    outputs += [p.read_text() for p in (pytester.path / "results").rglob("*") if p.is_file()]

    monkeypatch.setenv("MLQA_STORE_PASSWORD", "wrong-" + dav_server.password)
    third = pytester.runpytest(*common)
    third.assert_outcomes(passed=1, errors=1)
    third.stdout.fnmatch_lines(["*authentication failed (HTTP 401)*"])
    outputs += [third.stdout.str(), third.stderr.str(), (pytester.path / "report.xml").read_text()]
    outputs += [p.read_text() for p in (pytester.path / "results").rglob("*") if p.is_file()]
    assert mlqa_main(["baseline", "list", "--store", dav_server.url]) == 2
    captured = capsys.readouterr()
    outputs += [captured.out, captured.err]
    assert "401" in captured.err
    outputs += [p.read_bytes().decode("latin-1") for p in dav_server.root.rglob("*")
                if p.is_file()]
    assert len(outputs) > 10
    for text in outputs:
        assert dav_server.password not in text
    records = json.loads((next(dav_server.root.rglob("record.json"))).read_text())
    assert records["provenance"]["python"]


def test_promote_a_run_through_its_results_bundle(pytester, capsys):
    """The Jenkinsfile's 'Promote baseline' stage: mlqa baseline promote "$BUNDLE"."""
    pytester.makepyfile(test_suite=SUITE + textwrap.dedent("""
        def test_accuracy():
            mlqa.expect_metric(y_test, predict(X_test), "accuracy", min=0.5)
    """))
    store = pytester.path / "store"
    pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-save-baseline",
                       "--mlqa-results=results").assert_outcomes(passed=2, skipped=1)
    saved = json.loads((pytester.path / "results" / "baseline.json").read_text())
    assert saved["record"] == load_record(store, "latest").id
    assert mlqa_main(["baseline", "promote", str(pytester.path / "results")]) == 0
    assert load_record(store, "approved").id == saved["record"]
    # a later run that saves nothing leaves no reference behind to promote by mistake
    pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-results=results")
    assert not (pytester.path / "results" / "baseline.json").exists()
    assert mlqa_main(["baseline", "promote", str(pytester.path / "results")]) == 0
    assert "nothing promoted" in capsys.readouterr().out


FOUR_FAMILIES = textwrap.dedent("""
    import os
    import numpy as np
    import pandas as pd
    import pytest

    import mlqa
    from mlqa.drift import profile
    from mlqa.latency import check_latency_regression, measure_latency, measure_latency_runs

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 600)
    pred = np.where(rng.random(600) < 0.9, y, 1 - y)
    reference = pd.DataFrame({"a": rng.normal(size=600), "b": rng.choice(["x", "y"], 600)})
    FAST = dict(device="cpu", warmup_iters=5, warmup_time_s=0.0, min_iters=600,
                min_time_s=0.0, max_time_s=0.5, throughput_time_s=0.001, overhead_iters=10)
    COMPARE = os.environ.get("COMPARE") == "1"

    def work(x):
        return sum(x)

    def test_record(mlqa_baseline):
        mlqa_baseline.save_predictions("holdout", y, pred, metrics=["accuracy"])
        mlqa_baseline.save_drift_reference("features", profile(reference))
        mlqa_baseline.save_latency("work", measure_latency_runs(work, (list(range(50)),),
                                                                runs=3, isolate=False, **FAST))

    @pytest.mark.skipif(not COMPARE, reason="first run")
    def test_metric(mlqa_baseline):
        assert mlqa_baseline.metric("holdout", "accuracy") == pytest.approx((y == pred).mean())
        mlqa.expect_regression(y, pred, mlqa_baseline.predictions("holdout"), max_drop=0.02)

    @pytest.mark.skipif(not COMPARE, reason="first run")
    def test_drift(mlqa_baseline):
        mlqa.expect_drift(mlqa_baseline.drift_reference("features"), reference)

    @pytest.mark.skipif(not COMPARE, reason="first run")
    def test_latency(mlqa_baseline):
        runs = mlqa_baseline.latency("work")
        assert len(runs) == 3
        now = measure_latency(work, (list(range(50)),), **FAST)
        r = check_latency_regression(now, runs, max_slowdown=3.0, max_contention=1.0)
        assert r.outcome is not mlqa.Outcome.ERROR, r.message
        assert r.details["runs"] == [1, 3]
""")


def test_save_baseline_covers_all_four_families(pytester, monkeypatch, capsys):
    """One --mlqa-save-baseline run records predictions and metric values, a drift reference
    profile and latency runs into one record; promote approves them together; the next run
    reads each back in the form its check takes."""
    pytester.makepyfile(test_four=FOUR_FAMILIES)
    store = pytester.path / "store"
    pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-save-baseline").assert_outcomes(
        passed=1, skipped=3)
    record = load_record(store, "latest")
    assert record.doc["latency"]["work"]["kind"] == "runs"
    assert record.doc["drift_references"]["features"]["kind"] == "profile"
    assert record.evaluations == ["holdout"]
    assert mlqa_main(["baseline", "promote", "--store", str(store), "--by", "gk"]) == 0
    assert mlqa_main(["baseline", "show", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "latency  work: 3 run(s), batch sizes [1], on cpu" in out
    assert "drift    features: profile, 600 rows x 2 cols" in out
    monkeypatch.setenv("COMPARE", "1")
    pytester.runpytest(f"--mlqa-baseline={store}").assert_outcomes(passed=4)


def test_a_test_that_saves_owes_no_check_but_one_that_does_neither_does(pytester):
    """In a module marked ``mlqa``, a test that only saves into the record collects evidence
    for a later run (it is not a check and not an ERROR); with nothing saved, the same passing
    test is evidence missing, an ERROR, and nothing is saved from that run."""
    pytester.makepyfile(test_rec=textwrap.dedent("""
        import pytest

        pytestmark = pytest.mark.mlqa

        def test_record(mlqa_baseline):
            if mlqa_baseline.saving:
                mlqa_baseline.save_latency("m", [1.0, 1.1, 0.9, 1.2])
    """))
    store = pytester.path / "store"
    saving = pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-save-baseline")
    saving.assert_outcomes(passed=1)
    saving.stdout.fnmatch_lines(["*baseline record * saved to*"])
    plain = pytester.runpytest(f"--mlqa-baseline={store}")
    plain.assert_outcomes(passed=1, errors=1)
    plain.stdout.fnmatch_lines(["*evidence missing: the test passed without recording*"])
