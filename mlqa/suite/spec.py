"""The suite format, as a JSON Schema built here and shipped as ``schema.json``.

This module is the one source: the loader validates against the shipped file, editors read
the same file (``# yaml-language-server: $schema=...``), and a test keeps the file equal to
``schema()``. Regenerate with ``python -m mlqa.suite.spec > mlqa/suite/schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_ID = "https://mlqa.invalid/schema/suite-1.json"

NAME = {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$",
        "description": "letters, digits, _ . - (it becomes part of the test id)"}
TEXT = {"type": "string"}
TEXTS = {"type": "array", "items": {"type": "string"}}
MARKS = {"type": "array", "items": NAME,
         "description": "pytest markers added to the test (select with -m)"}
SHARE = {"type": "number", "minimum": 0, "maximum": 1}
LEVEL = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
NUMBER = {"type": "number"}
POSITIVE = {"type": "number", "exclusiveMinimum": 0}
COUNT = {"type": "integer", "minimum": 1}
BOUNDS = {"type": "object", "additionalProperties": False, "minProperties": 1,
          "properties": {"min": NUMBER, "max": NUMBER}}
DATA_REF = {**NAME, "description": "the name of a source under data:"}

COMMON = {"id": NAME, "kind": TEXT, "description": TEXT, "marks": MARKS}
# What a YAML check adds to its family's options: where the data comes from (names under
# data:), which columns hold the target and the prediction, and the baseline's names. The
# family options themselves (thresholds, levels, methods, a latency measurement's settings)
# are generated from each check's option table (mlqa.options), the one source that also
# validates the Python call and the engine call.
SCORED = {"data": DATA_REF, "target": TEXT, "metric": TEXT, "prediction": TEXT}
# Which baseline record a comparison reads (mlqa.baseline.session.AGAINST).
AGAINST = {"enum": ["baseline", "approved-release"],
           "description": "baseline (default): the suite's baseline record (the previous build "
                          "with ref: latest); approved-release: the last release promoted to "
                          "'approved' (an anchor that catches a slow ratchet); two checks ask "
                          "for both"}
Kind = tuple[dict[str, Any], list[str], str]


def kinds() -> dict[str, Kind]:
    """Each YAML kind: (its options' schemas, the required ones, what it checks). Built on
    demand: the family modules are imported only to generate the schema, never by the loader
    (which reads the shipped file)."""
    from mlqa.compare.check import OPTIONS as REGRESSION
    from mlqa.drift.check import OPTIONS as DRIFT
    from mlqa.fairness.check import OPTIONS as DISPARITY
    from mlqa.latency import options as latency
    from mlqa.metrics.check import OPTIONS as METRIC
    from mlqa.quality import options as quality
    from mlqa.shadow.check import OPTIONS as SHADOW
    from mlqa.trend.history import OPTIONS as TREND

    endpoint = latency.CHECK_ENDPOINT_LATENCY
    measure = latency.MEASURE_LATENCY.suite_options()
    load = latency.MEASURE_ENDPOINT_LATENCY.suite_options()
    load["seed"] = load.pop("random_state")  # the schedule's seed, by its suite name
    versus = latency.CHECK_ENDPOINT_LATENCY_REGRESSION.suite_options(["max_slowdown"])
    disparity = DISPARITY.suite_options()
    # a suite's ``reference`` names a data source: the group compared with is reference_group
    disparity["reference_group"] = disparity.pop("reference")
    return {
        "metric": ({
            **SCORED, **METRIC.suite_options(),
            "slices": {**TEXT, "description": "a column of the data: one result per value"},
        }, ["data", "target", "metric"], "a metric threshold (check_metric)"),
        "regression": ({
            **SCORED,
            "baseline": {**TEXT, "description": "evaluation name in the baseline record"},
            "against": AGAINST,
            **REGRESSION.suite_options(),
        }, ["data", "target", "metric", "baseline"],
            "a change threshold against the baseline (check_regression)"),
        "drift": ({"reference": DATA_REF, "current": DATA_REF, **DRIFT.suite_options()},
                  ["reference", "current"], "data drift (check_drift)"),
        "schema": ({"reference": DATA_REF, "data": DATA_REF, **quality.SCHEMA.suite_options()},
                   ["reference", "data"], "same columns, same kinds (check_schema)"),
        "missing": ({"reference": DATA_REF, "data": DATA_REF,
                     **quality.MISSING.suite_options()},
                    ["data"], "missing values per column and their change (check_missing)"),
        # ranges: a mapping column -> {min:, max:} (Python also takes (min, max) pairs, which
        # check_ranges reads itself)
        "ranges": ({"data": DATA_REF, "ranges": {"type": "object", "minProperties": 1,
                                                 "additionalProperties": BOUNDS},
                    **quality.RANGES.suite_options()},
                   ["data", "ranges"], "numeric values within bounds (check_ranges)"),
        "categories": ({"data": DATA_REF, "reference": DATA_REF,
                        **quality.CATEGORIES.suite_options()},
                       ["data"], "new, vanished or unknown categories (check_categories)"),
        "duplicates": ({"data": DATA_REF, **quality.DUPLICATES.suite_options()},
                       ["data"], "duplicate rows (check_duplicates)"),
        "row_count": ({"data": DATA_REF, **quality.ROW_COUNT.suite_options()},
                      ["data"], "the number of rows (check_row_count)"),
        "dates": ({"data": DATA_REF, **quality.DATES.suite_options()},
                  ["data"], "no future dates, newest within max_age (check_dates)"),
        "latency": ({"data": DATA_REF, "target": TEXT, **measure,
                     **latency.CHECK_LATENCY.suite_options()},
                    ["data", "max_ms"], "a latency SLO (measure_latency + check_latency)"),
        "latency_regression": ({
            "data": DATA_REF, "target": TEXT,
            "baseline_file": {**TEXT, "description": "a latency record (save_latency), "
                                                     "relative to this file; or baseline:"},
            "baseline": {**TEXT, "description": "latency name in the baseline record "
                                                "(mlqa_baseline.save_latency); or baseline_file:"},
            "against": AGAINST,
            **measure, **latency.CHECK_LATENCY_REGRESSION.suite_options(),
        }, ["data"], "no slower than a stored latency record: a file or the baseline "
                     "record's (check_latency_regression)"),
        "trend": ({
            "check": {**TEXT, "description": "the check whose history is judged, by its test id "
                                             "(release.mlqa.yaml::release::auc; a Python "
                                             "test's node id)"},
            "history": {**TEXT, "description": "the baseline store holding the history: a "
                                               "folder (relative to this file) or an http(s) "
                                               "URL (default: the run's --mlqa-baseline store)"},
            **TREND.suite_options(),
        }, ["check"], "a shift in a check's history across builds (check_history_trend)"),
        "endpoint_latency": ({
            "url": {**TEXT, "description": "the candidate endpoint (http:// or https://)"},
            "payloads": {**TEXT, "description": "request bodies: a JSON array or JSON lines "
                                                "file, relative to this file"},
            **load, **endpoint.suite_options(),
            "champion": {**TEXT, "description": "the current model's endpoint: the candidate "
                                                "must be no slower than max_slowdown times it"},
            **versus,
            # check_endpoint_latency_regression's quantile, named apart from the SLO's
            "slowdown_quantile": latency.CHECK_ENDPOINT_LATENCY_REGRESSION.params[
                "quantile"].schema(),
        }, ["url", "payloads", "rate", "max_ms"],
            "a served endpoint under open-loop load (measure_endpoint_latency + "
            "check_endpoint_latency; with champion:, also check_endpoint_latency_regression)"),
        "disparity": ({
            "data": DATA_REF, "target": TEXT, "prediction": TEXT,
            "groups": {**TEXT, "description": "a column of the data: the group of each row"},
            **disparity,
        }, ["data", "target", "groups"],
            "a rate's gaps between groups on simultaneous intervals (check_disparity)"),
        "shadow": ({
            "data": {**DATA_REF, "description": "unlabelled recent traffic (a data source)"},
            "champion": {**TEXT, "description": "the column of data holding the champion's "
                                                "outputs on the same rows"},
            "prediction": {**TEXT, "description": "the column holding the candidate's outputs "
                                                  "(in data and evaluation); else the model "
                                                  "scores them"},
            "evaluation": {**DATA_REF, "description": "the evaluation set: the candidate's "
                                                      "outputs there are the reference of "
                                                      "prediction drift"},
            "target": {**TEXT, "description": "the evaluation set's label column (never a "
                                              "model input)"},
            **SHADOW.suite_options(),
        }, ["data", "champion"],
            "candidate vs champion on unlabelled rows (check_shadow)"),
    }


# Options that name a data source: the loader checks the name exists.
DATA_KEYS = ("data", "reference", "current", "evaluation")


def _kind(kind: str, spec: Kind) -> dict[str, Any]:
    props, required, description = spec
    return {"type": "object", "description": description, "additionalProperties": False,
            "required": ["id", "kind", *required],
            "properties": {**COMMON, "kind": {"const": kind}, **props}}


def schema() -> dict[str, Any]:
    every = kinds()
    source = {"anyOf": [
        {"type": "object", "title": "a file", "additionalProperties": False,
         "required": ["path"],
         "properties": {"path": TEXT, "format": {"enum": ["csv", "parquet"]}}},
        {"type": "object", "title": "a pytest fixture", "additionalProperties": False,
         "required": ["fixture"], "properties": {"fixture": NAME}},
    ]}
    model = {"anyOf": [
        {"type": "object", "title": "a pytest fixture", "additionalProperties": False,
         "required": ["fixture"], "properties": {"fixture": NAME}},
        {"type": "object", "title": "a model file", "additionalProperties": False,
         "required": ["path"], "properties": {
             "path": TEXT, "trust": {"type": "boolean", "description":
                                     "allow formats that run code when loaded (pickle)"}}},
    ]}
    check = {"type": "object", "required": ["id", "kind"],
             "properties": {"id": NAME, "kind": {"enum": list(every)}},
             "allOf": [{"if": {"required": ["kind"], "properties": {"kind": {"const": k}}},
                        "then": {"$ref": f"#/$defs/{k}"}} for k in every]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "mlqa suite (*.mlqa.yaml)",
        "type": "object",
        "additionalProperties": False,
        "required": ["checks"],
        "properties": {
            "suite": NAME,
            "description": TEXT,
            "marks": MARKS,
            "data": {"type": "object", "additionalProperties": source},
            "model": model,
            "baseline": {"type": "object", "additionalProperties": False,
                         "properties": {
                             "store": TEXT, "ref": TEXT,
                             "timeout_s": {**POSITIVE, "maximum": 600, "description":
                                           "each request to an http(s) store: seconds to "
                                           "connect and between bytes (default 30)"},
                             "attempts": {**COUNT, "maximum": 10, "description":
                                          "tries of each request to an http(s) store "
                                          "(default 4)"}}},
            "checks": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/check"}},
        },
        "$defs": {"check": check, **{k: _kind(k, v) for k, v in every.items()}},
    }


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(schema(), indent=1))
