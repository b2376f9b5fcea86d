"""The catalogue: each test under evidently's name, with its output and decision rule."""

from __future__ import annotations

import dataclasses
import operator
import threading
from collections.abc import Callable

import numpy as np

from mlqa.drift.columns import CATEGORICAL, NUMERICAL, Sample
from mlqa.errors import InputError

# (statistic, p_value): p_value is None for distance tests.
StatFunc = Callable[[Sample, Sample], tuple[float, float | None]]

_OPERATORS = {"<": operator.lt, "<=": operator.le, ">=": operator.ge, ">": operator.gt}


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
    """

    name: str
    display_name: str
    kinds: frozenset[str]
    returns_p_value: bool
    default_threshold: float
    drift_if: str
    func: StatFunc

    def score(self, statistic: float, p_value: float | None) -> float | None:
        """The drift score: None when a p-value test returned no p-value."""
        return p_value if self.returns_p_value else statistic

    def drifted(self, score: float, threshold: float) -> bool:
        return bool(_OPERATORS[self.drift_if](score, threshold))


REGISTRY: dict[str, StatTest] = {}


def register(name: str, display_name: str, kinds: tuple[str, ...], *, p_value: bool,
             threshold: float, drift_if: str | None = None) -> Callable[[StatFunc], StatFunc]:
    def add(func: StatFunc) -> StatFunc:
        REGISTRY[name] = StatTest(name, display_name, frozenset(kinds), p_value, threshold,
                                  drift_if or ("<" if p_value else ">="), func)
        return func

    return add


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
    from mlqa.drift.stattests import binned, categorical, numerical  # noqa: F401


BOTH = (NUMERICAL, CATEGORICAL)
