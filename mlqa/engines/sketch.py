"""``exact=False``: numerical columns from a one-pass grid sketch with a deterministic rank error.

Each side is counted on the same ``CELLS`` equal-width cells over the pooled range (one
streaming pass, mergeable across partitions, no sort). At the cell boundaries both ECDFs are
exact; inside a cell each moves by at most the cell's share, so the true KS distance obeys
``D_grid <= D <= D_grid + eps`` with ``eps`` the largest cell share on either side. The cell of
a value is ``floor((x - low) / width)``, the same monotone expression on both sides, so the
cells are intervals whatever the rounding.

Decision (DataSketches' KS rule, widened by this sketch's one-sided error), with
``crit = c(alpha) sqrt((n + m) / (n m))``: drift when ``D_grid > crit`` (p-value from ``D_grid``:
an upper bound of the exact one); no drift when ``D_grid + eps <= crit``; otherwise the column is
INCONCLUSIVE with the reason and no p-value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlqa.drift.stattests import ColumnTestError, get
from mlqa.drift.stattests.numerical import MIN_NORM
from mlqa.engines import finish, sql
from mlqa.engines.base import literal

CELLS = 4096
SKETCHED = ("ks",)


def grid_counts(engine: Any, table: Any, column: str, low: float, width: float) -> np.ndarray:
    x = sql.as_double(engine, column)
    cell = (f"LEAST(CAST(FLOOR(({x} - {literal(low)}) / {literal(width)}) AS BIGINT), "
            f"{CELLS - 1})")
    got = engine.rows(f"SELECT {cell} AS b, COUNT(*) FROM {table.source} "
                      f"WHERE {sql.finite(engine, table, column)} GROUP BY {cell}")
    out = np.zeros(CELLS, dtype=np.int64)
    for b, count in got:
        out[int(b)] += int(count)
    return out


def sketched_run(sides: Any, run: Any, name: str, test_name: str | None, mode: str,
                 integer: bool) -> None:
    rm, cm = sides.ref_m[name], sides.cur_m[name]
    chosen = test_name or "ks"
    if chosen not in SKETCHED:
        raise ColumnTestError(f"{chosen} has no approximate form; exact=False sketches "
                              f"numerical columns for ks only (use exact=True)")
    run.test = get("ks")
    low, high = min(rm.low, cm.low), max(rm.high, cm.high)
    if low == high:
        run.reason = f"constant column (only the value {low!r} on both sides): nothing to test"
        return
    width = (high - low) / CELLS
    r = grid_counts(sides.engine, sides.ref, name, low, width)
    c = grid_counts(sides.engine, sides.cur, name, low, width)
    n, m = int(r.sum()), int(c.sum())
    d_grid = float(np.max(np.abs(np.cumsum(r) / n - np.cumsum(c) / m)))
    eps = float(max((r / n).max(), (c / m).max()))
    alpha = sides.alpha
    crit = math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))
    # normed Wasserstein between the grid's bounds: inside cell b |F - G| is within e_b (the
    # larger side's share of that cell) of its value at the cell's left edge
    left = np.cumsum(r) / n - r / n - (np.cumsum(c) / m - c / m)
    share = np.maximum(r / n, c / m)
    norm = max(math.sqrt(max(rm.var or 0.0, 0.0)), MIN_NORM)
    w_mid = float(np.sum(np.abs(left))) * width / norm
    w_low = float(np.sum(np.maximum(np.abs(left) - share, 0.0))) * width / norm
    sides.approximate[name] = {"epsilon": eps, "critical_distance": crit, "d_grid": d_grid,
                               "cells": CELLS, "wasserstein_low": w_low}
    run.kind = run.type
    run.statistic = d_grid
    run.effect = w_mid
    if d_grid > crit or d_grid + eps <= crit:
        run.p_value = finish.ks_p_value(d_grid, n, m)
        run.statistics["ks"] = (d_grid, run.p_value)
        if run.p_value < sides.alpha:
            # the grid's deterministic lower bound of the normed W1 (no sampling allowance)
            run.effect_low = w_low
    else:
        run.reason = (f"approximate: the sketch's rank error eps={eps:.3g} exceeds the room "
                      f"the critical distance {crit:.3g} leaves (D in [{d_grid:.3g}, "
                      f"{d_grid + eps:.3g}]); no p-value; INCONCLUSIVE - use exact=True")
        sides.inconclusive.append(name)
