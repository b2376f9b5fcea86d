"""Decisions on shares of rows (missing, out of range, new categories, duplicates).

A share seen on ``n`` rows is an estimate of the rate of the process that produced them: 0.02
on 200 rows is somewhere in 0.008–0.05 at 95%. So a bound on a share is decided on its Wilson
interval, and a bound on the change of a share between reference and current on Newcombe's
interval of the difference (``mlqa.stats.two_proportions``): PASS when the interval lies
wholly within the bound, FAIL when wholly beyond it, INCONCLUSIVE when it straddles.

A bound of 0 ("no missing values", "no duplicates") is a statement about the batch itself
and is decided on the count: any row breaks it, none keeps it.

Several columns are decided together at a Bonferroni-adjusted level, ``1 - (1 - confidence)
/ m`` per column, so a rule over ``m`` columns raises a false alarm with probability at most
``1 - confidence`` when no column breaks its bound.
"""

from __future__ import annotations

import math

import numpy as np

from mlqa.result import Outcome
from mlqa.stats.two_proportions import newcombe_difference, wilson_interval


def per_column_confidence(confidence: float, m: int) -> float:
    """Bonferroni: the level each of ``m`` intervals is computed at."""
    return 1 - (1 - confidence) / max(m, 1)


def decide_share(k: np.ndarray, n: np.ndarray, max_share: float, confidence: float
                 ) -> tuple[list[Outcome], np.ndarray, np.ndarray]:
    """Outcome per entry of ``k`` of ``n`` against ``share <= max_share``, with the intervals."""
    k_arr, n_arr = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    low, high = wilson_interval(k_arr, n_arr, confidence)
    if max_share == 0:
        return [Outcome.FAIL if x > 0 else Outcome.PASS for x in k_arr], low, high
    out = [Outcome.FAIL if lo > max_share else Outcome.PASS if hi <= max_share
           else Outcome.INCONCLUSIVE for lo, hi in zip(low, high, strict=True)]
    return out, low, high


def decide_change(k_cur: np.ndarray, n_cur: np.ndarray, k_ref: np.ndarray, n_ref: np.ndarray,
                  max_change: float, confidence: float
                  ) -> tuple[list[Outcome], np.ndarray, np.ndarray, np.ndarray]:
    """Outcome per column of ``|share_cur - share_ref| <= max_change``, with ``(d, low, high)``.

    ``max_change=0`` asks for the same share and is decided on the point: any difference fails.
    """
    d, low, high = newcombe_difference(k_cur, n_cur, k_ref, n_ref, confidence)
    if max_change == 0:
        return [Outcome.FAIL if x != 0 else Outcome.PASS for x in d], d, low, high
    out = [Outcome.FAIL if (lo > max_change or hi < -max_change)
           else Outcome.PASS if (lo >= -max_change and hi <= max_change)
           else Outcome.INCONCLUSIVE for lo, hi in zip(low, high, strict=True)]
    return out, d, low, high


def pct(x: float | None) -> str:
    """A share as a percentage with one decimal (``31.5%``)."""
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def pp(x: float) -> str:
    """A change of share in percentage points with a sign (``+28.9pp``)."""
    return f"{100 * x:+.1f}pp"
