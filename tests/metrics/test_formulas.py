"""The vectorised metric formulas give scikit-learn's figures on the observed data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mlqa.metrics import METRICS
from mlqa.metrics.confusion import FORMULAS, confusion_counts
from mlqa.metrics.sums import SUMS

_BINARY_ONLY = {"precision", "recall", "f1", "jaccard"}  # binary averaging needs two classes


@pytest.mark.parametrize("name,classes", [(name, classes) for name in sorted(FORMULAS)
                                          for classes in (2, 4)
                                          if classes == 2 or name not in _BINARY_ONLY])
def test_confusion_formulas_match_sklearn(name, classes):
    rng = np.random.default_rng(classes)
    y = rng.integers(0, classes, 300)
    pred = np.where(rng.random(300) < 0.6, y, rng.integers(0, classes, 300))
    pred[pred == classes - 1] = 0  # one class never predicted: the zero-division conventions
    labels = np.unique(np.r_[y, pred])
    sw = rng.uniform(0.5, 2, 300)
    for weight in (None, sw):
        cm = confusion_counts(y, pred, labels, weight).astype(float)
        got = FORMULAS[name](cm[None], int(np.flatnonzero(labels == 1)[0]))[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-learn's zero-division warnings
            want = METRICS[name](y, pred, sample_weight=weight)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12), name


def _data(name, rng, n=400):
    if name in ("log_loss", "brier_score"):
        y = rng.integers(0, 2, n)
        return y, np.clip(0.3 + 0.4 * y + rng.normal(0, 0.2, n), 0, 1), np.array([0, 1])
    y = rng.gamma(2.0, 2.0, n) + 0.1
    return y, y * rng.lognormal(0, 0.3, n), None


@pytest.mark.parametrize("name", sorted(SUMS))
def test_sums_formulas_match_sklearn(name):
    rng = np.random.default_rng(1)
    y, p, labels = _data(name, rng)
    columns, finish = SUMS[name]
    sw = rng.uniform(0.5, 2, len(y))
    # D^2 holds the median at the unweighted sample's (mlqa uses it only without weights)
    for weight in (None,) if name == "d2_absolute_error_score" else (None, sw):
        cols = columns(y, p, labels)
        w = np.ones(len(y)) if weight is None else weight
        got = finish((w @ cols)[None])[0]
        assert got == pytest.approx(METRICS[name](y, p, sample_weight=weight), rel=1e-9), name


def test_multiclass_log_loss_and_brier_columns():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 200)
    p = rng.dirichlet([1, 1, 1], 200)
    for name in ("log_loss", "brier_score"):
        columns, finish = SUMS[name]
        got = finish(columns(y, p, np.arange(3)).sum(0)[None])[0]
        assert got == pytest.approx(METRICS[name](y, p), rel=1e-9)
