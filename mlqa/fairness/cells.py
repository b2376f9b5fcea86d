"""The disparity check's summary: confusion cells per group, ``C[g, t, p]``.

Filled in memory (one ``bincount``) or where the data lives (one ``GROUP BY group, y_true,
y_pred``, :func:`mlqa.engines.metrics.grouped_confusion_cells`); the family decides from it
with the same code either way. Groups are named by their value as text, sorted by value, with
missing values last as their own group (``<missing>``, as slices name them).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from mlqa._validation import as_1d, check_consistent_length
from mlqa.errors import InputError
from mlqa.metrics.slices import MISSING


@dataclasses.dataclass(frozen=True, eq=False)
class GroupedCells:
    """``cells[g, t, p]``: rows of group ``groups[g]`` with true label ``labels[t]`` predicted
    ``labels[p]``."""

    groups: tuple[str, ...]
    labels: np.ndarray
    cells: np.ndarray

    @property
    def rows(self) -> np.ndarray:
        return self.cells.sum(axis=(1, 2))


def grouped(values: list[Any], labels: np.ndarray, cells: np.ndarray) -> GroupedCells:
    """The summary from sorted group ``values`` (None: missing, last), the labels and the
    cells; 0/1 labels become the full binary grid even where one class is absent."""
    names = tuple(MISSING if v is None else str(v) for v in values)
    if len(set(names)) != len(names):
        raise InputError(f"groups: names are not unique once written as text: {list(names)}")
    if labels.dtype.kind in "biuf" and bool(np.isin(labels, (0, 1)).all()) and \
            len(labels) < 2:
        full = np.array([0, 1], dtype=labels.dtype)
        at = np.searchsorted(full, labels)
        grid = np.zeros((len(names), 2, 2), dtype=np.int64)
        grid[np.ix_(np.arange(len(names)), at, at)] = cells
        labels, cells = full, grid
    return GroupedCells(names, labels, cells)


def memory_cells(y_true: Any, y_pred: Any, groups: Any) -> GroupedCells:
    """The summary of in-memory arrays (labels checked by the metric family's rules)."""
    import pandas as pd

    from mlqa.metrics.inputs import array_facts, check_metric_inputs
    from mlqa.metrics.registry import resolve_metric

    yt, yp, g = as_1d("y_true", y_true), as_1d("y_pred", y_pred), as_1d("groups", groups)
    check_consistent_length(y_true=yt, y_pred=yp, groups=g)
    if len(yt) == 0:
        raise InputError("y_true is empty")
    check_metric_inputs(resolve_metric("accuracy"), array_facts("y_true", yt),
                        array_facts("y_pred", yp))
    try:
        labels = np.unique(np.concatenate([yt, yp]))
    except TypeError:
        raise InputError("y_true and y_pred mix label types that cannot be compared") from None
    try:
        codes, uniques = pd.factorize(pd.Series(g), sort=True)
    except TypeError:
        raise InputError("groups mixes value types that cannot be sorted") from None
    values: list[Any] = list(uniques)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(values), codes)
        values.append(None)
    k = len(labels)
    flat = (codes * k + np.searchsorted(labels, yt)) * k + np.searchsorted(labels, yp)
    cells = np.bincount(flat, minlength=len(values) * k * k).reshape(len(values), k, k)
    return grouped(values, labels, cells)


def group_names(groups: Any) -> tuple[str, ...]:
    """The names the check gives the groups of ``groups`` (sorted values as text, missing
    last), without any labels: what a test is parametrized by before it runs."""
    import pandas as pd

    try:
        codes, uniques = pd.factorize(pd.Series(as_1d("groups", groups)), sort=True)
    except TypeError:
        raise InputError("groups mixes value types that cannot be sorted") from None
    return tuple([str(v) for v in uniques] + [MISSING] * bool((codes < 0).any()))


def pair_names(groups: Any, reference: str = "overall") -> list[str]:
    """The pairs ``check_disparity(..., groups=groups, reference=reference)`` compares, by
    name (``"B vs overall"``): one test case each with ``pair=``."""
    names = group_names(groups)
    if reference not in ("overall", "best") and reference not in names:
        raise InputError(f"reference={reference!r} is not a group; groups: {list(names)}")
    return [f"{g} vs {reference}" for g in names if g != reference]
