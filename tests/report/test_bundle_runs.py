"""The bundle under pytest-xdist and pytest-rerunfailures: one record per check, last attempt
wins, reruns counted; provenance from every worker lands in provenance.json."""

from __future__ import annotations

import json
import textwrap

import pytest

from mlqa.report import bundle

SUITE = textwrap.dedent('''
    import os
    from pathlib import Path

    import pytest

    import mlqa
    from mlqa import provenance

    Y = [0, 1] * 50

    def check(name, outcome):  # a real check that passes or fails as asked
        pred = Y if outcome == "pass" else [1 - v for v in Y]
        return mlqa.check_metric(Y, pred, "accuracy", min=0.5, name=name)

    @pytest.mark.parametrize("i", range(6))
    def test_many(i):
        provenance.dataset(f"part-{i % 2}", [[i % 2, 1], [2, 3]])
        mlqa.expect(check(f"a{i}", "pass"))
        mlqa.expect(check(f"b{i}", "pass"))

    def test_flaky(tmp_path_factory):
        marker = Path(os.environ["FLAKY_MARKER"])
        first = not marker.exists()
        marker.write_text("ran")
        mlqa.expect(check("first", "pass"))
        if first:  # the first attempt records two results, then fails
            mlqa.expect(check("second", "fail"))
''')


@pytest.mark.parametrize("workers", [None, "2"])
def test_last_attempt_wins_and_reruns_are_counted(pytester: pytest.Pytester, workers,
                                                  monkeypatch) -> None:
    monkeypatch.setenv("FLAKY_MARKER", str(pytester.path / "flaky.marker"))
    pytester.makepyfile(test_suite=SUITE)
    args = ["--mlqa-results=bundle", "--reruns=2", "-p", "no:cacheprovider"]
    if workers:
        args += ["-n", workers]
    result = pytester.runpytest_subprocess(*args)
    assert result.parseoutcomes() == {"passed": 7, "rerun": 1}
    records = bundle.read(pytester.path / "bundle")
    assert not list((pytester.path / "bundle").glob("results-*.jsonl"))  # parts merged
    keys = [(r.nodeid, r.index) for r in records]
    assert len(keys) == len(set(keys)) == 6 * 2 + 1
    flaky = [r for r in records if r.nodeid.endswith("test_flaky")]
    assert [(r.result.name, r.attempt, r.reruns) for r in flaky] == \
        [("first", 2, 1)]
    assert {r.reruns for r in records if r not in flaky} == {0}
    prov = json.loads((pytester.path / "bundle" / "provenance.json").read_text())
    assert sorted(d["name"] for d in prov["datasets"]) == ["part-0", "part-1"]
    assert not list((pytester.path / "bundle").glob("provenance-*.json"))


def test_latest_keeps_the_last_line_per_check() -> None:
    import mlqa

    y = [0, 1] * 50
    passed = mlqa.check_metric(y, y, "accuracy", min=0.5).to_dict()
    failed = mlqa.check_metric(y, [1 - v for v in y], "accuracy", min=0.5).to_dict()
    records = [{"nodeid": "t::a", "index": 0, "attempt": 1, "result": failed},
               {"nodeid": "t::a", "index": 1, "attempt": 1, "result": failed},
               {"nodeid": "t::a", "index": 0, "attempt": 2, "result": passed},
               {"nodeid": "t::b", "index": 0, "result": passed},
               {"nodeid": "t::b", "index": 0, "result": failed}]
    kept = bundle.latest(records)
    assert [(r["nodeid"], r["index"], r["result"]["outcome"], r["reruns"]) for r in kept] == \
        [("t::a", 0, "pass", 1), ("t::b", 0, "fail", 0)]
