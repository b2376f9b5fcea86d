"""The summary queries, written once for every engine (DuckDB and Spark SQL share them).

Each function returns a handful of numbers or a small table; none returns rows of the data.

Pooled order. Every rank statistic of two samples is a function of the pooled order: the
distinct values ``v_1 < ... < v_K`` of both sides with the reference and current counts
``r_j``, ``c_j`` at each. ``GROUP BY v`` builds it (cheap when a column is discrete: its size
is the number of distinct values) and one window over it gives the cumulative counts
``R_j = sum_{i<=j} r_i``, ``C_j`` and the gap ``v_{j+1} - v_j``; every statistic below is one
aggregate over that window (``n``, ``m`` the side sizes, ``N = n + m``,
``F_j = R_j / n``, ``G_j = C_j / m``, ``l_j = r_j + c_j``, ``b_j = R_j + C_j - l_j`` the values
below ``v_j``)::

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
from collections.abc import Sequence
from typing import Any

import numpy as np

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
    mean and population variance of the usable values."""

    n_rows: int
    n: int
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    var: float | None = None


def moments(engine: Engine, table: Table, numerical: Sequence[str],
            other: Sequence[str]) -> dict[str, Moments]:
    """One scan of one side for every column at once."""
    parts = ["COUNT(*)"]
    for c in numerical:
        ok, x = finite(engine, table, c), as_double(engine, c)
        parts += [f"SUM(CASE WHEN {ok} THEN 1 ELSE 0 END)",
                  f"MIN(CASE WHEN {ok} THEN {x} END)", f"MAX(CASE WHEN {ok} THEN {x} END)",
                  f"AVG(CASE WHEN {ok} THEN {x} END)", f"VAR_POP(CASE WHEN {ok} THEN {x} END)"]
    for c in other:
        parts.append(f"SUM(CASE WHEN {finite(engine, table, c)} THEN 1 ELSE 0 END)")
    row = engine.one(f"SELECT {', '.join(parts)} FROM {table.source}")
    n_rows, out, i = int(row[0]), {}, 1
    for c in numerical:
        n, low, high, mean, var = row[i:i + 5]
        out[c] = Moments(n_rows, int(n or 0), _f(low), _f(high), _f(mean), _f(var))
        i += 5
    for c in other:
        out[c] = Moments(n_rows, int(row[i] or 0))
        i += 1
    return out


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
    return (f"SELECT {as_double(engine, column)} AS v, 1 AS r, 0 AS c FROM {ref.source} "
            f"WHERE {finite(engine, ref, column)} UNION ALL "
            f"SELECT {as_double(engine, column)} AS v, 0 AS r, 1 AS c FROM {cur.source} "
            f"WHERE {finite(engine, cur, column)}")


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


def pooled_sums(engine: Engine, ref: Table, cur: Table, column: str, n_ref: int, n_cur: int
                ) -> PooledSums:
    """One GROUP BY and one window over the pooled order of ``column``."""
    n, m, big_n = literal(float(n_ref)), literal(float(n_cur)), literal(float(n_ref + n_cur))
    order = "ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    above = "ORDER BY v DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    sql = f"""
WITH w AS (
  SELECT v, r, c, SUM(r) OVER ({order}) AS cr, SUM(c) OVER ({order}) AS cc,
         LEAD(v) OVER (ORDER BY v) - v AS gap
  FROM ({_grouped(engine, ref, cur, column)}) g),
x AS (
  SELECT v, r, c, cr, cc, gap, cr / {n} AS f, cc / {m} AS gg, cr / {n} - cc / {m} AS d,
         r + c AS l, cr + cc - r - c AS b
  FROM w),
y AS (
  SELECT *, COALESCE(SUM(SIGN(d) * gap) OVER ({above}), 0) AS h FROM x)
SELECT COUNT(*), SUM(CASE WHEN r > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN c > 0 THEN 1 ELSE 0 END),
  MAX(d), MIN(d), SUM(ABS(d) * gap), SUM(d * d * gap),
  SUM(r * (b + (l + 1) / 2)), SUM(l * l * l - l),
  SUM(r * POWER(b + (l + 1) / 2 - cr + r - (r + 1) / 2, 2) + r * (r * r - 1) / 12),
  SUM(c * POWER(b + (l + 1) / 2 - cc + c - (c + 1) / 2, 2) + c * (c * c - 1) / 12),
  SUM(CASE WHEN (b + l / 2) * ({big_n} - b - l / 2) - {big_n} * l / 4 = 0
      THEN 0 ELSE l / {big_n} * (
        POWER({big_n} * (cr - r / 2) - (b + l / 2) * {n}, 2) / {n}
      + POWER({big_n} * (cc - c / 2) - (b + l / 2) * {m}, 2) / {m})
      / ((b + l / 2) * ({big_n} - b - l / 2) - {big_n} * l / 4) END),
  SUM(SQRT(GREATEST(d * d - ((f - f * f) / {n} + (gg - gg * gg) / {m}), 0)) * gap),
  SUM(r * h), SUM(r * h * h), SUM(c * h), SUM(c * h * h)
FROM y"""
    row = engine.one(sql)
    vals = [0.0 if v is None else float(v) for v in row]
    return PooledSums(n_ref, n_cur, int(vals[0]), int(vals[1]), int(vals[2]), *vals[3:])


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
