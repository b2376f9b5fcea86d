"""Confidence intervals for one proportion and for the difference of two, vectorised.

The data-quality checks decide on many columns at once (one null share per column), so these
take numpy arrays of counts and return arrays; no statsmodels import (it costs seconds).

Wilson's score interval for ``k`` of ``n`` at normal quantile ``z``::

    centre = (k + z^2/2) / (n + z^2),  half = z sqrt(k (n - k) / n + z^2/4) / (n + z^2)

Newcombe's hybrid score interval (his method 10, 1998) for ``d = p1 - p2`` from the two Wilson
intervals ``(l1, u1)``, ``(l2, u2)``::

    low  = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)
    high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)

It keeps close to nominal coverage at small ``n`` and at shares near 0, where the Wald interval
of a difference (the usual ``d +- z se``) collapses to a point when both shares are 0 or 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtri

from mlqa.errors import InputError

__all__ = ["wilson_interval", "newcombe_difference", "z_two_sided"]


def z_two_sided(confidence: float) -> float:
    """The normal quantile of a two-sided ``confidence`` interval (1.96 at 0.95)."""
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(ndtri(0.5 + confidence / 2))


def _counts(k: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
    k_arr, n_arr = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    if np.any(n_arr <= 0) or np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise InputError(f"a proportion needs 0 <= k <= n and n > 0, got k={k!r}, n={n!r}")
    return k_arr, n_arr


def wilson_interval(k: Any, n: Any, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` arrays of Wilson intervals for ``k`` of ``n`` (broadcast)."""
    k_arr, n_arr = _counts(k, n)
    z = z_two_sided(confidence)
    z2 = z * z
    centre = (k_arr + z2 / 2) / (n_arr + z2)
    half = z * np.sqrt(k_arr * (n_arr - k_arr) / n_arr + z2 / 4) / (n_arr + z2)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def newcombe_difference(k1: Any, n1: Any, k2: Any, n2: Any, confidence: float = 0.95
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(d, low, high)`` for ``d = k1/n1 - k2/n2``: Newcombe's hybrid score interval."""
    k1a, n1a = _counts(k1, n1)
    k2a, n2a = _counts(k2, n2)
    p1, p2 = k1a / n1a, k2a / n2a
    l1, u1 = wilson_interval(k1a, n1a, confidence)
    l2, u2 = wilson_interval(k2a, n2a, confidence)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high
