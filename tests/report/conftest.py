"""A real pytest run that leaves a results bundle with every outcome a gatekeeper can meet."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

SUITE = textwrap.dedent('''
    import numpy as np
    import pytest
    from sklearn.linear_model import LogisticRegression

    import mlqa
    from mlqa import provenance
    from mlqa.result import CheckResult, decide, describe, requirement

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(int)
    MODEL = LogisticRegression().fit(X, y)
    provenance.model(MODEL, name="churn-classifier")
    provenance.dataset("holdout", X)


    def interval_result(name, value, ci, min, family="metric", **details):
        outcome = decide(value, min=min, ci=ci)
        threshold, comparison = requirement(min, None)
        return CheckResult(name=name, outcome=outcome, check=family, metric=name, value=value,
                           threshold=threshold, comparison=comparison, ci=ci, confidence=0.95,
                           n=2000, details=details,
                           message=describe(name, value, min=min, ci=ci, confidence=0.95, n=2000,
                                            outcome=outcome))


    def test_accuracy_passes():
        mlqa.expect_metric(y, MODEL.predict(X), "accuracy", min=0.8)


    def test_recall_fails():
        mlqa.expect_metric(y, MODEL.predict(X), "recall", min=0.99)


    def test_auc_inconclusive():
        mlqa.expect(interval_result("roc_auc", 0.905, (0.89, 0.92), 0.9, slice="segment-a"))


    def test_precision_waived():
        mlqa.expect_metric(y, MODEL.predict(X), "precision", min=0.999)


    def test_f1_cannot_run():
        mlqa.expect_metric(y, np.full(len(y), np.nan), "f1", min=0.5)


    @pytest.mark.gpu
    def test_latency_on_gpu():
        raise AssertionError("a GPU test ran on a machine without a GPU")


    def test_no_drift():
        edges = [0, 1, 2, 3, 4, 5]
        cols = {"age": {"test": "ks", "statistic": 0.21, "p_value": 1e-6,
                        "adjusted_p_value": 3e-6, "effect_size": 0.4, "drifted": True,
                        "histogram": {"edges": edges, "reference": [5, 20, 40, 25, 10],
                                      "current": [2, 8, 25, 40, 25]}},
                "plan": {"test": "chisquare", "statistic": 1.2, "p_value": 0.55,
                         "adjusted_p_value": 0.55, "effect_size": 0.01, "drifted": False}}
        mlqa.expect(CheckResult(name="drift", outcome="fail", check="drift", value=0.5,
                                threshold=0.5, comparison="<", n=5000, details={"columns": cols},
                                message="1 of 2 columns drifted (age)"))


    def test_latency_p99():
        samples = list(np.random.default_rng(1).gamma(9, 1.0, size=800))
        p = {f"p{q}": float(np.percentile(samples, q)) for q in (50, 95, 99)}
        mlqa.expect(CheckResult(name="latency_p99", outcome="pass", check="latency", metric="p99",
                                value=p["p99"], threshold=40.0, comparison="<=", n=800,
                                message=f"p99 {p['p99']:.2f} ms <= max 40 ms (n=800)",
                                details={**p, "samples_ms": samples, "percentiles_by_batch": {
                                    "1": p, "8": {k: 3 * v for k, v in p.items()}}}))
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


@pytest.fixture
def mixed_bundle(pytester: pytest.Pytester) -> Path:
    """Run SUITE for real with waivers and JUnit; returns the bundle folder."""
    pytester.makepyfile(test_suite=SUITE)
    pytester.makefile(".yaml", waivers=WAIVERS)
    result = pytester.runpytest_subprocess(
        "--mlqa-results=bundle", "--mlqa-waivers=waivers.yaml", "--junitxml=junit.xml",
        "-o", "junit_family=xunit1", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=2, skipped=2, errors=1)
    return pytester.path / "bundle"
