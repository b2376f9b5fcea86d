"""A real pytest run that leaves a results bundle with every outcome a gatekeeper can meet.

Every result in it comes from a real check (no hand-built results): metric thresholds on a
scikit-learn model, a regression run whose candidate misses its margin, a drift run with two
drifted columns (one numerical, one categorical) and a missing-share jump, a latency
measurement, an input error and a skipped GPU test.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

SUITE = textwrap.dedent('''
    import numpy as np
    import pandas as pd
    import pytest
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    import mlqa
    from mlqa import provenance

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=1200) > 0).astype(int)
    MODEL = LogisticRegression().fit(X[:600], y[:600])
    WEAK = LogisticRegression().fit(X[:600, 1:], y[:600])  # the candidate lost its best feature
    X_TEST, Y_TEST = X[600:], y[600:]
    provenance.model(MODEL, name="churn-classifier")
    provenance.dataset("holdout", X_TEST)


    def test_accuracy_passes():
        mlqa.expect_metric(Y_TEST, MODEL.predict(X_TEST), "accuracy", min=0.8)


    def test_recall_fails():
        mlqa.expect_metric(Y_TEST, MODEL.predict(X_TEST), "recall", min=0.99)


    def test_auc_inconclusive():
        scores = MODEL.predict_proba(X_TEST[:80])[:, 1] + rng.normal(0, 0.6, 80)
        auc = roc_auc_score(Y_TEST[:80], scores)
        mlqa.expect_metric(Y_TEST[:80], scores, "roc_auc", min=round(auc, 2))


    def test_precision_waived():
        mlqa.expect_metric(Y_TEST, MODEL.predict(X_TEST), "precision", min=0.999)


    def test_f1_cannot_run():
        mlqa.expect_metric(Y_TEST, np.full(len(Y_TEST), np.nan), "f1", min=0.5)


    @pytest.mark.gpu
    def test_latency_on_gpu():
        raise AssertionError("a GPU test ran on a machine without a GPU")


    def test_regression_misses_its_margin():
        mlqa.expect_regression(Y_TEST, WEAK.predict(X_TEST[:, 1:]), MODEL.predict(X_TEST),
                               "accuracy", max_drop=0.01)


    def test_drift_in_two_columns():
        n = 3000
        r = np.random.default_rng(1)
        reference = pd.DataFrame({
            "age": r.normal(40, 10, n), "income": r.lognormal(10, 0.5, n),
            "plan": r.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
            "tenure": r.normal(5, 2, n), "score": r.normal(0, 1, n)})
        tenure = r.normal(5, 2, n)
        current = pd.DataFrame({
            "age": r.normal(46, 10, n), "income": r.lognormal(10, 0.5, n),
            "plan": r.choice(["basic", "plus", "pro"], n, p=[0.3, 0.3, 0.4]),
            "tenure": np.where(r.random(n) < 0.3, np.nan, tenure), "score": r.normal(0, 1, n)})
        mlqa.expect_drift(reference, current)


    def test_latency_p99():
        weights = np.random.default_rng(2).normal(size=(64, 64))
        lat = mlqa.measure_latency(lambda x: x @ weights, np.ones((1, 64)), device="cpu",
                                   min_iters=700, min_time_s=0.2, max_time_s=3.0,
                                   warmup_time_s=0.05, throughput_time_s=0.05)
        mlqa.expect_latency(lat, quantile=0.99, max_ms=1000.0)
''')

WAIVERS = textwrap.dedent('''
    waivers:
      - check: "test_suite.py::test_precision_waived"
        reason: "precision target under review"
        approver: "gatekeeper.jane"
        expires: 2999-12-31
        ticket: ML-42
      - check: "test_suite.py::test_recall_*"
        reason: "old waiver"
        approver: "someone.else"
        expires: 2001-01-01
      - check: "test_suite.py::test_f1_cannot_run"
        reason: "a waiver never turns an ERROR into a pass"
        approver: "gatekeeper.jane"
        expires: 2999-12-31
''')


@pytest.fixture(scope="session")
def mixed_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run SUITE for real with waivers and JUnit (once per session: every report test reads
    the same run); returns the bundle folder."""
    import subprocess
    import sys

    base = tmp_path_factory.mktemp("mixed")
    (base / "test_suite.py").write_text(SUITE)
    (base / "waivers.yaml").write_text(WAIVERS)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "test_suite.py", "--mlqa-results=bundle",
         "--mlqa-waivers=waivers.yaml", "--junitxml=junit.xml", "-o", "junit_family=xunit1",
         "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-rA"],
        cwd=base, capture_output=True, text=True, timeout=300, check=False)
    tail = proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "3 failed, 3 passed, 2 skipped" in proc.stdout and "1 error" in proc.stdout, tail
    return base / "bundle"
