"""Multivariate drift: can a classifier tell current rows from reference rows?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlqa.drift import columns as col
from mlqa.drift.profile import profile
from mlqa.drift.tables import check_same_columns, read_table
from mlqa.errors import InputError
from mlqa.recording import observed
from mlqa.result import CheckResult, decide, describe
from mlqa.stats.delong import auc_and_covariance


@observed
def check_multivariate_drift(reference: Any, current: Any, columns: Sequence[str] | None = None,
                             *, max_auc: float = 0.55, confidence: float = 0.95, cv: int = 5,
                             max_rows: int = 50_000, random_state: int = 0,
                             n_threads: int | None = 1,
                             column_types: dict[str, str] | None = None,
                             column_names: Sequence[str] | None = None,
                             name: str = "multivariate_drift") -> CheckResult:
    """Domain-classifier drift: ROC AUC of telling current rows (1) from reference rows (0).

    A scikit-learn ``HistGradientBoostingClassifier`` (NaN and categories handled natively)
    scores every row out of fold (stratified ``cv``-fold cross-validation); the AUC of those
    scores and its DeLong confidence interval are held to ``max_auc``: PASS when the whole
    interval is <= max_auc, FAIL when it lies above, INCONCLUSIVE when it straddles. With no
    drift the AUC is 0.5. Each side is subsampled (seeded) to ``max_rows`` rows. Text,
    identifier and datetime columns are left out, as in ``check_drift``. ``n_threads`` caps
    the classifier's OpenMP threads (None: all cores); the default 1 because on a busy CI agent
    OpenMP's spinning threads made a 4000-row fit 20x slower (74 s against 3.6 s here).
    """
    from scipy.stats import norm
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if not 0.5 <= max_auc < 1:
        raise InputError(f"max_auc must be in [0.5, 1), got {max_auc!r}")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence!r}")
    ref_table = read_table("reference", reference, columns=columns, column_names=column_names)
    cur_table = read_table("current", current, columns=columns, column_names=column_names)
    if columns is None:
        check_same_columns(list(ref_table), list(cur_table))
    # Types as check_drift infers them, on the reference.
    types = profile(pd.DataFrame(ref_table), column_types=column_types)
    used = [c for c, p in types.columns.items() if p.type not in col.EXCLUDED]
    if not used:
        raise InputError("no column to use: all are excluded (text, identifiers, datetimes)")
    rng = np.random.default_rng(random_state)
    ref_rows, cur_rows = (_subsample(len(next(iter(t.values()))), max_rows, rng)
                          for t in (ref_table, cur_table))
    features, categorical = [], []
    for c in used:
        both = pd.concat([ref_table[c].iloc[ref_rows], cur_table[c].iloc[cur_rows]],
                         ignore_index=True)
        if types.columns[c].kind == col.NUMERICAL:
            features.append(both.to_numpy(dtype=float, na_value=np.nan))
            categorical.append(False)
        else:
            codes, _ = pd.factorize(both, use_na_sentinel=True)
            features.append(np.where(codes < 0, np.nan, codes).astype(float))
            categorical.append(True)
    x = np.column_stack(features)
    x[~np.isfinite(x)] = np.nan
    y = np.r_[np.zeros(len(ref_rows)), np.ones(len(cur_rows))].astype(int)
    if min(len(ref_rows), len(cur_rows)) < cv:
        raise InputError(f"each side needs at least cv={cv} rows")
    model = HistGradientBoostingClassifier(categorical_features=np.array(categorical),
                                           random_state=random_state)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads, user_api="openmp"):
        score = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    aucs, cov = auc_and_covariance(y, score)
    auc, var = float(aucs[0]), float(cov[0, 0])
    half = float(norm.ppf(0.5 + confidence / 2) * np.sqrt(var))
    ci = (max(0.0, auc - half), min(1.0, auc + half))
    outcome = decide(auc, max=max_auc, ci=ci)
    message = describe(f"{name} roc_auc", auc, max=max_auc, ci=ci, confidence=confidence,
                       n=len(y), outcome=outcome)
    return CheckResult(name=name, outcome=outcome, message=message, check="drift",
                       metric="domain_classifier_roc_auc", value=auc, threshold=max_auc,
                       comparison="<=", ci=ci, confidence=confidence, n=len(y),
                       details={"columns": used, "cv": cv, "n_reference": len(ref_rows),
                                "n_current": len(cur_rows)})


def _subsample(n: int, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    if n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_rows, replace=False))
