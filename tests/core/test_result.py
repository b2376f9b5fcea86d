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
