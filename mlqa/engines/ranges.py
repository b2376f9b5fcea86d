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
MIN_RANGES = 64  # in one query: each of its k columns gets at least MIN_RANGES / k
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


# a cell's number in one counting query: the column's index times STRIDE, plus its span's
# index times CELLS, plus the cell within the span (at most MAX_SPLIT spans per column)
STRIDE = MAX_SPLIT * CELLS


def _cells(engine: Engine, union: str, spans: Sequence[Sequence[tuple[float, float]]]
           ) -> list[np.ndarray]:
    """Per column ``i`` of ``union`` (rows ``col, v, r, c``; ``col`` may be absent when there
    is one column), rows (smallest value, largest value, reference count, current count) of
    the non-empty cells of ``CELLS`` equal-width cells over each of its spans ``spans[i]``
    (sorted, disjoint; values outside every span, and columns without spans, not counted).
    One ``GROUP BY`` for every column at once."""
    def cell(i: int, h: int, a: float, b: float) -> str:
        return (f"{i * STRIDE + h * CELLS} + LEAST(GREATEST(CAST(FLOOR((v - {literal(a)}) / "
                f"{literal((b - a) / CELLS)}) AS BIGINT), 0), {CELLS - 1})")

    def column(i: int) -> str:
        if not spans[i]:
            return "CAST(NULL AS BIGINT)"
        inside = [f"CASE WHEN v <= {literal(b)} THEN {cell(i, h, a, b)} END"
                  for h, (a, b) in enumerate(spans[i])]
        return (f"CASE WHEN v >= {literal(spans[i][0][0])} THEN "
                f"{tree('v', [literal(a) for a, _ in spans[i]], inside)} END")

    key = tree("col", [str(i) for i in range(len(spans))], [column(i) for i in range(len(spans))])
    got = engine.rows(f"SELECT k, MIN(v), MAX(v), SUM(r), SUM(c) FROM (SELECT {key} AS k, v, "
                      f"r, c FROM ({union}) u) t WHERE k IS NOT NULL GROUP BY k")
    rows = np.array(got, dtype=np.float64).reshape(-1, 5)
    which = rows[:, 0].astype(np.int64) // STRIDE
    return [rows[which == i, 1:] for i in range(len(spans))]


@dataclasses.dataclass(frozen=True)
class Pooled:
    """What the cut of one column needs: its usable values per side and, when the first pass
    has them, their pooled min and max (saves a scan)."""

    n_ref: int
    n_cur: int
    bounds: tuple[float, float] | None = None


def cut_many(engine: Engine, union: str, columns: Sequence[Pooled]) -> list[Ranges]:
    """The ranges of each column ``i`` of ``union`` (rows ``col, v, r, c``, ``col = i``),
    from one counting scan for all the columns (two where a cell holds more than a range's
    share of a column's values)."""
    # MIN_RANGES in all (for balance): a query of many columns has many ranges already, and
    # fewer ranges keep its lookups short (64 per column changed nothing at 1M rows per side
    # x 20 columns on a 1 GB Spark driver: the window partitions are not what fills it)
    least = -(-MIN_RANGES // max(len(columns), 1))
    missing = [i for i, p in enumerate(columns) if p.bounds is None]
    found: dict[int, tuple[float, float]] = {}
    if missing:
        # one column's union has no col (and GROUP BY 0 would be a position)
        query = (f"SELECT col, MIN(v), MAX(v) FROM ({union}) u GROUP BY col"
                 if len(columns) > 1 else f"SELECT 0, MIN(v), MAX(v) FROM ({union}) u")
        for i, low, high in engine.rows(query):
            found[int(i)] = (float(low), float(high))
    cells, wanted = [], []
    for i, p in enumerate(columns):
        low, high = p.bounds or found.get(i, (0.0, 0.0))
        cells.append(np.array([[low, high, p.n_ref, p.n_cur]], dtype=np.float64))
        wanted.append(min(max((p.n_ref + p.n_cur) // ROWS_PER_RANGE, least), MAX_RANGES))
    for _ in range(2):
        heavy = [_heavy(c, w) for c, w in zip(cells, wanted, strict=True)]
        if not any(h.size for h in heavy):
            break
        spans = [[(float(c[h, 0]), float(c[h, 1])) for h in hs]
                 for c, hs in zip(cells, heavy, strict=True)]
        split = _cells(engine, union, spans)
        for i, hs in enumerate(heavy):
            if hs.size:
                both = np.concatenate([np.delete(cells[i], hs, axis=0), split[i]])
                cells[i] = both[np.argsort(both[:, 0], kind="stable")]  # disjoint: by min
    return [_grouped(c, p, w) for c, p, w in zip(cells, columns, wanted, strict=True)]


def _heavy(cells: np.ndarray, wanted: int) -> np.ndarray:
    """The cells (at most ``MAX_SPLIT``, the heaviest, in order of value) holding more than a
    range's share of the column's values that can be split (a positive finite width)."""
    counts = cells[:, 2] + cells[:, 3]
    with np.errstate(over="ignore"):
        width = (cells[:, 1] - cells[:, 0]) / CELLS
    heavy = np.flatnonzero((counts > counts.sum() / wanted) & np.isfinite(width) & (width > 0))
    return np.sort(heavy[np.argsort(-counts[heavy], kind="stable")[:MAX_SPLIT]])


def _grouped(cells: np.ndarray, p: Pooled, wanted: int) -> Ranges:
    """Consecutive cells grouped into ranges of about equal counts."""
    total = p.n_ref + p.n_cur
    ref, cur = cells[:, 2].astype(np.int64), cells[:, 3].astype(np.int64)
    if int(ref.sum()) != p.n_ref or int(cur.sum()) != p.n_cur:
        raise RuntimeError(f"internal: the range cut counted {ref.sum()}/{cur.sum()} values, "
                           f"the first pass {p.n_ref}/{p.n_cur}")
    # each cell goes to the range its first value's pooled rank falls in: ranges of about
    # total / wanted values, consecutive cells, none empty
    before = np.cumsum(ref + cur) - (ref + cur)
    first = np.flatnonzero(np.diff(before * wanted // total, prepend=-1) != 0)
    return Ranges(cells[first, 0], np.add.reduceat(ref, first), np.add.reduceat(cur, first))
