"""Slices: named subsets of the evaluation rows, one result each.

``slices=`` takes a column of labels (a pandas Series, an array, or the name of a column of
``X``), a dict ``{name: boolean mask}``, or one :class:`Slice`. Labels give one slice per
distinct value, named ``column=value`` (``value`` alone for an unnamed array) and sorted, so the
names and their order are the same in every build; missing labels form their own slice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from mlqa._validation import as_1d
from mlqa.errors import InputError

MISSING = "<missing>"


@dataclasses.dataclass(frozen=True, eq=False)
class Slice:
    """A named subset of the evaluation rows: ``mask`` is a boolean array over them."""

    name: str
    mask: np.ndarray

    def take(self, *arrays: Any) -> Any:
        """The slice's rows of each array (numpy or pandas); one array in, one out."""
        taken = tuple(a[self.mask] if not hasattr(a, "iloc") else a.iloc[self.mask]
                      for a in arrays)
        return taken[0] if len(taken) == 1 else taken

    def __len__(self) -> int:
        return int(self.mask.sum())

    def __repr__(self) -> str:
        return f"Slice({self.name!r}, {len(self)} rows)"


def make_slices(slices: Any, n: int | None = None, X: Any = None) -> list[Slice]:
    """The slices ``slices`` describes, checked against ``n`` rows (when given)."""
    if isinstance(slices, Slice):
        found = [slices]
    elif isinstance(slices, Mapping):
        if not slices:
            raise InputError("slices is an empty dict")
        found = [Slice(str(k), _mask(f"slices[{k!r}]", v)) for k, v in slices.items()]
    elif isinstance(slices, str):
        if X is None or not hasattr(X, "columns"):
            raise InputError(f"slices={slices!r} names a column, which needs X= as a DataFrame")
        if slices not in X.columns:
            raise InputError(f"slices={slices!r}: X has no such column")
        found = _by_label(X[slices], slices)
    else:
        found = _by_label(slices, getattr(slices, "name", None))
    names = [s.name for s in found]
    if len(set(names)) != len(names):
        raise InputError(f"slices: names are not unique once written as text: {names}")
    for s in found:
        if n is not None and len(s.mask) != n:
            raise InputError(f"slice {s.name!r} has {len(s.mask)} rows, the data has {n}")
    return found


def _mask(label: str, values: Any) -> np.ndarray:
    arr = as_1d(label, values)
    if arr.dtype != bool:
        raise InputError(f"{label} must be a boolean mask, got dtype {arr.dtype}")
    return arr


def _by_label(labels: Any, column: str | None) -> list[Slice]:
    import pandas as pd

    values = pd.Series(as_1d("slices", labels))
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:  # mixed types cannot be sorted: sort by their text instead
        codes, uniques = pd.factorize(values.astype(str), sort=True)
    prefix = f"{column}=" if column not in (None, "") else ""
    found = [Slice(f"{prefix}{value}", codes == i) for i, value in enumerate(uniques)]
    if (codes < 0).any():
        found.append(Slice(f"{prefix}{MISSING}", codes < 0))
    return found
