"""The catalogue: each test under evidently's name, with its output and decision rule."""

from __future__ import annotations

import dataclasses
import operator
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from mlqa.drift.columns import CATEGORICAL, NUMERICAL, Sample
from mlqa.errors import InputError

# (statistic, p_value): p_value is None for distance tests.
StatFunc = Callable[[Sample, Sample], tuple[float, float | None]]
# The same from an engine's summaries of a numerical column (``from_sums.Summaries``: the
# pooled-order sums and each side's moments).
SummaryFunc = Callable[[Any], tuple[float, float | None]]
# Certified bounds from histogram cells (``from_cells.Cells``): ((statistic low, high),
# (p low, p high) or None) - ``mlqa.drift.stattests.from_cells``.
CellFunc = Callable[[Any], tuple[tuple[float, float], tuple[float, float] | None]]

_OPERATORS = {"<": operator.lt, "<=": operator.le, ">=": operator.ge, ">": operator.gt}

# What a backend (DuckDB, Spark) computes a test from on a numerical column (``StatTest.
# summary``); a categorical column is always its category counts, the in-memory sample itself.
COUNTS = "counts"  # the count of each value: categorical tests (applied to a numerical
#                    column only by evidently's selection, at <= 5 distinct values)
BINS = "bins"  # evidently's bins: each value's count up to 20 distinct values, else Sturges bins
HISTOGRAM = "histogram"  # a density histogram over Sturges edges of the distinct values
POOLED_SUMS = "pooled_sums"  # sums over the pooled order of both sides (rank/ECDF statistics)
MOMENTS = "moments"  # each side's n, mean and variance
ROWS = "rows"  # the rows themselves (kernel matrices, characteristic functions): in memory only
SUMMARIES = (COUNTS, BINS, HISTOGRAM, POOLED_SUMS, MOMENTS, ROWS)
# the summaries a test finishes with its own ``from_summary`` function (the others run the
# test's own function on samples built from counts or bins)
FINISHED = (POOLED_SUMS, MOMENTS)


class ColumnTestError(ValueError):
    """A test cannot be computed on this column (e.g. Fisher's test on three categories):
    that column's entry becomes an ERROR with this message; the other columns still run."""


@dataclasses.dataclass(frozen=True)
class StatTest:
    """One entry of the catalogue.

    ``drift_if`` is evidently's comparison of the drift score with the threshold: p-value
    tests flag ``p < t`` (``<=`` for ``ks`` and ``cramer_von_mises``), distances ``d >= t``
    (``>`` for ``ed``). The drift score is the p-value of a p-value test and the statistic of
    a distance.

    ``summary`` is what a backend computes the test from (``COUNTS``, ``BINS``, ``HISTOGRAM``,
    ``POOLED_SUMS``, ``MOMENTS``), or ``ROWS`` when it needs the rows themselves: such a test
    runs in memory only, and on DuckDB or Spark it is refused up front, by name, whatever the
    data's size. A ``POOLED_SUMS`` or ``MOMENTS`` test carries ``from_summary``, its formula
    on those summaries (``mlqa.drift.stattests.from_sums.Summaries``); a ``COUNTS``, ``BINS``
    or ``HISTOGRAM`` test runs ``func`` itself on samples built from the engine's counts.

    ``from_cells`` gives certified bounds of the statistic (and p-value) from histogram cells
    (``mlqa.drift.stattests.from_cells``), what ``check_drift(exact="decision")`` and
    ``exact=False`` decide numerical columns with on an engine; None (the default) says the
    test has no cell form, so a column whose decision rests on it takes the exact path.
    """

    name: str
    display_name: str
    kinds: frozenset[str]
    returns_p_value: bool
    default_threshold: float
    drift_if: str
    func: StatFunc
    summary: str = ROWS
    from_summary: SummaryFunc | None = None
    from_cells: CellFunc | None = None

    @property
    def needs_rows(self) -> bool:
        """In memory only: no backend summary gives this test."""
        return self.summary == ROWS

    def score(self, statistic: float, p_value: float | None) -> float | None:
        """The drift score: None when a p-value test returned no p-value."""
        return p_value if self.returns_p_value else statistic

    def drifted(self, score: float, threshold: float) -> bool:
        return bool(_OPERATORS[self.drift_if](score, threshold))


REGISTRY: dict[str, StatTest] = {}


def register(name: str, display_name: str, kinds: tuple[str, ...], *, p_value: bool,
             threshold: float, drift_if: str | None = None, summary: str | None = None,
             from_summary: SummaryFunc | None = None, from_cells: CellFunc | None = None
             ) -> Callable[[StatFunc], StatFunc]:
    """Add ``func`` to the catalogue as test ``name`` (a decorator).

    ``summary`` says what DuckDB and Spark compute it from (see ``StatTest``). By default a
    test of categorical columns only is ``COUNTS`` (a categorical column on any backend is its
    exact category counts, so the function itself runs on them) and any other test ``ROWS``
    (in memory only, refused up front on an engine). ``summary="pooled_sums"`` or
    ``"moments"`` needs ``from_summary``: the test's formula on the engine's summaries
    (``mlqa.drift.stattests.from_sums.Summaries``), returning what ``func`` returns;
    ``from_cells`` its certified bounds from histogram cells (see ``StatTest``)."""
    kinds_set = frozenset(kinds)
    chosen = summary or (COUNTS if kinds_set == {CATEGORICAL} else ROWS)
    _check_summary(name, kinds_set, chosen, from_summary)

    def add(func: StatFunc) -> StatFunc:
        REGISTRY[name] = StatTest(name, display_name, kinds_set, p_value, threshold,
                                  drift_if or ("<" if p_value else ">="), func, chosen,
                                  from_summary, from_cells)
        return func

    return add


def _check_summary(name: str, kinds: frozenset[str], summary: str,
                   from_summary: SummaryFunc | None) -> None:
    if summary not in SUMMARIES:
        raise InputError(f"drift test {name!r}: summary must be one of {SUMMARIES}, "
                         f"got {summary!r}")
    if summary == COUNTS and kinds != {CATEGORICAL}:
        raise InputError(f"drift test {name!r}: summary={COUNTS!r} is for tests of "
                         f"categorical columns; a test of numerical columns declares "
                         f"{ROWS!r} (in memory only) or a summary an engine finishes")
    if summary in FINISHED and not callable(from_summary):
        raise InputError(f"drift test {name!r}: summary={summary!r} needs from_summary=, "
                         f"the test's formula on the engine's summaries "
                         f"(mlqa.drift.stattests.from_sums.Summaries)")
    if summary not in FINISHED and from_summary is not None:
        raise InputError(f"drift test {name!r}: from_summary= is for summary="
                         f"{POOLED_SUMS!r} or {MOMENTS!r}; with summary={summary!r} the "
                         f"test's own function runs on the engine's counts")


_seeds = threading.local()


def set_random_state(seed: int | None) -> None:
    """The seed the permutation tests of this thread's column use (``check_drift`` sets it
    from its ``random_state``)."""
    _seeds.value = seed


def rng() -> np.random.Generator:
    """A generator for one permutation test, seeded from ``check_drift(random_state=...)``
    (0 unless said otherwise, so that a gate gives the same verdict twice)."""
    return np.random.default_rng(getattr(_seeds, "value", 0))


def get(name: str, kind: str | None = None) -> StatTest:
    """The test called ``name``; InputError if unknown or not for ``kind`` columns."""
    _load()
    test = REGISTRY.get(name)
    if test is None:
        raise InputError(f"unknown drift test {name!r}; known: {sorted(REGISTRY)}")
    if kind is not None and kind not in test.kinds:
        raise InputError(f"drift test {name!r} does not apply to {kind} columns "
                         f"(it takes {' and '.join(sorted(test.kinds))} columns)")
    return test


def _load() -> None:
    # The test modules register themselves on import.
    from mlqa.drift.stattests import binned, categorical, numerical, rows  # noqa: F401


BOTH = (NUMERICAL, CATEGORICAL)
