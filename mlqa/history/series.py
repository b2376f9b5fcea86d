"""Reading the history back: each check's points over the last builds, split into series
wherever the check's configuration changed.

A trend of unlike figures (accuracy, then F1 under the same test name; a threshold moved) is
not a trend: a row whose configuration differs from the one before starts a new series, and
the series says so (``note``), so neither the page nor a change-point check compares across
it. Nothing here makes up a point: a check absent from a build has no point in it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from mlqa.baseline.stores import Store, open_store
from mlqa.errors import InputError
from mlqa.history.row import APPROVED, CONFIG_FIELDS, RELEASED, Build, HistoryRow
from mlqa.history.store import entries, flags, read_run


class Point(NamedTuple):
    """A row and the build it belongs to."""

    build: Build
    row: HistoryRow


@dataclasses.dataclass(frozen=True)
class Series:
    """One check's points under one configuration, oldest first. ``note``: why this series
    starts where it does (the configuration changed from an earlier build), else None."""

    check_id: str
    label: str
    settings: Mapping[str, Any]
    points: tuple[Point, ...]
    note: str | None = None

    @property
    def values(self) -> list[float | None]:
        return [p.row.value for p in self.points]

    @property
    def intervals(self) -> list[tuple[float | None, float | None] | None]:
        return [p.row.ci for p in self.points]

    @property
    def builds(self) -> list[Build]:
        return [p.build for p in self.points]

    def measured(self) -> Series:
        """The points that have a value (an ERROR build has none): what a statistic over the
        series, such as ``check_trend(s.values, builds=[b.label for b in s.builds])``, reads.
        """
        return dataclasses.replace(self, points=tuple(p for p in self.points
                                                      if p.row.value is not None))

    @property
    def approved(self) -> list[bool]:
        """Per point: the build was approved (promoted) or released."""
        return [p.build.approved or p.build.released for p in self.points]


@dataclasses.dataclass(frozen=True)
class History:
    """The last builds of a store's history (oldest first) and each check's rows in them."""

    location: str
    builds: tuple[Build, ...]
    rows: Mapping[str, tuple[Point, ...]]

    @property
    def check_ids(self) -> list[str]:
        return sorted(self.rows)

    def series(self, check_id: str) -> list[Series]:
        """The check's series, oldest first; the last is the current one."""
        points = self.rows.get(check_id)
        if not points:
            raise InputError(f"check {check_id!r} has no history in {self.location} "
                             f"(the last {len(self.builds)} builds)")
        out: list[list[Point]] = [[]]
        notes: list[str | None] = [None]
        last: Point | None = None  # the last point with a value: what a change is judged from
        for p in points:
            # A build whose check erred measured nothing (its interval and confidence are
            # empty): it stays in the series it fell in and never starts one.
            if p.row.value is not None:
                if last is not None and p.row[CONFIG_FIELDS] != last.row[CONFIG_FIELDS]:
                    notes.append(_changed(last, p))
                    out.append([])
                last = p
            out[-1].append(p)
        shown = [next((q for q in reversed(g) if q.row.value is not None), g[-1]) for g in out]
        return [Series(check_id, q.row.label, q.row.settings, tuple(group), note)
                for group, note, q in zip(out, notes, shown, strict=True)]

    def current(self, check_id: str) -> Series:
        """The check's current series (after its last configuration change)."""
        return self.series(check_id)[-1]


def _changed(before: Point, after: Point) -> str:
    old, new = before.row.settings, after.row.settings
    what = ", ".join(f"{k} {_shown(old[k])} \u2192 {_shown(new[k])}" for k in new
                     if old.get(k) != new[k])
    return (f"a new series starts at build {after.build.label}: the check's configuration "
            f"changed ({what}); earlier builds are not compared with it")


def _shown(value: Any) -> str:
    return "none" if value is None else str(value)


def read_history(store: Store | str | os.PathLike[str], *, last: int | None = None
                 ) -> History:
    """The last ``last`` builds of the history (all when None), with their approved/released
    marks. An empty history, or a listed run whose file is missing or damaged, is an
    :class:`~mlqa.errors.InputError` naming the store or the file: never an empty trend."""
    store = open_store(store)
    if last is not None and (isinstance(last, bool) or not isinstance(last, int) or last < 1):
        raise InputError(f"last= must be a whole number of builds >= 1, got {last!r}")
    ids = entries(store)
    if not ids:
        raise InputError(f"no history in {store.location} (history/runs/ is empty or missing): "
                         f"runs add to it when pytest runs with --mlqa-results and a baseline "
                         f"store (--mlqa-baseline)")
    ids = ids[-last:] if last else ids
    marked = flags(store)
    builds: list[Build] = []
    rows: dict[str, list[Point]] = {}
    with _no_gc():
        for entry in ids:
            build, run_rows = read_run(store, entry)
            said = marked.get(entry, set())
            build = dataclasses.replace(build, approved=APPROVED in said,
                                        released=RELEASED in said)
            builds.append(build)
            for row in run_rows:
                rows.setdefault(row.check_id, []).append(Point(build, row))
    return History(store.location, tuple(builds), {k: tuple(v) for k, v in rows.items()})


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic collector paused while a history is read: 100,000 new tuples (none in a
    cycle) would set it off dozens of times, a third of the time of a large read."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_series(store: Store | str | os.PathLike[str], check_id: str, *,
                last: int | None = None) -> Series:
    """One check's current series over the last ``last`` builds: what ``check_trend`` reads
    (``.values``, ``.intervals``, ``.builds``, ``.approved``; ``.note`` when an earlier
    configuration was cut off)."""
    return read_history(store, last=last).current(check_id)
