"""Progress of long measurements: the library's reporter hook, and what a real pytest run shows
with -v, -q and on a terminal."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import mlqa
from mlqa.progress import Progress, reporting

FAST = dict(device="cpu", warmup_iters=3, warmup_time_s=0.0, min_iters=50, min_time_s=0.0,
            max_time_s=0.3, throughput_time_s=0.01, overhead_iters=100)


def test_measure_latency_reports_to_the_context_reporter_and_finishes():
    events: list[Progress] = []
    with reporting(events.append):
        lat = mlqa.measure_latency(lambda x: sum(x), ([1, 2],), batch_sizes=(1, 2),
                                   **{**FAST, "min_time_s": 0.5, "max_time_s": 0.5,
                                      "target_rel_ci": 0.0})
    assert {e.task for e in events} == {"latency of <lambda>, batch 1, cpu",
                                        "latency of <lambda>, batch 2, cpu"}
    for bs in (1, 2):
        mine = [e for e in events if e.task.endswith(f"batch {bs}, cpu")]
        assert len(mine) >= 2 and [e.finished for e in mine] == [False] * (len(mine) - 1) + [True]
        assert all(a.elapsed_s <= b.elapsed_s for a, b in zip(mine, mine[1:], strict=False))
        assert all(0 <= e.fraction <= 1 for e in mine if e.fraction is not None)
        assert mine[-1].status == f"{lat[bs].n} queries in {lat[bs].duration_s:.1f} s, max_time"
    after = len(events)
    mlqa.measure_latency(lambda x: x, (1,), **FAST)  # outside the block: no reporter
    assert len(events) == after


def test_a_failing_model_still_finishes_its_task_and_interleaved_rounds_report():
    events: list[Progress] = []

    def broken(x):
        raise RuntimeError("boom")

    with reporting(events.append), pytest.raises(RuntimeError, match="boom"):
        mlqa.measure_latency(broken, (1,), **FAST)
    assert events and events[-1].finished and events[-1].task == "latency of broken, batch 1, cpu"

    events.clear()
    with reporting(events.append):
        mlqa.measure_latency_interleaved({"a": lambda x: x, "b": lambda x: x}, (1,),
                                         rounds=40, segment_time_s=0.01,
                                         **{k: v for k, v in FAST.items()
                                            if k not in ("min_iters", "min_time_s",
                                                         "max_time_s")})
    assert events[-1].finished and events[-1].task == "latency of interleaved a vs b, batch 1, cpu"
    assert events[-1].status == "round 40 of 40" and events[-1].fraction == 1.0


SLOW = '''
import time

import mlqa


def model(x):
    time.sleep(0.001)


def test_slow():
    lat = mlqa.measure_latency(model, (1,), device="cpu", warmup_time_s=0.0, min_time_s=1.2,
                               max_time_s=1.2, target_rel_ci=0.0, throughput_time_s=0.01)
    assert lat[1].n > 100


def test_fast():
    mlqa.measure_latency(lambda x: x, (1,), device="cpu", warmup_time_s=0.0, min_iters=20,
                         min_time_s=0.0, max_time_s=0.1, throughput_time_s=0.01)
'''
LINE = "  mlqa [[]*s] latency of model, batch 1, cpu: * queries in *s, max_time"
# A task shows once it has run SHOW_AFTER_S (2 s); these runs lower it to 0.6 s so that the slow
# task (1.2 s, a fifth of it over the line) need not run 2.5 s in each of three pytest runs.
SOONER = """
import pytest_mlqa.progress

pytest_mlqa.progress.SHOW_AFTER_S = 0.6
"""


def test_a_slow_check_shows_one_line_with_v_and_nothing_with_q(pytester):
    pytester.makepyfile(test_lat=SLOW)
    pytester.makeconftest(SOONER)
    verbose = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    verbose.assert_outcomes(passed=2)
    # not a terminal (a CI console): one line when the slow task ends, under the test's name
    verbose.stdout.fnmatch_lines(["test_lat.py::test_slow ", LINE,
                                  "test_lat.py::test_slow PASSED*"])
    # one line for the whole task, never a line per update
    assert verbose.stdout.str().count("latency of model, batch 1") == 1
    assert "\r" not in verbose.stdout.str()

    quiet = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    quiet.assert_outcomes(passed=2)
    assert "mlqa [" not in quiet.stdout.str()


def test_on_a_terminal_the_line_is_rewritten_in_place(pytester):
    pytester.makepyfile(test_lat=SLOW)
    # the terminal reporter's own isatty, as pytest sets it for a real terminal
    pytester.makeconftest(SOONER + '''
def pytest_sessionstart(session):
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    tr.isatty = type(tr.isatty)(True)
''')
    # read the bytes: pytester's own output lines are split at \r too
    proc = pytester.popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode()
    proc.wait(timeout=60)
    assert proc.returncode == 0 and "2 passed" in out, out
    # first written on a line of its own, then rewritten in place (\r) until it ends
    head = r"  mlqa \[[\d.]+ s\] latency of model, batch"
    assert len(re.findall("\n" + head, out)) == 1
    rewrites = re.findall("\r" + head + "[^\r\n]*", out)
    assert rewrites and "max_time" in rewrites[-1] and "queries in" in rewrites[-1]
    # pytest's own letters then go on a line of their own, after the file's name again
    assert "\ntest_lat.py ." in out
