"""Summaries of metric columns where the data lives (a DuckDB relation, a Spark DataFrame or
a Parquet path/glob/folder): plain, mergeable numbers that the metrics family
(:mod:`mlqa.metrics.on_engine`) and the regression family (:mod:`mlqa.compare.on_engine`)
decide from, with the same functions their in-memory checks use. This module knows no check
and imports no family module; it only counts.

* column facts: rows, NULLs, NaN/infinities, finite min/max of each named column;
* confusion cells: ``COUNT(*) GROUP BY y_true, y_pred[, baseline]`` over the label grid;
* DeLong's placements per distinct score (one ``GROUP BY`` and one window): ``V10`` of a
  score is (negatives below + half the tied ones) / negatives, ``V01`` (positives above +
  half the tied) / positives; summed over the positives (``V10``) and their products over
  each class (for two scorers joined back to the rows, so that the cross terms pair rows);
* mean losses: the per-row loss as SQL, its count, mean and sample variance, and its largest
  rows (one ``ORDER BY … LIMIT``);
* the paired table of a regression: rows both right, only the baseline right, only the
  candidate right, both wrong; the paired loss moments.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from mlqa.engines.base import BOOLEAN, DOUBLE, INTEGER, Engine, Table, literal
from mlqa.errors import InputError

_EPS = float(np.finfo(np.float64).eps)
# the losses with an SQL form (``loss_expression``); any other metric's rows stay in memory
LOSSES = ("mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "log_loss",
          "brier_score")
# losses scored against the positive class (label 1 of a binary target)
CLASS_LOSSES = ("log_loss", "brier_score")


@dataclasses.dataclass(frozen=True)
class ColumnSummary:
    """One column's facts from the engine's schema and one scan: its canonical ``type``
    (:mod:`mlqa.engines.base`), NULLs (``missing``), NaN and infinities (``non_finite``) and
    the smallest and largest finite value (numbers only)."""

    column: str
    type: str
    missing: int
    non_finite: int
    low: float | None
    high: float | None

    @property
    def numeric(self) -> bool:
        return self.type in (DOUBLE, INTEGER, BOOLEAN)


def column_summaries(engine: Engine, table: Table, columns: list[str]
                     ) -> tuple[int, list[ColumnSummary]]:
    """(rows, the :class:`ColumnSummary` of each of ``columns``), from one scan."""
    parts = ["COUNT(*)"]
    for column in columns:
        c, t = engine.quote(column), table.types[column]
        parts.append(f"SUM(CASE WHEN {c} IS NULL THEN 1 ELSE 0 END)")
        if t == DOUBLE:
            # NaN equals NaN in both engines' SQL (and sorts above +inf), so IN finds it
            bad = ", ".join(literal(v) for v in (math.nan, math.inf, -math.inf))
            parts.append(f"SUM(CASE WHEN {c} IN ({bad}) THEN 1 ELSE 0 END)")
            finite = f"CASE WHEN {c} NOT IN ({bad}) THEN {c} END"
            parts += [f"MIN({finite})", f"MAX({finite})"]
        elif t in (INTEGER, BOOLEAN):
            number = f"CAST({c} AS DOUBLE)"
            parts += ["0", f"MIN({number})", f"MAX({number})"]
        else:
            parts += ["0", "NULL", "NULL"]
    row = engine.one(f"SELECT {', '.join(parts)} FROM {table.source}")
    found = []
    for k, column in enumerate(columns):
        missing, non_finite, low, high = row[1 + 4 * k: 5 + 4 * k]
        found.append(ColumnSummary(column, table.types[column], int(missing or 0),
                                   int(non_finite or 0), None if low is None else float(low),
                                   None if high is None else float(high)))
    return int(row[0]), found


def distinct_values(engine: Engine, table: Table, column: str, limit: int) -> list[Any]:
    """Up to ``limit`` distinct values of ``column``, sorted (fewer: that is all of them)."""
    got = engine.rows(f"SELECT DISTINCT {engine.quote(column)} FROM {table.source} "
                      f"LIMIT {int(limit)}")
    return sorted(r[0] for r in got)


def confusion_cells(engine: Engine, table: Table, columns: list[str]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(labels, counts over the label grid of ``columns``): the confusion cells (rows true,
    then each prediction's axis)."""
    q = [engine.quote(c) for c in columns]
    got = engine.rows(f"SELECT {', '.join(q)}, COUNT(*) FROM {table.source} "
                      f"GROUP BY {', '.join(q)}")
    try:
        labels = np.unique(np.array([v for r in got for v in r[:-1]]))
    except TypeError:
        raise InputError("the label columns mix label types that cannot be compared") \
            from None
    cells = np.zeros((len(labels),) * len(columns), dtype=np.int64)
    for r in got:
        cells[tuple(int(np.searchsorted(labels, v)) for v in r[:-1])] += int(r[-1])
    return labels, cells


@dataclasses.dataclass(frozen=True)
class PlacementSums:
    """DeLong's placements of ``k`` scorers on the same rows, summed: ``positives`` and
    ``negatives`` rows, ``v10`` (k,) the sum of each scorer's ``V10`` over the positives,
    ``v10_cross``/``v01_cross`` (k, k) the sums of the products of the scorers' ``V10`` over
    the positives and of their ``V01`` over the negatives."""

    positives: int
    negatives: int
    v10: np.ndarray
    v10_cross: np.ndarray
    v01_cross: np.ndarray


def _placements(engine: Engine, table: Table, y: str, score: str, positive: Any) -> str:
    """SQL of the per-distinct-score DeLong components (s, pos, neg, v10, v01)."""
    ys, sc = engine.quote(y), engine.quote(score)
    order = "ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    return f"""
SELECT s, pos, neg,
  (SUM(neg) OVER ({order}) - neg / 2) / SUM(neg) OVER () AS v10,
  (SUM(pos) OVER () - SUM(pos) OVER ({order}) + pos / 2) / SUM(pos) OVER () AS v01
FROM (SELECT CAST({sc} AS DOUBLE) AS s,
        CAST(SUM(CASE WHEN {ys} = {literal(positive)} THEN 1 ELSE 0 END) AS DOUBLE) AS pos,
        CAST(SUM(CASE WHEN {ys} = {literal(positive)} THEN 0 ELSE 1 END) AS DOUBLE) AS neg
      FROM {table.source} GROUP BY CAST({sc} AS DOUBLE)) g"""


def placement_sums(engine: Engine, table: Table, y: str, scores: list[str], positive: Any
                   ) -> PlacementSums:
    """The :class:`PlacementSums` of one scorer (summed per distinct score) or of two (each
    scorer's placements joined back to the rows, so that the cross terms pair the same rows);
    ``positive`` is the label of the positive class in ``y``."""
    if len(scores) == 1:
        placements = _placements(engine, table, y, scores[0], positive)
        m, n, s1, s2, t2 = (float(v) for v in engine.one(
            f"SELECT SUM(pos), SUM(neg), SUM(pos * v10), SUM(pos * v10 * v10), "
            f"SUM(neg * v01 * v01) FROM ({placements}) p"))
        return PlacementSums(int(m), int(n), np.array([s1]), np.array([[s2]]),
                             np.array([[t2]]))
    if len(scores) != 2:
        raise InputError(f"placements of {len(scores)} scorers: one or two are summed")
    ys = engine.quote(y)
    pc, pb = (_placements(engine, table, y, s, positive) for s in scores)
    row = engine.one(f"""
SELECT SUM(CASE WHEN t.yy = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN t.yy = 1 THEN 0 ELSE 1 END),
  SUM(CASE WHEN t.yy = 1 THEN a.v10 END), SUM(CASE WHEN t.yy = 1 THEN b.v10 END),
  SUM(CASE WHEN t.yy = 1 THEN a.v10 * a.v10 END), SUM(CASE WHEN t.yy = 1 THEN b.v10 * b.v10 END),
  SUM(CASE WHEN t.yy = 1 THEN a.v10 * b.v10 END),
  SUM(CASE WHEN t.yy = 0 THEN a.v01 * a.v01 END), SUM(CASE WHEN t.yy = 0 THEN b.v01 * b.v01 END),
  SUM(CASE WHEN t.yy = 0 THEN a.v01 * b.v01 END)
FROM (SELECT CASE WHEN {ys} = {literal(positive)} THEN 1 ELSE 0 END AS yy,
             CAST({engine.quote(scores[0])} AS DOUBLE) AS sc,
             CAST({engine.quote(scores[1])} AS DOUBLE) AS sb
      FROM {table.source}) t
JOIN ({pc}) a ON t.sc = a.s JOIN ({pb}) b ON t.sb = b.s""")
    m, n, s_c, s_b, cc, bb, cb, ncc, nbb, ncb = (float(v) for v in row)
    return PlacementSums(int(m), int(n), np.array([s_c, s_b]),
                         np.array([[cc, cb], [cb, bb]]), np.array([[ncc, ncb], [ncb, nbb]]))


def loss_expression(engine: Engine, name: str, y: str, p: str, positive: Any) -> str:
    """SQL of loss ``name``'s per-row value (one of ``LOSSES``) of prediction column ``p``;
    ``positive`` is the positive label for the class losses (``CLASS_LOSSES``)."""
    ys, ps = engine.quote(y), f"CAST({engine.quote(p)} AS DOUBLE)"
    if name == "mean_absolute_error":
        return f"ABS(CAST({ys} AS DOUBLE) - {ps})"
    if name in ("mean_squared_error", "root_mean_squared_error"):
        return f"POWER(CAST({ys} AS DOUBLE) - {ps}, 2)"
    hit = f"(CASE WHEN {ys} = {literal(positive)} THEN 1.0 ELSE 0.0 END)"
    if name == "brier_score":
        return f"POWER({hit} - {ps}, 2)"
    if name != "log_loss":
        raise InputError(f"{name!r} has no per-row SQL form; losses with one: {LOSSES}")
    # log loss: minus the log of the probability of the true class, clipped to [eps, 1-eps]
    # as scikit-learn clips it
    prob = f"(CASE WHEN {ys} = {literal(positive)} THEN {ps} ELSE 1.0 - {ps} END)"
    clipped = f"LEAST(GREATEST({prob}, {literal(_EPS)}), {literal(1 - _EPS)})"
    return f"-LN({clipped})"


def loss_moments(engine: Engine, table: Table, loss: str) -> tuple[int, float, float]:
    """(rows, mean, sample variance) of the per-row ``loss`` (SQL)."""
    row = engine.one(f"SELECT COUNT(*), AVG({loss}), VAR_SAMP({loss}) FROM {table.source}")
    return int(row[0]), float(row[1]), float(row[2] or 0.0)


def largest(engine: Engine, table: Table, loss: str, rows: int) -> np.ndarray:
    """The ``rows`` largest values of the per-row ``loss`` (SQL), largest first."""
    return np.array([float(r[0]) for r in engine.rows(
        f"SELECT l FROM (SELECT {loss} AS l FROM {table.source}) t ORDER BY l DESC "
        f"LIMIT {int(rows)}")])


def count_equal(engine: Engine, table: Table, column: str, value: Any) -> int:
    """Rows whose ``column`` equals ``value``."""
    return int(engine.one(f"SELECT SUM(CASE WHEN {engine.quote(column)} = {literal(value)} "
                          f"THEN 1 ELSE 0 END) FROM {table.source}")[0] or 0)


def paired_table(engine: Engine, table: Table, y: str, candidate: str, baseline: str
                 ) -> tuple[int, int, int, int]:
    """``(a, b, c, d)``: rows both predictions get right, only the baseline, only the
    candidate, neither."""
    q = {c: engine.quote(c) for c in (y, candidate, baseline)}
    a, b, c, d = (int(v or 0) for v in engine.one(
        f"SELECT SUM(CASE WHEN rc AND rb THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN rb AND NOT rc THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN rc AND NOT rb THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN NOT rc AND NOT rb THEN 1 ELSE 0 END) FROM ("
        f"SELECT {q[candidate]} = {q[y]} AS rc, {q[baseline]} = {q[y]} "
        f"AS rb FROM {table.source}) t"))
    return a, b, c, d


def paired_loss_moments(engine: Engine, table: Table, candidate: str, baseline: str
                        ) -> tuple[int, float, float, float, float]:
    """(rows, mean candidate loss, mean baseline loss, mean and sample variance of their
    per-row difference) of the per-row losses ``candidate`` and ``baseline`` (SQL)."""
    row = engine.one(f"SELECT COUNT(*), AVG({candidate}), AVG({baseline}), "
                     f"AVG(({candidate}) - ({baseline})), "
                     f"VAR_SAMP(({candidate}) - ({baseline})) FROM {table.source}")
    return (int(row[0]), float(row[1]), float(row[2]), float(row[3]), float(row[4] or 0.0))


def row_count(engine: Engine, table: Table) -> int:
    return int(engine.one(f"SELECT COUNT(*) FROM {table.source}")[0])


def grouped_confusion_cells(engine: Engine, table: Table, group: str, columns: list[str]
                            ) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """(group values sorted with NULL last, labels, counts (G, K, K)): the confusion cells of
    ``columns`` (true, predicted) in each group of ``group``, from one ``GROUP BY``."""
    g = engine.quote(group)
    q = [engine.quote(c) for c in columns]
    got = engine.rows(f"SELECT {g}, {', '.join(q)}, COUNT(*) FROM {table.source} "
                      f"GROUP BY {g}, {', '.join(q)}")
    present = {r[0] for r in got}
    try:
        values = sorted(v for v in present if v is not None)
        labels = np.unique(np.array([v for r in got for v in r[1:-1]]))
    except TypeError:
        raise InputError("the group or label columns mix value types that cannot be "
                         "compared") from None
    if None in present:
        values.append(None)
    index = {v: i for i, v in enumerate(values)}
    cells = np.zeros((len(values), *(len(labels),) * len(columns)), dtype=np.int64)
    for r in got:
        at = tuple(int(np.searchsorted(labels, v)) for v in r[1:-1])
        cells[(index[r[0]], *at)] += int(r[-1])
    return values, labels, cells


def grouped_placement_sums(engine: Engine, table: Table, group: str, y: str, score: str,
                           positive: Any) -> list[tuple[Any, int, int, float, float, float]]:
    """Per group (NULL included): ``(group, positives, negatives, sum of V10 over the
    positives, sum of V10^2 over the positives, sum of V01^2 over the negatives)``, DeLong's
    placements within each group (windows partitioned by the group)."""
    g, ys, sc = engine.quote(group), engine.quote(y), engine.quote(score)
    part = "PARTITION BY g"
    order = f"{part} ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    placements = f"""
SELECT g, pos, neg,
  (SUM(neg) OVER ({order}) - neg / 2) / SUM(neg) OVER ({part}) AS v10,
  (SUM(pos) OVER ({part}) - SUM(pos) OVER ({order}) + pos / 2) / SUM(pos) OVER ({part}) AS v01
FROM (SELECT {g} AS g, CAST({sc} AS DOUBLE) AS s,
        CAST(SUM(CASE WHEN {ys} = {literal(positive)} THEN 1 ELSE 0 END) AS DOUBLE) AS pos,
        CAST(SUM(CASE WHEN {ys} = {literal(positive)} THEN 0 ELSE 1 END) AS DOUBLE) AS neg
      FROM {table.source} GROUP BY {g}, CAST({sc} AS DOUBLE)) t"""
    rows = engine.rows(f"SELECT g, SUM(pos), SUM(neg), SUM(pos * v10), SUM(pos * v10 * v10), "
                       f"SUM(neg * v01 * v01) FROM ({placements}) p GROUP BY g")
    return [(r[0], int(r[1]), int(r[2]), *(float(v or 0.0) for v in r[3:])) for r in rows]
