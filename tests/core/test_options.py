"""mlqa.options: a constraint checks a Python value (an InputError naming the option, the
value and what is allowed) and renders itself as the JSON-Schema fragment the suite uses."""

from __future__ import annotations

from numbers import Integral, Real

import jsonschema
import numpy as np
import pytest

from mlqa.errors import InputError
from mlqa.options import (
    LEVEL,
    SHARE,
    Boolean,
    Interval,
    ListOf,
    MappingOf,
    Options,
    OptionTable,
    Text,
    at_least,
    param,
    seeds,
)

TABLE = OptionTable("check_example", {
    "confidence": param(LEVEL),
    "ci": param(Options("auto", "wilson"), None),
    "n_resamples": param(at_least(100)),
    "max_share": param(SHARE, MappingOf(SHARE), None),
    "columns": param(ListOf(Text()), None),
    "relative": param(Boolean()),
    "max_drop": param(Interval(Real, 0), None, hint="use min_gain= to require a gain"),
    "random_state": param(*seeds(), suite=False),
})


@pytest.mark.parametrize("values, message", [
    ({"confidence": 1.5}, "confidence must be a number in (0, 1), got 1.5"),
    ({"confidence": True}, "confidence must be a number in (0, 1), got True"),
    ({"confidence": float("nan")}, "confidence must be a number in (0, 1), got nan"),
    ({"ci": "wilsn"}, "ci must be one of 'auto', 'wilson' or None, got 'wilsn' "
                      "(did you mean 'wilson'?)"),
    ({"n_resamples": 10}, "n_resamples must be an integer >= 100, got 10"),
    ({"n_resamples": 200.0}, "n_resamples must be an integer >= 100, got 200.0"),
    ({"max_share": {"a": 0.1, "b": 2}}, "max_share['b'] must be a number in [0, 1], got 2"),
    ({"columns": "a"}, "columns must be a list of strings or None, got 'a'"),
    ({"relative": 1}, "relative must be True or False, got 1"),
    ({"max_drop": -1}, "max_drop must be a number >= 0 or None, got -1; use min_gain= to "
                       "require a gain"),
    ({"random_state": 1.5}, "random_state must be an integer, None or a numpy Generator"),
])
def test_a_refusal_names_the_option_the_value_and_what_is_allowed(values, message):
    with pytest.raises(InputError) as err:
        TABLE.validate(values)
    assert str(err.value).startswith(message)


def test_what_the_table_accepts():
    TABLE.validate({"confidence": np.float32(0.9), "ci": None, "n_resamples": np.int64(100),
                    "max_share": {"a": 0}, "columns": np.array(["a", "b"]),
                    "relative": np.bool_(True), "max_drop": 0,
                    "random_state": np.random.default_rng(0), "not_an_option": object()})


def test_the_schema_fragment_agrees_with_the_python_check():
    """Each option's fragment, run by a standard validator, accepts and refuses what the table
    does on the JSON values both can hold."""
    samples = [0, 1, 2, 0.5, -1, 1.5, 100, 99, "auto", "wilson", "x", True, None, [], ["a"],
               [1], {"a": 0.5}, {"a": 2}]
    for name, p in TABLE.params.items():
        if not p.suite:
            continue
        validator = jsonschema.Draft202012Validator(p.schema())
        for value in samples:
            assert validator.is_valid(value) == p.accepts(value), (name, value)


def test_interval_reads_like_scikit_learns():
    assert Interval(Real, 0, 1, closed="neither").text() == "a number in (0, 1)"
    assert Interval(Real, 0, None, closed="neither").schema() == {"type": "number",
                                                                   "exclusiveMinimum": 0}
    assert Interval(Integral, 1, None, closed="left").text() == "an integer >= 1"
    assert Interval(Real).text() == "a finite number"
    with pytest.raises(ValueError):
        Interval(Real, 0, 1, closed="open")
