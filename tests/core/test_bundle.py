import json

import numpy as np
import pytest

from mlqa import CheckResult, InputError
from mlqa.report import bundle


def record(nodeid, index=0, value=0.5):
    return bundle.BundleRecord(nodeid, CheckResult(name="auc", outcome="pass",
                                                   value=np.float64(value)), index=index)


def test_parts_merge_sorted_and_removed(tmp_path):
    bundle.reset(tmp_path)
    bundle.append(tmp_path, "gw1", record("t.py::b"))
    bundle.append(tmp_path, "gw0", record("t.py::a", 1))
    bundle.append(tmp_path, "gw0", record("t.py::a", 0, value=0.25))
    merged = bundle.merge(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["results.jsonl"]
    records = bundle.read(tmp_path)
    assert [(r.nodeid, r.index) for r in records] == [("t.py::a", 0), ("t.py::a", 1),
                                                      ("t.py::b", 0)]
    assert records[0].result.value == 0.25
    assert records[0] == record("t.py::a", 0, value=0.25)  # typed, and read back exactly
    assert bundle.read(merged) == records


def test_reset_drops_a_previous_runs_results(tmp_path):
    bundle.append(tmp_path, "main", record("old"))
    bundle.merge(tmp_path)
    bundle.reset(tmp_path)
    with pytest.raises(InputError, match="holds no mlqa results"):
        bundle.read(tmp_path)


def test_unfinished_run_is_read_from_its_parts(tmp_path):
    bundle.append(tmp_path, "gw0", record("a"))
    assert [r.nodeid for r in bundle.read(tmp_path)] == ["a"]


@pytest.mark.parametrize("line,match", [
    ("{not json", r"results.jsonl:2: not a JSON line"),
    ('{"x": 1}', r"results.jsonl:2: not an mlqa result record"),
    (json.dumps({"schema": 99, "result": {}}), "schema 99 is newer"),
])
def test_bad_lines_are_named(tmp_path, line, match):
    first = bundle.dumps(record("a").to_dict())
    (tmp_path / "results.jsonl").write_text(first + "\n" + line + "\n")
    with pytest.raises(InputError, match=match):
        bundle.read(tmp_path)


def test_missing_bundle(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        bundle.read(tmp_path / "nope")
