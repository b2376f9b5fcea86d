import dataclasses
import json
import math

import numpy as np
import pytest

from mlqa import CheckResult, InputError, Outcome
from mlqa.result import decide, describe, requirement


def test_result_is_frozen_and_plain():
    r = CheckResult(name="auc", outcome="fail", value=np.float32(0.5), ci=(np.float64(0.4), 0.6),
                    n=np.int64(10), details={"arr": np.arange(3), "x": np.float64("nan")})
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 1.0
    with pytest.raises(TypeError):
        r.details["new"] = 1
    assert r.outcome is Outcome.FAIL and not r.passed
    assert type(r.value) is float and type(r.n) is int and type(r.ci[0]) is float
    d = r.to_dict()
    assert d["outcome"] == "fail" and d["details"] == {"arr": [0, 1, 2], "x": None}
    json.dumps(d, allow_nan=False)  # strict JSON, no numpy left


@pytest.mark.parametrize("bad", [
    {"outcome": "great"},
    {"value": "high"},
    {"ci": (0.9, 0.1)},
])
def test_bad_fields_are_input_errors(bad):
    with pytest.raises(InputError):
        CheckResult(**{"name": "x", "outcome": "pass", **bad})


def test_only_pass_is_passed():
    assert [o for o in Outcome if CheckResult(name="x", outcome=o).passed] == [Outcome.PASS]


@pytest.mark.parametrize("kwargs,ci,outcome", [
    ({"min": 0.9}, None, Outcome.PASS),
    ({"min": 0.95}, None, Outcome.FAIL),
    ({"max": 0.95}, None, Outcome.PASS),
    ({"max": 0.9}, None, Outcome.FAIL),
    ({"min": 0.9}, (0.91, 0.95), Outcome.PASS),
    ({"min": 0.9}, (0.85, 0.95), Outcome.INCONCLUSIVE),
    ({"min": 0.96}, (0.85, 0.95), Outcome.FAIL),
    ({"max": 0.9}, (0.85, 0.95), Outcome.INCONCLUSIVE),
    ({"min": 0.8, "max": 0.99}, None, Outcome.PASS),
    ({"min": 0.8, "max": 0.9}, None, Outcome.FAIL),
])
def test_decide(kwargs, ci, outcome):
    assert decide(0.92, ci=ci, **kwargs) is outcome


def test_undecidable_value_is_an_error():
    assert decide(math.nan, min=0.5) is Outcome.ERROR


def test_requirement_and_message():
    assert requirement(0.9, None) == (0.9, ">=")
    assert requirement(None, 2.0) == (2.0, "<=")
    assert requirement(0.1, 2.0) == (None, "within")
    msg = describe("roc_auc", 0.874, min=0.9, ci=(0.861, 0.887), confidence=0.95, n=2000)
    assert msg == "roc_auc 0.874 < min 0.9 (95% CI 0.861\u20130.887, n=2000)"
    assert describe("rmse", 1.5, max=2, n=5) == "rmse 1.5 <= max 2 (n=5)"


def test_one_severity_order():
    from mlqa.result import SEVERITY_ORDER, severity, worst, worst_first

    ranked = sorted(Outcome, key=lambda o: o.severity, reverse=True)
    assert ranked == [Outcome.ERROR, Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.WAIVED,
                      Outcome.PASS]
    assert [s for s in SEVERITY_ORDER if s != "skipped"] == [o.value for o in ranked]
    # the gate's "skipped" (evidence missing) asks for a decision: above WAIVED, below INCONCLUSIVE
    assert Outcome.WAIVED.severity < severity("skipped") < Outcome.INCONCLUSIVE.severity
    assert severity("FAILED") > Outcome.ERROR.severity  # an unreadable word never sorts as a pass
    assert worst([Outcome.PASS, Outcome.WAIVED, Outcome.INCONCLUSIVE]) is Outcome.INCONCLUSIVE
    assert worst_first(["pass", "skipped", "error", "pass"]) == ["error", "skipped", "pass"]


def test_no_second_severity_order_in_the_code():
    """Every ordering of outcomes goes through Outcome.severity (issue 10, item 1)."""
    import re
    from pathlib import Path

    import mlqa

    root = Path(mlqa.__file__).parent
    words = "|".join(["pass", "fail", "inconclusive", "error", "waived"])
    # three or more outcome words listed in a row: a hand-written order
    pattern = re.compile(rf'(?:(?:Outcome\.[A-Z]+|"(?:{words})")\s*[:,]\s*(?:\d+\s*,\s*)?){{3,}}')
    files = [*root.rglob("*.py"), *(root.parent / "pytest_plugin").rglob("*.py")]
    offenders = [str(f) for f in files if f.name != "result.py" and pattern.search(f.read_text())]
    assert offenders == []


# -- the bundle round trip: from_dict(r.to_dict()) == r for every result type -----------------

def _real_results() -> dict[str, CheckResult]:
    """One result of every type, each from a real check."""
    import pandas as pd

    import mlqa

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    pred = np.where(rng.random(600) < 0.8, y, rng.integers(0, 3, 600))
    ref = pd.DataFrame({"a": rng.normal(size=800), "b": rng.choice(list("xyz"), 800),
                        "c": rng.normal(size=800)})
    cur = pd.DataFrame({"a": rng.normal(0.6, size=800), "b": rng.choice(list("xyz"), 800),
                        "c": np.where(rng.random(800) < 0.2, np.nan, rng.normal(size=800))})
    cand = np.where(rng.random(600) < 0.7, y, (y + 1) % 3)
    lat = mlqa.measure_latency(lambda x: x * 2.0, 1.5, device="cpu",
                               batch_sizes=(1,), min_iters=200, min_time_s=0.05,
                               max_time_s=0.5, warmup_time_s=0.01, throughput_time_s=0.01,
                               overhead_iters=100)
    return {
        "plain": CheckResult(name="custom", outcome="inconclusive", value=0.5, ci=(0.4, 0.6),
                             details={"k": (1, 2), "nested": {"x": np.float64(1.5)}}),
        "metric": mlqa.check_metric(y, pred, "accuracy", min=0.7),
        "metric_slices": mlqa.check_metric(y, pred, "f1_macro", min=0.7, n_resamples=200,
                                           slices=rng.choice(["a", "b", "c"], 600)),
        "metric_error": mlqa.check_metric(y, np.full(600, 7), "precision_macro", min=0.5),
        "drift": mlqa.check_drift(ref, cur),
        "regression": mlqa.check_regression(y, cand, pred, "accuracy", max_drop=0.01),
        "regression_relative": mlqa.check_regression(
            y, cand, pred, "f1_macro", max_drop=0.02, relative=True, n_resamples=200),
        "latency": mlqa.check_latency(lat, quantile=0.5, max_ms=1000.0),
    }


@pytest.fixture(scope="module")
def real_results() -> dict[str, CheckResult]:
    return _real_results()


@pytest.mark.parametrize("kind", ["plain", "metric", "metric_slices", "metric_error", "drift",
                                  "regression", "regression_relative", "latency"])
def test_every_result_type_round_trips_through_the_bundle(real_results, kind):
    r = real_results[kind]
    line = json.dumps(r.to_dict(), allow_nan=False)  # what the bundle holds
    back = CheckResult.from_dict(json.loads(line))
    assert type(back) is type(r)
    assert back == r
    assert back.to_dict() == r.to_dict()


def test_round_trip_covers_every_field_the_report_reads(real_results):
    from mlqa.compare.check import RegressionResult
    from mlqa.drift.result import DriftResult
    from mlqa.latency.checks import LatencyCheckResult
    from mlqa.metrics.check import MetricResult

    m = real_results["metric_slices"]
    assert isinstance(m, MetricResult) and len(m.slices) == 3 and m.confusion is not None
    assert all(isinstance(s, MetricResult) for s in CheckResult.from_dict(m.to_dict())
               .slices.values())
    d = real_results["drift"]
    assert isinstance(d, DriftResult) and d.columns["a"].distribution is not None
    assert d.columns["b"].distribution.categories == ("x", "y", "z")
    g = real_results["regression"]
    assert isinstance(g, RegressionResult) and g.margin_low == -0.01 and g.negative_flips
    lat = real_results["latency"]
    assert isinstance(lat, LatencyCheckResult) and len(lat.percentiles) == 3
    assert lat.histogram is not None and lat.histogram.log


@pytest.mark.parametrize("change,field", [
    ({"type": "FancyResult"}, "type"),
    ({"type": None}, "type"),
    ({"outcome": "FAILED"}, "outcome"),
    ({"outcome": "skipped"}, "outcome"),
    ({"value": "0.9"}, "value"),
    ({"value": True}, "value"),
    ({"n": 1.5}, "n"),
    ({"ci": [0.1]}, "ci"),
    ({"details": "x"}, "details"),
    ({"name": 3}, "name"),
])
def test_unreadable_fields_are_refused_naming_the_field(real_results, change, field):
    d = {**real_results["metric"].to_dict(), **change}
    with pytest.raises(InputError, match=rf"result\.{field}\b"):
        CheckResult.from_dict(d)


@pytest.mark.parametrize("missing", ["type", "name", "outcome"])
def test_missing_required_fields_are_refused(real_results, missing):
    d = real_results["plain"].to_dict()
    del d[missing]
    with pytest.raises(InputError, match=rf"result\.{missing} is missing"):
        CheckResult.from_dict(d)


def test_nested_fields_name_their_path(real_results):
    d = real_results["drift"].to_dict()
    d["columns"]["a"]["adjusted_p_value"] = "tiny"
    with pytest.raises(InputError, match=r"result\.columns\['a'\]\.adjusted_p_value"):
        CheckResult.from_dict(d)
    m = real_results["metric_slices"].to_dict()
    next(iter(m["slices"].values()))["outcome"] = "great"
    with pytest.raises(InputError, match=r"result\.slices\['.*'\]\.outcome"):
        CheckResult.from_dict(m)
    lat = real_results["latency"].to_dict()
    lat["histogram"]["counts"] = lat["histogram"]["counts"][:-1]
    with pytest.raises(InputError, match=r"result\.histogram"):
        CheckResult.from_dict(lat)


def test_a_family_type_is_not_read_as_another(real_results):
    from mlqa.drift.result import DriftResult

    with pytest.raises(InputError, match="is not a DriftResult"):
        DriftResult.from_dict(real_results["metric"].to_dict())


def test_non_finite_figures_are_missing_figures():
    r = CheckResult(name="x", outcome="error", value=float("nan"), p_value=float("inf"))
    assert r.value is None and r.p_value is None
    assert CheckResult.from_dict(r.to_dict()) == r
