"""Intervals that keep their coverage where data is thin: few positives, empty cells, skew.

An audit (issue 12) found the textbook intervals approving models at the threshold far more
often than their nominal error when positives are rare: DeLong's Wald interval for ROC AUC
covered 37% at 2 positives, a multinomial bootstrap keeps an empty confusion cell empty in every
resample, and percentile bootstraps of skewed losses undercover. The replacements here:

**Newcombe's score interval for AUC** (Newcombe 2006, *Stat Med* 25:543-557, method 5). With
``m`` positives and ``n`` negatives, Hanley & McNeil's (1982) variance of the AUC ``θ`` under
their exponential model, ``Q1 = θ/(2-θ)``, ``Q2 = 2θ²/(1+θ)``, is::

    V(θ) = θ(1-θ)/(m n) · [1 + (N* - 1)((1-θ)/(2-θ) + θ/(1+θ))],   N* = (m + n)/2

and the interval is every ``θ`` with ``(θ̂ - θ)² <= z² V(θ)``: a score interval (the variance at
the candidate ``θ``, not at ``θ̂``), so it stays inside [0, 1] and does not collapse at
``θ̂ = 1``. Newcombe measured 94.6-96.8% coverage in every small-sample cell.

**Jeffreys-Dirichlet draws for confusion-matrix metrics.** The cell probabilities get the
posterior ``Dirichlet(C + 1/2)`` (Jeffreys' prior, ½ per cell) and each draw is the metric of
the drawn probabilities (every confusion formula is scale-free, so the gamma variates
``G_ij ~ Gamma(C_ij + 1/2)`` are used without normalising). An empty cell then varies instead
of staying empty, which is what undercovered at rare positives (F1 39% -> ~95% at n = 100,
π = 0.02, issue 12). Equal-tailed quantiles of the draws give the interval.

**BCa for smooth functions of row sums** (Efron 1987; Efron & Tibshirani 1993, ch. 14). From
bootstrap replicates ``θ*`` of ``θ = f(S)`` (``S`` weighted column sums)::

    z0 = Φ⁻¹(#{θ* < θ̂} / B)                       bias correction
    U_i = ∇f(S̄) · (c_i - S̄)                       empirical influence of row i
    a  = Σ U_i³ / (6 (Σ U_i²)^{3/2})               acceleration (skewness of θ̂)
    α1 = Φ(z0 + (z0 + z_α)/(1 - a (z0 + z_α)))     and α2 likewise with z_{1-α}

and the interval is the ``α1``, ``α2`` quantiles of ``θ*``. Correct to second order under skew,
where the percentile interval is first-order.

**Tail share and tail index.** No bootstrap of a mean is trustworthy when a handful of rows
carry the total (squared t(3) errors have infinite variance: RMSE intervals covered 73-82% at
every n up to 5000). ``tail_share`` is the share of the total loss carried by the top 1% of
rows (at least one row); ``tail_index`` is Hill's (1975) estimate of the tail index α from the
largest ``k`` rows, ``1/α̂ = mean(log(x_(i)/x_(k+1)))``: α < 2 means no finite variance, α < 3
no finite third moment (which BCa's skewness correction needs). ``spread_ratio``,
``K = mean(x²)/mean(x)²``, uses every row, and ``gaussian_spread_quantile`` gives its null for
Gaussian errors at n: at 100 rows Hill's index reads a Gaussian tail as heavy about half the
time, K tells squared t(3) errors from Gaussian ones. The checks refuse to decide
(INCONCLUSIVE, naming the figures) above a share, or below an index with a spread above the
Gaussian null (``mlqa.metrics.intervals._tail_refusal``).

**Average precision by its influence function.** ``AP = Σ_i y_i P(s_i) / m`` with the precision
``P(t) = A(t)/B(t)``, ``A(t) = #{y=1, s>=t}/N``, ``B(t) = #{s>=t}/N``. Perturbing the data
toward a row ``(s0, y0)`` gives the influence::

    IF(s0, y0) = y0 (P(s0) - AP)/π + (1/π) E[Y 1(S <= s0) (y0 - P(S)) / B(S)]

(``π = m/N``), computed for every row from one sort with cumulative sums over the positives;
``Var(AP) ≈ Σ IF_i² / N²``. The interval is a Wald interval on the logit scale (AP lies in
(0, 1]), from one sort: 1M rows in a fraction of a second where the bootstrap called the metric
2000 times (29 s).
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist
from typing import Any

import numpy as np

from mlqa.errors import InputError

__all__ = ["newcombe_auc_interval", "hanley_mcneil_variance", "dirichlet_draws",
           "bca_interval", "tail_share", "average_precision_influence", "spread_ratio",
           "gaussian_spread_quantile"]

_NORMAL = NormalDist()


def hanley_mcneil_variance(auc: Any, m: float, n: float) -> np.ndarray:
    """Hanley & McNeil's variance of an AUC ``auc`` with ``m`` positives and ``n`` negatives,
    in Newcombe's form (``N* = (m + n)/2`` for both class sizes)."""
    t = np.asarray(auc, dtype=float)
    big_n = (m + n) / 2
    return t * (1 - t) / (m * n) * (1 + (big_n - 1) * ((1 - t) / (2 - t) + t / (1 + t)))


def newcombe_auc_interval(auc: Any, m: int, n: int, confidence: float = 0.95
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's (2006) score interval for ROC AUC ``auc`` (scalar or array) from ``m``
    positive and ``n`` negative rows. Bisection on each side of ``auc``: ``(θ̂ - θ)² - z² V(θ)``
    is positive at 0 and 1 (V vanishes there) and negative at ``θ̂``."""
    if m < 1 or n < 1:
        raise InputError(f"an AUC interval needs positive and negative rows, got m={m}, n={n}")
    z2 = _NORMAL.inv_cdf(0.5 + confidence / 2) ** 2
    est = np.clip(np.asarray(auc, dtype=float), 0.0, 1.0)

    def outside(theta: np.ndarray) -> np.ndarray:
        return (est - theta) ** 2 > z2 * hanley_mcneil_variance(theta, m, n)

    bounds = []
    for far in (0.0, 1.0):
        lo, hi = np.full_like(est, far), est.copy()  # lo: outside the interval, hi: inside
        for _ in range(60):
            mid = (lo + hi) / 2
            out = outside(mid)
            lo, hi = np.where(out, mid, lo), np.where(out, hi, mid)
        bounds.append(hi)
    return bounds[0], bounds[1]


def dirichlet_draws(counts: Any, n_resamples: int, *, random_state: Any = 0,
                    prior: float = 0.5) -> np.ndarray:
    """``n_resamples`` draws of unnormalised cell weights from ``Dirichlet(counts + prior)``:
    gamma variates of the counts' shape, ``(n_resamples, *counts.shape)``. Any scale-free
    function of the cells (every confusion-matrix metric) takes them as they are."""
    arr = np.asarray(counts, dtype=float)
    if arr.size == 0 or not np.isfinite(arr).all() or (arr < 0).any():
        raise InputError(f"counts must be finite and non-negative, got {arr!r}")
    rng = random_state if isinstance(random_state, np.random.Generator) else \
        np.random.default_rng(random_state)
    return rng.standard_gamma(arr + prior, size=(n_resamples, *arr.shape))


def bca_interval(replicates: np.ndarray, estimate: float, influence: np.ndarray,
                 confidence: float = 0.95) -> tuple[float, float, dict[str, float]]:
    """Efron's BCa interval from bootstrap ``replicates`` (NaN ones left out), the observed
    ``estimate`` and the empirical influence values of the rows. Returns ``(low, high,
    {"z0": .., "acceleration": ..})``; NaN bounds when every replicate lies on one side."""
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return math.nan, math.nan, {}
    below = (np.count_nonzero(reps < estimate) + 0.5 * np.count_nonzero(reps == estimate))
    share = below / reps.size
    if not 0 < share < 1:
        return math.nan, math.nan, {"z0": math.inf if share >= 1 else -math.inf}
    z0 = _NORMAL.inv_cdf(share)
    u = np.asarray(influence, dtype=float)
    ss = float(np.sum(u**2))
    a = float(np.sum(u**3)) / (6 * ss**1.5) if ss > 0 else 0.0
    tail = (1 - confidence) / 2
    levels = []
    for z in (_NORMAL.inv_cdf(tail), _NORMAL.inv_cdf(1 - tail)):
        shifted = z0 + z
        denom = 1 - a * shifted
        levels.append(_NORMAL.cdf(z0 + shifted / denom) if denom > 0 else
                      (0.0 if z < 0 else 1.0))
    low, high = np.quantile(reps, levels)
    return float(low), float(high), {"z0": z0, "acceleration": a}


def tail_share(contributions: np.ndarray, top: float = 0.01) -> float:
    """Share of the total carried by the largest ``top`` fraction of the (non-negative) row
    contributions, at least one row."""
    c = np.asarray(contributions, dtype=float)
    k = max(1, int(math.ceil(top * c.size)))
    return share_of_largest(_largest(c, k), c.size, float(c.sum()), top)


def _largest(c: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest values of ``c``, largest first (one partial sort)."""
    return np.sort(np.partition(c, c.size - k)[c.size - k:])[::-1]


def tail_rows(n: int, top: float = 0.01, min_rows: int = 10) -> int:
    """How many of the largest rows ``share_of_largest`` and ``hill_of_largest`` read:
    ``max(min_rows, ⌈top·n⌉) + 1`` (an engine fetches these with ``ORDER BY … LIMIT``)."""
    return max(min_rows, int(math.ceil(top * n))) + 1


def share_of_largest(largest: np.ndarray, n: int, total: float, top: float = 0.01) -> float:
    """``tail_share`` from the largest values alone (largest first, at least ``⌈top·n⌉``),
    the row count ``n`` and the ``total``: what an engine can send."""
    if total <= 0:
        return 0.0
    k = max(1, int(math.ceil(top * n)))
    return float(np.sum(largest[:k])) / total


def hill_of_largest(largest: np.ndarray, n: int, top: float = 0.01, min_rows: int = 10
                    ) -> float:
    """``tail_index`` from the largest ``tail_rows(n)`` values alone (largest first)."""
    k = max(min_rows, int(math.ceil(top * n)))
    if n <= k:
        return math.inf
    threshold = float(largest[k])
    if threshold <= 0:
        return math.inf
    mean = float(np.log(largest[:k] / threshold).sum()) / k
    return math.inf if mean <= 0 else 1.0 / mean


def _descending_groups(y: np.ndarray, scores: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows in descending score order: ``(order, y[order], last, ends)``, ``last`` true on
    the last row of each tie group (ties form one threshold, so any order within a group) and
    ``ends`` those rows' positions."""
    order = np.argsort(scores)[::-1]
    s, yy = scores[order], y[order]
    last = np.empty(len(y), dtype=bool)
    last[-1] = True
    np.not_equal(s[1:], s[:-1], out=last[:-1])
    return order, yy, last, np.flatnonzero(last)


def average_precision_influence(y: np.ndarray, scores: np.ndarray) -> tuple[float, np.ndarray]:
    """Average precision (scikit-learn's, ties as one threshold) and each row's influence value
    (see the module docstring); ``y`` boolean, ``scores`` float, unweighted rows."""
    n = len(y)
    # tie groups in descending score order: every row of a group has the group's P and B
    order, yy, last, ends = _descending_groups(y, scores)
    group = np.cumsum(np.r_[True, last[:-1]]) - 1  # group index of each sorted row
    tp = np.cumsum(yy)[ends].astype(float)
    above = (ends + 1).astype(float)  # rows with score >= the group's score
    precision = tp / above
    m = tp[-1]
    pos_in_group = np.diff(np.r_[0.0, tp])
    ap = float(np.dot(pos_in_group, precision) / m)
    pi = m / n
    b = above / n
    # sum over positives j with s_j <= s_i, i.e. groups at or after row i's group in this order
    inv_b = pos_in_group / b
    p_over_b = pos_in_group * precision / b
    c1 = np.cumsum(inv_b[::-1])[::-1] / n
    c2 = np.cumsum(p_over_b[::-1])[::-1] / n
    g = group
    infl_sorted = (yy * (precision[g] - ap) + yy * c1[g] - c2[g]) / pi
    influence = np.empty(n)
    influence[order] = infl_sorted
    return ap, influence


def average_precision_replicates(y: np.ndarray, scores: np.ndarray, n_resamples: int, *,
                                 random_state: Any = 0,
                                 max_chunk_bytes: int = 16 * 2**20) -> np.ndarray:
    """Average precision on ``n_resamples`` Poisson-weighted resamples, vectorised: the rows
    are sorted once, and each chunk of resamples is two cumulative sums (weighted positives
    and weighted rows, in descending score order) read at the tie-group ends. NaN where a
    resample holds no positive row. Cost ``O(n_resamples · n)``: for small and medium data,
    where the bootstrap's bias correction matters (see ``average_precision_influence`` for
    large data)."""
    from mlqa.stats.bootstrap import poisson_weight_chunks

    n = len(y)
    order, yy, _, ends = _descending_groups(y, scores)
    parts = []
    # rows x resamples, so each cumulative sum adds whole rows (vectorised over resamples);
    # Poisson weights are small integers, so float32 sums are exact up to 2^24
    for w in poisson_weight_chunks(n, n_resamples, seed=random_state,
                                   max_chunk_bytes=max_chunk_bytes):
        parts.append(_ap_of_weights(w.T[order], yy, ends))
    return np.concatenate(parts)


def _ap_of_weights(ws: np.ndarray, yy: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """AP under each column of row weights ``ws`` (rows in descending score order)."""
    rows = np.cumsum(ws, axis=0)[ends].astype(np.float64)
    tp = np.cumsum(ws[yy], axis=0)
    # positives' cumulative weight read at each group end: positives up to that row
    tp = np.vstack([np.zeros((1, ws.shape[1]), ws.dtype), tp])[
        np.cumsum(yy)[ends]].astype(np.float64)
    gained = np.diff(tp, axis=0, prepend=0.0)
    precision = np.divide(tp, rows, out=np.zeros_like(tp), where=rows > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (gained * precision).sum(axis=0) / tp[-1]


def average_precision_jackknife(y: np.ndarray, scores: np.ndarray) -> float:
    """Jackknife standard error of average precision, every leave-one-out AP computed at once
    (weights ``1 - I`` in one ``(n, n)`` pass: for small data). The jackknife's variance errs
    on the large side for a nonlinear statistic (Efron & Stein 1981), where the bootstrap's
    and the influence function's run about 7% short at 50 positives (validation grid)."""
    n = len(y)
    order = np.argsort(scores)[::-1]
    s, yy = scores[order], y[order]
    last = np.empty(n, dtype=bool)
    last[-1] = True
    np.not_equal(s[1:], s[:-1], out=last[:-1])
    ends = np.flatnonzero(last)
    loo = _ap_of_weights(1.0 - np.eye(n, dtype=np.float32), yy, ends)
    loo = loo[np.isfinite(loo)]
    return float(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)))


def tail_index(contributions: np.ndarray, top: float = 0.01, min_rows: int = 10) -> float:
    """Hill's (1975) estimate of the tail index α of the (non-negative) row contributions from
    the largest ``k = max(min_rows, top·n)`` of them: ``1/α = mean(log(x_(i) / x_(k+1)))``.
    α < 2 means the contributions have no finite variance: a mean of them has no normal limit
    and no bootstrap of it keeps its coverage (squared t(3) errors: α = 1.5). ``inf`` when
    there are too few positive values to tell."""
    c = np.asarray(contributions, dtype=float)
    k = max(min_rows, int(math.ceil(top * c.size)))
    if c.size <= k:
        return math.inf
    return hill_of_largest(_largest(c, k + 1), c.size, top, min_rows)


def spread_ratio(contributions: np.ndarray) -> float:
    """``K = mean(x²) / mean(x)²`` of the (non-negative) row contributions: one plus their
    squared coefficient of variation, the figure that decides how far the mean of ``x`` is from
    normal at a given n. For squared Gaussian errors (``x = Z²``) it is the kurtosis about 0,
    3; for absolute ones (``x = |Z|``) π/2. A heavy tail raises it, and unlike Hill's index it
    uses every row, so it tells squared t(3) errors from Gaussian ones at 100 rows (where the
    top 10 rows reach into the body and Hill's estimate of even a Gaussian tail is low)."""
    c = np.asarray(contributions, dtype=float)
    mean = float(c.mean())
    return math.inf if mean <= 0 else float(np.mean(c * c)) / (mean * mean)


SPREAD_SIMULATED_UP_TO = 2000  # rows; above, the delta-method normal approximation


def gaussian_spread_quantile(n: int, power: float, level: float) -> float:
    """The ``level`` quantile of ``spread_ratio`` over samples of ``n`` rows ``|Z|^power``
    (``Z`` standard normal: Gaussian errors under an absolute (1) or squared (2) loss), the
    null a loss's spread is compared with. Up to ``SPREAD_SIMULATED_UP_TO`` rows a seeded Monte
    Carlo of 2000 samples (the small-n distribution is skewed); above, the delta method:
    with ``μ_j = E|Z|^{jp} = 2^{jp/2} Γ((jp+1)/2) / √π``, ``K → μ2/μ1²`` and
    ``n Var K → gᵀ Σ g``, ``g = (-2 μ2/μ1³, 1/μ1²)``,
    ``Σ = [[μ2 - μ1², μ3 - μ1 μ2], [μ3 - μ1 μ2, μ4 - μ2²]]`` (24/n for squared errors)."""
    return _gaussian_spread_quantile(int(n), float(power), float(level))


@functools.lru_cache(maxsize=64)
def _gaussian_spread_quantile(n: int, power: float, level: float) -> float:
    if n <= SPREAD_SIMULATED_UP_TO:
        rng = np.random.default_rng([20261129, n, int(power * 1000)])
        ratios = []
        for _ in range(4):  # 4 x 500 samples: at most 8 MB at a time
            x = np.abs(rng.standard_normal((500, n))) ** power
            mean = x.mean(axis=1)
            ratios.append(np.mean(x * x, axis=1) / (mean * mean))
        return float(np.quantile(np.concatenate(ratios), level))
    mu = [2 ** (j * power / 2) * math.gamma((j * power + 1) / 2) / math.sqrt(math.pi)
          for j in range(5)]
    g = np.array([-2 * mu[2] / mu[1] ** 3, 1 / mu[1] ** 2])
    cov = np.array([[mu[2] - mu[1] ** 2, mu[3] - mu[1] * mu[2]],
                    [mu[3] - mu[1] * mu[2], mu[4] - mu[2] ** 2]])
    return mu[2] / mu[1] ** 2 + _NORMAL.inv_cdf(level) * math.sqrt(float(g @ cov @ g) / n)
