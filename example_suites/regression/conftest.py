"""Data and models for the regression example.

The model under test is the candidate (a gradient-boosted classifier). The approved baseline in
``baselines/`` was recorded from the previous model (logistic regression) by this same suite, run
with ``MLQA_EXAMPLE_MODEL=previous`` (see README.md). In a real project the data fixture loads
the frozen evaluation set and the model fixture loads the model this build produced.
"""

from __future__ import annotations

import os

import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

MODELS = {
    "previous": ("1.0", lambda: LogisticRegression(max_iter=1000)),
    "candidate": ("2.0", lambda: HistGradientBoostingClassifier(max_iter=40, random_state=0)),
}


@pytest.fixture(scope="session")
def data():
    """(X_train, y_train, X_eval, y_eval): the evaluation rows are fixed, so candidate and
    baseline are scored on the same rows (the comparison checks that it is so)."""
    X, y = make_classification(n_samples=16000, n_features=20, n_informative=8,
                               n_redundant=4, class_sep=0.8, flip_y=0.03, random_state=7)
    return X[:10000], y[:10000], X[10000:], y[10000:]


@pytest.fixture(scope="session")
def model_version():
    return MODELS[os.environ.get("MLQA_EXAMPLE_MODEL", "candidate")][0]


@pytest.fixture(scope="session")
def model(data):
    X_train, y_train, _, _ = data
    _, make = MODELS[os.environ.get("MLQA_EXAMPLE_MODEL", "candidate")]
    # OpenMP would start a thread per host core; on a small CI agent that thrashes.
    with threadpool_limits(limits=1):
        return make().fit(X_train, y_train)
