"""The summary queries, written once for every engine (DuckDB and Spark SQL share them).

Each function returns a handful of numbers or a small table; none returns rows of the data.

Pooled order. Every rank statistic of two samples is a function of the pooled order: the
distinct values ``v_1 < ... < v_K`` of both sides with the reference and current counts
``r_j``, ``c_j`` at each. Two plans build it (:func:`pooled_sums`): ``GROUP BY v`` and a window
over the groups (cheap when a column is discrete: its size is the number of distinct values),
or one sort of the union rows and running sums over the sorted stream, which find each tie
group's counts on its last row (continuous columns: one sort, nothing else). Both run per
value range (:mod:`mlqa.engines.ranges`): no window sees more than one range, so no column goes
through one partition or one thread, and the per-range sums merge exactly. Where the engine
shares mlqa's process and streams an ``ORDER BY`` back in order (DuckDB), neither window
runs: the union rows (or the grouped values) are sorted once by the engine's parallel sort
and the same sums are added up from the stream (:mod:`mlqa.engines.streamed`). Either gives the
cumulative counts ``R_j = sum_{i<=j} r_i``, ``C_j`` and the gap ``v_{j+1} - v_j`` once per
distinct value; every statistic below is one aggregate over those rows (``n``, ``m`` the side
sizes, ``N = n + m``, ``F_j = R_j / n``, ``G_j = C_j / m``, ``l_j = r_j + c_j``,
``b_j = R_j + C_j - l_j`` the values below ``v_j``)::

    KS          D = max_j |F_j - G_j|                   (scipy: the larger of max and -min)
    Wasserstein W1 = sum_j |F_j - G_j| (v_{j+1} - v_j)
    energy      E = sqrt(2 sum_j (F_j - G_j)^2 (v_{j+1} - v_j))
    Mann-Whitney  R = sum_j r_j (b_j + (l_j + 1) / 2)   (midranks), ties T = sum_j l_j^3 - l_j
    Cramer-von Mises  S_x = sum_j sum_{i=1..r_j} (M_j - (R_j - r_j) - i)^2
                    = sum_j r_j (q_j - (r_j + 1)/2)^2 + r_j (r_j^2 - 1) / 12,  q_j = M_j - R_j + r_j
    Anderson-Darling (midrank)  sum over sides s of 1/n_s sum_j l_j / N (N M_sj - B_j n_s)^2
                    / (B_j (N - B_j) - N l_j / 4),  B_j = b_j + l_j / 2,  M_sj = S_j - s_j / 2

so each is exact, equal to scipy's on the same values up to the order of floating-point sums.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlqa.engines import ranges
from mlqa.engines.base import DOUBLE, Engine, Table, literal


def finite(engine: Engine, table: Table, column: str) -> str:
    """A predicate true where the column holds a usable value: not NULL, and for floating
    columns neither NaN nor +-inf (``x - x = 0`` is false for all three in both engines)."""
    q = engine.quote(column)
    if table.types[column] == DOUBLE:
        return f"({q} IS NOT NULL AND {q} - {q} = 0)"
    return f"{q} IS NOT NULL"


def as_double(engine: Engine, column: str) -> str:
    return f"CAST({engine.quote(column)} AS DOUBLE)"


@dataclasses.dataclass(frozen=True)
class Moments:
    """One side of one column: rows, usable values, and for numerical columns min, max,
    mean and population variance of the usable values, and (when asked) the engine's
    HyperLogLog estimate of their number of distinct values (it only picks a plan)."""

    n_rows: int
    n: int
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    var: float | None = None
    distinct_estimate: int | None = None


def moments(engine: Engine, table: Table, numerical: Sequence[str],
            other: Sequence[str], distinct: bool = False) -> dict[str, Moments]:
    """One scan of one side for every column at once; ``distinct`` adds the engine's
    ``approx_count_distinct`` (HyperLogLog, one pass, a few percent off) of each numerical
    column."""
    parts = ["COUNT(*)"]
    width = 6 if distinct else 5
    for c in numerical:
        ok, x = finite(engine, table, c), as_double(engine, c)
        parts += [f"SUM(CASE WHEN {ok} THEN 1 ELSE 0 END)",
                  f"MIN(CASE WHEN {ok} THEN {x} END)", f"MAX(CASE WHEN {ok} THEN {x} END)",
                  f"AVG(CASE WHEN {ok} THEN {x} END)", f"VAR_POP(CASE WHEN {ok} THEN {x} END)"]
        if distinct:
            parts.append(f"APPROX_COUNT_DISTINCT(CASE WHEN {ok} THEN {x} END)")
    for c in other:
        parts.append(f"SUM(CASE WHEN {finite(engine, table, c)} THEN 1 ELSE 0 END)")
    row = engine.one(f"SELECT {', '.join(parts)} FROM {table.source}")
    n_rows, out, i = int(row[0]), {}, 1
    for c in numerical:
        n, low, high, mean, var = row[i:i + 5]
        estimate = int(row[i + 5] or 0) if distinct else None
        out[c] = Moments(n_rows, int(n or 0), _f(low), _f(high), _f(mean), _f(var), estimate)
        i += width
    for c in other:
        out[c] = Moments(n_rows, int(row[i] or 0))
        i += 1
    return out


def approx_distinct(engine: Engine, table: Table, column: str) -> int:
    """The engine's HyperLogLog estimate of the distinct usable values of one column (as
    :func:`moments` gives with ``distinct=True``)."""
    return int(engine.one(f"SELECT APPROX_COUNT_DISTINCT({as_double(engine, column)}) FROM "
                          f"{table.source} WHERE {finite(engine, table, column)}")[0] or 0)


def _f(x: Any) -> float | None:
    return None if x is None else float(x)


def category_counts(engine: Engine, table: Table, column: str) -> tuple[list[Any], np.ndarray]:
    """(distinct values, their counts) of one side, NULL/NaN/inf left out."""
    q = engine.quote(column)
    got = engine.rows(f"SELECT {q}, COUNT(*) FROM {table.source} "
                      f"WHERE {finite(engine, table, column)} GROUP BY {q}")
    return [r[0] for r in got], np.array([int(r[1]) for r in got], dtype=np.int64)


def distinct_count(engine: Engine, table: Table, column: str) -> tuple[int, int]:
    """(exact number of distinct usable values, number of usable values)."""
    q = engine.quote(column)
    row = engine.one(f"SELECT COUNT(DISTINCT {q}), COUNT({q}) FROM {table.source} "
                     f"WHERE {finite(engine, table, column)}")
    return int(row[0]), int(row[1])


def _union(engine: Engine, ref: Table, cur: Table, column: str) -> str:
    # the side flags are doubles: their sums are exact (below 2**53) and stay doubles
    one, zero = "CAST(1 AS DOUBLE)", "CAST(0 AS DOUBLE)"
    return (f"SELECT {as_double(engine, column)} AS v, {one} AS r, {zero} AS c "
            f"FROM {ref.source} WHERE {finite(engine, ref, column)} UNION ALL "
            f"SELECT {as_double(engine, column)} AS v, {zero} AS r, {one} AS c "
            f"FROM {cur.source} WHERE {finite(engine, cur, column)}")


def _grouped(engine: Engine, ref: Table, cur: Table, column: str) -> str:
    return (f"SELECT v, CAST(SUM(r) AS DOUBLE) AS r, CAST(SUM(c) AS DOUBLE) AS c "
            f"FROM ({_union(engine, ref, cur, column)}) u GROUP BY v")


@dataclasses.dataclass(frozen=True)
class PooledSums:
    """The aggregates of the pooled order (see the module docstring)."""

    n_ref: int
    n_cur: int
    distinct: int
    distinct_ref: int
    distinct_cur: int
    diff_max: float
    diff_min: float
    wasserstein: float
    energy_sq: float
    rank_sum_ref: float
    tie_term: float
    cvm_ref: float
    cvm_cur: float
    anderson: float
    # the bias-corrected Wasserstein integral and the moments of its influence function h
    # (mlqa.drift.effects.wasserstein_bound, term by term)
    wasserstein_corrected: float
    h_ref: float
    h2_ref: float
    h_cur: float
    h2_cur: float

    @property
    def ks(self) -> float:
        """scipy's D: the larger of max(F - G) and -min(F - G) (clipped at 0)."""
        low = min(max(-self.diff_min, 0.0), 1.0)
        return low if low > self.diff_max else self.diff_max


def pooled_sums(engine: Engine, ref: Table, cur: Table, column: str, n_ref: int, n_cur: int,
                plan: str = "rows", bounds: tuple[float, float] | None = None) -> PooledSums:
    """The sums of the pooled order of ``column``: ``plan="rows"`` sorts the union rows once
    (continuous columns); ``plan="grouped"`` groups by value first (discrete columns: the
    window then runs over the few distinct values). Both are exact; only the cost differs.

    Neither sorts in one partition. Where the engine streams an ``ORDER BY`` back (DuckDB),
    the column is sorted once and summed from the stream (:func:`_streamed`); elsewhere a
    first scan cuts the pooled values into ranges of whole values (:mod:`mlqa.engines.ranges`;
    ``bounds``, the pooled min and max when known, saves a scan), every window runs per range
    with the counts below the range as literals, and the per-range sums come back (one row
    per range) and are merged here (:func:`_merged`)."""
    return pooled_sums_many(engine, ref, cur, {column: ranges.Pooled(n_ref, n_cur, bounds)},
                            {column: plan})[column]


def pooled_sums_many(engine: Engine, ref: Table, cur: Table,
                     columns: Mapping[str, ranges.Pooled], plans: Mapping[str, str]
                     ) -> dict[str, PooledSums]:
    """:func:`pooled_sums` of several columns in one job per plan: the columns are stacked
    into rows ``(col, v, r, c)`` (one scan of each side, :meth:`Engine.unpivot`), cut into
    ranges by one counting scan for all of them (:func:`mlqa.engines.ranges.cut_many`), and
    every column's ranges are window partitions of the same query (``rid`` numbers the ranges
    of all the columns), so an engine that pays per query or per shuffle (Spark: a job, its
    stages and tasks) pays once instead of once per column. Each column's rows come back
    apart and merge as alone; the figures are :func:`pooled_sums`' column by column."""
    names = list(columns)
    bad = sorted({p for p in plans.values() if p not in ("rows", "grouped")})
    if bad or set(plans) != set(names):
        raise ValueError(f"plans must map each column to 'rows' or 'grouped', got {plans!r}")
    if not names:
        return {}
    streamed_sums = {n: _streamed(engine, ref, cur, n, columns[n], plans[n]) for n in names}
    if all(s is not None for s in streamed_sums.values()):
        return {n: s for n, s in streamed_sums.items() if s is not None}
    union = _union(engine, ref, cur, names[0]) if len(names) == 1 else \
        _stacked(engine, ref, cur, names)
    cuts = ranges.cut_many(engine, union, [columns[n] for n in names])
    out: dict[str, PooledSums] = {}
    for plan in ("rows", "grouped"):
        chosen = [i for i, n in enumerate(names) if plans[n] == plan]
        if plan == "grouped":  # and the row plan's columns whose stream was not in order
            chosen += [i for i, n in enumerate(names) if plans[n] == "rows" and n not in out]
        if not chosen:
            continue
        layout = _Layout(union, [cuts[i] for i in chosen], [columns[names[i]] for i in chosen],
                         chosen, len(names))
        query = _rows_sql(engine, layout) if plan == "rows" else _grouped_sql(engine, layout)
        got = engine.rows(query)
        for j, i in enumerate(chosen):
            mine = layout.rows_of(j, got)
            if plan == "rows" and any(row[-1] is not None and int(row[-1]) != 0
                                      for row in mine):
                # the engine did not stream the sorted rows in order: the grouped plan is
                # exact whatever the order (its windows sort again)
                continue
            p = columns[names[i]]
            out[names[i]] = _merged([row[:_SUMS + 4] for row in mine], cuts[i], p.n_ref,
                                    p.n_cur)
    return out


def _streamed(engine: Engine, ref: Table, cur: Table, column: str, p: ranges.Pooled,
              plan: str) -> PooledSums | None:
    """:func:`pooled_sums` from one ``ORDER BY`` streamed back in order, where the engine
    offers that (:meth:`Engine.sorted_batches`; :mod:`mlqa.engines.streamed`): the rows plan
    sorts the union rows (a side flag as payload), the grouped plan its distinct values with
    their counts. None where the engine keeps its rows (the windows run there)."""
    from mlqa.engines import streamed

    if plan == "rows":
        query = (f"SELECT v, CAST(r AS TINYINT) AS r FROM ({_union(engine, ref, cur, column)}) "
                 f"u ORDER BY v")
    else:
        query = f"SELECT v, r, c FROM ({_grouped(engine, ref, cur, column)}) g ORDER BY v"
    batches = engine.sorted_batches(query)
    if batches is None:
        return None
    # one row per occurrence in the rows plan: its side flag r, and c = 1 - r
    triples = ((b[0], b[1], 1.0 - b[1]) if plan == "rows" else (b[0], b[1], b[2])
               for b in streamed.prefetched(batches, interrupt=engine.interrupt))
    rows, low, ref_counts, cur_counts = streamed.chunk_rows(
        streamed.distinct_chunks(triples), p.n_ref, p.n_cur)
    return _merged(rows, ranges.Ranges(low, ref_counts, cur_counts), p.n_ref, p.n_cur)


def _stacked(engine: Engine, ref: Table, cur: Table, columns: Sequence[str]) -> str:
    """The union rows of several columns, ``(col, v, r, c)`` with ``col`` the column's index:
    each side scanned once (unpivoted), its unusable values dropped."""
    one, zero = "CAST(1 AS DOUBLE)", "CAST(0 AS DOUBLE)"
    sides = []
    for table, r, c in ((ref, one, zero), (cur, zero, one)):
        values = [f"CASE WHEN {finite(engine, table, x)} THEN {as_double(engine, x)} END"
                  for x in columns]
        sides.append(f"SELECT col, v, {r} AS r, {c} AS c FROM "
                     f"({engine.unpivot(table.source, values)}) s WHERE v IS NOT NULL")
    return " UNION ALL ".join(sides)


class _Layout:
    """The ranges of one or more columns as the window partitions of one query: ``rid``
    numbers them across the columns (column ``j``'s ranges follow column ``j - 1``'s), so
    what a range needs (its counts below and up to its top, the next range's smallest
    value, its column's sizes) is one lookup by ``rid``. ``indices[j]`` is the ``col`` of
    column ``j`` in ``union`` (``width`` columns in all)."""

    def __init__(self, union: str, cuts: Sequence[ranges.Ranges],
                 sizes: Sequence[ranges.Pooled], indices: Sequence[int], width: int) -> None:
        self.union, self.cuts, self.sizes = union, list(cuts), list(sizes)
        self.first = np.cumsum([0] + [c.count for c in cuts])
        self.all = ranges.Ranges(*(np.concatenate([getattr(c, f) for c in cuts])
                                   for f in ("low", "ref", "cur")))
        picked = dict(zip(indices, range(len(cuts)), strict=True))
        # the range number of a row: its column's first range plus its range in the column
        self.key = ranges.tree("col", [str(i) for i in range(width)],
                               [f"{self.first[picked[i]]} + {cuts[picked[i]].key('v')}"
                                if i in picked else "CAST(NULL AS BIGINT)"
                                for i in range(width)])
        self.filter = "" if len(picked) == width else \
            f" WHERE col IN ({', '.join(str(i) for i in indices)})"
        by = "col, " if width > 1 else ""  # one column's union has no col
        self.grouped = (f"SELECT {by}v, CAST(SUM(r) AS DOUBLE) AS r, CAST(SUM(c) AS DOUBLE) "
                        f"AS c FROM ({union}) u{self.filter} GROUP BY {by}v")

    def _per_range(self, values: Any) -> str:
        return self.all.lookup("rid", np.concatenate([values(c) for c in self.cuts]))

    def _per_column(self, values: Sequence[float]) -> str:
        return ranges.tree("rid", [str(int(f)) for f in self.first[:-1]],
                           [literal(float(v)) for v in values])

    @property
    def sizes_sql(self) -> tuple[str, str, str]:
        """SQL of the row's column's n, m and N."""
        return (self._per_column([p.n_ref for p in self.sizes]),
                self._per_column([p.n_cur for p in self.sizes]),
                self._per_column([p.n_ref + p.n_cur for p in self.sizes]))

    def offsets(self) -> tuple[str, str, str, str, str]:
        """SQL of the range's reference and current counts below it and up to its top, and of
        the next range of its column's smallest value (NULL above the last), for the row's
        ``rid``."""
        return (self._per_range(lambda c: c.below_ref), self._per_range(lambda c: c.below_cur),
                self._per_range(lambda c: c.below_ref + c.ref),
                self._per_range(lambda c: c.below_cur + c.cur),
                self._per_range(lambda c: c.next_low))

    def rows_of(self, j: int, got: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Column ``j``'s per-range rows of a query's result, ``rid`` made the column's own."""
        low, high = int(self.first[j]), int(self.first[j + 1])
        return [(int(row[0]) - low, *row[1:]) for row in got if low <= int(row[0]) < high]


# the per-range row of both plans: rid, the 17 sums of PooledSums' fields in order (the h
# moments from the range's own suffix sums), then the range's counts and its part of h
_SUMS = 17


def _merged(got: Sequence[Sequence[Any]], cut: ranges.Ranges, n_ref: int, n_cur: int
            ) -> PooledSums:
    """The pooled sums from the per-range rows. Every term is a sum or an extreme over the
    distinct values except the moments of ``h``, the suffix sum of ``sign(d) gap``: a range
    computed its own part ``hl`` of it, and ``h = hl + H`` with ``H`` the parts of the ranges
    above, so ``sum r h = sum r hl + H R`` and ``sum r h^2 = sum r hl^2 + 2 H sum r hl + H^2 R``
    (``R`` the range's reference count)."""
    rows = sorted((tuple(0.0 if v is None else float(v) for v in row) for row in got),
                  key=lambda row: row[0])
    rids = [int(row[0]) for row in rows]
    counts = [(int(row[_SUMS + 1]), int(row[_SUMS + 2])) for row in rows]
    if rids != list(range(cut.count)) or \
            counts != list(zip(cut.ref.tolist(), cut.cur.tolist(), strict=True)):
        raise RuntimeError(f"internal: the pooled order's ranges came back as {rids} with "
                           f"counts {counts}, the cut has {cut.count} ranges with "
                           f"{list(zip(cut.ref, cut.cur, strict=True))}")
    table = np.array([row[1:_SUMS + 1] for row in rows])
    out = table.sum(axis=0)
    out[3], out[4] = table[:, 3].max(), table[:, 4].min()  # diff_max, diff_min
    part = np.array([row[_SUMS + 3] for row in rows])
    above = np.cumsum(part[::-1])[::-1] - part  # H of each range: the parts above it
    for first, count in ((13, cut.ref), (15, cut.cur)):
        hl, hl2 = table[:, first], table[:, first + 1]
        out[first] = float(np.sum(hl + above * count))
        out[first + 1] = float(np.sum(hl2 + 2 * above * hl + above * above * count))
    return PooledSums(n_ref, n_cur, int(out[0]), int(out[1]), int(out[2]),
                      *(float(x) for x in out[3:]))


def _sums_select(n: str, m: str, big_n: str, source: str, extra: str = "") -> str:
    """The final aggregate of both plans over one row per distinct value ``j`` of
    ``source``, per range ``rid``: ``r``, ``c`` its counts, ``l = r + c``, ``cr``/``cc`` the
    cumulative counts up to and including it, ``b`` the values below it, ``d = F_j - G_j``,
    ``f``/``gg`` the ECDFs, ``gap`` the distance to the next value and ``h`` the suffix sum
    ``sum_{i >= j} sign(d_i) gap_i`` within the range. Rows that are not a distinct value
    carry NULL there and drop out of every aggregate (``COUNT(l)`` counts values). Squares
    are products of named terms: ``mid`` the midrank, ``qr``/``qc`` Cramér-von Mises' rank
    offsets, ``bh`` Anderson-Darling's ``B_j``, ``ear``/``eac`` its numerators, ``den`` its
    denominator."""
    return f"""
SELECT rid, COUNT(l), SUM(CASE WHEN r > 0 THEN 1 ELSE 0 END),
  SUM(CASE WHEN c > 0 THEN 1 ELSE 0 END),
  MAX(d), MIN(d), SUM(ABS(d) * gap), SUM(d * d * gap),
  SUM(r * mid), SUM(l * l * l - l),
  SUM(r * qr * qr + r * (r * r - 1) / 12), SUM(c * qc * qc + c * (c * c - 1) / 12),
  SUM(CASE WHEN den = 0 THEN 0
      ELSE l / {big_n} * (ear * ear / {n} + eac * eac / {m}) / den END),
  SUM(SQRT(GREATEST(d * d - ((f - f * f) / {n} + (gg - gg * gg) / {m}), 0)) * gap),
  SUM(r * h), SUM(r * h * h), SUM(c * h), SUM(c * h * h),
  SUM(r), SUM(c), SUM(SIGN(d) * gap){extra}
FROM (
  SELECT *, mid - cr + r - (r + 1) / 2 AS qr, mid - cc + c - (c + 1) / 2 AS qc,
         {big_n} * (cr - r / 2) - bh * {n} AS ear, {big_n} * (cc - c / 2) - bh * {m} AS eac,
         bh * ({big_n} - bh) - {big_n} * l / 4 AS den
  FROM (SELECT *, b + (l + 1) / 2 AS mid, b + l / 2 AS bh FROM {source}) t1) t2
GROUP BY rid"""


def _grouped_sql(engine: Engine, layout: _Layout) -> str:
    """``GROUP BY`` value, then windows over the distinct values of each range (ascending for
    the cumulative counts, descending for ``h``: two sorts, of the distinct values only)."""
    n, m, big_n = layout.sizes_sql
    below_r, below_c, _, _, next_low = layout.offsets()
    order = "PARTITION BY rid ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    above = "PARTITION BY rid ORDER BY v DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    return f"""
WITH g AS (
  SELECT v, r, c, {layout.key} AS rid FROM ({layout.grouped}) g0),
w AS (
  SELECT v, r, c, rid, SUM(r) OVER ({order}) AS lr, SUM(c) OVER ({order}) AS lc,
         LEAD(v) OVER (PARTITION BY rid ORDER BY v) AS nv
  FROM g),
w2 AS (
  SELECT v, r, c, rid, {below_r} + lr AS cr, {below_c} + lc AS cc,
         COALESCE(nv, {next_low}) - v AS gap
  FROM w),
x AS (
  SELECT v, r, c, rid, cr, cc, gap, cr / {n} AS f, cc / {m} AS gg, cr / {n} - cc / {m} AS d,
         r + c AS l, cr + cc - r - c AS b
  FROM w2),
y AS (
  SELECT *, COALESCE(SUM(SIGN(d) * gap) OVER ({above}), 0) AS h FROM x)
{_sums_select(n, m, big_n, "y")}"""


def _rows_sql(engine: Engine, layout: _Layout) -> str:
    """One sort of the union rows of each range (descending), then running sums over the
    sorted stream.

    ``s1`` sorts: per row its neighbours ``up = LAG(v)`` and ``dn = LEAD(v)`` and the running
    counts ``ar``/``ac`` of each side at and above it within its range. A tie group starts
    where ``up > v`` and ends where ``dn < v``, so on the last row of value ``j``: ``ar`` is
    the count at and above ``v_j`` in the range, ``ga`` (the running maximum of ``ar - r``
    over group starts: the count strictly above, carried along the group) is the count
    above, ``r_j = ar - ga``, ``R_j`` is the count up to the range's top less ``ga``, and
    ``gv`` (the running minimum of ``up`` over group starts) is the next larger value
    ``v_{j+1}`` (the next range's smallest above the range's largest). Ties are exact
    whatever order the sort leaves them in. ``h`` is a running sum of ``sign(d_j) gap_j``
    over those last rows: in descending order it is the range's part of the suffix sum.
    The per-value terms then go through the same aggregate as the grouped plan.

    The windows after the sort have no ``ORDER BY`` where the engine streams a window's
    output in order (Spark: one sort per range), else they order by the first window's row
    number ``pos`` (DuckDB). Whether every stage saw the rows in the sorted order is checked in
    the query itself (each stage's running count equals the first stage's row number, and
    ``up >= v`` on every row); the last column counts the rows where it failed."""
    n, m, big_n = layout.sizes_sql
    _, _, top_r, top_c, next_low = layout.offsets()
    by = "" if engine.streams_window_order else "ORDER BY pos "
    run = f"PARTITION BY rid {by}ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    near = "PARTITION BY rid ORDER BY v DESC"
    start = "(up IS NULL OR up > v)"
    unsorted = ", SUM(CASE WHEN unsorted = 0 AND k2 = pos AND k3 = pos THEN 0 ELSE 1 END)"
    return f"""
WITH s0 AS (
  SELECT v, r, c, {layout.key} AS rid FROM ({layout.union}) u{layout.filter}),
s1 AS (
  SELECT v, r, c, rid, ROW_NUMBER() OVER ({near}) AS pos, LAG(v) OVER ({near}) AS up,
         LEAD(v) OVER ({near}) AS dn,
         SUM(r) OVER ({near} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ar,
         SUM(c) OVER ({near} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ac
  FROM s0),
s2 AS (
  SELECT *, MAX(CASE WHEN {start} THEN ar - r END) OVER ({run}) AS ga,
         MAX(CASE WHEN {start} THEN ac - c END) OVER ({run}) AS gc,
         MIN(CASE WHEN up > v THEN up END) OVER ({run}) AS gv,
         COUNT(*) OVER ({run}) AS k2
  FROM s1),
x AS (
  SELECT rid, pos, k2, CASE WHEN up IS NULL OR up >= v THEN 0 ELSE 1 END AS unsorted,
         CASE WHEN dn IS NULL OR dn < v THEN 1 ELSE 0 END AS last,
         ar - ga AS rj, ac - gc AS cj, {top_r} - ga AS crj, {top_c} - gc AS ccj,
         COALESCE(COALESCE(gv, {next_low}) - v, 0.0) AS gapj
  FROM s2),
z AS (
  SELECT rid, pos, k2, unsorted, last,
         CASE WHEN last = 1 THEN rj END AS r, CASE WHEN last = 1 THEN cj END AS c,
         CASE WHEN last = 1 THEN crj END AS cr, CASE WHEN last = 1 THEN ccj END AS cc,
         CASE WHEN last = 1 THEN gapj END AS gap,
         CASE WHEN last = 1 THEN crj / {n} END AS f, CASE WHEN last = 1 THEN ccj / {m} END AS gg,
         CASE WHEN last = 1 THEN crj / {n} - ccj / {m} END AS d,
         CASE WHEN last = 1 THEN rj + cj END AS l,
         CASE WHEN last = 1 THEN crj + ccj - rj - cj END AS b
  FROM x),
y AS (
  SELECT *, SUM(CASE WHEN last = 1 THEN SIGN(d) * gap ELSE 0 END) OVER ({run}) AS hs,
         COUNT(*) OVER ({run}) AS k3
  FROM z),
q AS (
  SELECT *, CASE WHEN last = 1 THEN hs END AS h FROM y)
{_sums_select(n, m, big_n, "q", extra=unsorted)}"""


def pooled_counts(engine: Engine, ref: Table, cur: Table, column: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pooled order itself, (values, reference counts, current counts) sorted by value:
    fetched only when it is small (few distinct values, or few rows)."""
    got = engine.rows(f"SELECT v, r, c FROM ({_grouped(engine, ref, cur, column)}) g "
                      f"ORDER BY v")
    v = np.array([float(r[0]) for r in got])
    return (v, np.array([int(r[1]) for r in got], dtype=np.int64),
            np.array([int(r[2]) for r in got], dtype=np.int64))


def bin_counts(engine: Engine, table: Table, column: str, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, edges)[0]`` in the engine: bins [e_i, e_i+1), the last closed,
    values outside the edges not counted. The edges travel as exact double literals and the
    bin of a value is decided by comparisons with them (no arithmetic that could round
    differently), so the counts are numpy's."""
    x = as_double(engine, column)
    inner = edges[1:-1]
    cases = " ".join(f"WHEN {x} < {literal(float(e))} THEN {i}" for i, e in enumerate(inner))
    bin_expr = f"CASE {cases} ELSE {len(inner)} END" if len(inner) else "0"
    lo, hi = literal(float(edges[0])), literal(float(edges[-1]))
    got = engine.rows(f"SELECT b, COUNT(*) FROM (SELECT {bin_expr} AS b FROM {table.source} "
                      f"WHERE {finite(engine, table, column)} AND {x} >= {lo} "
                      f"AND {x} <= {hi}) t GROUP BY b")
    out = np.zeros(len(edges) - 1, dtype=np.int64)
    for b, count in got:
        out[int(b)] = int(count)
    return out
