"""Python checks beside the YAML suite: what a threshold file cannot say.

Both kinds run in one pytest session, share the fixtures in conftest.py and land in the same
JUnit file and results bundle.
"""

from __future__ import annotations

import pytest

import mlqa

pytestmark = pytest.mark.mlqa


def test_production_data_quality_at_once(reference_inputs, production):
    """Every data-quality rule that applies, in one call (the YAML checks split them)."""
    mlqa.expect_data(reference_inputs, production, max_duplicate_share=0.0, min_rows=100)


def test_no_drift_in_model_scores(model, holdout, production):
    """The model's own view of the shift: its scores on production against the holdout."""
    import pandas as pd
    from release_data import FEATURES

    scores = pd.DataFrame({"score": model.predict_proba(holdout[FEATURES])[:, 1]})
    now = pd.DataFrame({"score": model.predict_proba(production[FEATURES])[:, 1]})
    mlqa.expect_drift(scores, now)
