"""The JSON Schema shipped in the package: current, valid, and every example suite obeys it."""

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from mlqa.suite import load_suites, shipped_schema
from mlqa.suite.spec import schema
from mlqa.suite.yamlpos import load_documents

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for pattern in ("*.mlqa.yaml", "*.mlqa.yml")
                  for p in (ROOT / "example_suites").rglob(pattern))


def test_shipped_file_is_the_generated_schema_and_a_valid_one():
    text = resources.files("mlqa.suite").joinpath("schema.json").read_text()
    assert json.loads(text) == schema() == shipped_schema(), \
        "regenerate: python -m mlqa.suite.spec > mlqa/suite/schema.json"
    jsonschema.Draft202012Validator.check_schema(schema())


def test_there_are_example_suites():
    assert EXAMPLES, "example_suites/ holds no *.mlqa.yaml"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_validates(path):
    for doc in load_documents(path.read_text(), str(path)):
        jsonschema.Draft202012Validator(schema()).validate(doc.value)
    assert load_suites(path)


@pytest.mark.parametrize("bad", [
    {"checks": [{"id": "a", "kind": "metric", "data": "d", "target": "y", "metric": "f1",
                 "mni": 1}]},
    {"checks": [{"id": "a", "kind": "metrik"}]},
    {"checks": [{"id": "a", "kind": "missing", "data": "d", "max_change": 2}]},
    {"checks": [{"id": "a b", "kind": "row_count", "data": "d"}]},
    {"data": {"d": {"file": "x"}}, "checks": [{"id": "a", "kind": "row_count", "data": "d"}]},
    {"checks": []},
])
def test_what_the_loader_refuses_a_generic_validator_refuses_too(bad):
    """The loader's messages come from its own reading of the schema; a standard validator
    (what editors run) must agree on what is invalid."""
    assert not jsonschema.Draft202012Validator(schema()).is_valid(bad)
    from mlqa.suite.validate import problems
    from mlqa.suite.yamlpos import Document

    assert problems(Document(bad, {}, {}))
