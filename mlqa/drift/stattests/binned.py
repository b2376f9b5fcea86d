"""Statistics on binned frequencies: psi, kl_div, jensenshannon, hellinger.

evidently's binning (``get_binned_data``), reproduced exactly: a numerical column with more
than 20 distinct reference values is cut into equal-width Sturges bins over the range of
reference and current together (ceil(log2(n_ref + n_cur)) + 1 bins); otherwise every distinct
value (of either side) is its own bin. Each side's frequencies are its counts over its own
size. Because the edges depend on the current sample, only the sorted reference can be
prepared ahead; the counts come from binary searches in it, not from a pass over the data.
"""

from __future__ import annotations

import math

import numpy as np

from mlqa.drift.columns import NUMERICAL, Sample, aligned_counts
from mlqa.drift.stattests.registry import BINS, BOTH, HISTOGRAM, register

MAX_DISTINCT_AS_CATEGORIES = 20


def sturges_edges(low: float, high: float, n: int, integer: bool) -> np.ndarray:
    """``np.histogram_bin_edges(x, bins="sturges")`` from x's min, max and size alone.

    width = (max - min) / (log2(n) + 1), at least 1 for integer data; bins = ceil(range /
    width); an empty range is widened by 0.5 each way.
    """
    first, last = low, high
    if first == last:
        first, last = first - 0.5, last + 0.5
    width = (high - low) / (math.log2(n) + 1.0)
    if width:
        if integer and width < 1:
            width = 1
        bins = int(np.ceil((last - first) / width))
    else:
        bins = 1
    return np.linspace(first, last, bins + 1, endpoint=True, dtype=np.float64)


def histogram(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, edges)[0]`` for sorted values: [e_i, e_i+1) per bin, the last
    bin closed; the counts are differences of binary searches."""
    inner = np.searchsorted(sorted_values, edges[1:-1], side="left")
    return np.diff(np.concatenate([[0], inner, [len(sorted_values)]]))


def binned(ref: Sample, cur: Sample, fill_zeros: bool) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current frequencies as evidently bins them (see the module docstring).

    ``fill_zeros`` (psi, kl_div): each side's empty bins get min(non-zero share) / 1e6 when
    that minimum is <= 1e-4, else 1e-4, without renormalising (evidently's rule).
    """
    if ref.kind == NUMERICAL and ref.distinct_upto(MAX_DISTINCT_AS_CATEGORIES) > \
            MAX_DISTINCT_AS_CATEGORIES:
        r, c = ref.sorted_values(), cur.sorted_values()
        edges = sturges_edges(min(r[0], c[0]), max(r[-1], c[-1]), len(r) + len(c),
                              ref.integer and cur.integer)
        ref_share = histogram(r, edges) / len(r)
        cur_share = histogram(c, edges) / len(c)
    else:
        _, ref_counts, cur_counts = aligned_counts(ref, cur)
        ref_share, cur_share = ref_counts / ref.n, cur_counts / cur.n
    if fill_zeros:
        ref_share, cur_share = _fill_zeros(ref_share), _fill_zeros(cur_share)
    return ref_share, cur_share


def _fill_zeros(share: np.ndarray) -> np.ndarray:
    smallest = share[share != 0].min()
    return np.where(share == 0, smallest / 10 ** 6 if smallest <= 0.0001 else 0.0001, share)


@register("psi", "PSI", BOTH, p_value=False, threshold=0.1, summary=BINS)
def psi(ref: Sample, cur: Sample) -> tuple[float, None]:
    """Population stability index sum((r - c) ln(r / c)) over evidently's bins, zeros filled."""
    r, c = binned(ref, cur, fill_zeros=True)
    return float(np.sum((r - c) * np.log(r / c))), None


@register("kl_div", "Kullback-Leibler divergence", BOTH, p_value=False, threshold=0.1, summary=BINS)
def kl_div(ref: Sample, cur: Sample) -> tuple[float, None]:
    """KL(reference || current) in nats over evidently's bins, zeros filled, both sides then
    renormalised (``scipy.stats.entropy``)."""
    from scipy.special import rel_entr

    r, c = binned(ref, cur, fill_zeros=True)
    return float(np.sum(rel_entr(r / np.sum(r), c / np.sum(c)))), None


@register("jensenshannon", "Jensen-Shannon distance", BOTH, p_value=False, threshold=0.1,
          summary=BINS)
def jensenshannon(ref: Sample, cur: Sample) -> tuple[float, None]:
    """Jensen-Shannon distance sqrt((KL(p||m) + KL(q||m)) / 2), m = (p + q) / 2, natural log
    (so at most sqrt(ln 2) ~ 0.833), over evidently's bins without zero filling."""
    from scipy.special import rel_entr

    p, q = binned(ref, cur, fill_zeros=False)
    p, q = p / np.sum(p), q / np.sum(q)
    m = (p + q) / 2.0
    return float(np.sqrt((np.sum(rel_entr(p, m)) + np.sum(rel_entr(q, m))) / 2.0)), None


@register("hellinger", "Hellinger distance", BOTH, p_value=False, threshold=0.1, summary=HISTOGRAM)
def hellinger(ref: Sample, cur: Sample) -> tuple[float, None]:
    """Hellinger distance sqrt(1 - sum sqrt(p q)) in [0, 1].

    Categorical: over the shares of each value. Numerical: over density histograms whose
    Sturges edges evidently computes from the set of distinct values of both sides (not from
    the data), times the mean bin width.
    """
    if ref.kind != NUMERICAL:
        _, r, c = aligned_counts(ref, cur)
        overlap = float(np.sum(np.sqrt((r / ref.n) * (c / cur.n))))
    else:
        keys, _, _ = aligned_counts(ref, cur)
        edges = sturges_edges(keys[0], keys[-1], len(keys), ref.integer and cur.integer)
        return hellinger_from_histograms(histogram(ref.sorted_values(), edges),
                                         histogram(cur.sorted_values(), edges), edges)
    return math.sqrt(1 - min(max(overlap, 0.0), 1.0)), None


def hellinger_from_histograms(h1: np.ndarray, h2: np.ndarray, edges: np.ndarray
                              ) -> tuple[float, None]:
    """evidently's numerical Hellinger from each side's counts on the same ``edges``: over the
    density histograms, times the mean bin width (an engine counts the bins itself)."""
    widths = np.diff(edges)
    d1, d2 = h1 / widths / h1.sum(), h2 / widths / h2.sum()
    overlap = float(np.sum(np.sqrt(d1 * d2))) * (edges[-1] - edges[0]) / (len(edges) - 1)
    return math.sqrt(1 - min(max(overlap, 0.0), 1.0)), None
