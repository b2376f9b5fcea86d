"""Predictions of a champion and a candidate that differs from it on a share of rows."""

from __future__ import annotations

import numpy as np
import pytest


def _flipped(n: int, rate: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(candidate, champion): 0/1 labels, the candidate's flipped on ``rate`` of the rows."""
    rng = np.random.default_rng(seed)
    champion = rng.integers(0, 2, n)
    candidate = champion.copy()
    flip = rng.random(n) < rate
    candidate[flip] = 1 - candidate[flip]
    return candidate, champion


@pytest.fixture
def flipped():
    return _flipped
