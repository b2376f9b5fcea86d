"""``check_drift(exact=False)`` on an engine: a numerical column's KS decision from a refined
grid sketch (:func:`mlqa.engines.sketch.refined_grid`) with its deterministic rank error.

With ``D_grid = max_k |F - G|`` at the cells' ends and ``eps`` the largest share of a cell
holding more than one value, ``D_grid <= D <= D_grid + eps``. Decision (DataSketches' KS rule,
widened by this error), with ``crit = c(alpha) sqrt((n + m) / (n m))``: drift when
``D_grid > crit`` (p-value from ``D_grid``: an upper bound of the exact one); no drift when
``D_grid + eps <= crit``; otherwise the column is INCONCLUSIVE with the reason and no p-value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlqa.drift.stattests import ColumnTestError, get
from mlqa.drift.stattests.pooled import MIN_NORM, ks_p_value

# the grid's target share is also at most this fraction of the critical distance: eps must
# leave room to decide
CRIT_SHARE = 0.25
SKETCHED = ("ks",)


def critical_distance(n: int, m: int, alpha: float) -> float:
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


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
    from mlqa.engines.sketch import EPS_TARGET, LostRows, refined_grid

    target = min(EPS_TARGET, critical_distance(rm.n, cm.n, sides.alpha) * CRIT_SHARE)
    try:
        g = refined_grid(sides.engine, sides.ref, sides.cur, name, low, high, target)
    except LostRows as exc:
        raise ColumnTestError(str(exc)) from exc
    r, c = g.ref, g.cur
    n, m = int(r.sum()), int(c.sum())
    cum = np.cumsum(r) / n - np.cumsum(c) / m
    d_grid = float(np.max(np.abs(cum)))
    inside = g.high - g.low
    # a one-value cell (inside == 0): both ECDFs are exact on either side of its value
    share = np.where(inside > 0, np.maximum(r / n, c / m), 0.0)
    eps = float(share.max())
    alpha = sides.alpha
    crit = critical_distance(n, m, alpha)
    # normed Wasserstein: |F - G| is exact on the gaps between cells (the cumulative value of
    # the cell to the left) and within share_k of its left-end value inside [a_k, b_k)
    left = np.abs(cum - (r / n - c / m))
    gaps = float(np.sum((g.low[1:] - g.high[:-1]) * np.abs(cum[:-1])))
    norm = max(math.sqrt(max(rm.var or 0.0, 0.0)), MIN_NORM)
    w_mid = (float(np.sum(inside * left)) + gaps) / norm
    w_low = (float(np.sum(inside * np.maximum(left - share, 0.0))) + gaps) / norm
    sides.approximate[name] = {"epsilon": eps, "critical_distance": crit, "d_grid": d_grid,
                               "cells": int(r.size), "passes": g.passes,
                               "wasserstein_low": w_low}
    run.kind = run.type
    run.statistic = d_grid
    run.effect = w_mid
    if d_grid > crit or d_grid + eps <= crit:
        run.p_value = ks_p_value(d_grid, n, m)
        run.statistics["ks"] = (d_grid, run.p_value)
        if run.p_value < sides.alpha:
            # the grid's deterministic lower bound of the normed W1 (no sampling allowance)
            run.effect_low = w_low
    else:
        run.reason = (f"approximate: the sketch's rank error eps={eps:.3g} exceeds the room "
                      f"the critical distance {crit:.3g} leaves (D in [{d_grid:.3g}, "
                      f"{d_grid + eps:.3g}]); no p-value; INCONCLUSIVE - use exact=True")
        sides.inconclusive.append(name)
