"""Confidence intervals for a proportion ``k / n`` (accuracy, recall, precision...).

``wilson``: Wilson's score interval, the inversion of the score test; it keeps close to nominal
coverage down to small ``n`` and proportions near 0 or 1, where the normal (Wald) interval
fails::

    centre = (k + z^2/2) / (n + z^2),  half = z sqrt(k (n - k) / n + z^2/4) / (n + z^2)

``exact``: Clopper–Pearson, from beta quantiles; never below nominal coverage, often above it.
Both are statsmodels' ``proportion_confint``.
"""

from __future__ import annotations

from mlqa.errors import InputError

METHODS = {"wilson": "wilson", "exact": "beta"}


def proportion_interval(k: float, n: int, confidence: float = 0.95, method: str = "wilson"
                        ) -> tuple[float, float]:
    """``(low, high)`` for ``k`` successes out of ``n`` at ``confidence`` (Wilson's formula
    also takes a fractional ``k``: a proportion-like statistic times its ``n``)."""
    if method not in METHODS:
        raise InputError(f"proportion interval method must be one of {sorted(METHODS)}, "
                         f"got {method!r}")
    if n <= 0 or not 0 <= k <= n:
        raise InputError(f"a proportion needs 0 <= k <= n and n > 0, got k={k}, n={n}")
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, alpha=1 - confidence, method=METHODS[method])
    return float(low), float(high)
