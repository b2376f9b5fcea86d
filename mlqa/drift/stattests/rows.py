"""Tests of text and embedding columns: they need the rows, so no engine computes them.

Their registry entries declare ``summary=ROWS``: DuckDB and Spark refuse them by name, up
front. ``check_drift`` runs them through ``mlqa.drift.rich`` (which also keeps the effect
and its bound); these functions give the same (statistic, p-value) from two samples that
carry their rows (``Sample.rows``).
"""

from __future__ import annotations

import numpy as np

from mlqa.drift.columns import Sample
from mlqa.drift.stattests.registry import ROWS, register, rng


@register("domain_classifier", "Held-out domain classifier (AUC vs Mann-Whitney null)",
          ("text", "embedding"), p_value=True, threshold=0.05, summary=ROWS)
def domain_classifier(ref: Sample, cur: Sample) -> tuple[float, float | None]:
    """(held-out AUC, its one-sided Mann-Whitney p-value): ``mlqa.drift.domain``."""
    from mlqa.drift import domain, embeddings, text

    rows = np.asarray(ref.rows)
    model = embeddings.classifier if rows.ndim == 2 else text.classifier
    held = domain.held_out_test(rows, np.asarray(cur.rows), model, alpha=0.05, rng=rng())
    return held.auc, held.p_value


@register("mmd", "MMD (median-heuristic Gaussian kernel, permutation p-value)",
          ("embedding",), p_value=True, threshold=0.05, summary=ROWS)
def mmd(ref: Sample, cur: Sample) -> tuple[float, float | None]:
    """(unbiased MMD^2, permutation p-value): ``mlqa.drift.embeddings.mmd_test``."""
    from mlqa.drift import embeddings

    out = embeddings.mmd_test(np.asarray(ref.rows), np.asarray(cur.rows), alpha=0.05,
                              rng=rng())
    return out["mmd2"], out["p_value"]
