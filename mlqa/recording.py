"""Where results go once ``expect`` has seen them.

The library cannot know about pytest, so it publishes each expected result to whoever
subscribed: the pytest plugin (properties, bundle) or a script's ``capture()``.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.result import CheckResult

Listener = Callable[["CheckResult"], None]

_listeners: list[Listener] = []
_observers: list[Listener] = []
_starters: list[Callable[[], None]] = []
_depth = threading.local()  # how deep in check_* calls this thread is (a check calls others)
_P = ParamSpec("_P")
_T = TypeVar("_T")
_lock = threading.Lock()
_current_test: str | None = None


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call ``listener(result)`` for every published result; returns the unsubscribe function."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def subscribe_observed(listener: Listener) -> Callable[[], None]:
    """Call ``listener(result)`` for the result of every public ``check_*`` call, expected or
    not (the outermost call only): a test that calls ``check_metric`` and then fails leaves
    that check as its evidence. Returns the unsubscribe function."""
    with _lock:
        _observers.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _observers:
                _observers.remove(listener)

    return unsubscribe


def observed(check: Callable[_P, _T]) -> Callable[_P, _T]:
    """Decorate a public ``check_*`` so its result reaches :func:`subscribe_observed`."""

    @functools.wraps(check)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        depth = getattr(_depth, "n", 0)
        _depth.n = depth + 1
        try:
            result = check(*args, **kwargs)
        finally:
            _depth.n = depth
        if depth == 0:
            with _lock:
                observers = list(_observers)
            for listener in observers:
                listener(result)  # type: ignore[arg-type]
        return result

    return wrapper


def subscribe_start(listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener()`` whenever an ``expect_*`` helper starts a check (before any result
    exists): the pytest plugin learns a test is part of the suite before the check can crash
    its process. Returns the unsubscribe function."""
    with _lock:
        _starters.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _starters:
                _starters.remove(listener)

    return unsubscribe


def check_starting() -> None:
    with _lock:
        starters = list(_starters)
    for listener in starters:
        listener()


def publish(result: CheckResult) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(result)


@contextlib.contextmanager
def capture() -> Iterator[list[CheckResult]]:
    """Collect the results published inside the block: ``with capture() as results: ...``."""
    results: list[CheckResult] = []
    unsubscribe = subscribe(results.append)
    try:
        yield results
    finally:
        unsubscribe()


def current_test() -> str | None:
    """The node id of the pytest test running now (None outside pytest): waivers match on it."""
    return _current_test


@contextlib.contextmanager
def running_test(nodeid: str) -> Iterator[None]:
    """Mark ``nodeid`` as the running test for the block (the pytest plugin wraps each test)."""
    global _current_test
    previous, _current_test = _current_test, nodeid
    try:
        yield
    finally:
        _current_test = previous
