"""Conversion of results to plain Python values (JSON, JUnit properties, xdist messages).

numpy scalars reaching ``record_property`` crash pytest-xdist's execnet, and JSON has no NaN;
this is the one place that makes values plain.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import sys
from collections.abc import Mapping
from typing import Any


def to_plain(obj: Any) -> Any:
    """Recursively turn ``obj`` into JSON-compatible builtins. Non-finite floats become None."""
    if isinstance(obj, enum.Enum):  # before str: Outcome is a str enum
        return to_plain(obj.value)
    if obj is None or isinstance(obj, bool | str):
        return obj
    # numpy is imported only if the caller's data brought it: no numpy objects exist otherwise,
    # and importing it here would cost every pytest run that loads the plugin.
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, np.generic):
        return to_plain(obj.item())
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if np is not None and isinstance(obj, np.ndarray):
        # numbers convert in C: a latency run's samples are 10^5 values, each a Python call
        # through this function otherwise (about 1 s a record); the same values either way
        if obj.dtype.kind in "biu" or (obj.dtype.kind == "f" and np.isfinite(obj).all()):
            return obj.tolist()
        return to_plain(obj.tolist())
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_plain(v) for v in obj]
    return str(obj)


def plain_number(x: Any) -> str | None:
    """A number as the plain string JUnit properties carry ("0.874", "2000"), None if missing."""
    x = to_plain(x)
    if x is None:
        return None
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return repr(x)
    return None
