"""The history in the store: rows from real checks, appended by concurrent processes into a
folder, a plain HTTP repository (the journal) and a WebDAV server, read back as series; a
changed configuration starts a new series; a missing or damaged file is an error naming it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import mlqa
from mlqa.baseline import HttpStore, LocalStore
from mlqa.errors import InputError
from mlqa.history import append_run, check_ids, mark, read_history, read_series
from mlqa.history.store import rows_key
from mlqa.report.bundle import BundleRecord

RNG = np.random.default_rng(7)
Y = RNG.integers(0, 2, 4000)


def _pred(accuracy: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    wrong = rng.random(Y.size) > accuracy
    return np.where(wrong, 1 - Y, Y)


def run_records(seed: int, *, min_acc: float = 0.8, name: str | None = None
                ) -> list[BundleRecord]:
    """A run's typed bundle records from real checks: one test with one accuracy check, one
    test with an accuracy and a recall check."""
    pred = _pred(0.9, seed)
    single = mlqa.check_metric(Y, pred, "accuracy", min=min_acc, name=name)
    pair = [mlqa.check_metric(Y, pred, "accuracy", min=0.8, name=name),
            mlqa.check_metric(Y, pred, "recall", min=0.5)]
    return [BundleRecord("t.py::test_acc", single),
            *(BundleRecord("t.py::test_two", r, index=i) for i, r in enumerate(pair))]


WRITER = textwrap.dedent("""
    import json, pathlib, sys, time
    sys.path.insert(0, sys.argv[4])
    from test_history import run_records
    from mlqa.baseline import HttpStore, LocalStore
    from mlqa.history import append_run

    where, client, barrier = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
    store = HttpStore(where, env={}, settle=1.0, backoff=0.01) if "://" in where \\
        else LocalStore(where)
    records = [run_records(client * 10 + i) for i in range(3)]
    (barrier / str(client)).touch()  # imports and checks done: all append at once
    while len(list(barrier.iterdir())) < 4:
        time.sleep(0.005)
    prov = {"jenkins": {"BUILD_NUMBER": str(client)}}
    print(json.dumps([append_run(store, r, prov) for r in records]))
""")


def _concurrent(where: str, tmp_path: Path) -> list[str]:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, where, str(client), str(barrier),
                                 str(Path(__file__).parent)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for client in range(4)]
    written = []
    for proc in writers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "BaselineIndexWarning" not in err
        written += json.loads(out)
    return written


@pytest.mark.parametrize("kind", ["folder", "plain-http"])
def test_concurrent_writer_processes_lose_no_run(kind, tmp_path, request):
    """Four processes append three runs each at the same moment: all twelve runs are read
    back, each with its three rows."""
    where = str(tmp_path / "store") if kind == "folder" else request.getfixturevalue(
        "plain_server")
    written = _concurrent(where, tmp_path)
    assert len(set(written)) == 12
    store = LocalStore(where) if kind == "folder" else HttpStore(where, env={})
    history = read_history(store)
    assert [b.entry for b in history.builds] == sorted(written)
    assert {len(history.rows[c]) for c in history.check_ids} == {12}


def test_webdav_store_holds_history_and_marks(dav_server):
    store = HttpStore(dav_server.url, env=dav_server.env(), backoff=0.01)
    assert store.children is not None  # listing, not the journal
    first = append_run(store, run_records(1), {"jenkins": {"BUILD_NUMBER": "1"}})
    second = append_run(store, run_records(2), {"jenkins": {"BUILD_NUMBER": "2"}})
    mark(store, first, "approved", by="alice")
    history = read_history(HttpStore(dav_server.url, env=dav_server.env()))
    assert [b.entry for b in history.builds] == [first, second]
    assert [(b.label, b.approved) for b in history.builds] == [("#1", True), ("#2", False)]


def test_rows_are_the_checks_figures_keyed_by_check_id_not_label(tmp_path):
    """A row holds the result's figures; renaming the checks' display names keeps their ids,
    so the series goes on."""
    store = LocalStore(tmp_path)
    records = run_records(1)
    append_run(store, records, {"jenkins": {"BUILD_NUMBER": "41", "BUILD_URL": "http://ci/41/"},
                                "git": {"commit": "abc123"}})
    append_run(store, run_records(2, name="accuracy on holdout"),
               {"jenkins": {"BUILD_NUMBER": "42"}})
    history = read_history(store)
    assert history.check_ids == ["t.py::test_acc", "t.py::test_two::accuracy",
                                 "t.py::test_two::recall"]
    series = read_series(store, "t.py::test_two::accuracy")
    assert series.note is None and len(series.points) == 2
    first = series.points[0]
    result = records[1].check_result
    assert result is not None
    assert (first.row.value, first.row.ci, first.row.n, first.row.low) == \
        (result.value, result.ci, result.n, result.threshold)
    assert (first.build.number, first.build.url, first.build.commit) == ("41", "http://ci/41/",
                                                                        "abc123")
    assert series.points[1].row.label == "t.py::test_two \u203a accuracy on holdout"


def test_the_configuration_is_the_fields_it_names():
    from mlqa.history.row import CONFIG, CONFIG_FIELDS, HistoryRow

    assert HistoryRow._fields[CONFIG_FIELDS] == CONFIG


def test_a_series_feeds_check_trend(tmp_path):
    """What ``kind: trend`` reads: one check's measured values and build labels, oldest
    first. A build whose check erred (precision undefined: nothing predicted positive) stays
    in the series without a value, never made up and never a configuration change."""
    store = LocalStore(tmp_path)
    for build in range(1, 13):
        pred = _pred(0.92 - (0.03 if build > 6 else 0.0), build)
        if build == 4:
            pred = np.zeros_like(pred)
        append_run(store, [BundleRecord("t.py::test_precision", mlqa.check_metric(
            Y, pred, "precision", min=0.8))], {"jenkins": {"BUILD_NUMBER": str(build)}})
    series = read_series(store, "t.py::test_precision")
    assert series.note is None and len(series.points) == 12
    assert series.points[3].row.outcome is mlqa.Outcome.ERROR and series.values[3] is None
    measured = series.measured()
    assert [b.number for b in measured.builds] == [str(b) for b in range(1, 13) if b != 4]
    result = mlqa.check_trend(measured.values, builds=[b.label for b in measured.builds])
    assert result.outcome is mlqa.Outcome.FAIL and "#7" in result.message


def test_same_measure_twice_in_a_test_is_told_apart_by_order():
    pred = _pred(0.9, 1)
    results = [("t.py::test_x", mlqa.check_metric(Y, pred, "accuracy", min=m))
               for m in (0.8, 0.85)]
    assert check_ids(results) == ["t.py::test_x::accuracy#0", "t.py::test_x::accuracy#1"]


def test_a_changed_configuration_starts_a_new_series_and_says_so(tmp_path):
    store = LocalStore(tmp_path)
    for i in range(3):
        append_run(store, run_records(i), {"jenkins": {"BUILD_NUMBER": str(i + 1)}})
    append_run(store, run_records(3, min_acc=0.85), {"jenkins": {"BUILD_NUMBER": "4"}})
    append_run(store, run_records(4, min_acc=0.85), {"jenkins": {"BUILD_NUMBER": "5"}})
    parts = read_history(store).series("t.py::test_acc")
    assert [len(p.points) for p in parts] == [3, 2]
    assert parts[1].note is not None and "#4" in parts[1].note
    assert "threshold 0.8 \u2192 0.85" in parts[1].note
    current = read_series(store, "t.py::test_acc")
    assert [b.number for b in current.builds] == ["4", "5"]
    assert current.note == parts[1].note
    # the other checks kept their configuration: one series each
    assert read_series(store, "t.py::test_two::recall").note is None
    # the test's one check now measures another metric: a new series, said so
    f1 = mlqa.check_metric(Y, _pred(0.9, 9), "f1", min=0.8)
    append_run(store, [BundleRecord("t.py::test_acc", f1)], {"jenkins": {"BUILD_NUMBER": "6"}})
    latest = read_series(store, "t.py::test_acc")
    assert [b.number for b in latest.builds] == ["6"]
    assert latest.note is not None and "metric accuracy \u2192 f1" in latest.note


def test_a_history_that_cannot_be_written_fails_the_run_loudly(pytester):
    """A store was named and the history could not be kept there: pytest exits non-zero and
    says why, as for a baseline that was not saved."""
    pytester.makepyfile(test_suite=SUITE.replace("mlqa_baseline.save_predictions"
                                                 "(\"holdout\", Y, PRED)", "pass"))
    (pytester.path / "afile").write_text("not a folder")
    result = pytester.runpytest("--mlqa-results", "r", "--mlqa-baseline=afile",
                                "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["*mlqa: history NOT updated: *"])
    assert not (pytester.path / "r" / "history.json").exists()


def test_missing_or_corrupt_history_is_an_error_naming_the_file(tmp_path):
    store = LocalStore(tmp_path)
    with pytest.raises(InputError, match="no history in"):
        read_history(store)
    entries = [append_run(store, run_records(i), {}) for i in range(2)]
    path = tmp_path / rows_key(entries[0])
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"check_id"', b'"check_iD"', 1))
    with pytest.raises(InputError, match=rf"history file {rows_key(entries[0])} .*sha256"):
        read_history(store)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=rows_key(entries[0])):
        read_history(store)
    path.unlink()
    with pytest.raises(InputError, match=rf"{rows_key(entries[0])} .*is missing"):
        read_history(store)
    read_history(store, last=1)  # the damaged run is not among the last one: still readable
    with pytest.raises(InputError, match="no run"):
        mark(store, "20260101T000000000000Z-0123456789", "approved")


SUITE = textwrap.dedent("""
    import numpy as np
    import mlqa

    rng = np.random.default_rng(0)
    Y = rng.integers(0, 2, 2000)
    PRED = np.where(rng.random(2000) < 0.1, 1 - Y, Y)

    def test_accuracy(mlqa_baseline):
        mlqa_baseline.save_predictions("holdout", Y, PRED)
        mlqa.expect_metric(Y, PRED, "accuracy", min=0.8)
""")


def test_runs_add_to_the_history_and_promote_marks_the_build(pytester, monkeypatch, capsys):
    from mlqa.cli import main

    pytester.makepyfile(test_suite=SUITE)
    for build, workers in (("1", ()), ("2", ("-n", "2"))):  # build 2 under pytest-xdist
        monkeypatch.setenv("BUILD_NUMBER", build)
        result = pytester.runpytest("--mlqa-results", f"r{build}", "--mlqa-baseline", "store",
                                    "--mlqa-save-baseline", "-p", "no:cacheprovider", *workers)
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["*mlqa: history entry * added to *store*"])
    assert main(["baseline", "promote", str(pytester.path / "r1"), "--by", "alice"]) == 0
    assert "marked approved" in capsys.readouterr().out
    history = read_history(LocalStore(pytester.path / "store"))
    assert [(b.number, b.approved) for b in history.builds] == [("1", True), ("2", False)]
    (point,) = {p.row.value for p in history.rows["test_suite.py::test_accuracy"]}
    assert 0.85 < point < 0.95
    # no store named: a bundle alone adds to no history
    monkeypatch.delenv("BUILD_NUMBER")
    pytester.runpytest("--mlqa-results", "r3", "-p", "no:cacheprovider").assert_outcomes(
        passed=1)
    assert not (pytester.path / "r3" / "history.json").exists()
    assert len(read_history(LocalStore(pytester.path / "store")).builds) == 2
