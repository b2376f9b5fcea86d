"""A loaded suite: what each part of a ``*.mlqa.yaml`` file says, typed and frozen."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any


def _frozen(obj: Any, name: str) -> None:
    object.__setattr__(obj, name, MappingProxyType(dict(getattr(obj, name))))


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a table or the model comes from: a ``path`` (relative paths are relative to the
    suite file) or a pytest ``fixture``. ``format`` is ``csv`` or ``parquet`` for tables;
    ``trust`` allows model files that run code when loaded."""

    name: str
    path: Path | None = None
    fixture: str | None = None
    format: str | None = None
    trust: bool = False


@dataclasses.dataclass(frozen=True)
class CheckSpec:
    """One check: ``id`` (unique in its suite), ``kind`` and its ``options`` as written,
    ``line``/``column`` where it starts."""

    id: str
    kind: str
    options: Mapping[str, Any]
    marks: tuple[str, ...] = ()
    description: str = ""
    line: int = 0
    column: int = 0

    def __post_init__(self) -> None:
        _frozen(self, "options")


@dataclasses.dataclass(frozen=True)
class Suite:
    """One suite (one YAML document) of ``file``."""

    name: str
    file: Path
    checks: tuple[CheckSpec, ...]
    data: Mapping[str, Source] = dataclasses.field(default_factory=dict)
    model: Source | None = None
    baseline_store: str | None = None
    baseline_ref: str | None = None
    baseline_timeout_s: float | None = None
    baseline_attempts: int | None = None
    marks: tuple[str, ...] = ()
    description: str = ""
    line: int = 1

    def __post_init__(self) -> None:
        _frozen(self, "data")

    def baseline_location(self) -> Any:
        """What ``BaselineSession`` opens: the store as written, or an ``HttpStore`` with the
        suite's ``timeout_s``/``attempts`` (the loader allows them on an http(s) URL only),
        so that a server that never answers costs at most about
        ``timeout_s * attempts + 0.5 * (2 ** (attempts - 1) - 1) + 1`` seconds an operation."""
        if self.baseline_timeout_s is None and self.baseline_attempts is None:
            return self.baseline_store
        from mlqa.baseline.stores import HttpStore

        assert self.baseline_store is not None  # the loader refuses settings without a store
        return HttpStore(self.baseline_store,
                         timeout=30.0 if self.baseline_timeout_s is None else
                         self.baseline_timeout_s,
                         retries=3 if self.baseline_attempts is None else
                         self.baseline_attempts - 1)
