"""Change points over the stored history: ``check_history_trend`` and the YAML ``kind: trend``.

A YAML suite runs as ten pytest builds against one baseline store: one accuracy check steps
down by 6 points at build 6, another stays flat. Each build adds its rows to the history when
it ends; the suite's trend checks read the builds before it, INCONCLUSIVE until there are
enough, then FAIL on the step and PASS on the flat one. In-process histories from real checks
cover the rest: a damaged or missing history file is an ERROR naming it, a configuration change
starts a new series and the result says so, the direction comes from the requirement.
"""

from __future__ import annotations

import contextlib
import textwrap

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.baseline import LocalStore
from mlqa.errors import InputError
from mlqa.history import append_run
from mlqa.history.store import rows_key
from mlqa.report.bundle import BundleRecord

Outcome = mlqa.Outcome
N = 2000

SUITE = textwrap.dedent("""
    suite: model
    data:
      holdout: {path: holdout.csv}
    checks:
      - {id: steady, kind: metric, data: holdout, target: y, prediction: flat,
         metric: accuracy, min: 0.8}
      - {id: stepped, kind: metric, data: holdout, target: y, prediction: step,
         metric: accuracy, min: 0.8}
      - id: steady_trend
        kind: trend
        check: model.mlqa.yaml::model::steady
        min_magnitude: 0.02
        min_history: 6
      - id: stepped_trend
        kind: trend
        check: model.mlqa.yaml::model::stepped
        min_magnitude: 0.02
        min_history: 6
""")


def _holdout(build: int) -> pd.DataFrame:
    """Labels and two prediction columns: ``flat`` about 92% right in every build, ``step``
    92% right in builds 1-5 and 86% from build 6 on."""
    rng = np.random.default_rng(build)
    y = rng.integers(0, 2, N)

    def wrong(share: float) -> np.ndarray:
        return np.where(rng.random(N) < share, 1 - y, y)

    return pd.DataFrame({"y": y, "flat": wrong(0.08), "step": wrong(0.08 if build < 6 else 0.14)})


def test_a_suite_flags_the_step_in_its_history_and_not_the_flat_series(
        pytester, monkeypatch, jenkins_check):
    pytester.makefile(".mlqa.yaml", model=SUITE)
    outcomes = {}
    for build in range(1, 11):
        _holdout(build).to_csv(pytester.path / "holdout.csv", index=False)
        monkeypatch.setenv("BUILD_NUMBER", str(build))
        result = pytester.runpytest("--mlqa-baseline", "store", "--mlqa-results", f"r{build}",
                                    f"--junitxml=b{build}.xml", "-p", "no:cacheprovider")
        assert result.ret in (0, 1), result.stdout.str()
        outcomes[build] = {r.nodeid.rsplit("::", 1)[1]: r.check_result
                           for r in mlqa.report.bundle.read(pytester.path / f"r{build}")}
    first, last = outcomes[1], outcomes[10]
    # build 1: the store has no history yet; build 6 judges 5 builds: not enough, not a pass
    assert first["stepped_trend"].outcome is Outcome.INCONCLUSIVE
    assert "holds no build yet" in first["stepped_trend"].message
    assert outcomes[6]["steady_trend"].outcome is Outcome.INCONCLUSIVE
    # build 10 reads builds 1-9: the step at build 6 fails, the flat series passes
    stepped, steady = last["stepped_trend"], last["steady_trend"]
    assert stepped.outcome is Outcome.FAIL, stepped.message
    assert "from build #6" in stepped.message and stepped.builds[0] == "#1"
    assert stepped.n == 9 and stepped.value == pytest.approx(-0.06, abs=0.015)
    assert steady.outcome is Outcome.PASS, steady.message
    assert not any(c.fails for c in steady.change_points)
    assert stepped.details["check_id"] == "model.mlqa.yaml::model::stepped"
    assert jenkins_check(pytester.path / "b10.xml")["ok"]


def _y(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, N)


def _builds(store: LocalStore, accuracies: list[float], *, start: int = 1,
            **requirement: float) -> list[str]:
    """One run per accuracy, each with a real check_metric result of the test t.py::test_acc."""
    y = _y()
    entries = []
    for i, acc in enumerate(accuracies):
        rng = np.random.default_rng(start + i)
        pred = np.where(rng.random(N) < 1 - acc, 1 - y, y)
        result = mlqa.check_metric(y, pred, "accuracy", **(requirement or {"min": 0.8}))
        entries.append(append_run(store, [BundleRecord("t.py::test_acc", result)],
                                  {"jenkins": {"BUILD_NUMBER": str(start + i)}}))
    return entries


def test_a_damaged_or_missing_history_file_is_an_error_naming_it(tmp_path):
    store = LocalStore(tmp_path)
    entries = _builds(store, [0.92] * 12)
    assert mlqa.check_history_trend(store, "t.py::test_acc").outcome is Outcome.PASS
    path = tmp_path / rows_key(entries[3])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    damaged = mlqa.check_history_trend(store, "t.py::test_acc")
    assert damaged.outcome is Outcome.ERROR and rows_key(entries[3]) in damaged.message
    path.unlink()
    missing = mlqa.check_history_trend(str(tmp_path), "t.py::test_acc")
    assert missing.outcome is Outcome.ERROR and "is missing" in missing.message
    assert rows_key(entries[3]) in missing.message
    # the last builds only: the damaged run is not among them, the rest is judged
    assert mlqa.check_history_trend(store, "t.py::test_acc", last=8,
                                    min_history=8).outcome is Outcome.PASS


def test_too_few_builds_or_an_unknown_check_is_inconclusive_never_a_pass(tmp_path):
    store = LocalStore(tmp_path)
    _builds(store, [0.92] * 5)
    few = mlqa.check_history_trend(store, "t.py::test_acc")
    assert few.outcome is Outcome.INCONCLUSIVE and "not enough history" in few.message
    typo = mlqa.check_history_trend(store, "t.py::test_ac")
    assert typo.outcome is Outcome.INCONCLUSIVE
    assert "did you mean 't.py::test_acc'?" in typo.message
    with pytest.raises(InputError, match="min_magnitude"):
        mlqa.check_history_trend(store, "t.py::test_acc", min_magnitude=-1)
    with pytest.raises(InputError, match="check_id"):
        mlqa.check_history_trend(store, "")


def test_a_configuration_change_starts_a_new_series_and_says_so(tmp_path):
    """Six builds at 92% under min=0.8, then eight at 86% under min=0.85: a trend over all
    fourteen would fail on the drop; the threshold change cut the series, so only the eight
    are judged, and the result says where and why."""
    store = LocalStore(tmp_path)
    _builds(store, [0.92] * 6)
    _builds(store, [0.86] * 8, start=7, min=0.85)
    result = mlqa.check_history_trend(store, "t.py::test_acc", min_history=8,
                                      min_magnitude=0.02)
    assert result.outcome is Outcome.PASS, result.message
    assert result.n == 8 and result.builds[0] == "#7"
    assert "a new series starts at build #7" in result.message
    assert "threshold 0.8 \u2192 0.85" in result.details["series_note"]


def test_the_direction_comes_from_the_requirement(tmp_path):
    """A floor (min=) means a drop is worse; a ceiling (max=) a rise; a check with both must
    say."""
    floor, ceiling, both = (LocalStore(tmp_path / k) for k in ("floor", "ceiling", "both"))
    levels = [0.92] * 6 + [0.86] * 6
    _builds(floor, levels)
    _builds(ceiling, levels, max=0.95)
    _builds(both, levels, min=0.5, max=0.99)
    assert mlqa.check_history_trend(floor, "t.py::test_acc").outcome is Outcome.FAIL
    rise_is_worse = mlqa.check_history_trend(ceiling, "t.py::test_acc")
    assert rise_is_worse.outcome is Outcome.PASS and not rise_is_worse.greater_is_better
    assert any(not c.worse for c in rise_is_worse.change_points)  # found, for the better
    with pytest.raises(InputError, match="greater_is_better= is needed"):
        mlqa.check_history_trend(both, "t.py::test_acc")
    assert mlqa.check_history_trend(both, "t.py::test_acc",
                                    greater_is_better=True).outcome is Outcome.FAIL


@pytest.mark.parametrize("server", ["dead", "silent"])
def test_a_store_that_does_not_answer_is_an_error_within_its_deadline(server):
    """An http(s) history that cannot be reached is an ERROR naming it (never "no history
    yet"), within the store's timeout and retries."""
    import socket
    import time

    from _silent_server import silent_server

    from mlqa.baseline import HttpStore

    with contextlib.ExitStack() as stack:
        if server == "dead":
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                url = f"http://127.0.0.1:{s.getsockname()[1]}/store/"
        else:
            url = stack.enter_context(silent_server("/store/"))
        started = time.monotonic()
        result = mlqa.check_history_trend(
            HttpStore(url, env={}, timeout=0.5, retries=1, backoff=0.01), "t.py::test_acc")
        took = time.monotonic() - started
    assert result.outcome is Outcome.ERROR, result.message
    assert "the history cannot be read" in result.message and url in result.message
    assert took < 10
