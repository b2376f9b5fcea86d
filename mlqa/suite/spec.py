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
THREADS = {"anyOf": [COUNT, {"type": "null"}],
           "description": "threads of torch and every OpenMP/BLAS pool while measuring "
                          "(default 1; null leaves them as they are)"}

COMMON = {"id": NAME, "kind": TEXT, "description": TEXT, "marks": MARKS}
KINDS: dict[str, tuple[dict[str, Any], list[str], str]] = {
    "metric": ({
        "data": DATA_REF, "target": TEXT, "metric": TEXT, "prediction": TEXT,
        "min": NUMBER, "max": NUMBER, "confidence": LEVEL,
        "ci": {"enum": ["auto", "wilson", "exact", "delong", "multinomial", "bootstrap", None]},
        "n_resamples": {"type": "integer", "minimum": 100},
        "slices": {**TEXT, "description": "a column of the data: one result per value"},
        "min_slice_size": COUNT,
    }, ["data", "target", "metric"], "a metric threshold (check_metric)"),
    "regression": ({
        "data": DATA_REF, "target": TEXT, "metric": TEXT, "prediction": TEXT,
        "baseline": {**TEXT, "description": "evaluation name in the baseline record"},
        "max_drop": {"type": "number", "minimum": 0}, "min_gain": NUMBER,
        "max_gain": NUMBER, "relative": {"type": "boolean"}, "confidence": LEVEL,
        "test": {"enum": ["auto", "mcnemar", "delong", "bootstrap"]},
        "max_negative_flip_rate": SHARE, "n_resamples": {"type": "integer", "minimum": 100},
        "against": {"enum": ["baseline", "approved-release"],
                    "description": "baseline (default): the suite's baseline record (the "
                                   "previous build with ref: latest); approved-release: the "
                                   "last release promoted to 'approved' (an anchor that "
                                   "catches a slow ratchet); two checks ask for both"},
    }, ["data", "target", "metric", "baseline"],
        "a change threshold against the baseline (check_regression)"),
    "drift": ({
        "reference": DATA_REF, "current": DATA_REF, "columns": TEXTS,
        "tests": {"enum": ["auto", "evidently"]},
        "correction": {"enum": ["holm", "bh", None]}, "alpha": LEVEL,
        "min_effect": {"type": "number", "minimum": 0}, "max_missing_change": SHARE,
        "min_rows": COUNT,
    }, ["reference", "current"], "data drift (check_drift)"),
    "schema": ({"reference": DATA_REF, "data": DATA_REF,
                "extra_columns": {"enum": ["fail", "allow"]}},
               ["reference", "data"], "same columns, same kinds (check_schema)"),
    "missing": ({"reference": DATA_REF, "data": DATA_REF, "columns": TEXTS,
                 "max_change": SHARE,
                 "max_share": {"anyOf": [SHARE, {"type": "object",
                                                 "additionalProperties": SHARE}]},
                 "confidence": LEVEL},
                ["data"], "missing values per column and their change (check_missing)"),
    "ranges": ({"data": DATA_REF, "ranges": {"type": "object", "minProperties": 1,
                                             "additionalProperties": BOUNDS},
                "max_share": SHARE, "confidence": LEVEL},
               ["data", "ranges"], "numeric values within bounds (check_ranges)"),
    "categories": ({"data": DATA_REF, "reference": DATA_REF, "columns": TEXTS,
                    "allowed": {"type": "object", "additionalProperties": {"type": "array"}},
                    "max_new_share": SHARE, "vanished": {"enum": ["fail", "report"]},
                    "confidence": LEVEL},
                   ["data"], "new, vanished or unknown categories (check_categories)"),
    "duplicates": ({"data": DATA_REF, "columns": TEXTS, "max_share": SHARE,
                    "confidence": LEVEL}, ["data"], "duplicate rows (check_duplicates)"),
    "row_count": ({"data": DATA_REF, "min": {"type": "integer", "minimum": 0},
                   "max": {"type": "integer", "minimum": 0}},
                  ["data"], "the number of rows (check_row_count)"),
    "latency": ({
        "data": DATA_REF, "target": TEXT, "quantile": LEVEL,
        "max_ms": {"anyOf": [POSITIVE, {"type": "object", "additionalProperties": POSITIVE}]},
        "batch_sizes": {"type": "array", "items": COUNT, "minItems": 1},
        "device": TEXT, "policy": {"enum": ["no_false_alarm", "certify"]},
        "confidence": LEVEL, "min_iters": COUNT, "max_time_s": POSITIVE, "n_threads": THREADS,
    }, ["data", "max_ms"], "a latency SLO (measure_latency + check_latency)"),
    "latency_regression": ({
        "data": DATA_REF, "target": TEXT, "quantile": LEVEL,
        "baseline_file": {**TEXT, "description": "a latency record (save_latency), relative "
                                                 "to this file"},
        "max_slowdown": POSITIVE, "batch_sizes": {"type": "array", "items": COUNT,
                                                  "minItems": 1},
        "device": TEXT, "confidence": LEVEL, "min_iters": COUNT, "max_time_s": POSITIVE,
        "n_threads": THREADS,
    }, ["data", "baseline_file"], "no slower than a stored latency record "
                                  "(check_latency_regression)"),
    "endpoint_latency": ({
        "url": {**TEXT, "description": "the candidate endpoint (http:// or https://)"},
        "payloads": {**TEXT, "description": "request bodies: a JSON array or JSON lines file, "
                                            "relative to this file"},
        "rate": POSITIVE, "duration_s": POSITIVE, "warmup_s": {"type": "number", "minimum": 0},
        "arrival": {"enum": ["poisson", "constant"]},
        "protocol": {"enum": ["http-json", "kserve-v2"]},
        "max_in_flight": COUNT, "timeout_s": POSITIVE, "quantile": LEVEL, "max_ms": POSITIVE,
        "max_error_rate": SHARE, "policy": {"enum": ["no_false_alarm", "certify"]},
        "confidence": LEVEL, "seed": {"type": "integer", "minimum": 0},
        "champion": {**TEXT, "description": "the current model's endpoint: the candidate "
                                            "must be no slower than max_slowdown times it"},
        "max_slowdown": POSITIVE, "slowdown_quantile": LEVEL,
    }, ["url", "payloads", "rate", "max_ms"],
        "a served endpoint under open-loop load (measure_endpoint_latency + "
        "check_endpoint_latency; with champion:, also check_endpoint_latency_regression)"),
}
# Options that name a data source: the loader checks the name exists.
DATA_KEYS = ("data", "reference", "current")


def _kind(kind: str) -> dict[str, Any]:
    props, required, description = KINDS[kind]
    return {"type": "object", "description": description, "additionalProperties": False,
            "required": ["id", "kind", *required],
            "properties": {**COMMON, "kind": {"const": kind}, **props}}


def schema() -> dict[str, Any]:
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
             "properties": {"id": NAME, "kind": {"enum": list(KINDS)}},
             "allOf": [{"if": {"required": ["kind"], "properties": {"kind": {"const": k}}},
                        "then": {"$ref": f"#/$defs/{k}"}} for k in KINDS]}
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
        "$defs": {"check": check, **{k: _kind(k) for k in KINDS}},
    }


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(schema(), indent=1))
