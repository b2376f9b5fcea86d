"""``check_drift`` on an engine decided from histogram cells: ``exact="decision"`` and
``exact=False``.

The three modes (``exact=`` on an engine; in memory every mode is exact):

* ``exact=True`` (the default): every statistic exact, equal to the in-memory path to 1e-9
  (the pooled order, :func:`mlqa.engines.sql.pooled_sums`: one streamed sort on DuckDB). It
  stays the default because the parity and regression tests - and users comparing figures
  with evidently - read the statistics themselves, not only the verdicts; a default that reported
  bounds would change what ``statistic`` and ``p_value`` mean.
* ``exact="decision"``: the same verdicts as ``exact=True``, at scan speed. Each large
  numerical column is counted on histogram cells (:mod:`mlqa.engines.sketch`: a ``GROUP BY``
  cell per scan, never a sort), and every statistic its decision uses is bounded from the cells
  (``lower <= exact <= upper`` whatever the order of rows inside a cell:
  :func:`cell_bounds`, and each test's ``from_cells`` on its registry entry). The cells that
  keep the decision open are split by further scans (:func:`_targets`: those that could hold
  a larger KS distance than the one already certain, those that carry the width of the
  Wasserstein and effect bounds, those that carry Mann-Whitney's unknown pairs), up to
  ``SCAN_BUDGET`` scans per side. The decision across columns is then certified by
  :func:`settle`. A column whose bounds cannot settle within the budget, or whose test has no
  cell form (``from_cells`` None), takes the exact path for that column alone, and is named
  with why in ``details["fallback"]``.
* ``exact=False``: the cells only; a column they cannot settle is INCONCLUSIVE with why, and
  never takes the exact path.

Certifying the decision across columns. Holm and Benjamini-Hochberg are monotone: lowering
any p-value never un-rejects a hypothesis, and a column drifts only when a p-value rejects
*and* its effect's lower bound reaches the floor (raising it never un-flags). So the verdicts
are decided twice: once with every bounded column at its least-drifting end (p-values at their
upper bounds, statistics and effects at their lower bounds) and once at its most-drifting end.
Any p-values inside the intervals give verdicts between those two, so a column whose verdict
is the same in both is certain, and it reports the figures of the side adverse to its verdict:
a drifted column the upper p bound (still below its level), a column without drift the lower p
bound (still at or above it). A test without a cell form (``anderson_asymptotic``, ``auto``'s
companion of KS) enters with the p interval [0, 1], so a column never rests on it: it is
settled by KS or by its effect bound (a column whose effect cannot reach the floor does not
drift, whatever its p-values), or it takes the exact path.

Per column, ``details["bounds"][column]`` records the scans per side, the cells, and each
statistic's interval (``ks``, ``ks_p``, ``wasserstein``, ``effect_low``, ...).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from mlqa.drift.columns import NUMERICAL
from mlqa.drift.stattests import ColumnTestError, get
from mlqa.drift.stattests.from_cells import Cells, Interval
from mlqa.drift.stattests.pooled import MIN_NORM
from mlqa.errors import InputError

DECISION = "decision"
# the grid's share target is also at most this fraction of the critical distance
CRIT_SHARE = 0.25
# scans per side and column at most (the first grid and its refinements)
SCAN_BUDGET = 8
# cells split per open quantity and pass at most (the ones that matter most)
TARGETED = 48
# a float gap this close to 0 has no certain sign
TINY = 1e-12


def critical_distance(n: int, m: int, alpha: float) -> float:
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


@dataclasses.dataclass(frozen=True)
class Context:
    """What a column's decision is held to (``check_drift``'s options): ``family`` bounds the
    number of p-values in the multiple-testing family (Holm's and BH's smallest level is
    ``alpha / family``)."""

    mode: str
    alpha: float
    correction: str | None
    thresholds: Mapping[str, float]
    floors: Callable[[str, str], float]
    family: int


@dataclasses.dataclass
class Bounded:
    """One column decided from cells: each test's (statistic, p) intervals and the effect's."""

    tests: dict[str, tuple[Interval, Interval | None]]
    effect: Interval  # normed W1
    effect_low: Interval  # the lower confidence bound of the bias-corrected effect
    detail: dict[str, Any]


# -- bounds from cells ------------------------------------------------------------------------

def _widen(low: float, high: float) -> Interval:
    """Room for the order of floating-point sums (the engine's exact path adds in its order)."""
    return (low - 1e-9 * abs(low) - 1e-12, high + 1e-9 * abs(high) + 1e-12)


def _pq_range(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """min and max of t(1 - t) for t in [a, b] (concave: min at an end, max at 1/2 inside)."""
    fa, fb = a * (1 - a), b * (1 - b)
    top = np.where((a <= 0.5) & (b >= 0.5), 0.25, np.maximum(fa, fb))
    return np.minimum(fa, fb), top


def _spread(w: np.ndarray, h_lo: np.ndarray, h_hi: np.ndarray) -> Interval:
    """Bounds of ``sum w (h - mean h)^2`` for any ``h`` in ``[h_lo, h_hi]`` cell by cell: it is
    ``min over x of sum w (h - x)^2``, so at most ``min_x sum w max((h_lo - x)^2, (h_hi - x)^2)``
    (any x found is an upper bound) and at least ``min_x sum w dist(x, [h_lo, h_hi])^2`` (both
    convex in x); the lower end less the most that can fall across the search's last bracket
    (slope at most 2 sum(w) times the span)."""
    span = (float(h_lo.min()), float(h_hi.max()))

    def most(x: float) -> float:
        return float(np.sum(w * np.maximum((h_lo - x) ** 2, (h_hi - x) ** 2)))

    def least(x: float) -> float:
        return float(np.sum(w * (np.maximum(h_lo - x, 0.0) + np.maximum(x - h_hi, 0.0)) ** 2))

    slack = 2.0 * float(w.sum()) * (span[1] - span[0]) ** 2 * ((math.sqrt(5) - 1) / 2) ** 80
    return max(_least(least, span) - slack, 0.0), _least(most, span)


def _least(f: Callable[[float], float], span: Interval, steps: int = 80) -> float:
    """The minimum of a convex ``f`` over ``span`` (golden-section search; the smallest value
    seen, so never below the true minimum by more than the search's own rounding)."""
    a, b = span
    ratio = (math.sqrt(5) - 1) / 2
    x1, x2 = b - ratio * (b - a), a + ratio * (b - a)
    f1, f2 = f(x1), f(x2)
    best = min(f(a), f(b), f1, f2)
    for _ in range(steps):
        if f1 <= f2:
            b, x2, f2 = x2, x1, f1
            x1 = b - ratio * (b - a)
            f1 = f(x1)
        else:
            a, x1, f1 = x1, x2, f2
            x2 = a + ratio * (b - a)
            f2 = f(x2)
        best = min(best, f1, f2)
    return best


def _suffix(x: np.ndarray) -> np.ndarray:
    return np.cumsum(x[::-1])[::-1]


def cell_bounds(g: Any, norm: float, z: float) -> tuple[Cells, Interval, dict[str, np.ndarray]]:
    """(each statistic's interval, the interval of the effect's lower confidence bound, the
    weight of each cell in the bounds' width) from grid ``g`` (``mlqa.engines.sketch.Grid``).

    Cell ``k`` holds ``r_k``/``c_k`` rows between its pooled min ``a_k`` and max ``b_k``; ``F``,
    ``G`` (the ECDFs) are exact outside every ``[a_k, b_k)`` and inside it ``F - G`` lies in
    ``[d_{k-1} - c_k/m, d_{k-1} + r_k/n]`` (``d`` at the cells' ends). KS, W1 and energy
    integrate these; Mann-Whitney counts the cross-side pairs of a cell as unknown (0 to
    ``r_k c_k``); the bias-corrected effect and its standard error (``mlqa.drift.effects``) take
    the smallest and largest integrand, and the influence function ``h(v)`` (the integral of
    ``sign(F - G)`` above ``v``) an interval per cell, whose variance is bounded by its largest
    square less its smallest squared mean."""
    r, c = g.ref.astype(np.float64), g.cur.astype(np.float64)
    n, m = float(r.sum()), float(c.sum())
    big_r, big_c = np.cumsum(r), np.cumsum(c)
    f_hi, g_hi = big_r / n, big_c / m
    f_lo, g_lo = (big_r - r) / n, (big_c - c) / m
    d = f_hi - g_hi
    length = g.high - g.low
    wide = length > 0
    dmin, dmax = f_lo - g_hi, f_hi - g_lo
    absmax = np.where(wide, np.maximum(np.abs(dmin), np.abs(dmax)), 0.0)
    absmin = np.where(wide, np.where(dmin > 0, dmin, np.where(dmax < 0, -dmax, 0.0)), 0.0)
    gap, dg = g.low[1:] - g.high[:-1], d[:-1]
    ks_lo = float(np.max(np.abs(d)))
    ks = _widen(ks_lo, max(ks_lo, float(absmax.max())))
    w_gap = float(np.sum(gap * np.abs(dg)))
    wass = _widen((w_gap + float(np.sum(length * absmin))) / norm,
                  (w_gap + float(np.sum(length * absmax))) / norm)
    e_gap = float(np.sum(gap * dg * dg))
    energy = _widen(e_gap + float(np.sum(length * absmin ** 2)),
                    e_gap + float(np.sum(length * absmax ** 2)))
    u_single = float(np.sum(np.where(wide, 0.0, 0.5 * r * c)))
    u_base = float(np.sum(r * (big_c - c))) + u_single
    u_ref = _widen(u_base, u_base + float(np.sum(np.where(wide, r * c, 0.0))))
    t = (r + c) ** 3 - (r + c)
    ties = _widen(float(np.sum(np.where(wide, 0.0, t))), float(np.sum(t)))
    cells = Cells(int(n), int(m), (max(ks[0], 0.0), min(ks[1], 1.0)), wass, energy, u_ref, ties)
    # the bias-corrected effect: sqrt(max(d^2 - s^2, 0)), s^2 = F(1-F)/n + G(1-G)/m
    s2_gap = f_hi[:-1] * (1 - f_hi[:-1]) / n + g_hi[:-1] * (1 - g_hi[:-1]) / m
    est_gap = float(np.sum(gap * np.sqrt(np.maximum(dg * dg - s2_gap, 0.0))))
    pf_min, pf_max = _pq_range(f_lo, f_hi)
    pg_min, pg_max = _pq_range(g_lo, g_hi)
    est_lo = est_gap + float(np.sum(length * np.sqrt(np.maximum(
        absmin ** 2 - (pf_max / n + pg_max / m), 0.0))))
    est_hi = est_gap + float(np.sum(length * np.sqrt(np.maximum(
        absmax ** 2 - (pf_min / n + pg_min / m), 0.0))))
    # h: sign(d) integrated above v, exact on the gaps whose d has a certain sign
    known = np.abs(dg) > TINY
    j_lo = np.append(np.where(known, np.sign(dg) * gap, -gap), 0.0)
    j_hi = np.append(np.where(known, np.sign(dg) * gap, gap), 0.0)
    pos, neg = wide & (dmin > TINY), wide & (dmax < -TINY)
    i_lo, i_hi = np.where(pos, length, -length), np.where(neg, -length, length)
    h_lo = _suffix(j_lo) + _suffix(i_lo) - i_lo + np.where(pos, 0.0, -length)
    h_hi = _suffix(j_hi) + _suffix(i_hi) - i_hi + np.where(neg, 0.0, length)
    se2_lo = se2_hi = 0.0
    for w, size in ((r, n), (c, m)):
        low, high = _spread(w, h_lo, h_hi)
        se2_lo += low / size / size
        se2_hi += high / size / size
    effect_low = _widen(est_lo / norm - z * math.sqrt(se2_hi) / norm,
                        est_hi / norm - z * math.sqrt(se2_lo) / norm)
    weights = {"ks": np.where(wide & (absmax > ks_lo), absmax, 0.0),
               "wasserstein": length * (absmax - absmin),
               "effect": length * (absmax - absmin + np.where(pos | neg, 0.0, 1.0 / norm)),
               "mannw": np.where(wide, r * c, 0.0)}
    weights["ed"] = weights["wasserstein"]
    return cells, effect_low, weights


# -- one column ---------------------------------------------------------------------------------

def bounded_run(sides: Any, run: Any, name: str, test_name: str | None, mode: str,
                ctx: Context, small_rows: int, few_values: int) -> bool:
    """Decide column ``name`` from cells into ``run`` (its intervals into ``sides.bounded``);
    False where the exact path is the way (``exact="decision"`` only): a small column (its
    pooled order is fetched, cheaper than scans), few distinct values, or a test without a
    cell form. With ``exact=False`` those are a ``ColumnTestError`` (an ERROR entry)."""
    from mlqa.drift.check import choose_test, tests_to_run
    from mlqa.drift.summarised import _Shape
    from mlqa.engines.sketch import EPS_TARGET, LostRows, first_grid

    decision = sides.exact == DECISION
    rm, cm = sides.ref_m[name], sides.cur_m[name]
    low, high = min(rm.low, cm.low), max(rm.high, cm.high)
    if low == high:
        run.reason = f"constant column (only the value {low!r} on both sides): nothing to test"
        return True
    if decision and rm.n + cm.n <= small_rows:
        return False
    try:
        target = min(EPS_TARGET, critical_distance(rm.n, cm.n, ctx.alpha) * CRIT_SHARE)
        g = first_grid(sides.engine, sides.ref, sides.cur, name, low, high)
        # a side has at least as many distinct values as cells it has rows in; where a few
        # cells hold them all (a skewed column, outliers far out) those cells are split first
        while (seen := _seen(g)) <= few_values and g.passes < SCAN_BUDGET:
            share = np.maximum(g.ref / g.ref.sum(), g.cur / g.cur.sum())
            split = _split(sides, name, g, [np.where(g.high > g.low, share, 0.0)], target)
            if split is None:
                break
            g = split
        if seen <= few_values:
            if decision:
                return False
            raise ColumnTestError(f"too few distinct values for the cells ({seen} cells hold "
                                  f"rows of a side); use exact=True")
        shape = (_Shape(NUMERICAL, rm.n, seen), _Shape(NUMERICAL, cm.n, seen))
        run.test = choose_test(test_name, *shape, mode)
        if run.test.from_cells is None:
            if decision:
                return False
            raise ColumnTestError(f"{run.test.name} has no approximate form (no cell bounds on "
                                  f"its registry entry); use exact=True")
        names = tests_to_run(run.test.name, test_name, mode)
        norm = max(math.sqrt(max(rm.var or 0.0, 0.0)), MIN_NORM)
        from scipy.special import ndtri

        z = float(ndtri(1.0 - ctx.alpha))
        while True:
            cells, effect_low, weights = cell_bounds(g, norm, z)
            b = _bounded(names, cells, effect_low, g)
            open_ = _open(run.test, b, ctx, name)
            if not open_ or g.passes >= SCAN_BUDGET:
                break
            split = _split(sides, name, g, [weights.get(q, weights["wasserstein"])
                                            for q in open_], target)
            if split is None:
                break
            g = split
    except LostRows as exc:
        raise ColumnTestError(str(exc)) from exc
    except (ColumnTestError, InputError):
        raise
    except ValueError as exc:  # scipy's exact small-sample KS p-value needs the rows
        if decision:
            return False
        raise ColumnTestError(f"no bound from cells: {exc}") from exc
    run.kind = run.type
    sides.bounded[name] = b
    # provisional figures (the least-drifting end); settle() puts the certified ones
    _at_end(run, b, drifting=False, ctx=ctx)
    return True


def _bounded(names: list[str], cells: Cells, effect_low: Interval, g: Any) -> Bounded:
    tests: dict[str, tuple[Interval, Interval | None]] = {}
    detail: dict[str, Any] = {"passes": g.passes, "cells": int(g.ref.size)}
    for t in names:
        entry = get(t)
        if entry.from_cells is None:
            # no cell form: any statistic, any p-value (the column may not rest on it)
            tests[t] = ((0.0, math.inf), (0.0, 1.0) if entry.returns_p_value else None)
            detail[t] = "no cell form: p in [0, 1]"
            continue
        tests[t] = entry.from_cells(cells)
        detail[t] = list(tests[t][0])
        if tests[t][1] is not None:
            detail[f"{t}_p"] = list(tests[t][1])  # type: ignore[arg-type]
    detail["wasserstein"] = list(cells.wasserstein)
    detail["effect_low"] = list(effect_low)
    return Bounded(tests, cells.wasserstein, effect_low, detail)


def _open(test: Any, b: Bounded, ctx: Context, name: str) -> list[str]:
    """What still keeps this column's verdict open on its own (empty: settled whatever the
    other columns' p-values): the test's statistic and/or the effect."""
    threshold = ctx.thresholds.get(name, ctx.alpha if test.returns_p_value and
                                   ctx.mode != "evidently" else test.default_threshold)
    stat, p = b.tests[test.name]
    if p is None or ctx.mode == "evidently":
        score = stat if p is None else (p[1], p[0])  # least drifting end first
        return [] if test.drifted(score[0], threshold) == test.drifted(score[1], threshold) \
            else [test.name]
    level = threshold / ctx.family if ctx.correction else threshold
    floor = ctx.floors(name, NUMERICAL)
    p_values = [(get(t), iv[1]) for t, iv in b.tests.items() if iv[1] is not None]
    drift = any(t.drifted(p[1], level) for t, p in p_values) and b.effect_low[0] >= floor
    calm = b.effect_low[1] < floor or not any(t.drifted(p[0], threshold) for t, p in p_values)
    if drift or calm:
        return []
    out = []
    if p[0] < threshold and p[1] >= level:  # the test's p interval straddles a level
        out.append(test.name)
    if b.effect_low[0] < floor <= b.effect_low[1]:
        out.append("effect")
    return out or [test.name]


def _seen(g: Any) -> int:
    return min(int(np.count_nonzero(g.ref)), int(np.count_nonzero(g.cur)))


def _split(sides: Any, name: str, g: Any, weights: list[np.ndarray], target: float) -> Any:
    """One more scan per side, splitting the cells of largest weight (each open quantity's
    width) into sub-cells: more where a cell holds more than ``target`` of a side."""
    from mlqa.engines.sketch import MAX_PARTS, SPLIT_ROOM, runs_of, split_runs

    chosen: list[np.ndarray] = []
    for w in weights:
        top = np.argsort(-w, kind="stable")[:TARGETED]
        chosen.append(top[w[top] > 0])
    cells = np.unique(np.concatenate(chosen)) if chosen else np.array([], dtype=np.int64)
    cells = cells[g.high[cells] > g.low[cells]]
    if cells.size == 0:
        return None
    first, last = runs_of(cells)
    share = np.maximum(g.ref / g.ref.sum(), g.cur / g.cur.sum())
    run_share = np.array([share[i:j + 1].sum() for i, j in zip(first, last, strict=True)])
    need = np.maximum(SPLIT_ROOM * (last - first + 1), SPLIT_ROOM * run_share / target)
    parts = np.clip(2 ** np.ceil(np.log2(need)), SPLIT_ROOM, MAX_PARTS).astype(np.int64)
    return split_runs(sides.engine, sides.ref, sides.cur, name, g, first, last, parts)


def _at_end(run: Any, b: Bounded, drifting: bool, ctx: Context) -> Any:
    """``run`` with every bounded figure at its most (``drifting``) or least drifting end."""
    stats: dict[str, tuple[float, float | None]] = {}
    for t, (stat, p) in b.tests.items():
        value = stat[1] if drifting else stat[0]
        stats[t] = (value if math.isfinite(value) else stat[0],
                    None if p is None else (p[0] if drifting else p[1]))
    run.statistics = stats
    run.statistic, run.p_value = stats[run.test.name]
    run.effect = b.effect[1] if drifting else b.effect[0]
    p_values = [p for _, p in stats.values() if p is not None]
    run.effect_low = None
    if ctx.mode != "evidently" and p_values and min(p_values) < ctx.alpha:
        run.effect_low = b.effect_low[1] if drifting else b.effect_low[0]
    return run


# -- across columns -----------------------------------------------------------------------------

def settle(bounded: dict[str, Bounded], runs: dict[str, Any], ctx: Context,
           decide_runs: Callable[[dict[str, Any]], dict[str, Any]],
           exact_run: Callable[[str], Any] | None, inconclusive: list[str],
           fallback: dict[str, str]) -> dict[str, Any]:
    """The verdicts, certified (module docstring): decided with every bounded column at its
    least and at its most drifting end; a bounded column whose verdict differs takes the exact
    path (``exact_run``; with ``exact=False`` it is INCONCLUSIVE naming why) and the family
    is decided again. An exact column can only change through the bounded ones: if one does
    while no bounded column does, every bounded column is resolved."""
    while True:
        ends = [{n: (_at_end(dataclasses.replace(r), bounded[n], drifting, ctx)
                     if n in bounded else r) for n, r in runs.items()}
                for drifting in (False, True)]
        calm, hot = decide_runs(ends[0]), decide_runs(ends[1])
        flips = [n for n in runs if calm[n].drifted != hot[n].drifted]
        if not flips:
            return {n: calm[n] if calm[n].drifted else _shown(hot[n], n in bounded)
                    for n in runs}
        for n in [f for f in flips if f in bounded] or \
                [b for b in bounded if not runs[b].reason]:
            why = _why(n, bounded[n], runs[n])
            if exact_run is None:  # its bounds stay in the details, beside why
                runs[n].reason = f"approximate: {why}; INCONCLUSIVE - use exact=True"
                runs[n].statistics, runs[n].p_value = {}, None
                inconclusive.append(n)
            else:
                del bounded[n]
                fallback[n] = why
                runs[n] = exact_run(n)


def _shown(column: Any, bounded: bool) -> Any:
    """A bounded column without drift, at its most drifting end, shows its own test (KS) and
    the lower bound of its p-value, never the p = 0 a companion without a cell form entered
    the decision with; that p bound also bounds the adjusted one from below."""
    if not bounded or column.test is None or get(column.test).from_cells is not None:
        return column
    primary = next(t for t in column.statistics if get(t).from_cells is not None)
    stat, p = column.statistics[primary]
    return dataclasses.replace(column, test=primary, statistic=stat, p_value=p,
                               adjusted_p_value=p)


def _why(name: str, b: Bounded, run: Any) -> str:
    stat, p = b.tests[run.test.name]
    parts = [f"{run.test.name} in [{stat[0]:.4g}, {stat[1]:.4g}]"]
    if p is not None:
        parts.append(f"p in [{p[0]:.3g}, {p[1]:.3g}]")
    parts.append(f"effect lower bound in [{b.effect_low[0]:.3g}, {b.effect_low[1]:.3g}]")
    return (f"the cell bounds did not settle the decision in {b.detail['passes']} scans per "
            f"side ({', '.join(parts)})")
