"""The active gate policy: how ``expect`` treats each outcome.

The pytest plugin sets it from its options; scripts and notebooks use the defaults or
``with mlqa.policy.using(inconclusive="fail"):``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mlqa.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.waivers import Waivers

INCONCLUSIVE_POLICIES = ("fail", "warn", "pass")


@dataclasses.dataclass(frozen=True)
class Policy:
    """``inconclusive``: ``fail`` fails the test, ``warn`` passes it with a warning, ``pass``
    passes it silently (the outcome is recorded as ``inconclusive`` in every case).
    ``require_gpu``: a device check without its device is an error instead of a skip.
    ``device``: overrides the device latency checks measure on (``--mlqa-device``).
    ``waivers``: the reviewed waivers (``--mlqa-waivers``) that turn covered failures into
    WAIVED."""

    inconclusive: str = "warn"
    require_gpu: bool = False
    device: str | None = None
    waivers: Waivers | None = None

    def __post_init__(self) -> None:
        if self.inconclusive not in INCONCLUSIVE_POLICIES:
            raise InputError(f"inconclusive policy must be one of {INCONCLUSIVE_POLICIES}, "
                             f"got {self.inconclusive!r}")


_active = Policy()


def active() -> Policy:
    return _active


def set_active(policy: Policy) -> Policy:
    """Make ``policy`` the active one; returns the previous one."""
    global _active
    previous, _active = _active, policy
    return previous


@contextlib.contextmanager
def using(**changes: Any) -> Iterator[Policy]:
    """Temporarily change the active policy: ``with using(inconclusive="fail"): ...``."""
    previous = set_active(dataclasses.replace(_active, **changes))
    try:
        yield _active
    finally:
        set_active(previous)
