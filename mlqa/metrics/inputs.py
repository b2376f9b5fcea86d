"""Checks on how the arrays of a metric or regression check relate to each other.

**pandas indexes.** mlqa matches rows by position. A pandas Series or DataFrame carries its own
row labels, and a permuted or shifted index means the user's rows are *not* in the same order
(issue 11: an index-aligned accuracy of 0.49 was reported as 1.0). mlqa therefore refuses pandas
inputs whose indexes differ from each other, rather than re-aligning them silently: an
alignment would hide a join that went wrong upstream, and dropping unmatched rows would change
``n``. Equal indexes (in the same order) are fine; numpy inputs have no index and are taken by
position. To compare differently indexed data, align it first
(``y_pred.reindex(y_true.index)``) or pass ``.to_numpy()`` deliberately.

**label types.** Labels compared as strings against numbers never match (``"1" != 1``), so a
check would measure 0 agreement, or, worse, agreement only between the two predictions.

**one set of rules on every backend.** :func:`check_metric_inputs` holds the rules on the
values of ``y_true`` and the predictions (no missing or non-finite labels, numeric and finite
scores, probabilities in [0, 1], one label type), written once over :class:`ColumnFacts`: a
few counts that :func:`array_facts` takes from an array in memory and an engine (DuckDB,
Spark) from one summary query (``mlqa.engines.metrics``, read by ``mlqa.metrics.on_engine``).
NULL is a missing value, NaN and infinity are non-finite values; both are refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from mlqa._validation import missing_mask, refuse_missing, refuse_non_finite
from mlqa.errors import InputError

NUMBERS, STRINGS = "numbers", "strings"


@dataclasses.dataclass(frozen=True)
class ColumnFacts:
    """What the input rules need to know of one argument's values.

    ``name`` is how messages name it (``"y_pred"``, or ``"y_pred (column 'p')"`` on an
    engine); ``kind`` its label kind (``"numbers"``, ``"strings"`` or None: mixed/unknown);
    ``numeric`` whether it holds numbers a score can be (``dtype`` names its type in
    messages); ``missing`` the count of None/NULL values, ``non_finite`` of NaN and
    infinities; ``low``/``high`` its smallest and largest value (numbers, all finite);
    ``first_bad`` the row of the first missing or non-finite value where known."""

    name: str
    kind: str | None
    numeric: bool
    dtype: str
    missing: int = 0
    non_finite: int = 0
    low: float | None = None
    high: float | None = None
    first_bad: int | None = None


def array_facts(name: str, arr: np.ndarray) -> ColumnFacts:
    """The facts of an array in memory (1-D, or 2-D class probabilities)."""
    first: int | None = None
    non_finite = missing = 0
    if arr.dtype.kind in "fc":
        bad = ~np.isfinite(arr)
        non_finite = int(bad.sum())
        if non_finite:
            first = int(np.argwhere(bad)[0][0])
    absent = missing_mask(arr)
    if absent is not None and absent.any():
        missing = int(absent.sum())
        first = int(np.argwhere(absent)[0][0])
    numeric = arr.dtype.kind in "biuf"
    low = high = None
    if numeric and not non_finite and arr.size:
        low, high = float(arr.min()), float(arr.max())
    return ColumnFacts(name, label_kind(arr), numeric, str(arr.dtype), missing, non_finite,
                       low, high, first)


def check_metric_inputs(metric: Any, y_true: ColumnFacts, *predictions: ColumnFacts) -> None:
    """The rules on a metric's inputs, the same in memory and on every engine: ``y_true`` has
    no missing or non-finite label; a prediction of labels neither, and it holds the same
    kind of labels as ``y_true``; scores are numeric and finite; probabilities lie in
    [0, 1]. ``metric`` is a resolved :class:`~mlqa.metrics.registry.Metric`."""
    from mlqa.metrics.registry import LABELS, PROBA

    _refuse_bad_labels(y_true)
    for p in predictions:
        if metric.input == LABELS:
            _refuse_bad_labels(p)
            continue
        if not p.numeric:
            raise InputError(f"metric {metric.name!r} needs numeric scores in {p.name}, "
                             f"got dtype {p.dtype}")
        refuse_non_finite(p.name, p.non_finite, p.first_bad)
        refuse_missing(p.name, p.missing, p.first_bad)
    if metric.input == LABELS:
        check_label_kinds(**{f.name: f.kind for f in (y_true, *predictions)})
    if metric.input == PROBA:
        for p in predictions:
            if p.low is not None and p.high is not None and (p.low < 0 or p.high > 1):
                raise InputError(f"metric {metric.name!r} needs probabilities in [0, 1] in "
                                 f"{p.name}, got values in [{p.low:.4g}, {p.high:.4g}]")


def _refuse_bad_labels(facts: ColumnFacts) -> None:
    refuse_non_finite(facts.name, facts.non_finite, facts.first_bad)
    refuse_missing(facts.name, facts.missing, facts.first_bad)


def check_same_index(**named: Any) -> None:
    """Every pandas object among ``named`` has the same index as the first pandas one.

    Keys are argument names in the order they should be reported (``y_true`` first)."""
    reference: tuple[str, Any] | None = None
    for name, value in named.items():
        index = getattr(value, "index", None)
        if index is None or not hasattr(value, "iloc"):
            continue
        if reference is None:
            reference = (name, index)
            continue
        ref_name, ref_index = reference
        if not index.equals(ref_index):
            if len(index) == len(ref_index) and set(index) == set(ref_index):
                how = "the same labels in another order"
            else:
                how = f"{len(index.difference(ref_index))} label(s) not in {ref_name}"
            raise InputError(
                f"{name}'s index differs from {ref_name}'s ({how}); mlqa matches rows by "
                f"position and refuses differently indexed pandas inputs: align them first "
                f"(e.g. {name}.reindex({ref_name}.index)) or pass .to_numpy()")


def label_kind(values: np.ndarray) -> str | None:
    """``"numbers"``, ``"strings"``, or None (mixed or unknown: scikit-learn's own check)."""
    kind = values.dtype.kind
    if kind in "biuf":
        return NUMBERS
    if kind in "US":
        return STRINGS
    if kind == "O":
        import pandas as pd

        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred == "string":
            return STRINGS
        if inferred in ("integer", "floating", "boolean", "mixed-integer-float", "decimal"):
            return NUMBERS
    return None


def check_label_types(**named: np.ndarray) -> None:
    """The label arrays in ``named`` all hold numbers or all hold strings."""
    check_label_kinds(**{name: label_kind(arr) for name, arr in named.items()})


def check_label_kinds(**kinds: str | None) -> None:
    """The label kinds in ``kinds`` (``label_kind`` of each argument, or an engine column's
    from its type) are all numbers or all strings; None (unknown) agrees with any."""
    known = {name: k for name, k in kinds.items() if k is not None}
    if len(set(known.values())) > 1:
        (first, first_kind), *rest = known.items()
        other, other_kind = next((n, k) for n, k in rest if k != first_kind)
        raise InputError(f"label types differ: {first} holds {first_kind}, {other} "
                         f"{other_kind}; labels compared across types never match "
                         f"(\"1\" != 1): convert one of them")
