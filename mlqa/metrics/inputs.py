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
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlqa.errors import InputError


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
        return "numbers"
    if kind in "US":
        return "strings"
    if kind == "O":
        import pandas as pd

        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred == "string":
            return "strings"
        if inferred in ("integer", "floating", "boolean", "mixed-integer-float", "decimal"):
            return "numbers"
    return None


def check_label_types(**named: np.ndarray) -> None:
    """The label arrays in ``named`` all hold numbers or all hold strings."""
    kinds = {name: label_kind(arr) for name, arr in named.items()}
    known = {name: k for name, k in kinds.items() if k is not None}
    if len(set(known.values())) > 1:
        (first, first_kind), *rest = known.items()
        other, other_kind = next((n, k) for n, k in rest if k != first_kind)
        raise InputError(f"label types differ: {first} holds {first_kind}, {other} "
                         f"{other_kind}; labels compared across types never match "
                         f"(\"1\" != 1): convert one of them")
