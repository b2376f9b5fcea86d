"""Percentiles of latency samples and their confidence bounds.

Two constructions, each where it is sound:

* **Exact order-statistic bounds** for one run's percentile (distribution-free). If ``B`` counts
  the samples below the true ``q``-quantile ``xi``, then ``B ~ Binomial(n, q)`` and
  ``P(X_(l) <= xi <= X_(u)) >= P(l <= B <= u - 1)``. The ranks are picked from the binomial
  tails, the same argument as MLPerf LoadGen's early stopping: a finite 99% upper bound on p99
  needs ``0.99**n <= 0.005`` (two-sided), i.e. n >= 528 queries. The percentile bootstrap
  undercovers tails at these sizes (87.7% for a nominal 99% p99 at n=200), so it is not used
  for one run.
* **Moving-block bootstrap** for the ratio of two runs' quantiles. Latency samples are
  autocorrelated (clock drift, contention bursts), so blocks of ``ceil(sqrt(n))`` consecutive
  queries are resampled, each run independently.
* **Round bootstrap** for the arms of one interleaved run: the rounds are resampled, the same
  rounds for both arms (Poisson weights per round), so contention that slowed a round for
  every arm cancels in the ratio instead of widening it.

The sample quantile is the inverse of the empirical CDF: the ``ceil(q * n)``-th smallest value.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

from mlqa.errors import InputError
from mlqa.stats.bootstrap import bootstrap, percentile_interval

# Bootstrap draws are made in chunks of this many values per arm, to bound memory.
_CHUNK_VALUES = 4_000_000


def check_quantile(name: str, q: Any) -> float:
    """A quantile strictly between 0 and 1 (the shared validator's message)."""
    from mlqa._validation import check_probability

    return check_probability(name, q)


def rank(n: int, q: float) -> int:
    """0-based index of the sample ``q``-quantile in ``n`` sorted values (inverse ECDF)."""
    return min(n - 1, max(0, math.ceil(q * n - 1e-9) - 1))


def order_stat_ranks(n: int, q: float, confidence: float) -> tuple[int | None, int | None]:
    """0-based ranks ``(lo, hi)`` of the exact two-sided ``confidence`` interval for the
    ``q``-quantile from ``n`` samples; None where the sample is too small for a finite bound.

    ``lo``: the largest ``l`` with ``P(B <= l) <= alpha/2`` (so ``X_(l+1)``, 1-based, lies above
    the quantile with probability at most ``alpha/2``). ``hi``: the smallest ``u`` with
    ``P(B <= u) >= 1 - alpha/2``.
    """
    return (order_stat_lower_rank(n, q, (1 + confidence) / 2),
            order_stat_upper_rank(n, q, (1 + confidence) / 2))


# Both ranks are pure functions of (n, q, confidence), each a handful of scipy calls (about
# 0.1 ms each); the stop rule asks for them at the same n's run after run (its chunks of
# queries follow one schedule), so they are remembered.
@functools.lru_cache(maxsize=4096)
def order_stat_upper_rank(n: int, q: float, confidence: float) -> int | None:
    """0-based rank of the one-sided ``confidence`` upper bound of the ``q``-quantile
    (MLPerf's early-stopping estimate when no query is discarded), None if ``n`` is too small."""
    from scipy.stats import binom

    u = int(binom.ppf(confidence, n, q))
    while u > 0 and binom.cdf(u - 1, n, q) >= confidence:  # ppf is a float search: make sure
        u -= 1
    while binom.cdf(u, n, q) < confidence:
        u += 1
    return u if u < n else None


@functools.lru_cache(maxsize=4096)
def order_stat_lower_rank(n: int, q: float, confidence: float) -> int | None:
    """0-based rank of the one-sided ``confidence`` lower bound, None if ``n`` is too small."""
    from scipy.stats import binom

    alpha = 1 - confidence
    k = int(binom.ppf(alpha, n, q))
    while k >= 0 and binom.cdf(k, n, q) > alpha:
        k -= 1
    while k + 1 < n and binom.cdf(k + 1, n, q) <= alpha:
        k += 1
    return k if k >= 0 else None


@dataclasses.dataclass(frozen=True)
class QuantileEstimate:
    """A percentile of one run, in milliseconds, with its exact ``confidence`` interval.

    ``ci_low``/``ci_high`` are ``-inf``/``inf`` where ``n`` is too small for a finite bound
    (``min_n`` says how many samples a finite two-sided bound needs). ``upper_bound`` is the
    one-sided ``confidence`` upper bound (MLPerf-style).
    """

    quantile: float
    value: float
    ci_low: float
    ci_high: float
    upper_bound: float
    confidence: float
    n: int
    min_n: int

    @property
    def ci(self) -> tuple[float, float]:
        return self.ci_low, self.ci_high

    @property
    def finite(self) -> bool:
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)

    @property
    def relative_half_width(self) -> float:
        """Half the interval's width over the estimate (inf while a bound is infinite)."""
        if not self.finite or self.value <= 0:
            return math.inf
        return (self.ci_high - self.ci_low) / 2 / self.value


def min_samples(q: float, confidence: float) -> int:
    """The fewest samples for which the two-sided interval has both bounds finite."""
    tail = (1 - confidence) / 2
    return max(math.ceil(math.log(tail) / math.log(max(q, 1 - q))), 1)


def estimate(sorted_ms: np.ndarray, q: float, confidence: float) -> QuantileEstimate:
    """The ``q``-quantile of already sorted samples, with its exact interval."""
    n = len(sorted_ms)
    if n == 0:
        raise InputError("no latency samples to take a quantile of")
    lo, hi = order_stat_ranks(n, q, confidence)
    ub = order_stat_upper_rank(n, q, confidence)
    return QuantileEstimate(
        quantile=q, value=float(sorted_ms[rank(n, q)]),
        ci_low=-math.inf if lo is None else float(sorted_ms[lo]),
        ci_high=math.inf if hi is None else float(sorted_ms[hi]),
        upper_bound=math.inf if ub is None else float(sorted_ms[ub]),
        confidence=confidence, n=n, min_n=min_samples(q, confidence))


def block_indices(rng: np.random.Generator, n: int, draws: int, block: int) -> np.ndarray:
    """``draws`` moving-block bootstrap resamples of ``range(n)``, shape ``(draws, n)``."""
    block = max(1, min(block, n))
    blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(draws, blocks))
    idx = (starts[:, :, None] + np.arange(block)).reshape(draws, blocks * block)
    return idx[:, :n]


def bootstrap_quantile(samples: np.ndarray, q: float, draws: int, rng: np.random.Generator,
                       block: int | None = None) -> np.ndarray:
    """``draws`` moving-block bootstrap replicates of the sample ``q``-quantile."""
    n = len(samples)
    block = math.ceil(math.sqrt(n)) if block is None else block
    k = rank(n, q)
    out = np.empty(draws)
    step = max(1, _CHUNK_VALUES // n)
    for start in range(0, draws, step):
        stop = min(draws, start + step)
        resampled = samples[block_indices(rng, n, stop - start, block)]
        # One order statistic per row: a partition is O(n), a sort O(n log n).
        out[start:stop] = np.partition(resampled, k, axis=1)[:, k]
    return out


def ratio_interval(current: np.ndarray, baseline: np.ndarray, q: float, confidence: float, *,
                   draws: int = 2000, seed: int = 0) -> tuple[float, tuple[float, float]]:
    """``quantile(current) / quantile(baseline)`` and its two-sided ``confidence`` percentile
    interval from independent moving-block bootstraps of the two runs."""
    for label, arr in (("current", current), ("baseline", baseline)):
        if len(arr) < 2:
            raise InputError(f"{label} has {len(arr)} latency sample(s); a ratio needs >= 2")
    rng = np.random.default_rng(seed)
    point = _q(current, q) / _q(baseline, q)
    ratios = bootstrap_quantile(current, q, draws, rng) / bootstrap_quantile(baseline, q, draws,
                                                                             rng)
    return float(point), percentile_interval(ratios, confidence)


def _q(samples: np.ndarray, q: float) -> float:
    k = rank(len(samples), q)
    return float(np.partition(samples, k)[k])


def paired_ratio_interval(current: np.ndarray, current_rounds: np.ndarray,
                          baseline: np.ndarray, baseline_rounds: np.ndarray, q: float,
                          confidence: float, *, draws: int = 2000, seed: int = 0
                          ) -> tuple[float, tuple[float, float]]:
    """Like :func:`ratio_interval` for arms measured in shared rounds: ``*_rounds`` gives each
    sample's round; every bootstrap draw gives round ``r`` the same Poisson weight in both
    arms (mlqa.stats.bootstrap's weights, over rounds instead of rows)."""
    rounds = int(max(current_rounds.max(), baseline_rounds.max())) + 1

    def ratio(weights: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return _weighted_quantile(current, current_rounds, weights, q) / \
                _weighted_quantile(baseline, baseline_rounds, weights, q)

    point = _q(current, q) / _q(baseline, q)
    replicates = bootstrap(ratio, rounds, draws, seed=seed)
    return float(point), percentile_interval(replicates, confidence)


def _weighted_quantile(samples: np.ndarray, rounds: np.ndarray, weights: np.ndarray,
                       q: float) -> np.ndarray:
    """Per row of ``weights`` (draws x rounds): the smallest sample whose weighted ECDF
    reaches ``q`` (the inverse-ECDF quantile, as :func:`rank`); NaN where the drawn rounds
    hold no sample."""
    order = np.argsort(samples, kind="stable")
    values, owner = samples[order], rounds[order]
    out = np.empty(len(weights))
    step = max(1, _CHUNK_VALUES // len(samples))
    for start in range(0, len(weights), step):
        cum = np.cumsum(weights[start:start + step][:, owner], axis=1, dtype=np.float64)
        total = cum[:, -1:]
        k = (cum >= q * total - 1e-9).argmax(axis=1)
        out[start:start + step] = np.where(total[:, 0] > 0, values[k], np.nan)
    return out


@dataclasses.dataclass(frozen=True)
class RunsInterval:
    """The ratio of two groups of runs' quantiles with an interval that treats the run (one
    process, one build) as the unit of replication; see :func:`runs_ratio_interval`."""

    ratio: float
    ci: tuple[float, float]
    runs: tuple[int, int]  # (current, baseline)
    between_sd: float  # sample SD of the runs' log quantiles (pooled); nan with one run a side
    within_sd: float  # mean SE of one run's log quantile from its exact order-statistic CI
    sd: float  # the SD used: max(between, within)
    df: int


def runs_ratio_interval(current: list[np.ndarray], baseline: list[np.ndarray], q: float,
                        confidence: float) -> RunsInterval:
    """``exp(mean_j log Q_q(current_j) - mean_k log Q_q(baseline_k))`` with a Student-t
    interval whose unit is the run.

    Runs of the same model in separate processes differ systematically by a few percent at the
    median and by up to tens of percent at p99 (allocation, cache placement, neighbours, clock),
    far more than the sampling noise of one run's quantile. An interval that resamples only the
    queries of one run therefore covers the true ratio of an identical model in 7-12 of 20
    pairs (issue 12). Here each run contributes one figure, ``y = log Q_q(run)``, and::

        d    = mean(y_current) - mean(y_baseline)
        s^2  = pooled sample variance of y within the two groups      (df = m + K - 2)
        w^2  = mean over runs of ((log U - log L) / (2 z))^2           (one run's own noise)
        sd   = max(s, w)
        CI   = exp(d -+ t_{df, (1+confidence)/2} * sd * sqrt(1/m + 1/K))

    the two-sample t interval on log quantiles (runs as the experimental unit, as Kalibera &
    Jones, "Rigorous benchmarking in reasonable time", ISMM 2013, recommend for repeated
    executions), exact when the runs' log quantiles are normal with a common variance. ``(L,
    U)`` is the run's exact order-statistic ``confidence`` interval, so ``w`` keeps the
    interval from shrinking below one run's sampling noise when a few runs happen to agree.
    Needs at least two runs in one group (else no spread can be measured: InputError).
    """
    from scipy.stats import norm, t

    m, k = len(current), len(baseline)
    if m < 1 or k < 1 or m + k < 3:
        raise InputError(f"a run-level interval needs at least 2 runs on one side "
                         f"(got {m} current, {k} baseline)")
    with np.errstate(divide="ignore"):  # a 0 ms quantile is refused just below
        ys = [np.log([_q(s, q) for s in group]) for group in (current, baseline)]
    if not all(np.all(np.isfinite(y)) for y in ys):
        raise InputError("a run's quantile is 0 ms or less: its logarithm is undefined")
    d = float(ys[0].mean() - ys[1].mean())
    df = m + k - 2
    ss = sum(float(((y - y.mean()) ** 2).sum()) for y in ys)
    between = math.sqrt(ss / df)
    z = float(norm.ppf((1 + confidence) / 2))
    within_var = []
    for group in (current, baseline):
        for s in group:
            est = estimate(np.sort(s), q, confidence)
            if est.finite and est.ci_low > 0:
                within_var.append(((math.log(est.ci_high) - math.log(est.ci_low)) / (2 * z)) ** 2)
            else:  # too few queries for a finite bound: this run cannot be trusted at q
                within_var.append(math.inf)
    within = math.sqrt(float(np.mean(within_var)))
    sd = max(between, within)
    half = float(t.ppf((1 + confidence) / 2, df)) * sd * math.sqrt(1 / m + 1 / k)
    ci = (math.exp(d - half), math.exp(d + half)) if math.isfinite(half) else (0.0, math.inf)
    return RunsInterval(ratio=math.exp(d), ci=ci, runs=(m, k), between_sd=between,
                        within_sd=within, sd=sd, df=df)
