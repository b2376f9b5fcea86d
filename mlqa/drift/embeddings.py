"""Embedding columns: MMD permutation test, the held-out classifier, and secondary views.

MMD (Gretton et al. 2012) with the Gaussian kernel ``k(x, y) = exp(-|x - y|^2 / (2 s^2))``,
``s^2`` half the median squared distance between pooled rows (the median heuristic), on at
most ``MMD_ROWS`` rows per side (seeded; the cap is reported). The statistic is the unbiased

    MMD^2_u = sum_{i!=j} k(x_i, x_j) / (m(m-1)) + sum_{i!=j} k(y_i, y_j) / (n(n-1))
              - 2 sum_ij k(x_i, y_j) / (m n)

and its p-value ``(1 + #{perm >= obs}) / (1 + B)`` over ``B`` label permutations of the same
kernel matrix (one matrix product for all of them). The effect is MMD^2_u with a lower bound
``MMD^2_u - q_(1-alpha)`` of the permutation null (how far chance alone moves it), clipped
at 0: an effect with an interval, not evidently's fixed 0.015.

Memory: the kernel matrix is ``(2 * MMD_ROWS)^2`` doubles (32 MB at 1000 rows per side), the
classifier's ``2 * domain.MAX_ROWS`` rows; neither grows with the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlqa.errors import InputError

MMD_ROWS = 1000  # rows per side in the kernel matrix
PERMUTATIONS = 1000  # the smallest p-value is 1/1001: one test of a large Holm family can reject
CLASSIFIER_ROWS = 10_000  # rows per side the classifier sees (half fits, half is scored)
COMPONENT_ROWS = 20_000  # rows per side of the per-component (secondary) view
SCATTER_POINTS = 200  # points per side in the report's PCA scatter
BLOCK = 16_384  # rows per block of the finiteness pass (a bounded temporary)


def vectors(name: str, values: Any) -> np.ndarray:
    """A 2-D float array from a 2-D array or a column of equal-length vectors (missing rows
    dropped); InputError naming ``name`` otherwise."""
    import pandas as pd

    if isinstance(values, pd.Series):
        values = [v for v in values.tolist() if v is not None and not
                  (isinstance(v, float) and np.isnan(v))]
        if not values:
            return np.zeros((0, 0))
        lengths = {len(v) for v in values}
        if len(lengths) != 1:
            raise InputError(f"embedding column {name!r} holds vectors of different lengths "
                             f"{sorted(lengths)[:5]}")
    try:
        # a float32 (or memory-mapped) array stays as it is: the tests copy only the rows
        # they subsample, as float64
        array = values if isinstance(values, np.ndarray) and values.dtype.kind == "f" \
            else np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"embeddings {name!r} must be numbers (a 2-D array or a column of "
                         f"equal-length vectors)") from None
    if array.ndim != 2:
        raise InputError(f"embeddings {name!r} must be 2-D (rows x dimensions), got shape "
                         f"{array.shape}")
    finite = np.concatenate([np.isfinite(array[s:s + BLOCK]).all(axis=1)
                             for s in range(0, len(array), BLOCK)] or [np.ones(0, bool)])
    return array if finite.all() else array[finite]


def mmd_test(ref: np.ndarray, cur: np.ndarray, *, alpha: float, rng: np.random.Generator,
             max_rows: int = MMD_ROWS, permutations: int = PERMUTATIONS) -> dict[str, Any]:
    """The MMD permutation test on at most ``max_rows`` rows per side: ``mmd2`` (unbiased),
    ``p_value``, ``mmd2_low`` (the effect's lower bound), ``bandwidth``, rows used, ``cap``."""
    from mlqa.drift.domain import subsample

    x = np.asarray(ref[subsample(len(ref), max_rows, rng)], dtype=np.float64)
    y = np.asarray(cur[subsample(len(cur), max_rows, rng)], dtype=np.float64)
    m, n = len(x), len(y)
    z = np.vstack([x, y])
    sq = np.einsum("ij,ij->i", z, z)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * (z @ z.T), 0.0)
    off = d2[np.triu_indices(len(z), k=1)]
    median = float(np.median(off[off > 0])) if np.any(off > 0) else 1.0
    kernel = np.exp(-d2 / median)  # exp(-d^2 / (2 s^2)) with 2 s^2 = median
    del d2, off
    labels = np.zeros((len(z), permutations + 1))
    labels[:m, 0] = 1.0
    for b in range(1, permutations + 1):
        labels[rng.permutation(len(z))[:m], b] = 1.0
    stats = _mmd2_unbiased(kernel, labels, m, n)
    observed, null = float(stats[0]), stats[1:]
    p = (1 + int(np.sum(null >= observed))) / (1 + permutations)
    low = max(0.0, observed - float(np.quantile(null, 1 - alpha)))
    return {"mmd2": observed, "p_value": p, "mmd2_low": low, "bandwidth": float(np.sqrt(
        median / 2)), "n_used": [m, n], "cap": max_rows, "permutations": permutations}


def _mmd2_unbiased(kernel: np.ndarray, labels: np.ndarray, m: int, n: int) -> np.ndarray:
    """MMD^2_u for each column of ``labels`` (1 marks the reference side); diag(K) = 1."""
    row_sums = kernel.sum(axis=1)
    total = float(row_sums.sum())
    k_u = kernel @ labels
    xx = np.einsum("ij,ij->j", labels, k_u)  # sum over reference pairs, diagonal included
    x_all = labels.T @ row_sums
    xy = x_all - xx
    yy = total - 2 * x_all + xx
    return ((xx - m) / (m * (m - 1)) + (yy - n) / (n * (n - 1)) - 2 * xy / (m * n))


def classifier() -> Any:
    """Standardised vectors + L2 logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=500,
                                                              class_weight="balanced"))


def components(ref: np.ndarray, cur: np.ndarray, *, alpha: float,
               rng: np.random.Generator, max_rows: int = COMPONENT_ROWS) -> dict[str, Any]:
    """Secondary view, outside the check's family: a KS test per dimension on at most
    ``max_rows`` rows per side, BH-adjusted across dimensions; how many are below ``alpha``
    and the five smallest."""
    from scipy.stats import false_discovery_control, ks_2samp

    from mlqa.drift.domain import subsample

    x = ref[subsample(len(ref), max_rows, rng)]
    y = cur[subsample(len(cur), max_rows, rng)]
    p = np.array([ks_2samp(x[:, j], y[:, j]).pvalue for j in range(x.shape[1])])
    adjusted = false_discovery_control(p, method="bh")
    order = np.argsort(adjusted, kind="stable")[:5]
    return {"dimensions": int(x.shape[1]), "rows": [len(x), len(y)],
            "significant_bh": int(np.sum(adjusted < alpha)),
            "top": [[int(j), float(adjusted[j])] for j in order]}


def pca_scatter(ref: np.ndarray, cur: np.ndarray, rng: np.random.Generator,
                points: int = SCATTER_POINTS) -> dict[str, Any]:
    """Both sides projected on the first two principal components of the pooled sample."""
    from mlqa.drift.domain import subsample

    x = ref[subsample(len(ref), points, rng)]
    y = cur[subsample(len(cur), points, rng)]
    z = np.vstack([x, y]).astype(np.float64)
    z -= z.mean(axis=0)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    xy = z @ vt[:2].T
    if xy.shape[1] < 2:
        xy = np.c_[xy, np.zeros(len(xy))]
    explained = (s[:2] ** 2 / max(float((s ** 2).sum()), 1e-300)).tolist()
    return {"reference": np.round(xy[:len(x)], 4).tolist(),
            "current": np.round(xy[len(x):], 4).tolist(), "explained": explained}
