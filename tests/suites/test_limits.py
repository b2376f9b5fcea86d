"""A suite's reach and its waits, through real pytest runs: the files it may read (its folder,
``mlqa_data_roots``, ``--mlqa-data-root``) and a baseline store that never answers, bounded
by the suite's own ``timeout_s``/``attempts``."""

from __future__ import annotations

import time

import pytest
from _silent_server import silent_server

from mlqa.baseline.stores import HttpStore

ROWS = "a,y,p\n" + "".join(f"{i},{i % 2},{(i // 2) % 2}\n" for i in range(40))
COUNT = """\
data:
  table: {path: ../shared/t.csv}
checks:
  - {id: rows, kind: row_count, data: table, min: 10}
"""


@pytest.fixture
def shared(pytester):
    """A project in ``suite/`` whose data lie in ``shared/`` beside it."""
    (pytester.path / "shared").mkdir()
    (pytester.path / "shared" / "t.csv").write_text(ROWS)
    (pytester.path / "suite").mkdir()
    (pytester.path / "suite" / "s.mlqa.yaml").write_text(COUNT)
    return pytester


def test_data_outside_the_suite_folder_is_a_collection_error(shared):
    result = shared.runpytest("suite", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error stops the run
    result.stdout.fnmatch_lines([
        "malformed mlqa suite:",
        "suite/s.mlqa.yaml:2:17: data source 'table': '../shared/t.csv' is outside the "
        "suite's folder; allow the folder holding it with --mlqa-data-root=DIR or the ini "
        "option mlqa_data_roots"])


def test_the_ini_option_allows_a_folder_relative_to_the_ini_file(shared):
    shared.makeini("[pytest]\nmlqa_data_roots = shared\n")
    result = shared.runpytest("suite", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_command_line_option_allows_a_folder_relative_to_where_pytest_runs(shared):
    result = shared.runpytest("suite", "--mlqa-data-root=shared", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    other = shared.runpytest("suite", "--mlqa-data-root=suite", "-p", "no:cacheprovider")
    assert other.ret == pytest.ExitCode.INTERRUPTED  # another folder allows nothing here


def test_a_store_that_never_answers_fails_the_check_within_the_suite_deadline(pytester):
    """A regression check against a store that accepts and never answers: an ERROR testcase
    within timeout_s x attempts + backoff (+ 1 s), not 30 s x 4 attempts."""
    pytester.path.joinpath("t.csv").write_text(ROWS)
    with silent_server() as url:
        pytester.path.joinpath("s.mlqa.yaml").write_text(f"""\
data:
  t: {{path: t.csv}}
baseline: {{store: '{url}', timeout_s: 0.3, attempts: 2}}
checks:
  - {{id: acc, kind: regression, data: t, target: y, prediction: p, metric: accuracy,
      baseline: acc, max_drop: 0.01}}
""")
        deadline = HttpStore(url, timeout=0.3, retries=1).deadline
        started = time.monotonic()
        result = pytester.runpytest("-p", "no:cacheprovider")
        took = time.monotonic() - started
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*acc could not be evaluated: *failed after 2 attempts: "
                                 "timed out after 0.3 s*"])
    assert deadline == pytest.approx(2.1)
    assert 0.6 <= took < deadline + 1.5  # both attempts were made; the deadline held
