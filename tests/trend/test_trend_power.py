"""Seeded validation of check_trend with its defaults (alpha 0.05, 199 permutations,
min_size 2): a step and a slow ratchet are found, a flat history raises a false alarm at most
at rate alpha.

Histories are 30 builds of an accuracy measured on 5,000 rows (binomial draws: about 0.42
points of run-to-run noise at 0.90), the current build last. Measured with
``python benchmarks/trend_power.py --seeds 1000`` (seeds other than these):

| history | FAIL | a change point found | a failing one located |
|---|---|---|---|
| flat 0.90 | 0.029 | 0.046 | - |
| 1-point drop at build 21 | 0.984 | 0.984 | 0.943 (within 2 builds) |
| ratchet: 20 builds at 0.90, then -0.4 points per release for 10 | 1.000 | 1.000 | 1.000 |

Stated and asserted here on fewer seeds, with room for their sampling error: a false FAIL at
most at rate alpha, a change point of either direction at most at alpha (+3 standard errors of
the estimate); power for the step at least 0.90 (located within 2 builds at least 0.85), for
the ratchet at least 0.95, also with a min_magnitude of one point. Each ratchet release loses
0.4 points, so a build-to-build check with a 0.5-point margin passes every one of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

import mlqa
from mlqa import Outcome
from mlqa.trend.check import TrendResult

pytestmark = pytest.mark.statistical

ALPHA = 0.05
ROWS = 5000


def _histories(levels: list[float], seeds: int, **options: object) -> list[TrendResult]:
    out = []
    for seed in range(seeds):
        rng = np.random.default_rng(20_000 + seed)
        history = rng.binomial(ROWS, levels) / ROWS
        out.append(mlqa.check_trend(history, alpha=ALPHA, random_state=seed, **options))
    return out


def _rate(results: list[TrendResult], hit: Callable[[TrendResult], bool]) -> float:
    return sum(map(hit, results)) / len(results)


def test_flat_history_false_alarms_at_most_at_alpha() -> None:
    seeds = 300
    results = _histories([0.90] * 30, seeds)
    fail = _rate(results, lambda r: r.outcome is Outcome.FAIL)
    found = _rate(results, lambda r: bool(r.change_points))
    slack = 3 * math.sqrt(ALPHA * (1 - ALPHA) / seeds)
    print(f"flat: FAIL rate {fail:.3f}, any change point {found:.3f} (alpha {ALPHA})")
    assert fail <= ALPHA
    assert found <= ALPHA + slack
    assert all(r.outcome in (Outcome.PASS, Outcome.FAIL) for r in results)


def test_a_one_point_step_is_found_where_it_starts() -> None:
    results = _histories([0.90] * 20 + [0.89] * 10, 100)
    fail = _rate(results, lambda r: r.outcome is Outcome.FAIL)
    located = _rate(results, lambda r: any(c.fails and abs(c.index - 20) <= 2
                                           for c in r.change_points))
    print(f"step: power {fail:.3f}, located within 2 builds {located:.3f}")
    assert fail >= 0.90
    assert located >= 0.85


@pytest.mark.parametrize("min_magnitude", [0.0, 0.01])
def test_a_slow_ratchet_is_found(min_magnitude: float) -> None:
    levels = [0.90] * 20 + [0.90 - 0.004 * k for k in range(1, 11)]
    assert max(abs(np.diff(levels))) < 0.005  # within a 0.5-point build-to-build margin
    results = _histories(levels, 60, min_magnitude=min_magnitude)
    found = _rate(results, lambda r: r.outcome is Outcome.FAIL and any(
        c.fails and c.index >= 18 for c in r.change_points))
    print(f"ratchet (min_magnitude {min_magnitude}): power {found:.3f}")
    assert found >= 0.95
