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
def _weights(length: int, min_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray, np.ndarray]:
    """The q-statistic's weights for a segment of ``length``, factored so that every update of
    the (batch x tau x kappa) buffer is an in-place broadcast of a smaller array.

    With ``n = tau``, ``m = kappa - tau``: ``Q = 2/kappa S(0,kappa) - c_x S(0,tau) -
    c_y S(tau,kappa)``, ``c_x = 2/kappa + 2m/(kappa(n-1))``, ``c_y = 2/kappa + 2n/(kappa(m-1))``
    (a one-point side has no within-sum). ``c_x = f(kappa) g(tau)`` with
    ``f = 2(kappa-1)/kappa`` and ``g = 1/(tau-1)`` (``S(0, tau) = 0`` for ``tau <= 1``, so
    ``g`` is 0 there), so ``Q = f (S(0,kappa)/(kappa-1) - g S(0,tau) - c_y/f S(tau,kappa))``.
    Returned: ``c_y/f`` (tau x kappa), ``1/(kappa-1)``, ``g``, ``f``, and 0 or -inf for the
    pairs that leave a side shorter than ``min_size``.
    """
    tau = np.arange(length + 1)[:, None]
    kappa = np.arange(length + 1)[None, :]
    n, m = tau, kappa - tau
    valid = (n >= min_size) & (m >= min_size)
    k = np.maximum(kappa, 2).astype(float)      # kappa >= 2 wherever a pair is valid
    f = 2.0 * (k - 1.0) / k
    c_y = 2.0 / k + np.where(m > 1, 2.0 * n / (k * np.maximum(m - 1, 1)), 0.0)
    g = np.where(tau > 1, 1.0 / np.maximum(tau - 1, 1), 0.0)[:, 0]
    return (np.where(valid, c_y / f, 0.0), 1.0 / (k[0] - 1.0), g, f[0],
            np.where(valid, 0.0, -np.inf))


def _qhat_best(z: np.ndarray, min_size: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``z`` (batch x L): the largest q-statistic over splits ``tau`` and ends
    ``kappa`` with both segments of at least ``min_size`` points, and its ``tau``.

    With ``D = |z_i - z_j|``, ``X = z[:tau]``, ``Y = z[tau:kappa]``, ``n = |X|``, ``m = |Y|``::

        Q = 2/(m+n) sum D(X,Y) - 2m/((m+n)(n-1)) sum_{i<k} D(X) - 2n/((m+n)(m-1)) sum_{j<k} D(Y)

    (Matteson & James' ``mn/(m+n)`` times the energy distance). Every within-segment sum
    ``S(a, b) = sum_{a <= i < k < b} D[i, k]`` comes from one table of cumulative sums, and
    ``sum D(X, Y) = S(0, kappa) - S(0, tau) - S(tau, kappa)``, so all ``(tau, kappa)`` pairs cost
    O(L^2) per row, computed in one buffer (the permutation test calls this on hundreds of
    shuffled copies at once).
    """
    batch, length = z.shape
    buf = np.empty((batch, length + 1, length + 1))
    cum = buf[:, 1:, 1:]                             # [i, k] -> buf[i + 1, k + 1]
    np.subtract(z[:, None, :], z[:, :, None], out=cum)
    np.abs(cum, out=cum)
    cum *= np.triu(np.ones((length, length)), k=1)   # pairs i < k only
    np.cumsum(cum, axis=2, out=cum)
    np.cumsum(cum, axis=1, out=cum)                  # [i, k]: sum over i' <= i, k' <= k
    whole = cum[:, -1, :].copy()                     # S(0, k + 1)
    np.subtract(whole[:, None, :], cum, out=cum)     # S(i + 1, k + 1)
    buf[:, 0, 1:] = whole
    buf[:, :, 0] = 0.0
    from_start = buf[:, 0, :].copy()                 # S(0, .)
    c_y, over_k, g, f, penalty = _weights(length, min_size)
    q = buf
    q *= -c_y
    q += (from_start * over_k)[:, None, :]
    q -= (from_start * g)[:, :, None]
    q *= f
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
