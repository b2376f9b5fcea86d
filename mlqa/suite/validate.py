"""Validation of a suite against the shipped JSON Schema, with errors a person can act on.

A small interpreter of the JSON Schema keywords the suite schema uses (type, enum, const,
minimum/maximum and their exclusive forms, pattern, properties, required,
additionalProperties, minProperties, items, minItems, $ref, allOf, anyOf, if/then). A generic
validator would say "Additional properties are not allowed ('mni' was unexpected)"; this one
says where, in whose check, and what was probably meant.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

from mlqa._text import did_you_mean
from mlqa.suite.yamlpos import Document, Path

Problem = tuple[int, int, str]
_TYPES = {"object": "a mapping", "array": "a list", "string": "text", "number": "a number",
          "integer": "a whole number", "boolean": "true or false", "null": "empty"}


@functools.cache
def shipped_schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package (``mlqa/suite/schema.json``)."""
    text = resources.files("mlqa.suite").joinpath("schema.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def problems(doc: Document, schema: Mapping[str, Any] | None = None) -> list[Problem]:
    """Every way ``doc`` breaks the schema, as (line, column, text)."""
    root = schema or shipped_schema()
    out: list[Problem] = []
    _check(doc, doc.value, (), root, root, out)
    return out


def _is_type(value: Any, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":  # a JSON number is finite: YAML's .nan and .inf are not numbers here
        return isinstance(value, int) and not isinstance(value, bool) or \
            isinstance(value, float) and math.isfinite(value)
    return value is None


def _resolve(root: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        node: Any = root
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def describe(doc: Document, path: Path) -> str:
    """Who ``path`` belongs to, for a message: ``check 'roc_auc': 'min'``."""
    if path[:1] == ("checks",) and len(path) >= 2:
        check = doc.value["checks"][path[1]] if isinstance(doc.value, dict) else None
        cid = check.get("id") if isinstance(check, dict) else None
        who = f"check {cid!r}" if isinstance(cid, str) else f"check #{path[1] + 1}"
        rest = path[2:]
    elif path[:1] == ("data",) and len(path) >= 2:
        who, rest = f"data source {path[1]!r}", path[2:]
    elif path:
        who, rest = "", path
    else:
        return "the suite"
    inner = ".".join(str(p) for p in rest)
    if not who:
        return repr(inner)
    return f"{who}: {inner!r}" if inner else who


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _check(doc: Document, value: Any, path: Path, schema: Mapping[str, Any],
           root: Mapping[str, Any], out: list[Problem]) -> None:
    schema = _resolve(root, schema)
    at = doc.where(path)
    if "anyOf" in schema:
        _any_of(doc, value, path, schema["anyOf"], root, out)
    kind = schema.get("type")
    if kind is not None and not _is_type(value, kind):
        out.append((*at, f"{describe(doc, path)} must be {_TYPES[kind]}, got {_show(value)}"))
        return
    if "const" in schema and value != schema["const"]:
        out.append((*at, f"{describe(doc, path)} must be {schema['const']!r}"))
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join("null" if v is None else str(v) for v in schema["enum"])
        out.append((*at, f"{describe(doc, path)} must be one of: {allowed}; got {_show(value)}"
                         f"{did_you_mean(value, schema['enum'])}"))
    if _is_type(value, "number"):
        _bounds(doc, value, path, schema, out)
    # fullmatch, not search: with search, '$' also matches before a final newline, and an id
    # 'pass\n' would pass into a test id and a JUnit name
    if isinstance(value, str) and "pattern" in schema and not re.fullmatch(schema["pattern"],
                                                                           value):
        hint = schema.get("description", f"matching {schema['pattern']}")
        out.append((*at, f"{describe(doc, path)} must be {hint}, got {value!r}"))
    if isinstance(value, dict):
        _object(doc, value, path, schema, root, out)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append((*at, f"{describe(doc, path)} needs at least {schema['minItems']} "
                             f"item(s)"))
        if "items" in schema:
            for i, item in enumerate(value):
                _check(doc, item, (*path, i), schema["items"], root, out)
    for sub in schema.get("allOf", ()):
        sub = _resolve(root, sub)
        if "if" in sub:
            trial: list[Problem] = []
            _check(doc, value, path, sub["if"], root, trial)
            if not trial and "then" in sub:
                _check(doc, value, path, sub["then"], root, out)
        else:
            _check(doc, value, path, sub, root, out)


def _bounds(doc: Document, value: float, path: Path, schema: Mapping[str, Any],
            out: list[Problem]) -> None:
    at, who = doc.where(path), describe(doc, path)
    for key, bad, word in (("minimum", lambda b: value < b, ">="),
                           ("maximum", lambda b: value > b, "<="),
                           ("exclusiveMinimum", lambda b: value <= b, ">"),
                           ("exclusiveMaximum", lambda b: value >= b, "<")):
        if key in schema and bad(schema[key]):
            out.append((*at, f"{who} must be {word} {schema[key]}, got {value!r}"))


def _object(doc: Document, value: dict, path: Path, schema: Mapping[str, Any],
            root: Mapping[str, Any], out: list[Problem]) -> None:
    props = schema.get("properties", {})
    who = describe(doc, path)
    for key in schema.get("required", ()):
        if key not in value:
            out.append((*doc.where(path), f"{who} lacks the required key {key!r}"))
    if len(value) < schema.get("minProperties", 0):
        out.append((*doc.where(path), f"{who} needs at least {schema['minProperties']} "
                                      f"key(s)"))
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in props:
            _check(doc, item, (*path, key), props[key], root, out)
        elif extra is False:
            allowed = ", ".join(props)
            out.append((*doc.where((*path, key), key=True),
                        f"unknown key {key!r} in {who}{did_you_mean(key, props)}; "
                        f"allowed: {allowed}"))
        elif isinstance(extra, Mapping):
            _check(doc, item, (*path, key), extra, root, out)


def _fits(branch: Mapping[str, Any], value: Any) -> bool:
    """Whether ``value`` is of the JSON type ``branch`` describes (an enum: a scalar)."""
    if "type" in branch:
        return _is_type(value, branch["type"])
    if "enum" in branch:
        return not isinstance(value, dict | list)
    return True


def _title(branch: Mapping[str, Any]) -> str:
    if "title" in branch:
        return str(branch["title"])
    if "enum" in branch:
        return "one of: " + ", ".join("null" if v is None else str(v) for v in branch["enum"])
    return _TYPES.get(branch.get("type", ""), "?")


def _any_of(doc: Document, value: Any, path: Path, branches: list[Any],
            root: Mapping[str, Any], out: list[Problem]) -> None:
    tried = []
    for branch in branches:
        trial: list[Problem] = []
        _check(doc, value, path, branch, root, trial)
        if not trial:
            return
        tried.append((_resolve(root, branch), trial))
    # The branch the user evidently meant (its required keys are there) speaks for itself.
    if isinstance(value, dict):
        for branch, trial in tried:
            if branch.get("required") and all(k in value for k in branch["required"]):
                out.extend(trial)
                return
    # So does the only branch of the value's own type: "must be <= 1, got 1.5" says more
    # than "must be a number or empty" (an option's schema is generated as anyOf with null).
    fitting = [trial for branch, trial in tried if _fits(branch, value)]
    if len(fitting) == 1:
        out.extend(fitting[0])
        return
    titles = " or ".join(_title(b) for b, _ in tried)
    keys = [k for b, _ in tried for k in b.get("required", ())]
    hint = f" (with the key {' or '.join(map(repr, keys))})" if keys and \
        isinstance(value, dict) else ""
    out.append((*doc.where(path), f"{describe(doc, path)} must be {titles}{hint}, "
                                  f"got {_show(value)}"))
