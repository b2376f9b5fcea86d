"""The pooled order cut into value ranges, so that its windows never run in one partition.

A window ``OVER (ORDER BY v)`` with no ``PARTITION BY`` sends every row of a column to one
partition (Spark: an ``Exchange SinglePartition``, one task holding both sides of the column;
DuckDB: one thread). Instead the pooled values are cut into ranges of whole values and every
window runs ``PARTITION BY rid``; what a range needs from the ranges below it (the counts below
it, the smallest value above it) is known before its window runs, and what the ranges above
need from it (its part of a suffix sum) is added on the driver (``mlqa.engines.sql``).

The cut comes from one scan, two on skewed data: the pooled values are counted on ``CELLS``
equal-width cells over ``[low, high]`` (a ``GROUP BY`` of a few thousand groups, mergeable
across partitions) with each cell's smallest and largest value; a cell holding more than a
range's share of the values is counted again on ``CELLS`` sub-cells over its own
``[min, max]`` (one more scan for all such cells). Consecutive cells, in order of value, are
then grouped into ranges of about equal counts. A range is named by its smallest value and a
value's range is found by comparing the value with those (``v < low_i``), so a range is an
interval of values and a tied value never straddles two ranges. A cell still holding more than
a range's share stays whole (its range is larger: slower, never wrong).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from mlqa.engines.base import Engine, literal

CELLS = 4096
# ranges per column: enough for every core of a small cluster to get several (balance), more
# as the rows grow (each window partition stays near ROWS_PER_RANGE rows), and few enough that
# the per-row lookups (binary CASE trees of depth log2(ranges)) stay short
MIN_RANGES = 64
MAX_RANGES = 256
ROWS_PER_RANGE = 2_000_000
# cells holding more than a range's share are split once, by one more scan, into CELLS
# sub-cells each (at most this many cells at once: the heaviest)
MAX_SPLIT = 32
_NULL = "CAST(NULL AS DOUBLE)"


@dataclasses.dataclass(frozen=True)
class Ranges:
    """Consecutive value ranges of one column's pooled order, each holding at least one value:
    its smallest value and the reference and current counts in it. ``key(v)`` is the SQL of a
    value's range number ``rid``: comparisons of the value with the ranges' smallest values,
    so every occurrence of a value is in one range."""

    low: np.ndarray
    ref: np.ndarray
    cur: np.ndarray

    @property
    def count(self) -> int:
        return len(self.low)

    def key(self, v: str) -> str:
        return tree(v, [literal(float(x)) for x in self.low],
                    [str(i) for i in range(self.count)])

    def lookup(self, rid: str, values: Sequence[float] | np.ndarray) -> str:
        """The SQL of ``values[rid]`` (NaN -> NULL) for a range number ``rid``."""
        leaves = [_NULL if math.isnan(x) else literal(float(x)) for x in values]
        return tree(rid, [str(i) for i in range(self.count)], leaves)

    @property
    def next_low(self) -> np.ndarray:
        return np.append(self.low[1:], math.nan)

    @property
    def below_ref(self) -> np.ndarray:
        return np.cumsum(self.ref) - self.ref

    @property
    def below_cur(self) -> np.ndarray:
        return np.cumsum(self.cur) - self.cur


def tree(key: str, starts: Sequence[str], leaves: Sequence[str]) -> str:
    """``leaves[i]`` where ``starts[i] <= key < starts[i + 1]``, as a binary search of CASEs
    (log2(len) comparisons per row)."""

    def node(a: int, b: int) -> str:
        if b - a == 1:
            return leaves[a]
        mid = (a + b) // 2
        return f"CASE WHEN {key} < {starts[mid]} THEN {node(a, mid)} ELSE {node(mid, b)} END"

    return node(0, len(leaves))


def _cells(engine: Engine, union: str, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """Rows (smallest value, largest value, reference count, current count) of the non-empty
    cells of ``CELLS`` equal-width cells over each span ``[a, b]`` (spans sorted, disjoint;
    values outside every span are not counted)."""
    def cell(h: int) -> str:
        a, b = spans[h]
        return (f"{h * CELLS} + LEAST(GREATEST(CAST(FLOOR((v - {literal(a)}) / "
                f"{literal((b - a) / CELLS)}) AS BIGINT), 0), {CELLS - 1})")

    inside = [f"CASE WHEN v <= {literal(b)} THEN {cell(h)} END" for h, (_, b) in enumerate(spans)]
    key = f"CASE WHEN v >= {literal(spans[0][0])} THEN " \
          f"{tree('v', [literal(a) for a, _ in spans], inside)} END"
    got = engine.rows(f"SELECT MIN(v), MAX(v), SUM(r), SUM(c) FROM (SELECT {key} AS k, v, r, c "
                      f"FROM ({union}) u) t WHERE k IS NOT NULL GROUP BY k")
    return np.array(got, dtype=np.float64).reshape(-1, 4)


def cut(engine: Engine, union: str, n_ref: int, n_cur: int,
        bounds: tuple[float, float] | None = None) -> Ranges:
    """The ranges of the pooled values of ``union`` (rows ``v, r, c``), from one counting scan
    (two where a cell holds more than a range's share of the values); ``bounds`` (the pooled
    min and max, when the first pass has them) saves a scan."""
    if bounds is None:
        low, high = engine.one(f"SELECT MIN(v), MAX(v) FROM ({union}) u")
        bounds = (float(low), float(high)) if low is not None else (0.0, 0.0)
    total = n_ref + n_cur
    wanted = min(max(total // ROWS_PER_RANGE, MIN_RANGES), MAX_RANGES)
    cells = np.array([[bounds[0], bounds[1], n_ref, n_cur]])
    for _ in range(2):
        counts = cells[:, 2] + cells[:, 3]
        with np.errstate(over="ignore"):
            width = (cells[:, 1] - cells[:, 0]) / CELLS
        heavy = np.flatnonzero((counts > total / wanted) & np.isfinite(width) & (width > 0))
        if heavy.size == 0:
            break
        heavy = np.sort(heavy[np.argsort(-counts[heavy], kind="stable")[:MAX_SPLIT]])
        spans = [(float(cells[h, 0]), float(cells[h, 1])) for h in heavy]
        split = _cells(engine, union, spans)
        cells = np.concatenate([np.delete(cells, heavy, axis=0), split])
        cells = cells[np.argsort(cells[:, 0], kind="stable")]  # disjoint: ordered by min
    ref, cur = cells[:, 2].astype(np.int64), cells[:, 3].astype(np.int64)
    if int(ref.sum()) != n_ref or int(cur.sum()) != n_cur:
        raise RuntimeError(f"internal: the range cut counted {ref.sum()}/{cur.sum()} values, "
                           f"the first pass {n_ref}/{n_cur}")
    # each cell goes to the range its first value's pooled rank falls in: ranges of about
    # total / wanted values, consecutive cells, none empty
    before = np.cumsum(ref + cur) - (ref + cur)
    first = np.flatnonzero(np.diff(before * wanted // total, prepend=-1) != 0)
    return Ranges(cells[first, 0], np.add.reduceat(ref, first), np.add.reduceat(cur, first))
