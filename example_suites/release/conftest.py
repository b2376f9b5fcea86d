"""Fixtures the YAML suite (release.mlqa.yaml) and the Python tests (test_release.py) share.

A real project loads the candidate from its training job and the batches from its warehouse;
this one builds them from a dataset that ships with scikit-learn (see release_data.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # release_data.py sits beside this file
from release_data import TARGET, splits, train  # noqa: E402


@pytest.fixture(scope="session")
def frames():
    return splits()


@pytest.fixture(scope="session")
def reference(frames):
    return frames["reference"]


@pytest.fixture(scope="session")
def reference_inputs(reference):
    """The training rows without the label: what a production batch holds."""
    return reference.drop(columns=[TARGET])


@pytest.fixture(scope="session")
def holdout(frames):
    return frames["holdout"]


@pytest.fixture(scope="session")
def production(frames):
    return frames["production"]


@pytest.fixture(scope="session")
def model(reference):
    """The release candidate."""
    return train(reference)
