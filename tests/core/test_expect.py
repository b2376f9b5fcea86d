import warnings

import pytest

import mlqa
from mlqa import CheckResult, Outcome, policy, recording


def result(outcome):
    return CheckResult(name="auc", outcome=outcome, message=f"auc was {outcome}")


def test_pass_returns_the_result():
    r = result("pass")
    assert mlqa.expect(r) is r


@pytest.mark.parametrize("outcome,exc", [
    ("fail", mlqa.QualityGateFailure),
    ("error", mlqa.CheckError),
])  # a result handed in WAIVED is an ERROR: tests/plugin/test_declared_waiver.py
def test_other_outcomes_raise_with_the_result(outcome, exc):
    r = result(outcome)
    with pytest.raises(exc) as info:
        mlqa.expect(r)
    assert info.value.result is r and str(info.value) == r.message


def test_quality_gate_failure_is_an_assertion_error():
    assert issubclass(mlqa.QualityGateFailure, AssertionError)
    assert issubclass(mlqa.InputError, ValueError)


def test_inconclusive_follows_the_policy():
    r = result("inconclusive")
    with pytest.warns(mlqa.InconclusiveWarning, match="auc was inconclusive"):
        assert mlqa.expect(r) is r  # default policy: warn
    with policy.using(inconclusive="fail"), pytest.raises(mlqa.QualityGateFailure):
        mlqa.expect(r)
    with policy.using(inconclusive="pass"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mlqa.expect(r) is r
    assert policy.active().inconclusive == "warn"
    with pytest.raises(mlqa.InputError):
        policy.Policy(inconclusive="maybe")


def test_every_expected_result_is_published_even_when_it_raises():
    with recording.capture() as seen:
        mlqa.expect(result("pass"))
        with pytest.raises(mlqa.QualityGateFailure):
            mlqa.expect(result("fail"))
    assert [r.outcome for r in seen] == [Outcome.PASS, Outcome.FAIL]


def test_expect_family_turns_bad_input_into_a_recorded_error():
    with recording.capture() as seen, pytest.raises(mlqa.CheckError) as info:
        mlqa.expect_metric([0, 1, 1], [0, 1], metric="f1", min=0.5)
    # raised once, with the InputError's text: not chained to it (pytest printed both)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "inconsistent numbers of samples: y_true=3, y_pred=2" in str(info.value)
    (err,) = seen
    assert err.outcome is Outcome.ERROR and err.check == "metric" and err.metric == "f1"
    assert "inconsistent numbers of samples: y_true=3, y_pred=2" in err.message


def test_expect_rejects_non_results():
    with pytest.raises(mlqa.InputError, match="takes a CheckResult"):
        mlqa.expect(0.93)

