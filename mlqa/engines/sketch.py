"""``exact=False``: numerical columns from a refined grid sketch with a deterministic rank error.

Pass 1 counts each side on the same ``CELLS`` equal-width cells over the pooled range (a streaming
``GROUP BY``, mergeable across partitions, no sort), keeping each cell's count, min and max. A cell
is heavy when its share on either side exceeds the caller's target (at most ``EPS_TARGET``)
and it holds more than one value. Each run of consecutive heavy cells is split into equal-width
sub-cells over its pooled ``[min, max]`` (``SPLIT_ROOM`` sub-cells per target's worth of share, a
power of two up to ``MAX_PARTS``) by one more scan per side that only counts the rows inside those
runs; this repeats for at most ``MAX_PASSES`` scans per side. Skewed data (lognormal with a few
huge outliers) puts almost every row in one first-pass cell; the refinements spread them.

The cell of a value is always a monotone expression of it with the same literals on both sides
(``LEAST(FLOOR((x - a) / w), parts - 1)``), so every cell is an interval and the final grid - the
union of the refined cells in order - partitions the line into intervals. Because the cells are
disjoint intervals, a run's rows are exactly those with ``x BETWEEN`` its first min and last max
(the refinement's ``WHERE``), and the sub-cells' counts are checked to add up to the run's.

Bound. Write ``[a_k, b_k]`` for cell ``k``'s pooled min and max. Outside every ``[a_k, b_k)`` the
ECDFs ``F`` (reference) and ``G`` (current) are exact: they equal the cumulative shares up to the
last cell left of ``x``. Inside ``[a_k, b_k)`` each moves by at most its share of that cell, so
with ``D_grid = max_k |F - G|`` at the cells' ends,

    D_grid <= D <= D_grid + eps,   eps = max over cells with a_k < b_k of max(r_k / n, c_k / m).

A cell holding one value (``a_k = b_k``) has an empty ``[a_k, b_k)``: both ECDFs jump there from one
exact cell end to the next, so it adds nothing to ``eps`` however heavy (a value holding 60 % of the
rows) and is never split. Normed Wasserstein bounds integrate ``|F - G|`` exactly over the gaps
between cells and within ``eps_k`` of its left-end value inside each ``[a_k, b_k)``.

The decision from the grid (DataSketches' KS rule widened by ``eps``) is the drift family's:
:mod:`mlqa.drift.sketched`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from mlqa.engines import sql
from mlqa.engines.base import literal

CELLS = 4096
# a cell whose share on either side exceeds this is split (when it holds more than one value)
EPS_TARGET = 4 / CELLS
# scans per side at most: the first grid and four refinements
MAX_PASSES = 5
# sub-cells per target's worth of share in a heavy cell (see refined_grid)
SPLIT_ROOM = 64
# runs of heavy cells split in one pass at most (the heaviest first): bounds the CASE per row
MAX_SPLIT = 64
# sub-cells of one run at most (a run with most of the rows gets this many)
MAX_PARTS = 1 << 16


class LostRows(RuntimeError):
    """The refined cells do not hold exactly their heavy cell's rows: the sketch would lie."""


@dataclasses.dataclass(frozen=True)
class Grid:
    """Cells in increasing order of value: counts per side and pooled min/max per cell."""

    ref: np.ndarray
    cur: np.ndarray
    low: np.ndarray
    high: np.ndarray
    passes: int


Counts = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _split_counts(engine: Any, table: Any, column: str,
                  ranges: list[tuple[float, float, int]], clip: bool) -> Counts:
    """Keys ``h * MAX_PARTS + s`` (sub-cell ``s`` of ``parts`` in range ``h = (a, b, parts)``) with
    count, min and max; ``clip`` (the first pass only) keeps every usable row, in range or not,
    by clamping its cell."""
    x = sql.as_double(engine, column)

    def cell(h: int) -> str:
        a, b, parts = ranges[h]
        w = (b - a) / parts
        return (f"LEAST(CAST(FLOOR(({x} - {literal(a)}) / {literal(w)}) AS BIGINT), "
                f"{parts - 1})")

    def tree(first: int, stop: int) -> str:
        # the ranges are sorted and disjoint: a binary search costs each row log2(len) tests
        if stop - first == 1:
            a, b, _ = ranges[first]
            return (f"CASE WHEN {x} BETWEEN {literal(a)} AND {literal(b)} "
                    f"THEN {first * MAX_PARTS} + {cell(first)} END")
        mid = (first + stop) // 2
        return (f"CASE WHEN {x} < {literal(ranges[mid][0])} THEN {tree(first, mid)} "
                f"ELSE {tree(mid, stop)} END")

    key = f"GREATEST({cell(0)}, 0)" if clip else tree(0, len(ranges))
    where = sql.finite(engine, table, column)
    if not clip:
        where += (f" AND {x} BETWEEN {literal(ranges[0][0])} AND {literal(ranges[-1][1])}")
    got = engine.rows(f"SELECT k, COUNT(*), MIN(v), MAX(v) FROM (SELECT {key} AS k, {x} AS v "
                      f"FROM {table.source} WHERE {where}) t WHERE k IS NOT NULL GROUP BY k")
    rows = np.array(got, dtype=np.float64).reshape(-1, 4)
    return (rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64), rows[:, 2], rows[:, 3])


def _merge(r: Counts, c: Counts) -> tuple[np.ndarray, ...]:
    """Both sides on the union of their keys (sorted): counts per side, pooled min and max."""
    keys = np.union1d(r[0], c[0])
    out: list[np.ndarray] = [keys]
    lo, hi = np.full(keys.size, np.inf), np.full(keys.size, -np.inf)
    for side in (r, c):
        at = np.searchsorted(keys, side[0])
        count = np.zeros(keys.size, dtype=np.int64)
        count[at] = side[1]
        out.append(count)
        lo[at] = np.minimum(lo[at], side[2])
        hi[at] = np.maximum(hi[at], side[3])
    return (*out, lo, hi)


def first_grid(engine: Any, ref: Any, cur: Any, column: str, low: float, high: float) -> Grid:
    """Pass 1: both sides on ``CELLS`` equal-width cells over the pooled ``[low, high]``."""
    whole = [(low, high, CELLS)]
    _, r, c, lo, hi = _merge(_split_counts(engine, ref, column, whole, True),
                             _split_counts(engine, cur, column, whole, True))
    return Grid(r, c, lo, hi, 1)


def runs_of(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) cell of each run of consecutive indices in the sorted ``cells``: a run's
    rows are exactly those in [first min, last max] (no cell lies between them), so each run
    is split as one range - few ranges per scan however many cells are chosen."""
    starts = np.flatnonzero(np.diff(cells, prepend=-2) != 1)
    stops = np.append(starts[1:], cells.size)
    return cells[starts], cells[stops - 1]


def split_runs(engine: Any, ref: Any, cur: Any, column: str, g: Grid, first: np.ndarray,
               last: np.ndarray, parts: np.ndarray) -> Grid | None:
    """``g`` with each run ``first[j]..last[j]`` of cells replaced by ``parts[j]`` equal-width
    sub-cells over its pooled ``[min, max]``: one scan per side, counting only the rows
    inside the runs. None when no run has a usable float width (too wide or too narrow)."""
    r, c, lo, hi = g.ref, g.cur, g.low, g.high
    with np.errstate(over="ignore"):
        w = (hi[last] - lo[first]) / parts
    ok = np.isfinite(w) & (w > 0)
    if not ok.any():
        return None
    first, last, parts = first[ok], last[ok], parts[ok]
    ranges = [(float(lo[i]), float(hi[j]), int(k))
              for i, j, k in zip(first, last, parts, strict=True)]
    keys, sr, sc, slo, shi = _merge(_split_counts(engine, ref, column, ranges, False),
                                    _split_counts(engine, cur, column, ranges, False))
    parent = keys // MAX_PARTS
    covered = np.zeros(r.size, dtype=bool)
    owner = np.zeros(r.size, dtype=np.int64)
    for j, (i0, i1) in enumerate(zip(first, last, strict=True)):
        covered[i0:i1 + 1] = True
        owner[i0:i1 + 1] = j
    # the sub-cells must hold exactly their run's rows: a lost row would be a lie
    if not (np.array_equal(np.bincount(parent, sr, len(ranges)),
                           np.bincount(owner[covered], r[covered], len(ranges)))
            and np.array_equal(np.bincount(parent, sc, len(ranges)),
                               np.bincount(owner[covered], c[covered], len(ranges)))):
        raise LostRows(f"{column}: the refined sketch lost rows of a split cell")
    keep = ~covered
    # order: each kept cell sorts by its own index, a run's sub-cells at its first index
    order_key = np.concatenate([np.flatnonzero(keep) * 2.0,
                                first[parent] * 2.0
                                + (keys % MAX_PARTS + 1) / (MAX_PARTS + 2)])
    order = np.argsort(order_key, kind="stable")
    return Grid(np.concatenate([r[keep], sr])[order], np.concatenate([c[keep], sc])[order],
                np.concatenate([lo[keep], slo])[order], np.concatenate([hi[keep], shi])[order],
                g.passes + 1)


def refined_grid(engine: Any, ref: Any, cur: Any, column: str, low: float, high: float,
                 target: float) -> Grid:
    """The first grid over ``[low, high]`` refined inside heavy cells (module docstring) until
    no cell holding more than one value has a share above ``target`` on either side (the
    caller's: at most ``EPS_TARGET``, less where its decision needs a finer grid)."""
    g = first_grid(engine, ref, cur, column, low, high)
    n, m = int(g.ref.sum()), int(g.cur.sum())
    while g.passes < MAX_PASSES:
        r, c, lo, hi = g.ref, g.cur, g.low, g.high
        share = np.maximum(r / n, c / m)
        heavy = np.flatnonzero((share > target) & (lo < hi)
                               & np.isfinite((hi - lo) / CELLS) & ((hi - lo) / CELLS > 0))
        if heavy.size == 0:
            break
        first, last = runs_of(heavy)
        at = np.searchsorted(heavy, first)
        run_share = np.maximum(np.add.reduceat(r[heavy], at) / n,
                               np.add.reduceat(c[heavy], at) / m)
        pick = np.sort(np.argsort(-run_share, kind="stable")[:MAX_SPLIT])
        # as many parts as the share asks for (SPLIT_ROOM parts per target's worth), a power of
        # two from SPLIT_ROOM up to MAX_PARTS: few groups where a run is only just heavy
        need = np.ceil(np.log2(SPLIT_ROOM * run_share[pick] / target))
        parts = np.clip(2 ** need, SPLIT_ROOM, MAX_PARTS).astype(np.int64)
        split = split_runs(engine, ref, cur, column, g, first[pick], last[pick], parts)
        if split is None:
            break
        g = split
    return g
