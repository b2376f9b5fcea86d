"""Fixtures for the candidate model: the data it is judged on and its predictions.

A real suite loads the candidate from its training job's artifacts; this one trains a small
scikit-learn model on a dataset that ships with scikit-learn, so the suite runs anywhere.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 0


@pytest.fixture(scope="session")
def dataset() -> dict[str, pd.DataFrame | pd.Series]:
    data = load_breast_cancer(as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.4, random_state=SEED, stratify=data.target)
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


@pytest.fixture(scope="session")
def model(dataset):
    """The release candidate."""
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return pipeline.fit(dataset["X_train"], dataset["y_train"])


@pytest.fixture(scope="session")
def y_true(dataset) -> pd.Series:
    return dataset["y_test"]


@pytest.fixture(scope="session")
def y_pred(model, dataset) -> pd.Series:
    return pd.Series(model.predict(dataset["X_test"]), index=dataset["X_test"].index)


@pytest.fixture(scope="session")
def y_score(model, dataset) -> pd.Series:
    """Probability of the positive class (benign)."""
    return pd.Series(model.predict_proba(dataset["X_test"])[:, 1], index=dataset["X_test"].index)
