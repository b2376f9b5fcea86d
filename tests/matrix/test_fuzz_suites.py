"""Hypothesis fuzzing of ``*.mlqa.yaml`` files into the loader that pytest's collection runs:
a mutated suite is either collected (and then every name in it is one the schema allows) or
refused with a ``SuiteError`` naming the file; never another exception, never a hang."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlqa.suite import SuiteError, load_suites
from mlqa.suite.spec import NAME

# CI runs a fixed, derandomised sample; MLQA_FUZZ_EXAMPLES=2000 searches longer (locally).
FUZZ = settings(max_examples=int(os.environ.get("MLQA_FUZZ_EXAMPLES", "150")), deadline=None,
                derandomize="MLQA_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
FILE = "fuzz.mlqa.yaml"

BASE: dict[str, Any] = {
    "suite": "release",
    "description": "fuzzed",
    "marks": ["nightly"],
    "data": {"reference": {"fixture": "reference"}, "holdout": {"path": "holdout.csv"},
             "prod": {"path": "data/prod.parquet", "format": "parquet"}},
    "model": {"path": "model.skops"},
    "baseline": {"store": "http://127.0.0.1:9/repo/", "ref": "approved", "timeout_s": 2,
                 "attempts": 2},
    "checks": [
        {"id": "auc", "kind": "metric", "data": "holdout", "target": "y", "metric": "roc_auc",
         "min": 0.9, "marks": ["slow"]},
        {"id": "vs_base", "kind": "regression", "data": "holdout", "target": "y",
         "metric": "accuracy", "baseline": "auc", "max_drop": 0.01},
        {"id": "drift", "kind": "drift", "reference": "reference", "current": "prod",
         "columns": ["a", "b"], "alpha": 0.05},
        {"id": "ranges", "kind": "ranges", "data": "prod", "ranges": {"a": {"min": 0}}},
        {"id": "p99", "kind": "latency", "data": "holdout", "max_ms": {1: 20, 32: 60},
         "batch_sizes": [1, 32]},
    ],
}

odd_text = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["pass\n", "a\u2028b", "\u200b", "\ufeffid", "x" * 300, "../../etc/passwd",
     "/proc/self/environ", "*a", "&a", "!!python/object/apply:os.system", "~", "", "é"])
leaves = (st.none() | st.booleans() | st.integers() | st.sampled_from([10**400, -(10**30)])
          | st.floats() | odd_text)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    odd_text, inner, max_size=3), max_leaves=10)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*path, i))
    return out


PATHS = _paths(BASE)[1:]


def _load(tmp: Path, text: str) -> list[Any] | SuiteError:
    """What collection makes of ``text``: suites, or the one error it may raise."""
    path = tmp / FILE
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        suites = load_suites(path, display=FILE)
    except SuiteError as exc:
        assert all(line.startswith(f"{FILE}:") for line in str(exc).splitlines()), str(exc)
        assert "Traceback" not in str(exc)
        return exc
    for suite in suites:  # a collected suite: its names are the schema's, whole
        for name in (suite.name, *suite.marks,
                     *(x for c in suite.checks for x in (c.id, *c.marks))):
            assert re.fullmatch(NAME["pattern"], name), name
    return suites


def _dump(doc: Any, unicode: bool) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=unicode, width=80)


@FUZZ
@given(path=st.sampled_from(PATHS), value=values, unicode=st.booleans())
def test_a_value_of_any_type_is_collected_or_refused(tmp_path_factory: Any, path: tuple,
                                                     value: Any, unicode: bool) -> None:
    doc = copy.deepcopy(BASE)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    _load(tmp_path_factory.mktemp("fuzz"), _dump(doc, unicode))


@FUZZ
@given(path=st.sampled_from([p for p in PATHS if isinstance(p[-1], str)] + [()]),
       key=odd_text, value=values, delete=st.booleans())
def test_unknown_or_missing_keys_are_collected_or_refused(
        tmp_path_factory: Any, path: tuple, key: str, value: Any, delete: bool) -> None:
    doc = copy.deepcopy(BASE)
    target: Any = doc
    for part in path[:-1] if delete else path:
        target = target[part]
    if delete and path:
        del target[path[-1]]
    elif isinstance(target, dict):
        target[key] = value
    _load(tmp_path_factory.mktemp("fuzz"), _dump(doc, True))


# Text that YAML's own structure makes of a suite: anchors and aliases (cycles and bombs
# among them), deep nesting, tags, flow collections, odd characters.
SNIPPETS = st.sampled_from([
    "&a ", "*a", "&a [*a]", "&b {x: *b}", "[", "]", "{", "}", ": ", "- ", "\n  ", "? ",
    "!!python/object/apply:os.system ", "!!set ", "!!binary ", "!!timestamp ", "<<: *a\n",
    "\t", "\u2028", "\x85", "\ufeff", "\x00", "'", '"', "#", "---\n", "...\n", "%YAML 1.1\n",
    "9" * 5000, "1e400", ".nan", "2026-13-45", "0x" + "f" * 50,
])


def _nest(depth: int) -> str:
    return "[" * depth + "]" * depth


def _bomb(levels: int, width: int) -> str:
    lines = [f"b0: &b0 [{', '.join(['x'] * width)}]"]
    lines += [f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@FUZZ
@given(cuts=st.lists(st.tuples(st.floats(0, 1), SNIPPETS | odd_text
                               | st.integers(1, 60).map(_nest)), min_size=1, max_size=4),
       bomb=st.none() | st.tuples(st.integers(1, 9), st.integers(1, 12)))
def test_yaml_structure_is_collected_or_refused(tmp_path_factory: Any, cuts: list,
                                                bomb: tuple[int, int] | None) -> None:
    text = _dump(BASE, True)
    for where, snippet in cuts:
        at = int(where * len(text))
        text = text[:at] + snippet + text[at:]
    if bomb is not None:
        text = _bomb(*bomb) + text
    _load(tmp_path_factory.mktemp("fuzz"), text)
