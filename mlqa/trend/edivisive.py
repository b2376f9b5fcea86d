"""E-Divisive means: change points in one series by recursive bisection and a permutation test.

Matteson & James, "A Nonparametric Approach for Multiple Change Point Analysis of Multivariate
Data" (JASA 2014, arXiv:1306.4933), as Apache Otava 0.8.0 implements it in
``otava/change_point_divisive/`` (``calculator.py``: the q-statistic over every split ``tau`` and
end ``kappa``; ``detector.py``: the bisection; ``significance_test.py``: the permutation test)
and calls it from ``otava.analysis.compute_change_points_orig`` (``otava analyze
--orig-edivisive``). The shape follows Otava; the code is ours, with three differences:

- permutations run as one numpy batch (Otava shuffles and rescans one copy at a time);
- the p-value is ``(1 + #{perm >= observed}) / (R + 1)``, the permutation p-value that never
  reaches 0 and keeps the level exact (Otava divides the count alone by ``R + 1``);
- ``min_size`` bounds both segments of a split (Otava allows one point a side: ``min_size=1``).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

# Largest number of floats one batch of (permutations x (L+1) x (L+1)) may hold: a
# 1,000-build history then scans a handful of permutations at a time in about 30 MB.
_BATCH_FLOATS = 4_000_000


@dataclasses.dataclass(frozen=True)
class Split:
    """One change point: the series changes starting at position ``index`` (the first point of
    the new segment). ``qhat`` is the statistic it maximised, ``p_value`` its permutation test."""

    index: int
    qhat: float
    p_value: float


@dataclasses.dataclass(frozen=True)
class Divisions:
    """The significant splits, by position, and the p-value of the first candidate refused
    (None when every segment became too short to split again)."""

    splits: tuple[Split, ...]
    refused_p_value: float | None


@functools.lru_cache(maxsize=64)
def _coefficients(length: int, min_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                        np.ndarray]:
    """For splits ``tau`` (rows) and ends ``kappa`` (columns) of a segment of ``length``: the
    weights of ``S(0, kappa)``, ``S(0, tau)`` and ``S(tau, kappa)`` in the q-statistic, and 0 or
    -inf for the pairs that leave a side shorter than ``min_size``."""
    tau = np.arange(length + 1)[:, None]
    kappa = np.arange(length + 1)[None, :]
    n, m = tau, kappa - tau
    valid = (n >= min_size) & (m >= min_size)
    total = np.where(valid, m + n, 1)
    between = np.where(valid, 2.0 / total, 0.0)
    within_x = np.where(valid & (n > 1), 2.0 * m / (total * np.maximum(n - 1, 1)), 0.0)
    within_y = np.where(valid & (m > 1), 2.0 * n / (total * np.maximum(m - 1, 1)), 0.0)
    penalty = np.where(valid, 0.0, -np.inf)
    return between, between + within_x, between + within_y, penalty


def _qhat_best(z: np.ndarray, min_size: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``z`` (batch x L): the largest q-statistic over splits ``tau`` and ends
    ``kappa`` with both segments of at least ``min_size`` points, and its ``tau``.

    With ``D = |z_i - z_j|``, ``X = z[:tau]``, ``Y = z[tau:kappa]``, ``n = |X|``, ``m = |Y|``::

        Q = 2/(m+n) sum D(X,Y) - 2m/((m+n)(n-1)) sum_{i<k} D(X) - 2n/((m+n)(m-1)) sum_{j<k} D(Y)

    (Matteson & James' ``mn/(m+n)`` times the energy distance; a one-point side has no
    within-sum). Every within-segment sum ``S(a, b)`` comes from one table
    ``C[a, b] = sum_{a <= i < k < b} D[i, k]``, and ``sum D(X, Y) = S(0, kappa) - S(0, tau) -
    S(tau, kappa)``, so all ``(tau, kappa)`` pairs cost O(L^2) per row.
    """
    batch, length = z.shape
    upper = np.abs(z[:, None, :] - z[:, :, None])       # [i, k] = |z_k - z_i|
    upper *= np.triu(np.ones((length, length)), k=1)     # pairs i < k only
    np.cumsum(upper, axis=2, out=upper)                  # [i, k]: sum over k' <= k
    np.cumsum(upper, axis=1, out=upper)                  # and over i' <= i
    table = np.zeros((batch, length + 1, length + 1))
    table[:, 0, 1:] = upper[:, -1, :]                    # S(0, b)
    np.subtract(upper[:, -1:, :], upper, out=table[:, 1:, 1:])   # S(a, b), a >= 1
    w_between, w_x, w_y, penalty = _coefficients(length, min_size)
    from_start = table[:, 0, :].copy()                  # S(0, .), before q overwrites it
    q = table
    q *= -w_y
    q += w_between * from_start[:, None, :]
    q -= w_x * from_start[:, :, None]
    q += penalty
    # argmax takes the first maximum in (tau, kappa) order, as Otava's does
    flat = np.argmax(q.reshape(batch, -1), axis=1)
    return q.reshape(batch, -1)[np.arange(batch), flat], flat // (length + 1)


def _best_over_segments(z: np.ndarray, bounds: list[tuple[int, int]], min_size: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The largest q-statistic of each row of ``z`` over the segments that can still be split,
    and the position (in the whole series) of its split; ``-inf`` where none can."""
    best = np.full(z.shape[0], -np.inf)
    where = np.zeros(z.shape[0], dtype=int)
    for start, stop in bounds:
        if stop - start < 2 * min_size:
            continue
        q, tau = _qhat_best(z[:, start:stop], min_size)
        better = q > best  # strictly: on a tie the earlier segment keeps it, as in Otava
        best = np.where(better, q, best)
        where = np.where(better, tau + start, where)
    return best, where


def _segments(indices: list[int], length: int) -> list[tuple[int, int]]:
    edges = [0, *sorted(indices), length]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def _permuted_best(series: np.ndarray, bounds: list[tuple[int, int]], observed: float,
                   n_permutations: int, min_size: int,
                   rng: np.random.Generator) -> int:
    """How many of ``n_permutations`` shuffles (each within every current segment, which keeps
    the change points already found) reach a statistic at least ``observed``."""
    length = len(series)
    per_batch = max(1, _BATCH_FLOATS // (length + 1) ** 2)
    # sums of the same numbers in another order differ in the last bits: a near tie counts as
    # reaching the observed value, which errs towards "no change"
    reach = observed - 1e-9 * max(abs(observed), 1e-300)
    count, done = 0, 0
    while done < n_permutations:
        size = min(per_batch, n_permutations - done)
        order = np.tile(np.arange(length), (size, 1))
        for start, stop in bounds:
            order[:, start:stop] = rng.permuted(order[:, start:stop], axis=1)
        best, _ = _best_over_segments(series[order], bounds, min_size)
        count += int(np.count_nonzero(best >= reach))
        done += size
    return count


def e_divisive(series: np.ndarray, *, alpha: float = 0.05, n_permutations: int = 199,
               min_size: int = 2,
               rng: np.random.Generator | None = None) -> Divisions:
    """Change points of a 1-D finite series by E-Divisive means.

    Each round takes, over every current segment, the split that maximises the q-statistic,
    and tests it by permutation: the series is shuffled within each current segment
    ``n_permutations`` times and the same maximum taken. The split is kept while its p-value is
    at most ``alpha``; the first refused candidate ends the search. Under a series with no
    change (exchangeable points) the chance of reporting any change point is at most
    ``alpha``: the first test is an exact permutation test, and nothing is reported without it.

    Distances are absolute differences (Otava's ``power=1``: "means"). Inputs are assumed
    validated (the caller's job): finite floats, ``min_size >= 1``.
    """
    rng = np.random.default_rng() if rng is None else rng
    z = np.asarray(series, dtype=float)
    found: list[Split] = []
    while True:
        bounds = _segments([s.index for s in found], len(z))
        observed, where = _best_over_segments(z[None, :], bounds, min_size)
        if not np.isfinite(observed[0]):
            return Divisions(tuple(sorted(found, key=lambda s: s.index)), None)
        reached = _permuted_best(z, bounds, float(observed[0]), n_permutations, min_size, rng)
        p_value = (1 + reached) / (n_permutations + 1)
        if p_value > alpha:
            return Divisions(tuple(sorted(found, key=lambda s: s.index)), p_value)
        found.append(Split(int(where[0]), float(observed[0]), p_value))
