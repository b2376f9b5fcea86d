"""The YAML schema's family options come from the checks' option tables (mlqa.options):
every option a table lets a suite set is in its kind with the table's constraint, and a value
the table refuses is refused by the loader at its file position."""

from __future__ import annotations

import json
import math
import textwrap

import numpy as np
import pytest

import mlqa
from mlqa.compare.check import OPTIONS as REGRESSION
from mlqa.drift.check import OPTIONS as DRIFT
from mlqa.fairness.check import OPTIONS as DISPARITY
from mlqa.latency import options as latency
from mlqa.metrics.check import OPTIONS as METRIC
from mlqa.metrics.intervals import METHODS
from mlqa.quality import options as quality
from mlqa.shadow.check import OPTIONS as SHADOW
from mlqa.suite import SuiteError, load_suites, shipped_schema
from mlqa.trend.history import OPTIONS as TREND

TABLES = {
    "metric": [METRIC], "regression": [REGRESSION], "drift": [DRIFT],
    "schema": [quality.SCHEMA], "missing": [quality.MISSING], "ranges": [quality.RANGES],
    "categories": [quality.CATEGORIES], "duplicates": [quality.DUPLICATES],
    "row_count": [quality.ROW_COUNT], "dates": [quality.DATES],
    "disparity": [DISPARITY], "shadow": [SHADOW],
    # a latency kind measures, then checks: both tables' suite options are its options
    "latency": [latency.CHECK_LATENCY, latency.MEASURE_LATENCY],
    "latency_regression": [latency.CHECK_LATENCY_REGRESSION, latency.MEASURE_LATENCY],
    "endpoint_latency": [latency.CHECK_ENDPOINT_LATENCY, latency.MEASURE_ENDPOINT_LATENCY],
    "trend": [TREND],
}
# a suite's name for a table's option
SUITE_NAME = {("measure_endpoint_latency", "random_state"): "seed",
              ("check_disparity", "reference"): "reference_group"}


def _options(kind: str):
    """(the suite's key, the table's option) of every option the kind's tables let a suite
    set."""
    return [(SUITE_NAME.get((t.caller, n), n), t.params[n]) for t in TABLES[kind]
            for n in t.suite_names()]


# the keys each kind needs besides the option under test
REQUIRED = {
    "metric": {"data": "d", "target": "y", "metric": "accuracy", "min": 0.5},
    "regression": {"data": "d", "target": "y", "metric": "accuracy", "baseline": "b",
                   "max_drop": 0.1},
    "drift": {"reference": "d", "current": "d"},
    "schema": {"reference": "d", "data": "d"},
    "missing": {"data": "d"}, "ranges": {"data": "d", "ranges": {"x": {"min": 0}}},
    "categories": {"data": "d"}, "duplicates": {"data": "d"}, "row_count": {"data": "d"},
    "dates": {"data": "d"},
    "latency": {"data": "d", "max_ms": 5},
    "disparity": {"data": "d", "target": "y", "groups": "g", "prediction": "p",
                  "max_difference": 0.1},
    "shadow": {"data": "d", "champion": "c", "prediction": "p", "max_disagreement": 0.1},
    "latency_regression": {"data": "d", "baseline_file": "b.json"},
    "endpoint_latency": {"url": "http://127.0.0.1:1/", "payloads": "p.json", "rate": 5,
                         "max_ms": 5},
    "trend": {"check": "s.mlqa.yaml::s::auc"},
}


def _properties(kind: str) -> dict:
    return shipped_schema()["$defs"][kind]["properties"]


def test_every_kind_with_a_table_is_covered():
    assert set(TABLES) == set(shipped_schema()["$defs"]["check"]["properties"]["kind"]["enum"])


@pytest.mark.parametrize("kind", list(TABLES))
def test_every_suite_option_of_the_table_is_in_its_kind_with_the_tables_constraint(kind):
    props = _properties(kind)
    assert _options(kind), kind
    for key, p in _options(kind):
        assert props.get(key) == p.schema(), (kind, key)
    suite_keys = {key for key, _ in _options(kind)}
    for table in TABLES[kind]:  # Python-only options stay out of the schema
        for name, p in table.params.items():
            assert p.suite or name in suite_keys or name not in props, (kind, name)


def test_the_endpoint_comparison_options_come_from_its_table():
    versus = latency.CHECK_ENDPOINT_LATENCY_REGRESSION.params
    props = _properties("endpoint_latency")
    assert props["max_slowdown"] == versus["max_slowdown"].schema()
    assert props["slowdown_quantile"] == versus["quantile"].schema()


def test_the_ci_enum_is_what_check_metric_accepts():
    enum = _properties("metric")["ci"]["enum"]
    assert enum == ["auto", *METHODS, None]
    y = np.array([0, 1] * 50)
    for ci in enum:  # every value the schema lets through, check_metric takes as an option
        try:
            mlqa.check_metric(y, y, "accuracy", min=0.5, ci=ci, n_resamples=200)
        except mlqa.InputError as exc:  # a method that does not fit accuracy says so
            assert not str(exc).startswith("ci must be"), (ci, exc)
    with pytest.raises(mlqa.InputError, match="ci must be one of 'auto', "):
        mlqa.check_metric(y, y, "accuracy", min=0.5, ci="wald")


def _yaml(value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    return json.dumps(value)  # JSON is YAML, on one line


CASES = [(kind, key, p) for kind in TABLES for key, p in _options(kind)
         if p.refused() is not None]


@pytest.mark.parametrize("kind, name, p", CASES, ids=[f"{k}-{n}" for k, n, _ in CASES])
def test_a_value_the_table_refuses_the_loader_refuses_at_its_position(tmp_path, kind, name,
                                                                      p):
    bad = p.refused()
    assert not p.accepts(bad)  # the Python call refuses it...
    keys = {k: v for k, v in REQUIRED[kind].items() if k != name}
    lines = "".join(f"    {k}: {_yaml(v)}\n" for k, v in keys.items())
    text = textwrap.dedent("""\
        data:
          d: {path: d.csv}
        checks:
          - id: c
            kind: %s
        """) % kind + lines + f"    {name}: {_yaml(bad)}\n"
    path = tmp_path / "s.mlqa.yaml"
    path.write_text(text)
    with pytest.raises(SuiteError) as err:  # ...and so does the suite, at the option's line
        load_suites(path, display="s.mlqa.yaml")
    line = text.count("\n")
    found = [p for p in str(err.value).splitlines()
             if p.startswith(f"s.mlqa.yaml:{line}:") and f"'{name}" in p]
    assert found, str(err.value)
