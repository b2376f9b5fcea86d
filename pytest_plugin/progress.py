"""Progress of long mlqa checks in pytest's terminal.

A latency measurement runs for seconds; without a word pytest looks stuck. Around every test
this installs a reporter for ``mlqa.progress`` that writes to the terminal reporter, as
pytest-benchmark does: once a task has run ``SHOW_AFTER_S`` seconds, a line under the test
rewritten in place about twice a second (a terminal), or one line when the task ends (a log
file or a CI console, where rewriting would leave every state behind). ``-q`` shows nothing;
nor do xdist workers (their terminal is not the user's).

It imports mlqa only around a test where mlqa is already imported (the test module or a YAML
suite did), so unrelated pytest runs pay nothing.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Generator
from typing import Any

import pytest

SHOW_AFTER_S = 2.0  # tasks shorter than this never show
REFRESH_S = 0.5  # a live line is rewritten at most this often


@pytest.hookimpl(trylast=True)  # after the terminal reporter is registered
def pytest_configure(config: pytest.Config) -> None:
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is None or config.get_verbosity() < 0 or hasattr(config, "workerinput"):
        return
    config.pluginmanager.register(TerminalProgress(config, terminal), "mlqa-progress")


class TerminalProgress:
    """A ``mlqa.progress`` reporter writing through pytest's terminal reporter, and the
    hooks that install it around each test."""

    def __init__(self, config: pytest.Config, terminal: Any) -> None:
        self.config, self.terminal = config, terminal
        self._capture = config.pluginmanager.get_plugin("capturemanager")
        self._last = 0.0
        self._open: str | None = None  # the unfinished task whose line was written last
        self._dirty = False  # our line is the terminal's last, unterminated

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        if "mlqa" not in sys.modules:
            return (yield)
        from mlqa.progress import reporting

        with reporting(self):
            return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Without -v pytest writes the test's letter where the cursor is: after our line the
        # file's name goes first again, as when the output moves on to another file.
        if not self._dirty:
            return
        self._dirty, self._open = False, None
        if self.config.get_verbosity(pytest.Config.VERBOSITY_TEST_CASES) <= 0 and \
                self.terminal.currentfspath is None:
            self.terminal.write_fspath_result(report.nodeid, "")

    def __call__(self, progress: Any) -> None:
        if progress.elapsed_s < SHOW_AFTER_S:
            return
        if not self.terminal.isatty():
            if progress.finished:
                self._write(self._line(progress, None), rewrite=False)
            return
        now = time.monotonic()
        same_line = self._open == progress.task and self.terminal.currentfspath is None
        if not progress.finished and same_line and now - self._last < REFRESH_S:
            return
        self._last = now
        width = self.config.get_terminal_writer().fullwidth
        self._write(self._line(progress, width - 3), rewrite=same_line)
        self._open = None if progress.finished else progress.task

    @staticmethod
    def _line(progress: Any, width: int | None) -> str:
        """``mlqa [3.1 s] task: status``; on a terminal within ``width`` (a longer line would
        wrap and ``\r`` could not rewrite it), shortening the task's name first."""
        head, status = f"mlqa [{progress.elapsed_s:.1f} s] ", f": {progress.status}"
        task = progress.task
        if width is not None and len(head) + len(task) + len(status) > width:
            room = width - len(head) - len(status)
            task = task[:room - 1] + "…" if room > 8 else ""
        return (head + task + status)[:width]

    def _write(self, line: str, *, rewrite: bool) -> None:
        # Capture is on while a test runs: the line goes to the real terminal, not into the
        # test's captured output. It is left unterminated: pytest ends it when it writes next.
        with self._capture.global_and_fixture_disabled() if self._capture else \
                contextlib.nullcontext():
            terminal = self.terminal
            if rewrite:
                terminal.rewrite("  " + line, erase=True)
            else:
                terminal.ensure_newline()
                if self.config.get_terminal_writer().width_of_current_line:
                    terminal.write("\n")  # our own earlier line
                terminal.write("  " + line)
            terminal.flush()
        self._dirty = True
