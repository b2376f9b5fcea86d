"""evidently's own HTML drift report, for the gatekeeper (``check_drift(..., html=path)``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from mlqa._optional import require
from mlqa.drift.columns import NUMERICAL
from mlqa.drift.profile import ReferenceProfile
from mlqa.drift.result import DriftResult
from mlqa.errors import InputError


def write_evidently_report(path: str | os.PathLike[str], reference: Any,
                           current: Mapping[str, pd.Series], result: DriftResult,
                           column_names: Any = None) -> None:
    """Run evidently's ``DataDriftPreset`` on the columns ``result`` tested and save its HTML.

    evidently is imported here only (about 3 s and 180 MB); its telemetry is switched off.
    It is an extra (``pip install 'mlqa[evidently]'``): without it, InputError says so.
    """
    if isinstance(reference, ReferenceProfile):
        raise InputError("html= needs the reference data itself; a reference profile holds "
                         "no rows for evidently to draw")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    evidently = require("evidently", "evidently", "check_drift(html=...) (evidently's report)")
    from evidently.presets import DataDriftPreset

    from mlqa.drift.tables import read_table

    names = list(result.columns)
    ref = pd.DataFrame(read_table("reference", reference, columns=names,
                                  column_names=column_names))
    cur = pd.DataFrame({n: current[n] for n in names})
    numerical = [n for n, c in result.columns.items() if c.kind == NUMERICAL]
    categorical = [n for n in names if n not in numerical]
    definition = evidently.DataDefinition(numerical_columns=numerical,
                                          categorical_columns=categorical)
    snapshot = evidently.Report([DataDriftPreset()]).run(
        evidently.Dataset.from_pandas(cur, definition),
        evidently.Dataset.from_pandas(ref, definition))
    snapshot.save_html(os.fspath(path))
