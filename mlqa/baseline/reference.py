"""The results bundle's pointer to the baseline record its run saved (``baseline.json``, written
by the pytest plugin under ``--mlqa-save-baseline``): what ``mlqa baseline promote BUNDLE``
promotes and what ``mlqa publish maven`` zips into the evidence."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlqa.baseline.errors import BaselineError

BUNDLE_REFERENCE = "baseline.json"
REFERENCE_SCHEMA = 1  # its format: {"schema", "store", "record"}


def read_reference(folder: str | os.PathLike[str]) -> tuple[str, str] | None:
    """(store location, record id) the run in ``folder`` saved, or None where it saved none."""
    reference = Path(folder) / BUNDLE_REFERENCE
    if not reference.is_file():
        return None
    try:
        saved = json.loads(reference.read_text())
        schema = saved["schema"]
        store_location, record_id = saved["store"], saved["record"]
    except (ValueError, KeyError, TypeError):
        raise BaselineError(f"{reference} is not a baseline reference") from None
    if type(schema) is not int or schema > REFERENCE_SCHEMA:
        raise BaselineError(f"{reference} has schema {schema!r}, newer than this mlqa reads "
                            f"({REFERENCE_SCHEMA}); upgrade mlqa to promote it")
    if not isinstance(store_location, str) or not isinstance(record_id, str):
        raise BaselineError(f"{reference} is not a baseline reference")
    return store_location, record_id
