"""Marks public API whose issue has not landed: it raises, it never pretends to work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn


def unbuilt(name: str, issue: str) -> Callable[..., NoReturn]:
    def not_yet(*args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(f"mlqa.{name} is not built yet ({issue})")

    not_yet.__name__ = not_yet.__qualname__ = name
    not_yet.__doc__ = f"Not built yet: {issue}."
    return not_yet
