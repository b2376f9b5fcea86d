"""The anchor gate: a comparison against the last approved release as well as the previous
build, with the same paired statistics. A seeded ratchet that loses 0.4 points per build
passes every build-to-build check at a 0.5-point margin and fails against the anchor once
the losses add up past the margin; in a YAML suite the two are two checks, two results."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.baseline import LocalStore, RecordBuilder
from mlqa.baseline.records import set_alias
from mlqa.baseline.session import APPROVED_RELEASE, BaselineSession
from mlqa.errors import InputError

Outcome = mlqa.Outcome
N = 50_000
STEP = 0.004  # 0.4 points of accuracy lost per build
MARGIN = 0.005  # the build-to-build non-inferiority margin: 0.5 points


def ratchet(builds: int, seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Labels and each build's predictions: build 0 is 90% accurate; every later build gets
    0.4% of the rows that the one before got right wrong (exactly STEP of accuracy)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, N)
    pred = np.where(rng.random(N) < 0.10, 1 - y, y)
    out = [pred]
    for _ in range(builds):
        pred = pred.copy()
        right = np.flatnonzero(pred == y)
        worse = rng.choice(right, size=int(STEP * N), replace=False)
        pred[worse] = 1 - y[worse]
        out.append(pred)
    return y, out


def _save(store: LocalStore, y: np.ndarray, pred: np.ndarray, build: int) -> str:
    builder = RecordBuilder(model_name="clf", model_version=str(build))
    builder.add_predictions("holdout", y, pred)
    return builder.save(store)  # alias latest: the next build's "previous build"


def test_a_ratchet_within_the_margin_passes_build_to_build_and_fails_the_anchor(tmp_path):
    store = LocalStore(tmp_path / "store")
    y, preds = ratchet(6)
    released = _save(store, y, preds[0], 0)
    set_alias(store, "approved", released, by="gatekeeper", reason="release 1.0")
    previous, anchor = [], []
    for build, pred in enumerate(preds[1:], start=1):
        session = BaselineSession(store, ref="latest")  # the run compares with the last build
        previous.append(mlqa.check_regression(y, pred, session.predictions("holdout"),
                                              "accuracy", max_drop=MARGIN))
        anchor.append(mlqa.check_regression(
            y, pred, session.predictions("holdout", against=APPROVED_RELEASE), "accuracy",
            max_drop=MARGIN))
        _save(store, y, pred, build)
    assert [r.outcome for r in previous] == [Outcome.PASS] * 6
    assert all(r.value == pytest.approx(-STEP) for r in previous)
    # the same paired test (McNemar / Newcombe) against the release: fine after one build,
    # failed as soon as the interval of the summed loss lies past the margin
    assert [r.outcome for r in anchor] == [Outcome.PASS] + [Outcome.FAIL] * 5
    assert [round(-r.value, 4) for r in anchor] == [0.004, 0.008, 0.012, 0.016, 0.02, 0.024]
    assert {r.test for r in previous + anchor} == {"mcnemar"}
    # each result names what it was judged against, for the approver
    assert {r.baseline_record.alias for r in previous} == {"latest"}
    assert {(r.baseline_record.record, r.baseline_record.alias) for r in anchor} == \
        {(released, "approved")}


def test_against_is_checked_and_a_missing_release_is_an_error(tmp_path):
    store = LocalStore(tmp_path / "store")
    y, preds = ratchet(0)
    _save(store, y, preds[0], 0)
    session = BaselineSession(store, ref="latest")
    with pytest.raises(InputError, match="against= must be one of"):
        session.predictions("holdout", against="release")
    with pytest.raises(mlqa.baseline.BaselineError, match="approved"):
        session.predictions("holdout", against=APPROVED_RELEASE)


# One regression check, twice: against the previous build (the run's --mlqa-baseline-ref) and
# against the approved release.
CHECK = """
  - id: accuracy_vs_{id}
    kind: regression
    data: holdout
    target: y
    prediction: p
    metric: accuracy
    baseline: holdout
    max_drop: 0.005
"""
SUITE = ("suite: ratchet\ndata:\n  holdout: {path: holdout.csv}\nchecks:"
         + CHECK.format(id="previous_build") + CHECK.format(id="approved_release")
         + "    against: approved-release\n")


def test_a_suite_asks_for_both_and_gets_two_results(pytester, jenkins_check, one_verdict):
    """Two builds of a ratchet through a YAML suite: the first passes both checks; the second
    passes against the previous build and fails against the approved release. The JUnit
    report stays clean for Jenkins."""
    y, preds = ratchet(2)
    x = np.arange(N) % 97
    store = LocalStore(pytester.path / "store")
    builder = RecordBuilder(model_name="clf", model_version="0")
    builder.add_predictions("holdout", y, preds[0], X=pd.DataFrame({"x": x}))
    set_alias(store, "approved", builder.save(store), by="gatekeeper")
    pytester.makefile(".mlqa.yaml", ratchet=SUITE)
    outcomes = []
    for build in (1, 2):
        pd.DataFrame({"x": x, "y": y, "p": preds[build]}).to_csv(pytester.path / "holdout.csv",
                                                                index=False)
        result = pytester.runpytest("--mlqa-baseline", "store", "--mlqa-baseline-ref", "latest",
                                    "--mlqa-save-baseline",
                                    f"--junitxml=b{build}.xml", "-o", "junit_family=xunit1",
                                    "--mlqa-results", f"r{build}", "-p", "no:cacheprovider")
        outcomes.append(result.parseoutcomes())
        junit = jenkins_check(pytester.path / f"b{build}.xml")
        one_verdict(pytester.path / f"b{build}.xml", pytester.path / f"r{build}", result.ret)
        assert junit["ok"]
    assert outcomes[0] == {"passed": 2}
    assert outcomes[1] == {"passed": 1, "failed": 1}
    records = mlqa.report.bundle.read(pytester.path / "r2")
    by_id = {r.nodeid.rsplit("::", 1)[1]: r.check_result for r in records}
    assert by_id["accuracy_vs_previous_build"].outcome is Outcome.PASS
    assert by_id["accuracy_vs_approved_release"].outcome is Outcome.FAIL
    assert by_id["accuracy_vs_approved_release"].baseline_record.alias == "approved"


LATENCY_CONFTEST = '''
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression


def fitted():
    X, y = make_classification(n_samples=600, n_features=4, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["y"] = y
    return frame, LogisticRegression().fit(frame[["a", "b", "c", "d"]], y)


@pytest.fixture(scope="session")
def holdout():
    return fitted()[0]


@pytest.fixture(scope="session")
def model():
    return fitted()[1]
'''
# Two latency comparisons of one measurement: against the run's baseline (the previous build,
# --mlqa-baseline-ref latest) and against the approved release.
LATENCY_SUITE = """
suite: speed
data:
  holdout: {fixture: holdout}
model: {fixture: model}
checks:
  - {id: vs_previous_build, kind: latency_regression, data: holdout, target: y, device: cpu,
     baseline: predict, max_slowdown: 3.0, min_iters: 100, max_time_s: 0.3}
  - {id: vs_approved_release, kind: latency_regression, data: holdout, target: y, device: cpu,
     baseline: predict, against: approved-release, max_slowdown: 3.0, min_iters: 100,
     max_time_s: 0.3}
"""


def test_a_yaml_latency_comparison_reads_the_approved_release_when_asked(pytester):
    """The approved release was measured 3 ms slower per call than the last build: the
    comparison against it reads its record (named in the result) and sees the candidate far
    faster, the one against the previous build reads that record and sees it alike."""
    import time

    from mlqa.latency import measure_latency_runs

    pytester.makeconftest(LATENCY_CONFTEST)
    namespace: dict = {}
    exec(LATENCY_CONFTEST, namespace)  # the very model and rows the suite's fixtures give
    frame, model = namespace["fitted"]()
    X = frame[["a", "b", "c", "d"]]

    def slow(rows):
        time.sleep(0.003)
        return model.predict(rows)

    store = LocalStore(pytester.path / "store")
    ids = {}
    for alias, call in (("approved", slow), ("latest", model.predict)):
        builder = RecordBuilder(model_name="clf", model_version=alias)
        builder.add_latency("predict", measure_latency_runs(
            call, lambda bs: X.iloc[:bs], runs=3, isolate=False, device="cpu", min_iters=100,
            max_time_s=0.3, warmup_time_s=0.05, throughput_time_s=0.02))
        ids[alias] = builder.save(store)
    set_alias(store, "approved", ids["approved"], by="gatekeeper")
    pytester.makefile(".mlqa.yaml", speed=LATENCY_SUITE)
    pytester.runpytest("--mlqa-baseline", "store", "--mlqa-baseline-ref", "latest",
                       "--mlqa-results", "r", "-p", "no:cacheprovider")
    by_id = {r.nodeid.rsplit("::", 1)[1]: r.check_result
             for r in mlqa.report.bundle.read(pytester.path / "r")}
    previous, release = by_id["vs_previous_build"], by_id["vs_approved_release"]
    assert (previous.baseline_record.record, previous.baseline_record.alias) == \
        (ids["latest"], "latest")
    assert (release.baseline_record.record, release.baseline_record.alias) == \
        (ids["approved"], "approved")
    assert previous.outcome is not Outcome.ERROR and release.outcome is not Outcome.ERROR, \
        (previous.message, release.message)
    if release.value is not None and previous.value is not None:  # judged (not contended)
        assert release.value < 0.5 < previous.value
        assert release.outcome is Outcome.PASS


@pytest.mark.parametrize(("keys", "said"), [
    ("baseline: predict\n    baseline_file: l.json", "needs one of 'baseline' (a latency name in "
                                                     "the baseline record) or 'baseline_file', "
                                                     "not both"),
    ("max_slowdown: 2.0", "needs one of 'baseline'"),
    ("baseline_file: l.json\n    against: approved-release", "'against' chooses a baseline "
                                                             "record"),
])
def test_a_latency_comparison_names_one_stored_baseline(tmp_path, keys, said):
    from mlqa.suite import SuiteError, load_suites

    (tmp_path / "s.mlqa.yaml").write_text(
        "data:\n  d: {path: d.csv}\nmodel: {path: m.skops}\nchecks:\n  - id: speed\n"
        f"    kind: latency_regression\n    data: d\n    {keys}\n")
    with pytest.raises(SuiteError, match=re.escape(said)):
        load_suites(tmp_path / "s.mlqa.yaml")
