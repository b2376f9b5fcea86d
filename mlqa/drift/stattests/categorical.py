"""Categorical two-sample tests on the counts of each value (the union of both sides' values).

They also run on numerical columns seen as categories (evidently's default picks ``z`` and
``chisquare`` for numerical columns with at most 5 distinct values).
"""

from __future__ import annotations

import numpy as np

from mlqa.drift.columns import CATEGORICAL, Sample, aligned_counts
from mlqa.drift.stattests import registry
from mlqa.drift.stattests.registry import ColumnTestError, register

PERMUTATIONS = 1000


def _contingency(ref: Sample, cur: Sample, lambda_: str) -> tuple[float, float]:
    """Test of homogeneity on the 2 x k table of counts (no continuity correction)."""
    from scipy.stats import chi2_contingency

    _, r, c = aligned_counts(ref, cur)
    if len(r) < 2:
        raise ColumnTestError("a test of homogeneity needs at least 2 distinct values")
    res = chi2_contingency(np.vstack([r, c]), correction=False, lambda_=lambda_)
    return float(res.statistic), float(res.pvalue)


def _goodness_of_fit(ref: Sample, cur: Sample, lambda_: str) -> tuple[float, float]:
    """Current counts against reference shares scaled to the current size; when a value of
    the current side never occurs in the reference the expected count is 0 and the fit test
    is undefined, so the test of homogeneity (which also accounts for the reference's own
    sampling noise) is used instead."""
    from scipy.stats import power_divergence

    _, r, c = aligned_counts(ref, cur)
    if len(r) < 2:
        raise ColumnTestError("a goodness-of-fit test needs at least 2 distinct values")
    if np.any((r == 0) & (c > 0)):
        return _contingency(ref, cur, lambda_)
    res = power_divergence(c, r * (cur.n / ref.n), lambda_=lambda_)
    return float(res.statistic), float(res.pvalue)


@register("chisquare", "chi-square p_value", (CATEGORICAL,), p_value=True, threshold=0.05)
def chisquare(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Pearson chi-square goodness of fit of the current counts to the reference shares
    (evidently's test: sum (c_k - e_k)^2 / e_k, e_k = r_k n_cur / n_ref, k-1 degrees of freedom).

    Differs from evidently on purpose where evidently is wrong: a value the reference never
    had gives evidently an infinite statistic and p = 0 whatever its count; mlqa then tests
    homogeneity of the 2 x k table instead (``chi2_homogeneity``).
    """
    return _goodness_of_fit(ref, cur, "pearson")


@register("g_test", "g_test", (CATEGORICAL,), p_value=True, threshold=0.1)
def g_test(ref: Sample, cur: Sample) -> tuple[float, float]:
    """G-test (log-likelihood ratio) goodness of fit, G = 2 sum c_k ln(c_k / e_k).

    Differs from evidently on purpose: evidently passes the raw reference counts as expected
    counts, so scipy refuses every pair of unequal sizes; mlqa scales them to the current size
    (the same figure when the sizes are equal) and, like ``chisquare``, tests homogeneity when
    the current side has a value the reference never had.
    """
    return _goodness_of_fit(ref, cur, "log-likelihood")


@register("chi2_homogeneity", "chi-square test of homogeneity", (CATEGORICAL,), p_value=True,
          threshold=0.05)
def chi2_homogeneity(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Pearson chi-square test of homogeneity of the 2 x k table (reference, current) x values,
    (k-1) degrees of freedom. mlqa's default for categorical columns: unlike the goodness of
    fit, it treats both sides as samples, so its false-alarm rate holds when the reference is
    no larger than the current side. Not in evidently's catalogue."""
    return _contingency(ref, cur, "pearson")


@register("z", "Z-test p_value", (CATEGORICAL,), p_value=True, threshold=0.05)
def z_test(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Pooled two-proportion z-test, two-sided, on "not the first value (in sorted order)".

    z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2)), P the pooled share; p = 1 when both sides
    hold the same single value (evidently's rule).
    """
    from scipy.stats import norm

    keys, r, c = aligned_counts(ref, cur)
    if len(keys) == 1:
        return 0.0, 1.0
    n1, n2 = ref.n, cur.n
    p1, p2 = (n1 - r[0]) / n1, (n2 - c[0]) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * (1 - norm.cdf(np.abs(z))))


@register("fisher_exact", "Fisher's Exact test", (CATEGORICAL,), p_value=True, threshold=0.1)
def fisher_exact(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Fisher's exact test on the 2 x 2 table (current, reference) x (value a, value b),
    two-sided; the statistic is the odds ratio.

    Differs from evidently on purpose: evidently refuses samples of unequal size; the table
    needs no such thing.
    """
    from scipy.stats import fisher_exact as fisher

    _, r, c = aligned_counts(ref, cur)
    if len(r) > 2:
        raise ColumnTestError(f"fisher_exact needs a binary column, this one has {len(r)} "
                              f"distinct values")
    table = np.zeros((2, 2), dtype=np.int64)
    table[0, : len(c)], table[1, : len(r)] = c, r
    res = fisher(table)
    return float(res.statistic), float(res.pvalue)


def total_variation(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    """TVD = sum |r_k / n_ref - c_k / n_cur| / 2, row-wise for 2-D input."""
    r = ref_counts / ref_counts.sum(axis=-1, keepdims=True)
    c = cur_counts / cur_counts.sum(axis=-1, keepdims=True)
    return 0.5 * np.abs(r - c).sum(axis=-1)


@register("TVD", "Total-Variation-Distance", (CATEGORICAL,), p_value=True, threshold=0.1)
def tvd(ref: Sample, cur: Sample) -> tuple[float, float]:
    """Total variation distance with a permutation p-value.

    A permutation of the pooled rows only changes how many of each value fall on the reference
    side, which is a multivariate hypergeometric draw: 1000 of them, vectorised. Differs from
    evidently on purpose: evidently reseeds numpy's global generator (``np.random.seed(0)``,
    a side effect on all other code) and reports the share of permuted TVDs >= the observed
    one; mlqa uses its own generator seeded by ``random_state`` (0 by default) and reports
    (1 + count) / (1 + 1000).
    """
    _, r, c = aligned_counts(ref, cur)
    observed = float(total_variation(r, c))
    rng = registry.rng()
    drawn = rng.multivariate_hypergeometric(r + c, ref.n, size=PERMUTATIONS)
    permuted = total_variation(drawn, (r + c) - drawn)
    # Ties in a discrete statistic: compare with a tolerance, not bit for bit.
    count = int(np.count_nonzero(permuted >= observed - 1e-12))
    return observed, (1 + count) / (1 + PERMUTATIONS)


def tvd_effect(ref: Sample, cur: Sample) -> float:
    """The TVD alone: mlqa's effect size for categorical columns."""
    _, r, c = aligned_counts(ref, cur)
    return float(total_variation(r, c))

