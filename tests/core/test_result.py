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
