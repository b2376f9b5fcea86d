"""``mlqa init DATA [--model MODEL]``: a starter suite written from a dataset.

It describes the data as it is (columns and kinds, value ranges, categories, missing shares,
row count, a drift block over the testable columns), so it passes on the data it was written
from; pointing ``current`` at the next batch turns it into a gate. With ``--model`` it adds
the model and a latency SLO, and shows a metric check to fill in.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from mlqa.errors import InputError

HEADER = """\
# A starter mlqa suite, written by `mlqa init` from {data} ({rows} rows, {cols} columns).
# It passes on that data. Point `current` at the batch to judge, tighten the bounds, and run:
#     pytest {name} --junitxml=reports/junit.xml --mlqa-results=reports/mlqa-results
# Format: docs/suites.md (editors validate with mlqa/suite/schema.json).
"""
METRIC_HINT = """\
  # A metric threshold needs the label column's name; fill it in and uncomment:
  # - id: accuracy
  #   kind: metric
  #   data: current
  #   target: <label column>
  #   metric: accuracy
  #   min: 0.9
"""
MAX_CATEGORIES = 50  # more distinct values than this: not a categorical column to pin
MIN_DRIFT_VALUES = 20  # check_drift's min_rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="a CSV or Parquet file the suite describes")
    parser.add_argument("--model", default=None,
                        help="a model file (skops, ONNX, TorchScript...) to add with a "
                             "latency SLO")
    parser.add_argument("-o", "--output", default=None,
                        help="the suite file to write (default: <data name>.mlqa.yaml here)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    out = Path(args.output or f"{Path(args.data).name.split('.')[0]}.mlqa.yaml")
    if out.exists() and not args.force:
        raise InputError(f"{out} exists; pass --force to overwrite it")
    text = starter_suite(args.data, model=args.model, output=out)
    from mlqa._atomic import write_atomic

    write_atomic(out, text.encode("utf-8"))
    print(f"mlqa init: wrote {out}")
    return 0


def starter_suite(data: str | os.PathLike[str], *, model: str | None = None,
                  output: Path) -> str:
    """The suite's text; it is loaded and validated before it is returned."""
    import yaml

    from mlqa.quality.frames import as_frame

    frame = as_frame("DATA", os.fspath(data))
    if len(frame) == 0:
        raise InputError(f"DATA {os.fspath(data)!r} has no rows")
    base = output.resolve().parent
    rel = os.path.relpath(Path(data).resolve(), base)
    suite: dict[str, Any] = {
        "suite": output.name.split(".")[0] or "starter",
        "data": {"reference": {"path": rel}, "current": {"path": rel}},
    }
    if model is not None:
        suite["model"] = {"path": os.path.relpath(Path(model).resolve(), base)}
    suite["checks"] = _checks(frame, with_model=model is not None)
    text = HEADER.format(data=os.fspath(data), rows=len(frame), cols=len(frame.columns),
                         name=output.name)
    text += yaml.safe_dump(suite, sort_keys=False, allow_unicode=True, width=100)
    if model is not None:
        text += METRIC_HINT
    _validated(text, output)
    return text


def _checks(frame: Any, *, with_model: bool) -> list[dict[str, Any]]:
    import pandas as pd

    from mlqa.quality.frames import kind_of

    kinds = {c: kind_of(frame[c]) for c in frame.columns}
    checks: list[dict[str, Any]] = [
        {"id": "schema", "kind": "schema", "reference": "reference", "data": "current"},
        {"id": "missing", "kind": "missing", "reference": "reference", "data": "current",
         "max_change": _missing_bound(frame)},
    ]
    ranges = {}
    for c, kind in kinds.items():
        if kind != "number" or pd.api.types.is_bool_dtype(frame[c].dtype):
            continue
        values = pd.to_numeric(frame[c], errors="coerce").dropna()
        if len(values):
            ranges[c] = {"min": _plain(values.min()), "max": _plain(values.max())}
    if ranges:
        checks.append({"id": "ranges", "kind": "ranges", "data": "current", "ranges": ranges})
    categorical = [c for c, k in kinds.items() if k in ("string", "bool", "category")
                   and 1 <= frame[c].nunique(dropna=True) <= MAX_CATEGORIES]
    if categorical:
        checks.append({"id": "categories", "kind": "categories", "reference": "reference",
                       "data": "current", "columns": categorical})
    if not frame.duplicated().any():
        checks.append({"id": "duplicates", "kind": "duplicates", "data": "current"})
    checks.append({"id": "row_count", "kind": "row_count", "data": "current",
                   "min": max(1, len(frame) // 2)})
    drift = [c for c, k in kinds.items() if _drift_testable(frame[c], k)]
    if drift:
        checks.append({"id": "drift", "kind": "drift", "reference": "reference",
                       "current": "current", "columns": drift, "correction": "holm",
                       "alpha": 0.05})
    if with_model:
        # a starter's measurement stops at 3 s (the library's default budget is 10 s): enough
        # for a 1 s SLO's p99 on a starter; raise it where the p99 must be tight
        checks.append({"id": "latency_p99", "kind": "latency", "data": "current",
                       "device": "cpu", "quantile": 0.99, "max_ms": 1000, "max_time_s": 3})
    return checks


def _missing_bound(frame: Any) -> float:
    """0.05, or wider where the data is too small for 0.05 to be decided: a batch the size of
    this one, with the same missing shares, must PASS (not straddle the bound)."""
    import math

    from mlqa.quality.missing import DEFAULT_MAX_CHANGE, column_changes

    n = len(frame)
    counts = {c: (int(frame[c].isna().sum()), n, int(frame[c].isna().sum()), n)
              for c in frame.columns}
    widest = max(max(-v.ci[0], v.ci[1]) for v in column_changes(counts, 0.5, 0.95).values()
                 if v.ci is not None)
    return max(DEFAULT_MAX_CHANGE, math.ceil(widest * 100 + 1) / 100)


def _drift_testable(series: Any, kind: str) -> bool:
    """A column check_drift can test: numbers or few categories, enough values, not constant,
    not an identifier."""
    values = series.dropna()
    distinct = values.nunique()
    if len(values) < MIN_DRIFT_VALUES or distinct < 2:
        return False
    if kind == "number":
        return True
    return kind in ("string", "bool", "category") and distinct <= MAX_CATEGORIES


def _plain(x: Any) -> Any:
    value = x.item() if hasattr(x, "item") else x
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def _validated(text: str, output: Path) -> None:
    """The written suite must load: a starter that does not is a bug, not the user's."""
    import tempfile

    from mlqa.suite.loader import load_suites

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / output.name
        probe.write_text(text, encoding="utf-8")
        load_suites(probe, display=str(output))
