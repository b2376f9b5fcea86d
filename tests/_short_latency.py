"""Short latency measurement windows, for tests that check that a pipeline runs as written (the
docs examples, the example suite), not the figures it measures; the statistics themselves are
tested in tests/latency on their own settings.

``shorten(setattr, setitem)`` replaces ``measure_latency``, ``measure_latency_runs`` and
``measure_latency_interleaved`` wherever a user reaches them (``mlqa.*``, ``mlqa.latency.*``
and the ``measure`` module itself) by the real functions with every time window capped at
``WINDOWS``, explicit arguments included, and an interleaved run at ``ROUNDS`` rounds of at most
``SEGMENT_S``. ``measure_latency_runs`` passes the capped windows to its fresh processes, which
see no patch, and sets ``measure_latency``'s own defaults to ``WINDOWS`` for code that imported
it before. Used with a ``MonkeyPatch``'s ``setattr`` and ``setitem``, or as a plugin
(``-p _short_latency`` with tests/ on the path) in a child pytest, where it lasts the process.

Each window stays long enough for ``min_iters=700`` queries of the small models these runs use
(a finite exact bound on p99 at 99% needs 528).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

WINDOWS = {"warmup_time_s": 0.05, "min_time_s": 0.1, "max_time_s": 0.5,
           "throughput_time_s": 0.02}
ROUNDS = 8  # rounds of measure_latency_interleaved
SEGMENT_S = 0.02  # and seconds of each of its segments
_INTERLEAVED = ("warmup_time_s", "throughput_time_s")  # the windows it takes


def _capped(kwargs: dict[str, Any], names: Any = WINDOWS) -> dict[str, Any]:
    return {**kwargs, **{k: min(kwargs.get(k, WINDOWS[k]), WINDOWS[k]) for k in names}}


def shorten(setattr: Callable[[Any, str, Any], None],
            setitem: Callable[[dict[str, Any], str, Any], None]) -> None:
    import mlqa
    import mlqa.latency
    from mlqa.latency import measure

    for name, value in WINDOWS.items():  # for code that imported the function before
        setitem(measure.measure_latency.__kwdefaults__, name, value)
    single, runs = measure.measure_latency, measure.measure_latency_runs
    interleaved = measure.measure_latency_interleaved

    def measure_latency(*args: Any, **kwargs: Any) -> Any:
        return single(*args, **_capped(kwargs))

    def measure_latency_runs(*args: Any, **kwargs: Any) -> Any:
        return runs(*args, **_capped(kwargs))

    def measure_latency_interleaved(*args: Any, rounds: int = 30, segment_time_s: float = 0.1,
                                    **kwargs: Any) -> Any:
        return interleaved(*args, rounds=min(rounds, ROUNDS),
                           segment_time_s=min(segment_time_s, SEGMENT_S),
                           **_capped(kwargs, _INTERLEAVED))

    for name, func in (("measure_latency", measure_latency),
                       ("measure_latency_runs", measure_latency_runs),
                       ("measure_latency_interleaved", measure_latency_interleaved)):
        for owner in (mlqa, mlqa.latency, measure):
            if name in dir(owner):  # mlqa exports two of the three
                setattr(owner, name, func)


def pytest_configure(config: Any) -> None:
    """As a plugin: before the suite's conftest and test modules import the functions."""
    import operator

    shorten(setattr, operator.setitem)
