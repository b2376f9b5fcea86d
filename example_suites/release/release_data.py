"""The data and models of the release example, shared by its conftest.py and
record_baseline.py: a dataset that ships with scikit-learn, split once with a fixed seed.

- ``reference``: the rows the model was trained on (what production is compared with);
- ``holdout``: held-out rows with their labels (what the metrics are measured on);
- ``production``: this week's batch: held-out rows as a scanner recalibration left them,
  reading ``mean texture`` 12% high (a real shift: the drift check finds it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 0
TARGET = "benign"
# Kept small on purpose: a gatekeeper reads these names in the suite.
FEATURES = ["mean radius", "mean texture", "mean smoothness", "mean compactness",
            "mean concavity", "mean symmetry", "worst radius", "worst texture",
            "worst concave points", "worst area"]


def size_band(radius: pd.Series) -> pd.Series:
    """A slice a clinician asks about: small, medium and large tumours."""
    return pd.cut(radius, [0, 12, 16, np.inf], labels=["small", "medium", "large"]).astype(str)


def splits() -> dict[str, pd.DataFrame]:
    data = load_breast_cancer(as_frame=True)
    frame = data.data[FEATURES].copy()
    frame["size_band"] = size_band(frame["mean radius"])
    frame[TARGET] = data.target
    train, holdout = train_test_split(frame, test_size=0.4, random_state=SEED,
                                      stratify=frame[TARGET])
    production = holdout.drop(columns=[TARGET]).copy()
    production["mean texture"] *= 1.12
    return {"reference": train.reset_index(drop=True), "holdout": holdout.reset_index(drop=True),
            "production": production.reset_index(drop=True)}


def train(frame: pd.DataFrame, *, C: float = 1.0) -> object:
    """The candidate (C=1.0) or the previous model (C=0.01: more regularised, less sharp)."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    return model.fit(frame[FEATURES], frame[TARGET])
