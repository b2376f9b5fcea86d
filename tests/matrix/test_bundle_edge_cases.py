"""Hard edges of the bundle reader, waivers and the report (issue 24): files that are not
regular files, symlink loops, documents nested 200,000 levels deep, waivers judged on the
machine's own date or filled in with invisible characters, plot files that overwrite each
other, outputs under a file. Each is refused naming what was wrong, or handled and said.

Bundles here hold real check results written by the real writer (``bundle.append``,
``evidence.finish``); only a case about a hostile line writes the line by hand."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _matrix import Case, Ran, cases, cli, exit_code, refusal, run_case
from test_gate_cases import LINE, folder, session

import mlqa
from mlqa.report import bundle, evidence
from mlqa.result import CheckResult

RUN = "5e" * 16
NODE = "t.py::test_accuracy"
Y = np.array([0, 1] * 100)
PRED = np.where(np.arange(200) < 20, 1 - Y, Y)  # accuracy 0.9


def accuracy(min_: float) -> CheckResult:
    """A real check: accuracy 0.9 (95% CI 0.85-0.93, n=200) against ``min_``."""
    return mlqa.check_metric(Y, PRED, "accuracy", min=min_)


def real_bundle(tmp: Path, checks: dict[str, CheckResult | list[CheckResult]] | None = None
                ) -> Path:
    """The bundle and session record a run of ``checks`` (node id -> its results) leaves."""
    checks = {NODE: accuracy(0.5)} if checks is None else checks
    tested = {n: r if isinstance(r, list) else [r] for n, r in checks.items()}
    b = tmp / "real"
    bundle.reset(b)
    for nodeid, results in tested.items():
        for index, result in enumerate(results):
            bundle.append(b, "main", bundle.BundleRecord(nodeid, result, run_id=RUN,
                                                         index=index))
    bundle.merge(b)
    tests = {n: {"outcome": "passed" if all(r.passed for r in rs) else "failed", "mlqa": True,
                 "records": len(rs)} for n, rs in tested.items()}
    evidence.finish(b, run_id=RUN, tests=tests, selected=len(tests), ended_early=None,
                    exitstatus=int(any(t["outcome"] == "failed" for t in tests.values())))
    return b


@contextlib.contextmanager
def no_hang(seconds: float = 20.0) -> Iterator[None]:
    """A FIFO that blocks ``open`` would hang the whole test run: the alarm turns it into a
    failure of this case."""
    def _raise(signum: int, frame: Any) -> None:
        raise TimeoutError(f"blocked for {seconds} s: the command waited on a FIFO")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def replaced(name: str, how: Callable[[Path], None], *args: str, command: str = "gate"
             ) -> Callable[[Path], Ran]:
    """Run ``command`` on a real bundle whose file ``name`` was replaced by ``how(path)``."""
    def action(tmp: Path) -> Ran:
        b = real_bundle(tmp)
        target = b / name
        target.unlink(missing_ok=True)
        how(target)
        extra = ("-o", tmp / "r.html") if command == "report" else ()
        with no_hang():
            return cli(command, b, *extra, *args)
    return action


def fifo(path: Path) -> None:
    os.mkfifo(path)


def symlink_loop(path: Path) -> None:
    os.symlink(path, path)


def dangling(path: Path) -> None:
    os.symlink(path.parent / "gone", path)


def nested(depth: int, text: bytes = b"") -> Callable[[Path], None]:
    return lambda path: path.write_bytes(b"[" * depth + text + b"]" * depth + b"\n")


def hostile_line(raw: bytes, sess: dict | None = None, command: str = "gate"
                 ) -> Callable[[Path], Ran]:
    def action(tmp: Path) -> Ran:
        b = folder(tmp, raw, sess)
        return cli(command, b, *(("-o", tmp / "r.html") if command == "report" else ()))
    return action


def good_line(**result: Any) -> bytes:
    """The matrix's good line with ``result`` fields (``_raw`` keeps a number as written)."""
    return (json.dumps({**LINE, "result": {**LINE["result"], **result}}) + "\n").encode()


DEEP_DETAILS = good_line(details={"x": "DEEP"}).replace(b'"DEEP"', b"[" * 70 + b"]" * 70)

READER = [
    Case("bundle-results-fifo", replaced("results.jsonl", fifo),
         refusal("results.jsonl: refused: it is a named pipe (FIFO), not a regular file")),
    Case("bundle-session-fifo", replaced("session.json", fifo),
         refusal("session.json: refused: it is a named pipe (FIFO), not a regular file")),
    Case("bundle-provenance-fifo", replaced("provenance.json", fifo),
         refusal("provenance.json: refused: it is a named pipe (FIFO)")),
    Case("bundle-results-fifo-report", replaced("results.jsonl", fifo, command="report"),
         refusal("results.jsonl: refused: it is a named pipe (FIFO)")),
    Case("bundle-waivers-fifo",
         lambda tmp: (os.mkfifo(tmp / "w.yaml"),
                      _timed(lambda: cli("gate", real_bundle(tmp), "--waivers",
                                         tmp / "w.yaml")))[1],
         refusal("w.yaml: refused: it is a named pipe (FIFO)")),
    Case("bundle-policy-fifo",
         lambda tmp: (os.mkfifo(tmp / "p.yaml"),
                      _timed(lambda: cli("gate", real_bundle(tmp), "--policy",
                                         tmp / "p.yaml")))[1],
         refusal("p.yaml: refused: it is a named pipe (FIFO)")),
    Case("bundle-results-is-a-folder", replaced("results.jsonl", os.mkdir),
         refusal("results.jsonl: refused: it is a folder, not a regular file")),
    Case("bundle-session-is-a-folder", replaced("session.json", os.mkdir),
         refusal("session.json: refused: it is a folder")),
    Case("bundle-results-symlink-loop", replaced("results.jsonl", symlink_loop),
         refusal("results.jsonl: cannot be read (a symlink loop: the path never reaches a "
                 "file)")),
    Case("bundle-session-symlink-loop", replaced("session.json", symlink_loop),
         refusal("session.json: cannot be read (a symlink loop")),
    Case("bundle-folder-symlink-loop",
         lambda tmp: (symlink_loop(tmp / "loop"), cli("gate", tmp / "loop"))[1],
         refusal("loop: cannot be read (a symlink loop")),
    Case("bundle-results-dangling-symlink", replaced("results.jsonl", dangling),
         refusal("results.jsonl: cannot be read (a symlink to nothing: its target does not "
                 "exist)")),
    Case("bundle-line-nested-200000", replaced("results.jsonl", nested(200_000)),
         refusal("results.jsonl:1: nested too deeply (more than 64 levels)")),
    Case("bundle-line-nested-200000-objects",
         replaced("results.jsonl", lambda p: p.write_bytes(b'{"a":' * 200_000 + b"1"
                                                            + b"}" * 200_000)),
         refusal("results.jsonl:1: nested too deeply")),
    Case("bundle-session-nested-200000", replaced("session.json", nested(200_000)),
         refusal("session.json: nested too deeply (more than 64 levels)")),
    Case("bundle-provenance-nested-200000", replaced("provenance.json", nested(200_000)),
         refusal("provenance.json: nested too deeply")),
    Case("bundle-line-nested-70-in-details", hostile_line(DEEP_DETAILS),
         refusal("results.jsonl:1: nested more than 64 levels deep")),
    Case("bundle-value-1e999", hostile_line(good_line(value=0.5).replace(b"0.5", b"1e999")),
         refusal("results.jsonl:1: 1e999 is not a finite number")),
    Case("bundle-ci-minus-1e999-report",
         hostile_line(good_line(ci=[0.5, 0.95]).replace(b"0.5,", b"-1e999,"),
                      command="report"),
         refusal("results.jsonl:1: -1e999 is not a finite number")),
]


def _timed(run: Callable[[], Ran]) -> Ran:
    with no_hang():
        return run()


# -- waivers ---------------------------------------------------------------------------------

WAIVER = ("waivers:\n  - check: 't.py::test_accuracy'\n    reason: REASON\n"
          "    approver: APPROVER\n    expires: EXPIRES\n")


def waived(*, reason: str = "known", approver: str = "jane", expires: str = "2999-12-31",
           tz: str | None = None) -> Callable[[Path], Ran]:
    """Gate a real failing accuracy check under a waiver (``TODAY``/``YESTERDAY`` in
    ``expires`` are UTC dates), with the process in time zone ``tz``."""
    def action(tmp: Path) -> Ran:
        utc = dt.datetime.now(dt.timezone.utc).date()
        when = expires.replace("TODAY", utc.isoformat()).replace(
            "YESTERDAY", (utc - dt.timedelta(days=1)).isoformat())
        (tmp / "w.yaml").write_text(WAIVER.replace("REASON", json.dumps(reason))
                                    .replace("APPROVER", json.dumps(approver))
                                    .replace("EXPIRES", when), encoding="utf-8")
        b = real_bundle(tmp, {NODE: accuracy(0.99)})
        with local_zone(tz):
            ran = cli("gate", b, "--waivers", tmp / "w.yaml")
        if ran.code != 2:
            assert f"waivers judged as of {utc.isoformat()} (today in UTC)" in ran.out, ran
        return ran
    return action


@contextlib.contextmanager
def local_zone(tz: str | None) -> Iterator[None]:
    """The process's local time zone set to ``tz`` (POSIX TZ), restored afterwards."""
    if tz is None:
        yield
        return
    old = os.environ.get("TZ")
    os.environ["TZ"] = tz
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


WAIVERS = [
    # Etc/GMT-14 is UTC+14 and Etc/GMT+12 is UTC-12 (POSIX signs): the two ends of the world
    # judge the same waiver alike, on the UTC date, and say which date they used.
    Case("waiver-expires-today-at-utc+14", waived(expires="TODAY", tz="Etc/GMT-14"),
         exit_code(0, "(today in UTC)")),
    Case("waiver-expires-today-at-utc-12", waived(expires="TODAY", tz="Etc/GMT+12"),
         exit_code(0, "(today in UTC)")),
    Case("waiver-expired-yesterday-at-utc-12", waived(expires="YESTERDAY", tz="Etc/GMT+12"),
         exit_code(1, ": expired")),
    Case("waiver-approver-zero-width-space", waived(approver="\u200b"),
         refusal("w.yaml:2: waiver lacks ['approver']")),
    Case("waiver-reason-word-joiner-and-bom", waived(reason="\u2060\ufeff\u2060"),
         refusal("w.yaml:2: waiver lacks ['reason']")),
    Case("waiver-approver-no-break-spaces", waived(approver="\u00a0\u3000\u2028"),
         refusal("w.yaml:2: waiver lacks ['approver']")),
    Case("waiver-approver-hangul-filler", waived(approver="\u3164"),
         refusal("w.yaml:2: waiver lacks ['approver']")),
    Case("waiver-approver-visible-with-zero-width", waived(approver="jane\u200b"),
         exit_code(0, "APPROVE: all 1 check passed (1 waived)")),
]

# -- the report ------------------------------------------------------------------------------

PARAMETRISED = {"t.py::test_col[a/b]": accuracy(0.5), "t.py::test_col[a:b]": accuracy(0.7),
                NODE: accuracy(0.6)}


def plot_csv_names(tmp: Path) -> Ran:
    """Two checks whose ids sanitise alike get a file each, each holding its own
    threshold; a second build names every file the same; a plain id keeps its plain name."""
    b = real_bundle(tmp, PARAMETRISED)
    ran = cli("report", b, "-o", tmp / "r.html", "--plot-csv", tmp / "build1")
    other = real_bundle(tmp / "again", dict(reversed(PARAMETRISED.items())))
    cli("report", other, "-o", tmp / "r2.html", "--plot-csv", tmp / "build2")
    first = sorted(p.name for p in (tmp / "build1").glob("*.csv"))
    # Written out, not recomputed: a change of scheme breaks every Jenkins trend, and this.
    assert first == ["mlqa-t.py.test_accuracy.csv", "mlqa-t.py.test_col_a_b-2a116830acdb.csv",
                     "mlqa-t.py.test_col_a_b-3e220b8fbfd0.csv"]
    assert first == sorted(p.name for p in (tmp / "build2").glob("*.csv"))
    thresholds = {(tmp / "build1" / n).read_text().splitlines()[1].split(",")[1] for n in first}
    assert thresholds == {"0.5", "0.7", "0.6"}
    return ran


def plot_csv_same_name_twice(tmp: Path) -> Ran:
    """A test that records three accuracy checks and a recall: four files, none overwritten."""
    recall = mlqa.check_metric(Y, PRED, "recall", min=0.5)
    b = real_bundle(tmp, {"t.py::test_two": [accuracy(0.5), accuracy(0.6), accuracy(0.7),
                                              recall]})
    ran = cli("report", b, "-o", tmp / "r.html", "--plot-csv", tmp / "plots")
    names = sorted(p.name for p in (tmp / "plots").glob("*.csv"))
    assert names == ["mlqa-t.py.test_two-accuracy_0-84de986f3823.csv",
                     "mlqa-t.py.test_two-accuracy_1-a5f9d6f7dd53.csv",
                     "mlqa-t.py.test_two-accuracy_2-709c706efc78.csv",
                     "mlqa-t.py.test_two-recall.csv"], names
    thresholds = {(tmp / "plots" / n).read_text().splitlines()[1].split(",")[1] for n in names}
    assert thresholds == {"0.5", "0.6", "0.7"}
    return ran


def no_nan_in_svg(tmp: Path) -> Ran:
    """Figures at the float limits: every SVG coordinate stays finite."""
    raw = good_line(value=1.7e308, threshold=-1.7e308, ci=[-1.7e308, 1.7e308])
    ran = cli("report", folder(tmp, raw), "-o", tmp / "r.html")
    page = (tmp / "r.html").read_text()
    assert "<svg" in page
    assert not re.findall(r'\s(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height)="[^"]*(?:nan|inf)',
                          page, re.IGNORECASE)
    return ran


def under_a_file(option: str, target: str) -> Callable[[Path], Ran]:
    def action(tmp: Path) -> Ran:
        (tmp / "afile").write_text("not a folder")
        args = ["-o", tmp / "r.html"] if option != "-o" else []
        return cli("report", real_bundle(tmp), *args, option, tmp / target)
    return action


REPORT = [
    Case("report-plot-csv-names-injective-and-stable", plot_csv_names,
         exit_code(0, "mlqa report: APPROVE")),
    Case("report-plot-csv-one-name-twice-in-a-test", plot_csv_same_name_twice,
         exit_code(0, "wrote")),
    Case("report-svg-figures-at-float-limits", no_nan_in_svg, exit_code(0, "wrote")),
    Case("report-output-under-a-file", under_a_file("-o", "afile/sub/r.html"),
         refusal("afile/sub/r.html: cannot create its folder (")),
    Case("report-output-under-a-file-says-which", under_a_file("-o", "afile/r.html"),
         refusal("afile is a file, not a folder")),
    Case("report-md-under-a-file", under_a_file("--md", "afile/s.md"),
         refusal("--md ")),
    Case("gate-junitxml-under-a-file",
         lambda tmp: ((tmp / "afile").write_text("x"),
                      cli("gate", real_bundle(tmp), "--junitxml", tmp / "afile" / "g.xml"))[1],
         refusal("afile is a file, not a folder")),
    Case("report-plot-csv-is-a-file", under_a_file("--plot-csv", "afile"),
         refusal("--plot-csv ")),
]


@pytest.mark.parametrize("case", cases(READER + WAIVERS + REPORT))
def test_case(case: Case, tmp_path: Path, record_property: Any) -> None:
    run_case(case, tmp_path, record_property)


def test_a_session_record_of_a_real_run_reads(tmp_path: Path) -> None:
    """The guards do not refuse what mlqa writes: a real bundle gates."""
    ran = cli("gate", real_bundle(tmp_path, {NODE: accuracy(0.5), "t.py::test_b":
                                             accuracy(0.99)}))
    assert ran.code == 1 and "BLOCKS FAIL" in ran.out, ran
    assert session(None)["finished"] is True  # the hand-written helpers still agree


def test_a_fifo_or_deep_running_marker_is_an_unknown_test_not_a_hung_run(tmp_path: Path
                                                                           ) -> None:
    """The controller reads the markers of workers that died: a FIFO planted as one, or one
    nested 200,000 deep, is an unknown test ("?", which the gate refuses), never a hang."""
    os.mkfifo(tmp_path / "running-gw0.json")
    nested(200_000)(tmp_path / "running-gw1.json")
    evidence.mark_running(tmp_path, "gw2", NODE)
    with no_hang():
        found = evidence.crashed_tests(tmp_path)
    assert found == [("?", "gw0"), ("?", "gw1"), (NODE, "gw2")]
    assert not list(tmp_path.glob("running-*"))
