"""``mlqa baseline promote --bundle`` judges the run with the gate's own options (policy,
inconclusive, accept-partial, as-of, waivers), as ``mlqa gate`` and ``mlqa publish maven`` do:
a run the gate refuses is never promoted, and one a policy turns into NEEDS A DECISION is
promoted only with a reason."""

from __future__ import annotations

import textwrap

import sklearn.datasets  # noqa: F401 - loaded once for pytester's in-process runs
import sklearn.linear_model  # noqa: F401

from mlqa.baseline import load_record
from mlqa.cli import main as mlqa_main
from mlqa.gate import gate

SUITE = textwrap.dedent("""
    import os
    import pytest
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    import mlqa

    X, y = make_classification(n_samples=1200, n_features=6, random_state=0)
    model = LogisticRegression().fit(X[:600], y[:600])

    @pytest.mark.mlqa
    def test_accuracy(mlqa_baseline):
        mlqa_baseline.save_predictions("holdout", y[600:], model.predict(X[600:]))
        mlqa.expect_metric(y[600:], model.predict(X[600:]), "accuracy",
                           min=float(os.environ.get("FLOOR", "0.6")), ci=None)
""")


def test_promote_judges_with_the_gates_options(pytester, monkeypatch, capsys):
    pytester.makepyfile(test_model=SUITE)
    store = str(pytester.path / "store")
    pytester.runpytest(f"--mlqa-baseline={store}", "--mlqa-save-baseline").assert_outcomes(
        passed=1)
    monkeypatch.setenv("FLOOR", "0.999")  # a run the metric floor refuses
    pytester.runpytest("--mlqa-results=refused").assert_outcomes(failed=1)
    bundle = str(pytester.path / "refused")
    policy = pytester.path / "policy.yaml"
    policy.write_text("advisory:\n  families: [metric]\n")
    assert gate(bundle).decision == "refuse"
    assert gate(bundle, policy=policy).decision == "needs a decision"
    promote = ["baseline", "promote", "latest", "--store", store, "--bundle", bundle]
    assert mlqa_main(promote) == 1  # REFUSE: never promoted, reason or not
    assert mlqa_main([*promote, "--reason", "known dip"]) == 1
    assert "the gate says REFUSE" in capsys.readouterr().out
    # the same policy file `mlqa gate --policy` reads: NEEDS A DECISION, so a reason is needed
    assert mlqa_main([*promote, "--policy", str(policy)]) == 1
    assert "give --reason to accept it" in capsys.readouterr().out
    assert mlqa_main([*promote, "--policy", str(policy), "--reason", "metric advisory",
                      "--as-of", "2026-12-01", "--by", "gk"]) == 0
    record = load_record(store, "approved")
    assert record.identity.reason == "metric advisory" and record.identity.promoted_by == "gk"
