"""Column types and the prepared form of one side of one column.

A numerical side is kept as its sorted finite values: every numerical statistic in the
catalogue (KS, Wasserstein, binning, ranks) is a function of the sorted sample, so one sort
serves them all and can be stored in a reference profile. A categorical side is kept as its
distinct values (sorted) and their counts.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from mlqa.errors import InputError

NUMERICAL = "numerical"
CATEGORICAL = "categorical"
BINARY = "binary"
# Types that are never tested; the check says why for each excluded column.
EXCLUDED = {
    "text": "text column (more than half of the values are distinct): not tested",
    "id": "identifier column (every value distinct): not tested",
    "datetime": "datetime column: not tested",
    "embedding": "embedding column (vectors): not tested",
    "unsupported": "unsupported dtype: not tested",
}
TYPES = (NUMERICAL, CATEGORICAL, BINARY, *EXCLUDED)


def exclusion_reason(kind: str, series: pd.Series | None = None) -> str:
    """Why a column of type ``kind`` is not tested; for an object column that mixes kinds of
    value (numbers and strings) the values' kinds, and how to make it testable."""
    if kind == "unsupported" and series is not None and is_text_like(series):
        mixed = pd.api.types.infer_dtype(series, skipna=True)
        return (f"object column of mixed value types ({mixed}): not tested; cast it to one "
                f"type (numbers or strings) to test it")
    return EXCLUDED[kind]
# evidently 0.7's infer_column_type: integer columns with at most this many distinct values
# are categorical.
INTEGER_CARDINALITY_LIMIT = 10


def is_text_like(series: pd.Series) -> bool:
    """Object or string dtype: values whose kind only a look at them tells."""
    dtype = series.dtype
    return not isinstance(dtype, pd.CategoricalDtype) and (
        pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype))


def dtype_family(series: pd.Series, categories: np.ndarray | None = None) -> str:
    """What kind of values a column holds, for the schema comparison of the two sides.

    For object/string columns the distinct values (``categories``, when already counted)
    answer as well as the whole column, at the cost of a handful of values.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return dtype_family(pd.Series(dtype.categories))
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if is_text_like(series):
        inferred = pd.api.types.infer_dtype(series if categories is None else categories,
                                            skipna=True)
        if inferred == "empty":
            return "empty"
        if inferred == "string":
            return "string"
        if inferred in ("integer", "floating", "mixed-integer-float", "boolean", "decimal"):
            return "number"
        return "object"
    return "other"


def infer_type(series: pd.Series, family: str, counted: Sample | None = None) -> str:
    """evidently 0.7's column-type inference, plus identifiers.

    float -> numerical; integer -> categorical with at most 10 distinct values, else numerical
    (an integer column that is strictly increasing is an identifier); bool and category ->
    categorical; strings -> text when more than half the values are distinct (an identifier
    when all are), else categorical; datetime -> datetime. Binary is decided later, on both
    sides together. ``counted`` is the column's categorical sample when already made.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return CATEGORICAL
    if pd.api.types.is_float_dtype(dtype):
        return NUMERICAL
    if pd.api.types.is_integer_dtype(dtype):
        values = series.dropna()
        distinct = values.nunique()
        if distinct <= INTEGER_CARDINALITY_LIMIT:
            return CATEGORICAL
        if distinct == len(values) and values.is_monotonic_increasing:
            return "id"
        return NUMERICAL
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if family == "string":
        counted = counted or categorical_sample(str(series.name), series)
        kind = string_type(len(counted.category_counts()[0]), counted.n)
        return "text" if kind == "id" and is_prose(series) else kind
    if family == "number":
        return NUMERICAL
    if family == "object" and is_vector_column(series):
        return "embedding"
    return "unsupported"


def is_vector_column(series: pd.Series) -> bool:
    """An object column whose first value is a list or 1-D array of numbers: embeddings."""
    first = series.dropna().head(1)
    if first.empty:
        return False
    value = first.iloc[0]
    if not isinstance(value, list | tuple | np.ndarray):
        return False
    array = np.asarray(value)
    return array.ndim == 1 and len(array) > 0 and np.issubdtype(array.dtype, np.number)


# Strings of which at least this share (of the first 1000 values) hold whitespace are prose:
# a column of distinct sentences is text, not an identifier.
PROSE_SHARE = 0.5


def is_prose(series: pd.Series) -> bool:
    """Whether most values (of the first 1000) contain whitespace between other characters."""
    head = series.dropna().head(1000).astype(str)
    return len(head) > 0 and float(head.str.strip().str.contains(r"\s").mean()) >= PROSE_SHARE


def string_type(distinct: int, n: int) -> str:
    """A string column with ``distinct`` values among its ``n``: an identifier when all are
    distinct, text when more than half are, else categorical (in memory and on an engine)."""
    if n > 1 and distinct == n:
        return "id"
    return "text" if distinct > 0.5 * n else CATEGORICAL


@dataclasses.dataclass(frozen=True)
class Sample:
    """One side of one column after dropping NaN and +-inf (evidently drops both).

    Numerical: ``values`` sorted. Categorical: ``categories`` sorted, with ``counts``.
    ``integer`` records an integer dtype, which changes numpy's Sturges bin width (never
    below 1), and so evidently's binned statistics.
    """

    kind: str
    n_rows: int
    values: np.ndarray | None = None
    categories: np.ndarray | None = None
    counts: np.ndarray | None = None
    integer: bool = False
    std: float | None = None
    # text and embedding columns (``mlqa.drift.rich``): the rows themselves, a 1-D object
    # array of strings or a 2-D float array of vectors, for the tests that need rows
    rows: Any = None

    @property
    def n(self) -> int:
        """Rows with a value."""
        if self.rows is not None:
            return len(self.rows)
        if self.values is not None:
            return len(self.values)
        return int(self.category_counts()[1].sum())

    @property
    def missing(self) -> int:
        return self.n_rows - self.n

    def distinct_upto(self, limit: int) -> int:
        """The number of distinct values if it is at most ``limit``, else ``limit + 1``.

        On sorted values that is at most limit + 1 binary searches, not a pass over the data:
        the selection rules only ask "more than 5?", "more than 20?".
        """
        if self.values is None:
            return min(len(self.category_counts()[0]), limit + 1)
        v, count, pos = self.values, 0, 0
        while pos < len(v) and count <= limit:
            pos = int(np.searchsorted(v, v[pos], side="right"))
            count += 1
        return count

    def with_std(self) -> Sample:
        """This sample with its standard deviation (ddof=0) stored: a profile keeps it."""
        if self.values is None or self.std is not None:
            return self
        return dataclasses.replace(self, std=population_std(self.values))

    def frequencies(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted distinct values, counts): a numerical side seen as categories."""
        if self.values is None:
            return self.category_counts()
        return _run_lengths(self.values)

    def sorted_values(self) -> np.ndarray:
        """``values`` of a numerical side; TypeError for a categorical one (which has none)."""
        if self.values is None:
            raise TypeError(f"a {self.kind} sample has no sorted values")
        return self.values

    def category_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(``categories``, ``counts``) of a categorical side; TypeError for a numerical one."""
        if self.categories is None or self.counts is None:
            raise TypeError(f"a {self.kind} sample has no category counts")
        return self.categories, self.counts


def population_std(values: np.ndarray) -> float:
    """``np.std(values)`` (ddof=0: ``sqrt(sum (x - mean)^2 / n)``, numpy's mean), with the
    squared deviations summed block by block (``pooled.BLOCK`` rows) instead of through a
    temporary as long as the column; equal to ~1e-16 relative."""
    from mlqa.drift.stattests.pooled import BLOCK  # (stattests imports this module)

    n = len(values)
    if n == 0:
        return float(np.std(values))
    mean = values.sum() / n
    total = 0.0
    for s in range(0, n, BLOCK):
        d = values[s:s + BLOCK] - mean
        d *= d
        total += float(d.sum())
    return math.sqrt(total / n)


def _run_lengths(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(sorted_values) == 0:
        return sorted_values, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    return sorted_values[starts], np.diff(np.r_[starts, len(sorted_values)])


def numerical_sample(name: str, series: pd.Series) -> Sample:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(dtype.categories.dtype if dtype_family(series) == "number"
                               else object)
        dtype = series.dtype
    integer = pd.api.types.is_integer_dtype(dtype) and not series.hasnans
    if dtype == np.float64:
        s = np.sort(series.to_numpy())  # the one copy: a float64 column is a view
    else:
        try:
            s = series.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            raise InputError(f"column {name!r} is treated as numerical but holds non-numeric "
                             f"values (dtype {dtype})") from None
        s.sort()  # a converted column is already a new array
    # NaN sorts last and -inf/+inf to the ends: the finite values are one slice of the sort.
    low = int(np.searchsorted(s, -np.inf, side="right"))
    high = int(np.searchsorted(s, np.inf, side="left"))
    return Sample(NUMERICAL, len(s), values=s[low:high], integer=integer)


def categorical_sample(name: str, series: pd.Series) -> Sample:
    if pd.api.types.is_float_dtype(series.dtype):
        series = series.replace([np.inf, -np.inf], np.nan)
    codes: np.ndarray
    uniques: np.ndarray
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy(), series.cat.categories.to_numpy()
    else:
        codes, factorized = pd.factorize(series, use_na_sentinel=True)
        uniques = np.asarray(factorized)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    seen = counts > 0
    uniques, counts = uniques[seen], counts[seen]
    order = _sort_order(uniques)
    return Sample(CATEGORICAL, len(series), categories=uniques[order], counts=counts[order])


def _sort_order(values: np.ndarray) -> np.ndarray:
    try:
        return np.argsort(values, kind="stable")
    except TypeError:  # mixed types (e.g. str and int) do not compare: order by their text
        return np.argsort(values.astype(str), kind="stable")


def prepare(name: str, series: pd.Series, kind: str) -> Sample:
    if kind == NUMERICAL:
        return numerical_sample(name, series)
    return categorical_sample(name, series)


def aligned_counts(ref: Sample, cur: Sample) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keys, reference counts, current counts) over the sorted union of both sides' values."""
    ref_keys, ref_counts = ref.frequencies()
    cur_keys, cur_counts = cur.frequencies()
    ref_pos: np.ndarray | list[int]
    cur_pos: np.ndarray | list[int]
    if len(ref_keys) == len(cur_keys) and np.array_equal(ref_keys, cur_keys):
        return ref_keys, ref_counts, cur_counts
    try:
        keys = np.union1d(ref_keys, cur_keys)
        ref_pos, cur_pos = np.searchsorted(keys, ref_keys), np.searchsorted(keys, cur_keys)
    except TypeError:  # mixed types: order by text, place by lookup
        both = np.concatenate([ref_keys, cur_keys]).astype(object)
        keys = both[_sort_order(both)]
        keys = keys[np.r_[True, keys[1:] != keys[:-1]]]
        index = {k: i for i, k in enumerate(keys.tolist())}
        ref_pos = [index[k] for k in ref_keys.tolist()]
        cur_pos = [index[k] for k in cur_keys.tolist()]
    ref_all, cur_all = np.zeros(len(keys), np.int64), np.zeros(len(keys), np.int64)
    ref_all[ref_pos], cur_all[cur_pos] = ref_counts, cur_counts
    return keys, ref_all, cur_all


T = TypeVar("T")
R = TypeVar("R")


def map_columns(func: Callable[[T], R], items: Iterable[T], n_threads: int | None
                ) -> list[R]:
    """``[func(x) for x in items]`` on up to ``n_threads`` threads (None: one per core).

    Per-column work is sorting and whole-array numpy arithmetic, which release the GIL, so
    threads share the columns across cores without copying any data.
    """
    items = list(items)
    workers = min(len(items), n_threads or os.cpu_count() or 1)
    if workers <= 1:
        return [func(x) for x in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))
