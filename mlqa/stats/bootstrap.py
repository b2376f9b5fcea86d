"""Seeded, vectorised bootstrap primitives: Poisson row weights and multinomial cell counts.

Resampling ``n`` rows with replacement gives row ``i`` a count ``~ Multinomial(n, 1/n)``; for
large ``n`` the counts are independent ``Poisson(1)`` (Hanley & MacGibbon 2006, Chamandy et al.
2012), so one bootstrap replicate is the statistic recomputed with row weights ``w ~ Poisson(1)``.
Replicates are computed a chunk of resamples at a time, so memory stays bounded whatever the
number of rows and resamples. The same weights applied to two columns give a *paired* bootstrap
(candidate and baseline scored on the same resampled rows).

When the statistic depends on the rows only through counts in a few cells (a confusion matrix,
McNemar's discordant pairs), resampling rows is *exactly* a multinomial draw over the cells:
``multinomial_counts`` draws it without touching the rows.

Signatures (the API the metric intervals and the regression checks share)::

    poisson_weight_chunks(n, n_resamples, *, seed=0, max_chunk_bytes=MAX_CHUNK_BYTES)
        -> iterator of float32 arrays (b, n), b resamples each, n_resamples rows in all
    bootstrap(statistic, n, n_resamples=2000, *, seed=0, max_chunk_bytes=MAX_CHUNK_BYTES)
        -> array (n_resamples,) or (n_resamples, p): statistic(weights (b, n)) per chunk
    weighted_sums(columns, n_resamples=2000, *, seed=0, sample_weight=None, ...)
        -> array (n_resamples, p): Poisson-weighted column sums of columns (n, p)
    multinomial_counts(counts, n_resamples=2000, *, seed=0)
        -> array (n_resamples, *counts.shape): resampled cell counts, same total
    percentile_interval(replicates, confidence=0.95) -> (low, high), NaN replicates ignored

``seed`` is an int, None, or a ``numpy.random.Generator`` (whose stream is advanced). The same
seed gives the same replicates whatever ``max_chunk_bytes`` is.

Weights come from one random byte per row and resample, mapped to ``k`` in 0..5 with
probabilities ``(94, 95, 46, 16, 4, 1) / 256``: Poisson(1) rounded to 1/256 so that the mean
and the variance stay exactly 1 (the third central moment is 0.984 instead of 1), which is
what the bootstrap's accuracy rests on. ~60x faster than ``Generator.poisson``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from mlqa.errors import InputError

__all__ = ["MAX_CHUNK_BYTES", "poisson_weight_chunks", "bootstrap", "weighted_sums",
           "multinomial_counts", "percentile_interval"]

MAX_CHUNK_BYTES = 48 * 2**20
# A byte value u gives weight k = number of these thresholds <= u.
_THRESHOLDS = (94, 189, 235, 251, 255)
# Rows per block in weighted_sums: a block of weights and columns stays in cache.
_BLOCK_ROWS = 16384


def _bit_generator(seed: Any) -> np.random.BitGenerator:
    if isinstance(seed, np.random.Generator):
        return seed.bit_generator
    if seed is not None and not isinstance(seed, int | np.integer):
        raise InputError(f"seed must be an int, None or a numpy Generator, got {seed!r}")
    return np.random.default_rng(seed).bit_generator


def _check_resamples(n_resamples: Any) -> int:
    if not isinstance(n_resamples, int | np.integer) or n_resamples < 1:
        raise InputError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    return int(n_resamples)


def _random_bytes(n: int, n_resamples: int, seed: Any, per_chunk: int) -> Iterator[np.ndarray]:
    """``(b, n)`` uint8 chunks of random bytes, one per row and resample. Each resample takes
    ``ceil(n / 8)`` 64-bit draws from the stream, so chunking does not change the bytes."""
    n_resamples = _check_resamples(n_resamples)
    bits = _bit_generator(seed)
    words = -(-n // 8)
    b = max(1, min(n_resamples, per_chunk))
    done = 0
    while done < n_resamples:
        size = min(b, n_resamples - done)
        yield bits.random_raw(size * words).view(np.uint8).reshape(size, 8 * words)[:, :n]
        done += size


def _weights(raw: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Weights for random bytes ``raw`` into float32 ``out`` (``scratch``: uint8, same shape)."""
    counts = scratch
    np.greater_equal(raw, _THRESHOLDS[0], out=counts.view(bool))
    flags = np.empty(raw.shape, dtype=bool)
    for threshold in _THRESHOLDS[1:]:
        np.greater_equal(raw, threshold, out=flags)
        counts += flags.view(np.uint8)
    np.copyto(out, counts, casting="unsafe")
    return out


def poisson_weight_chunks(n: int, n_resamples: int, *, seed: Any = 0,
                          max_chunk_bytes: int = MAX_CHUNK_BYTES) -> Iterator[np.ndarray]:
    """Poisson(1) row weights, ``(b, n)`` float32 per chunk, ``n_resamples`` rows in total."""
    out: np.ndarray | None = None
    scratch: np.ndarray | None = None
    # 6 bytes per weight: the random byte, the uint8 count and the float32 weight
    for raw in _random_bytes(n, n_resamples, seed, max_chunk_bytes // (6 * n)):
        if out is None or scratch is None:  # the first chunk is the largest: buffers reused
            out = np.empty(raw.shape, dtype=np.float32)
            scratch = np.empty(raw.shape, dtype=np.uint8)
        size = raw.shape[0]
        yield _weights(raw, out[:size], scratch[:size])


def bootstrap(statistic: Callable[[np.ndarray], Any], n: int, n_resamples: int = 2000, *,
              seed: Any = 0, max_chunk_bytes: int = MAX_CHUNK_BYTES) -> np.ndarray:
    """Replicates of ``statistic`` under Poisson row weights.

    ``statistic(weights)`` takes a ``(b, n)`` float32 weight array (a view reused between
    chunks: do not keep it) and returns ``b`` values, or ``(b, p)`` for ``p`` statistics on the
    same resample (a paired bootstrap: candidate and baseline, or their difference). Returns an
    array ``(n_resamples,)`` or ``(n_resamples, p)``.
    """
    parts = []
    for weights in poisson_weight_chunks(n, n_resamples, seed=seed,
                                         max_chunk_bytes=max_chunk_bytes):
        value = np.asarray(statistic(weights), dtype=float)
        if value.shape[:1] != (weights.shape[0],):
            raise InputError(f"bootstrap statistic must return one value per resample "
                             f"({weights.shape[0]}), got shape {value.shape}")
        parts.append(value)
    return np.concatenate(parts)


def weighted_sums(columns: Any, n_resamples: int = 2000, *, seed: Any = 0,
                  sample_weight: Any = None, max_chunk_bytes: int = MAX_CHUNK_BYTES
                  ) -> np.ndarray:
    """Poisson-weighted column sums ``sum_i w_i * sample_weight_i * columns[i, :]``.

    ``columns`` is ``(n,)`` or ``(n, p)``. Every statistic that is a function of a few sums over
    rows (mean losses, RMSE, R^2, log loss, confusion counts, a candidate-minus-baseline
    difference of any of these) is that function of these replicates: one matrix product per
    block of rows and chunk of resamples. Returns ``(n_resamples, p)`` (``(n_resamples,)`` for
    1-D ``columns``), float64. Same weights as ``poisson_weight_chunks`` with the same seed.
    """
    cols = np.asarray(columns, dtype=float)
    one = cols.ndim == 1
    cols = cols[:, None] if one else cols
    if cols.ndim != 2:
        raise InputError(f"columns must be 1-D or 2-D, got shape {cols.shape}")
    n, p = cols.shape
    if sample_weight is not None:
        cols = cols * np.asarray(sample_weight, dtype=float)[:, None]
    # float32 products, but centred columns keep the sums accurate: sum(w*c) = sum(w*(c-m)) +
    # m*sum(w), with the large m*sum(w) part added in float64 (sum(w) is exact in float32).
    centre = cols.mean(axis=0)
    centred = np.empty((n, p + 1), dtype=np.float32)
    centred[:, :p] = cols - centre
    centred[:, p] = 1.0
    parts = []
    block = min(n, _BLOCK_ROWS)
    # The products are small (a block of weights times a few columns): BLAS threads only
    # contend for them, 15x slower on a busy 2-core machine than one thread.
    with _one_blas_thread():
        for raw in _random_bytes(n, n_resamples, seed, max_chunk_bytes // n):
            b = raw.shape[0]
            acc = np.zeros((b, p + 1))
            out = np.empty((b, block), dtype=np.float32)
            scratch = np.empty((b, block), dtype=np.uint8)
            for lo in range(0, n, block):
                hi = min(n, lo + block)
                w = _weights(raw[:, lo:hi], out[:, :hi - lo], scratch[:, :hi - lo])
                acc += w @ centred[lo:hi]
            parts.append(acc[:, :p] + acc[:, p:] * centre)
    sums = np.concatenate(parts)
    return sums[:, 0] if one else sums


_CONTROLLER: Any = None


def _one_blas_thread() -> Any:
    """A context limiting BLAS to one thread. The controller scans the loaded libraries once
    (13 ms), not on every call: small checks run thousands of times in a validation study."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def multinomial_counts(counts: Any, n_resamples: int = 2000, *, seed: Any = 0) -> np.ndarray:
    """Cell counts of ``n_resamples`` row resamples, drawn as one multinomial over the cells.

    ``counts`` holds non-negative integer counts of any shape (a confusion matrix, a 2x2 table of
    paired outcomes); each replicate has the same shape and the same total.
    """
    n_resamples = _check_resamples(n_resamples)
    arr = np.asarray(counts)
    if arr.size == 0 or arr.dtype.kind not in "iub" or (arr < 0).any():
        raise InputError(f"counts must be non-negative integers, got {arr!r}")
    total = int(arr.sum())
    if total == 0:
        raise InputError("counts are all zero: nothing to resample")
    rng = seed if isinstance(seed, np.random.Generator) else \
        np.random.Generator(_bit_generator(seed))
    draws = rng.multinomial(total, arr.ravel() / total, size=n_resamples)
    return draws.reshape((n_resamples, *arr.shape))


def percentile_interval(replicates: Any, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates (NaN replicates, where the statistic was
    undefined on a resample, are left out; all-NaN gives ``(nan, nan)``)."""
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence!r}")
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return math.nan, math.nan
    alpha = (1 - confidence) / 2
    low, high = np.quantile(reps, [alpha, 1 - alpha])
    return float(low), float(high)
