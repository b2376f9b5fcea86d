"""Progress of long library work, for whoever shows it.

mlqa never prints and never imports pytest. A step that can take seconds (a latency
measurement) opens a :func:`task` and updates it; the updates go to the reporter installed in
the current context with :func:`reporting`, and nowhere when none is (the default, so a
notebook or a script sees nothing and pays one context-variable read). The pytest plugin
installs a reporter that writes to pytest's terminal, as pytest-benchmark and hypothesis users
expect of a check that runs for a while.

    from mlqa.progress import reporting

    with reporting(print):  # any callable taking a Progress
        mlqa.measure_latency(model, x, device="cpu")
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import time
from collections.abc import Callable, Iterator

# Updates closer together than this are dropped (the last state is always sent on finish):
# a measurement updates after every chunk of queries, a reporter needs a few per second.
_MIN_INTERVAL_S = 0.2


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where one task stands.

    ``task``: what runs, e.g. ``"measure_latency predict, batch size 1, cpu"``; ``status``:
    where it is, e.g. ``"1200 queries, 3.1 s"``; ``elapsed_s`` since the task started;
    ``fraction``: share done where an upper bound is known (0-1), else None; ``finished``:
    the task's last update (sent whether it ended normally or by an exception).
    """

    task: str
    status: str
    elapsed_s: float
    fraction: float | None = None
    finished: bool = False


Reporter = Callable[[Progress], None]

_REPORTER: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar(
    "mlqa_progress_reporter", default=None)


@contextlib.contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Send the progress of tasks started inside the block to ``reporter`` (None: nowhere)."""
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)


class Task:
    """One running task: :meth:`update` it as it goes; :func:`task` finishes it."""

    def __init__(self, label: str, reporter: Reporter | None) -> None:
        self.label, self._reporter = label, reporter
        self._start = self._last = time.perf_counter()
        self._status: str = ""
        self._fraction: float | None = None

    def update(self, status: str, fraction: float | None = None) -> None:
        """The task's current state; sent at most every 0.2 s."""
        if self._reporter is None:
            return
        self._status, self._fraction = status, fraction
        now = time.perf_counter()
        if now - self._last >= _MIN_INTERVAL_S:
            self._last = now
            self._send(now, finished=False)

    def finish(self) -> None:
        if self._reporter is not None:
            self._send(time.perf_counter(), finished=True)

    def _send(self, now: float, *, finished: bool) -> None:
        assert self._reporter is not None
        fraction = None if self._fraction is None else min(1.0, max(0.0, self._fraction))
        self._reporter(Progress(self.label, self._status, now - self._start, fraction,
                                finished))


@contextlib.contextmanager
def task(label: str) -> Iterator[Task]:
    """A task named ``label`` reporting to the context's reporter; finished on leaving."""
    current = Task(label, _REPORTER.get())
    try:
        yield current
    finally:
        current.finish()
