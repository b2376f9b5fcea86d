"""The held-out domain-classifier test: can a model tell current rows from reference rows?

Each side is subsampled (seeded) to ``max_rows`` and split in half. A scikit-learn model is
fitted on one half of both sides and scores the other half. Given the fitted model, the
held-out scores of the two sides are independent draws from one distribution when nothing
drifted, so their AUC (the Mann-Whitney U over ``n_ref * n_cur``) follows the Mann-Whitney
null whatever the model learnt: the one-sided p-value (current scored higher) is exact up
to the normal approximation of U with its tie correction. No fixed AUC cut-off (evidently's
0.55) and no null simulated by refitting.

The effect is Somers' D = 2 AUC - 1 (0 when the sides cannot be told apart, at most the
total variation distance between them for the best classifier), with DeLong's one-sided
lower bound at level 1 - alpha.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

# Rows per side the classifier sees (half to fit, half to score): bounds time and memory.
MAX_ROWS = 20_000


@dataclasses.dataclass(frozen=True)
class HeldOut:
    """The held-out test: ``auc`` of the held-out scores, its one-sided ``p_value``, DeLong's
    lower bound ``auc_low`` (level 1 - alpha), the held-out rows scored per side and the rows
    per side the subsample kept (``cap`` the cap)."""

    auc: float
    p_value: float
    auc_low: float
    n_scored: tuple[int, int]
    n_used: tuple[int, int]
    cap: int

    @property
    def effect(self) -> float:
        """Somers' D, 2 AUC - 1."""
        return 2 * self.auc - 1

    @property
    def effect_low(self) -> float:
        return 2 * self.auc_low - 1

    def as_dict(self) -> dict[str, Any]:
        return {"auc": self.auc, "p_value": self.p_value, "auc_low": self.auc_low,
                "n_scored": list(self.n_scored), "n_used": list(self.n_used), "cap": self.cap}


def subsample(n: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted row positions: all ``n`` rows, or ``cap`` of them drawn without replacement."""
    if n <= cap:
        return np.arange(n)
    return np.sort(rng.choice(n, size=cap, replace=False))


def held_out_test(ref: Any, cur: Any, make_model: Callable[[], Any], *, alpha: float,
                  rng: np.random.Generator, max_rows: int = MAX_ROWS) -> HeldOut:
    """Fit ``make_model()`` (a scikit-learn classifier with ``predict_proba``) on half of each
    side, score the other halves, and test their AUC against the Mann-Whitney null.

    ``ref``/``cur``: numpy arrays indexable by row positions (1-D object arrays of strings,
    or 2-D float arrays)."""
    from scipy.stats import mannwhitneyu, norm

    from mlqa.stats.delong import auc_and_covariance

    halves = []
    used = []
    for side in (ref, cur):
        rows = subsample(len(side), max_rows, rng)
        rows = rows[rng.permutation(len(rows))]
        used.append(len(rows))
        half = len(rows) // 2
        halves.append((side[rows[:half]], side[rows[half:]]))
    (ref_fit, ref_score), (cur_fit, cur_score) = halves
    x_fit = _stack(ref_fit, cur_fit)
    y_fit = np.r_[np.zeros(len(ref_fit)), np.ones(len(cur_fit))].astype(int)
    model = make_model().fit(x_fit, y_fit)
    s_ref = model.predict_proba(ref_score)[:, 1]
    s_cur = model.predict_proba(cur_score)[:, 1]
    u, p = mannwhitneyu(s_cur, s_ref, alternative="greater", method="asymptotic")
    auc = float(u) / (len(s_cur) * len(s_ref))
    y = np.r_[np.zeros(len(s_ref)), np.ones(len(s_cur))].astype(int)
    _, cov = auc_and_covariance(y, np.r_[s_ref, s_cur])
    se = float(np.sqrt(max(cov[0, 0], 0.0)))
    auc_low = max(0.0, auc - float(norm.ppf(1 - alpha)) * se)
    return HeldOut(auc, float(p), auc_low, (len(s_ref), len(s_cur)), (used[0], used[1]),
                   max_rows)


def _stack(a: Any, b: Any) -> Any:
    if isinstance(a, np.ndarray) and a.ndim == 2:
        return np.vstack([a, b])
    return np.concatenate([np.asarray(a, dtype=object), np.asarray(b, dtype=object)])
