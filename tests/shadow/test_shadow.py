"""check_shadow: disagreement of labels, score shift, prediction drift, models, small
batches, bad input, the bundle round trip and the report."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mlqa
from mlqa.result import CheckResult, Outcome


def test_disagreement_is_decided_on_the_exact_interval(flipped):
    same = mlqa.check_shadow(*flipped(2000, 0.0), max_disagreement=0.02)
    assert same.outcome is Outcome.PASS and same.value == 0 and same.disagreements == 0
    assert same.ci[1] == pytest.approx(1 - 0.025 ** (1 / 2000), rel=1e-6)
    far = mlqa.check_shadow(*flipped(2000, 0.06), max_disagreement=0.02)
    assert far.outcome is Outcome.FAIL and far.ci[0] > 0.02
    assert far.metric == "disagreement_rate" and far.mode == "labels"


def test_a_small_batch_is_inconclusive_never_pass(flipped):
    r = mlqa.check_shadow(*flipped(100, 0.0), max_disagreement=0.02)
    assert r.outcome is Outcome.INCONCLUSIVE and "rows pass" in r.message
    tiny = mlqa.check_shadow(*flipped(10, 0.0), max_disagreement=0.5)
    assert tiny.outcome is Outcome.INCONCLUSIVE and "min_rows 30" in tiny.message


def test_score_shift_is_the_mean_absolute_difference():
    rng = np.random.default_rng(1)
    champion = rng.random(3000)
    small = mlqa.check_shadow(champion + rng.normal(0, 0.005, 3000), champion,
                              max_score_shift=0.01)
    assert small.outcome is Outcome.PASS and small.mode == "scores"
    assert small.value == pytest.approx(0.005 * np.sqrt(2 / np.pi), rel=0.1)
    big = mlqa.check_shadow(champion + 0.05, champion, max_score_shift=0.01)
    assert big.outcome is Outcome.FAIL and big.details["mean_signed_shift"] == \
        pytest.approx(0.05)


def test_prediction_drift_joins_the_outcome_and_is_nested():
    rng = np.random.default_rng(2)
    traffic = rng.beta(5, 2, 3000)  # the candidate's outputs moved far from evaluation
    r = mlqa.check_shadow(traffic, traffic, max_score_shift=0.01,
                          evaluation_pred=rng.beta(2, 5, 3000))
    drift = r.components["prediction_drift"]
    assert drift.outcome is Outcome.FAIL and r.outcome is Outcome.FAIL
    assert "prediction drift" in r.message and drift.drifted_columns == ["prediction"]
    unchecked = mlqa.check_shadow(traffic, traffic, max_score_shift=0.01)
    assert unchecked.outcome is Outcome.PASS and not unchecked.components
    assert unchecked.details["prediction_drift"].startswith("not checked")


def test_models_score_the_rows_themselves():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    X = rng.normal(size=(1500, 3))
    y = (X[:, 0] + rng.normal(0, 0.5, 1500) > 0).astype(int)
    champion = LogisticRegression().fit(X[:500], y[:500])
    candidate = LogisticRegression(C=0.5).fit(X[:600], y[:600])
    by_model = mlqa.check_shadow(model=candidate, champion_model=champion, X=X[600:],
                                 max_disagreement=0.05, evaluation_X=X[:600])
    by_pred = mlqa.check_shadow(candidate.predict(X[600:]), champion.predict(X[600:]),
                                max_disagreement=0.05,
                                evaluation_pred=candidate.predict(X[:600]))
    assert by_model.to_dict() == by_pred.to_dict()
    scores = mlqa.check_shadow(model=candidate, champion_model=champion, X=X[600:],
                               max_score_shift=0.05)
    assert scores.value == pytest.approx(np.mean(np.abs(
        candidate.predict_proba(X[600:])[:, 1] - champion.predict_proba(X[600:])[:, 1])))


@pytest.mark.parametrize("kwargs,match", [
    ({}, "needs one requirement"),
    ({"max_disagreement": 0.1, "max_score_shift": 0.1}, "needs one requirement"),
    ({"max_disagreement": 1.5}, "max_disagreement must be"),
    ({"max_score_shift": -1}, "max_score_shift must be"),
    ({"max_disagreement": 0.1, "correction": "bonf"}, "correction must be"),
])
def test_bad_options_are_input_errors(kwargs, match, flipped):
    with pytest.raises(mlqa.InputError, match=match):
        mlqa.check_shadow(*flipped(100, 0.0), **kwargs)


def test_bad_data_is_an_input_error(flipped):
    a, b = flipped(100, 0.0)
    with pytest.raises(mlqa.InputError, match="champion_pred is required"):
        mlqa.check_shadow(a, max_disagreement=0.1)
    with pytest.raises(mlqa.InputError, match="inconsistent|length|rows"):
        mlqa.check_shadow(a, b[:-1], max_disagreement=0.1)
    with pytest.raises(mlqa.InputError, match="numeric scores"):
        mlqa.check_shadow(a.astype(str), b.astype(str), max_score_shift=0.1)
    with pytest.raises(mlqa.InputError, match="finite|NaN|nan"):
        mlqa.check_shadow(np.full(100, np.nan), b.astype(float), max_score_shift=0.1)


def test_result_round_trips_and_shows_its_figures(flipped):
    rng = np.random.default_rng(4)
    a, b = flipped(1000, 0.03)
    r = mlqa.check_shadow(a, b, max_disagreement=0.05, evaluation_pred=rng.integers(0, 2, 800))
    again = CheckResult.from_dict(json.loads(json.dumps(r.to_dict(), allow_nan=False)))
    assert again == r and type(again).__name__ == "ShadowResult"
    section = r.display().sections[0]
    table = section.blocks[0]
    assert [row[0] for row in table.rows] == ["disagreement", "prediction_drift"]
    assert r.family_properties()["disagreements"] == r.disagreements


def test_identical_scores_are_bounded_exactly_and_only_when_scores_are_bounded():
    scores = np.random.default_rng(5).random(2000)
    few = mlqa.check_shadow(scores[:100], scores[:100], max_score_shift=0.01)
    assert few.outcome is Outcome.INCONCLUSIVE  # 100 identical rows bound the mean at 0.036
    assert few.ci == pytest.approx((0.0, 1 - 0.025 ** (1 / 100)))
    many = mlqa.check_shadow(scores, scores, max_score_shift=0.01)
    assert many.outcome is Outcome.PASS and many.details["rows_shifted"] == 0
    logits = scores * 20 - 10  # unbounded: identical rows say nothing of the rows unseen
    unbounded = mlqa.check_shadow(logits, logits, max_score_shift=0.01)
    assert unbounded.outcome is Outcome.INCONCLUSIVE and "no interval" in unbounded.message


def test_a_shift_carried_by_a_few_rows_is_not_decided_on_its_mean():
    rng = np.random.default_rng(6)
    champion = rng.random(3000)
    candidate = champion.copy()
    candidate[:15] = 1 - candidate[:15]  # 0.5% of rows move far: mean shift ~0.002
    r = mlqa.check_shadow(candidate, champion, max_score_shift=0.01)
    assert r.outcome is Outcome.INCONCLUSIVE and r.value < 0.01
    assert "top 1% of rows carry" in r.message and r.ci is None
    spread = mlqa.check_shadow(champion + rng.normal(0, 0.002, 3000), champion,
                               max_score_shift=0.01)
    assert spread.outcome is Outcome.PASS  # a shift spread over the rows is decided
