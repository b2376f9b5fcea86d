"""Datetime columns: no dates in the future, and fresh enough (``max_age``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlqa.errors import InputError
from mlqa.quality import options
from mlqa.quality.frames import as_frame, kind_of, select
from mlqa.quality.missing import _result
from mlqa.quality.result import ColumnQuality, QualityResult
from mlqa.quality.rules import _share_entries
from mlqa.result import Outcome


def check_dates(current: Any, columns: Sequence[str] | None = None, *,
                max_age: Any = None, max_future_share: float = 0.0, now: Any = None,
                confidence: float = 0.95, name: str = "dates") -> QualityResult:
    """Each datetime column: no values after ``now``, and its newest value at most
    ``max_age`` old.

    * future: the share of non-missing values later than ``now`` is held to
      ``max_future_share`` (0: none at all) on its Wilson interval, the columns at
      ``1 - (1 - confidence) / m`` each (Bonferroni), as ``check_ranges`` does;
    * freshness (with ``max_age``: a ``timedelta``, a pandas ``Timedelta`` or text such as
      ``"36h"``, ``"2 days"``): ``now - newest <= max_age``, else the column FAILs with the
      age it has. A column with no values is an ERROR (it shows nothing fresh).

    ``columns``: the columns to check (default: every datetime column; named columns of text
    are parsed as dates, a value that is not one is an InputError). ``now``: the time they are
    held to (default: the current UTC time); a timezone-aware column is compared in UTC, a
    naive one as UTC wall time.
    """
    options.DATES.validate(locals())
    cur = as_frame("current", current)
    age = None if max_age is None else _timedelta(max_age)
    names = [c for c in cur.columns if kind_of(cur[c]) == "datetime"] if columns is None \
        else select("current", cur, columns)
    if not names:
        raise InputError("check_dates found no datetime column: name them in columns=")
    at = _now(now)
    counts: dict[str, tuple[int, int, str]] = {}
    newest: dict[str, pd.Timestamp | None] = {}
    for c in names:
        values = _naive_utc(c, cur[c]).dropna()
        future = int((values > at).sum())
        newest[c] = values.max() if len(values) else None
        counts[c] = (future, len(values), f"after {at:%Y-%m-%d %H:%M:%S} UTC"
                     + (f", newest {newest[c]}" if newest[c] is not None else ""))
    entries = _share_entries(counts, max_future_share, confidence, "in the future")
    if age is not None:
        for c in names:
            last = newest[c]
            if last is None or entries[c].outcome is Outcome.ERROR:
                continue
            old = at - last
            if old > age:
                entries[c] = ColumnQuality(
                    c, Outcome.FAIL, value=old.total_seconds(), threshold=age.total_seconds(),
                    detail=f"stale: newest value {last} is {old} old > max_age {age}; "
                           f"{entries[c].detail}")
    result = _result(name, "dates", entries, len(cur), confidence,
                     {"max_future_share": max_future_share, "now": str(at),
                      "max_age": None if age is None else str(age)})
    return result


def _timedelta(value: Any) -> pd.Timedelta:
    try:
        age = pd.Timedelta(value)
    except (TypeError, ValueError):
        raise InputError(f"max_age must be a duration (a timedelta or text such as '36h', "
                         f"'2 days'), got {value!r}") from None
    if pd.isna(age) or age <= pd.Timedelta(0):
        raise InputError(f"max_age must be a positive duration, got {value!r}")
    return age


def _now(now: Any) -> pd.Timestamp:
    if now is None:
        return pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    try:
        at = pd.Timestamp(now)
    except (TypeError, ValueError):
        raise InputError(f"now must be a date-time, got {now!r}") from None
    if pd.isna(at):
        raise InputError(f"now must be a date-time, got {now!r}")
    return at.tz_convert("UTC").tz_localize(None) if at.tzinfo is not None else at


def _naive_utc(name: str, series: pd.Series) -> pd.Series:
    """The column as naive UTC timestamps; InputError naming it if it holds no dates."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        try:
            series = pd.to_datetime(series, errors="raise", utc=True)
        except (TypeError, ValueError):
            raise InputError(f"check_dates: column {name!r} does not hold dates "
                             f"(dtype {series.dtype})") from None
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.astype("datetime64[ns]") if series.dtype != np.dtype("datetime64[ns]") \
        else series
