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
        refuse_non_finite(name, int(bad.sum()), int(np.argwhere(bad)[0][0]))


def refuse_non_finite(name: str, count: int, first: int | None = None) -> None:
    """InputError when ``count`` values of ``name`` are NaN or infinite. ``first`` is the row
    of the first where known (an engine counts them in its query, without row numbers)."""
    if count:
        where = "" if first is None else f"; first at row {first}"
        raise InputError(f"{name} has {count} non-finite value(s) (NaN or inf){where}")


def refuse_missing(name: str, count: int, first: int | None = None) -> None:
    """InputError when ``count`` values of ``name`` are missing (None, pandas' NA, SQL NULL)."""
    if count:
        where = "" if first is None else f"; first at row {first}"
        raise InputError(f"{name} has {count} missing value(s){where}")


def missing_mask(arr: np.ndarray) -> np.ndarray | None:
    """Where an object array holds None/NaN (None for other dtypes: they cannot)."""
    if arr.dtype.kind != "O":
        return None
    import pandas as pd  # pandas is a core dependency; isna handles None and NaN alike

    return np.asarray(pd.isna(arr))


def check_no_missing_labels(name: str, arr: np.ndarray) -> None:
    """Labels (any dtype) contain no None/NaN."""
    if arr.dtype.kind in "fc":
        check_finite(name, arr)
    missing = missing_mask(arr)
    if missing is not None and missing.any():
        refuse_missing(name, int(missing.sum()), int(np.argwhere(missing)[0][0]))


# --- options shared by every family -------------------------------------------------------------
# One function per kind of option, so the same bad value gets the same InputError text in every
# check_* (issue 10.5). Families call these instead of writing their own isinstance tests.

def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False,
                 allow_none: bool = False) -> float | None:
    """A finite real number (never a bool) in ``[low, high]`` (ends open when asked).

    ``True`` is an ``int`` to Python but never a threshold a user meant, so it is refused.
    """
    if value is None:
        if allow_none:
            return None
        raise InputError(f"{name} is required, got None")
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise InputError(f"{name} must be a number, got {value!r}")
    x = float(value)
    if not np.isfinite(x):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    lo_bad = low is not None and (x <= low if low_open else x < low)
    hi_bad = high is not None and (x >= high if high_open else x > high)
    if lo_bad or hi_bad:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise InputError(f"{name} must be in {left}{lo}, {hi}{right}, got {value!r}")
    return x


def check_probability(name: str, value: Any) -> float:
    """A level such as ``confidence`` or ``alpha``: a number strictly between 0 and 1."""
    x = check_number(name, value, low=0.0, high=1.0, low_open=True, high_open=True)
    assert x is not None
    return x


MIN_RESAMPLES = 100  # below this a percentile interval's tails rest on one or two resamples


def check_n_resamples(value: Any, name: str = "n_resamples", *,
                      minimum: int = MIN_RESAMPLES) -> int:
    """A resample count: an integer (never a bool) of at least ``minimum``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) \
            or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_bound_in_range(name: str, value: Any, *, low: float | None, high: float | None,
                         what: str) -> float | None:
    """A threshold (``min=``/``max=``) that ``what`` can reach: ``min=90`` for a metric bounded by
    1 is a percentage typed by mistake, refused instead of failing forever."""
    x = check_number(name, value, allow_none=True)
    if x is None:
        return None
    if (low is not None and x < low) or (high is not None and x > high):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise InputError(f"{name}={value!r} is outside the range of {what} [{lo}, {hi}]")
    return x


def check_random_state(value: Any, name: str = "random_state") -> Any:
    """An int, None or a numpy Generator: the seeds numpy accepts and users pass."""
    if value is None or isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise InputError(f"{name} must be an int, None or a numpy Generator, got {value!r}")
    return value


_UNSET: Any = object()


def renamed(old_name: str, old_value: Any, new_name: str, new_value: Any, *,
            default: Any, where: str) -> Any:
    """The value of an option renamed in this release; the old name still works, with a warning.

    ``old_value`` is ``UNSET`` when the caller did not pass the old name. Passing both names is
    refused, since one of them would be silently ignored.
    """
    if old_value is _UNSET:
        return new_value
    import warnings

    if new_value is not default and new_value is not _UNSET:
        raise InputError(f"{where}: pass {new_name}= only ({old_name}= is its old name)")
    warnings.warn(f"{where}: {old_name}= is deprecated and will be removed in the next release; "
                  f"use {new_name}=", DeprecationWarning, stacklevel=3)
    return old_value


UNSET = _UNSET
