"""Fixtures for the drift tests: evidently 0.7.23 itself, run on the same data."""

from __future__ import annotations

import os
import warnings

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def run_evidently():
    """``run(ref, cur, numerical, categorical, methods=None)`` -> (per column
    ``(method display name, score, drift flag)``, ``(drifted count, share)``).

    ``methods`` maps columns to evidently method names (ValueDrift per column); without it the
    DataDriftPreset's default choice runs.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import evidently  # noqa: F401 - its import warns about its own dependencies
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import DriftedColumnsCount, ValueDrift
    from evidently.presets import DataDriftPreset

    def run(ref: pd.DataFrame, cur: pd.DataFrame, numerical: list[str],
            categorical: list[str], methods: dict[str, str] | None = None):
        definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
        if methods is None:
            metrics = [DataDriftPreset()]
        else:
            metrics = [ValueDrift(column=c, method=m) for c, m in methods.items()]
            metrics.append(DriftedColumnsCount(columns=list(methods)))
        with warnings.catch_warnings():  # evidently's and its dependencies' own noise
            warnings.simplefilter("ignore")
            snap = Report(metrics, include_tests=True).run(
                Dataset.from_pandas(cur, data_definition=definition),
                Dataset.from_pandas(ref, data_definition=definition))
        d = snap.dict()
        scores = {m["config"]["column"]: (m["config"]["method"], m["value"])
                  for m in d["metrics"] if m["config"]["type"].endswith("ValueDrift")}
        flags = {t["metric_config"]["params"]["column"]: t["status"] == "FAIL"
                 for t in d["tests"] if t["id"] == "drift"}
        count = next(m["value"] for m in d["metrics"]
                     if m["config"]["type"].endswith("DriftedColumnsCount"))
        per_column = {c: (method, value, flags[c]) for c, (method, value) in scores.items()}
        return per_column, (count["count"], count["share"])

    return run
