"""Input validation up front, in the style of scikit-learn's ``check_consistent_length``.

Every message names the argument and what is wrong with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlqa.errors import InputError


def as_1d(name: str, values: Any, *, allow_2d: bool = False) -> np.ndarray:
    """``values`` as a numpy array with one row per sample (2-D allowed for class scores)."""
    if values is None:
        raise InputError(f"{name} is required, got None")
    if hasattr(values, "to_numpy"):  # pandas Series / DataFrame, pyarrow via pandas
        values = values.to_numpy()
    try:
        arr = np.asarray(values)
    except Exception as exc:  # noqa: BLE001 - numpy raises many types for ragged input
        raise InputError(f"{name} could not be read as an array: {exc}") from None
    if arr.ndim == 2 and arr.shape[1] == 1 and not allow_2d:
        arr = arr[:, 0]
    if arr.ndim == 0:
        raise InputError(f"{name} must be a sequence of values, got a scalar {values!r}")
    if arr.ndim > (2 if allow_2d else 1):
        raise InputError(f"{name} must be 1-D{' or 2-D' if allow_2d else ''}, "
                         f"got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise InputError(f"{name} is empty")
    return arr


def check_consistent_length(**arrays: np.ndarray | None) -> int:
    """All given arrays have the same number of rows; returns it."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise InputError(f"inconsistent numbers of samples: {listed}")
    return next(iter(lengths.values()))


def check_finite(name: str, arr: np.ndarray) -> None:
    """Numeric ``arr`` has no NaN or infinity; the message counts them and shows the first."""
    if arr.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        count = int(bad.sum())
        first = int(np.argwhere(bad)[0][0])
        raise InputError(f"{name} has {count} non-finite value(s) (NaN or inf); "
                         f"first at row {first}")


def check_no_missing_labels(name: str, arr: np.ndarray) -> None:
    """Labels (any dtype) contain no None/NaN."""
    if arr.dtype.kind in "fc":
        check_finite(name, arr)
    elif arr.dtype.kind == "O":
        import pandas as pd  # pandas is a core dependency; isna handles None and NaN alike

        missing = pd.isna(arr)
        if missing.any():
            raise InputError(f"{name} has {int(missing.sum())} missing value(s); "
                             f"first at row {int(np.argwhere(missing)[0][0])}")
