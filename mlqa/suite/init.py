"""``mlqa init DATA [--target COL] [--model MODEL]``: a starter suite written from a dataset.

It describes the data as it is (columns and kinds, value ranges rounded outward, categories,
missing shares, row count, a drift block over the testable columns), so it passes on the data
it was written from; pointing ``current`` at the next batch turns it into a gate. ``--target``
names the label: it is kept out of the data-quality and drift checks (a label's distribution
is the model's business, and a production batch may not have one yet). With ``--model`` it
adds the model and a latency SLO measured long enough for a finite p99 bound, and with both a
metric check whose threshold the model meets on this data. What it cannot fill in is written
as commented blocks: each one is a list item of ``checks:`` that loads as it is once the
``# `` before each of its lines is removed.
"""

from __future__ import annotations

import argparse
import inspect
import math
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
MAX_CATEGORIES = 50  # more distinct values than this: not a categorical column to pin
MIN_DRIFT_VALUES = 20  # check_drift's min_rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="a CSV or Parquet file the suite describes")
    parser.add_argument("--target", default=None, metavar="COL",
                        help="the label column: kept out of the data checks, scored by the "
                             "metric check")
    parser.add_argument("--model", default=None,
                        help="a model file (skops, ONNX, TorchScript...) to add with a "
                             "latency SLO and, with --target, a metric threshold")
    parser.add_argument("-o", "--output", default=None,
                        help="the suite file to write (default: <data name>.mlqa.yaml here)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    out = Path(args.output or f"{Path(args.data).name.split('.')[0]}.mlqa.yaml")
    if out.exists() and not args.force:
        raise InputError(f"{out} exists; pass --force to overwrite it")
    text = starter_suite(args.data, model=args.model, target=args.target, output=out)
    from mlqa._atomic import write_atomic

    write_atomic(out, text.encode("utf-8"))
    print(f"mlqa init: wrote {out}")
    folder = out.resolve().parent
    for given in (args.data, args.model):
        if given is not None and not Path(given).resolve().is_relative_to(folder):
            print(f"mlqa init: {_one_line(given)!r} is outside the suite's folder: allow its "
                  f"folder with --mlqa-data-root=DIR or the ini option mlqa_data_roots")
    return 0


def starter_suite(data: str | os.PathLike[str], *, model: str | None = None,
                  target: str | None = None, output: Path) -> str:
    """The suite's text; it is loaded and validated before it is returned."""
    from mlqa.quality.frames import as_frame, columns_hint

    frame = as_frame("DATA", os.fspath(data))
    if len(frame) == 0:
        raise InputError(f"DATA {os.fspath(data)!r} has no rows")
    if target is not None and target not in frame.columns:
        raise InputError(f"--target {target!r} is not a column of {os.fspath(data)!r} "
                         f"({columns_hint(frame, target)})")
    base = output.resolve().parent
    rel = os.path.relpath(Path(data).resolve(), base)
    suite: dict[str, Any] = {
        "suite": output.name.split(".")[0] or "starter",
        "data": {"reference": {"path": rel}, "current": {"path": rel}},
    }
    if model is not None:
        suite["model"] = {"path": os.path.relpath(Path(model).resolve(), base)}
    features = frame.drop(columns=[target]) if target is not None else frame
    checks = _checks(features, n_rows=len(frame), name_columns=target is not None)
    blocks: list[tuple[str, dict[str, Any]]] = []  # (comment, the item it comments out)
    if model is None:
        blocks.append(_metric_block(target, with_model=False))
    else:
        loaded, why = _loaded(model)
        if loaded is not None and target is not None:
            checks.append(_metric_check(frame, target, loaded))
            blocks.append(_regression_block(checks[-1], output.name))
        else:
            blocks.append(_metric_block(target, with_model=True, why=why))
        checks.append(_latency_check(frame, target, loaded))
    suite["checks"] = checks
    # Names from the user (the data file, the output, the columns) reach the text only as
    # YAML data (safe_dump) or as comments made single-line and printable: a file name
    # holding a newline must not become a line of the suite.
    text = HEADER.format(data=_one_line(os.fspath(data)), rows=len(frame),
                         cols=len(frame.columns), name=_one_line(output.name))
    text += _dump(suite)
    text += "".join(head + _commented(item) for head, item in blocks)
    _validated(text, output, suite, [item for _, item in blocks])
    return text


def _checks(frame: Any, *, n_rows: int, name_columns: bool) -> list[dict[str, Any]]:
    """The data checks over ``frame``'s columns; ``name_columns``: the label was left out of
    ``frame``, so the checks that would read every column name theirs."""
    import pandas as pd

    from mlqa.quality.frames import kind_of

    kinds = {c: kind_of(frame[c]) for c in frame.columns}
    columns = {"columns": [str(c) for c in frame.columns]} if name_columns else {}
    checks: list[dict[str, Any]] = [
        {"id": "schema", "kind": "schema", "reference": "reference", "data": "current"},
        {"id": "missing", "kind": "missing", "reference": "reference", "data": "current",
         **columns, "max_change": _missing_bound(frame)},
    ]
    ranges = {}
    for c, kind in kinds.items():
        if kind != "number" or pd.api.types.is_bool_dtype(frame[c].dtype):
            continue
        values = pd.to_numeric(frame[c], errors="coerce").dropna()
        if len(values):
            ranges[c] = {"min": _rounded(values.min(), math.floor),
                         "max": _rounded(values.max(), math.ceil)}
    if ranges:
        checks.append({"id": "ranges", "kind": "ranges", "data": "current", "ranges": ranges})
    categorical = [c for c, k in kinds.items() if k in ("string", "bool", "category")
                   and 1 <= frame[c].nunique(dropna=True) <= MAX_CATEGORIES]
    if categorical:
        checks.append({"id": "categories", "kind": "categories", "reference": "reference",
                       "data": "current", "columns": categorical})
    if not frame.duplicated().any():
        checks.append({"id": "duplicates", "kind": "duplicates", "data": "current",
                       **columns})
    checks.append({"id": "row_count", "kind": "row_count", "data": "current",
                   "min": max(1, n_rows // 2)})
    drift = [c for c, k in kinds.items() if _drift_testable(frame[c], k)]
    if drift:
        checks.append({"id": "drift", "kind": "drift", "reference": "reference",
                       "current": "current", "columns": drift, "correction": "holm",
                       "alpha": 0.05})
    return checks


SIGNIFICANT = 3  # digits a written bound keeps: 18.2, 1230, 0.000457


def _rounded(x: Any, direction: Any) -> Any:
    """``x`` to ``SIGNIFICANT`` digits, rounded outward by ``direction`` (math.floor for a
    lower bound, math.ceil for an upper one), so the data it came from stays inside."""
    value = float(x.item() if hasattr(x, "item") else x)
    if value == 0 or not math.isfinite(value):
        return _plain(value)
    step = 10.0 ** (math.floor(math.log10(abs(value))) - SIGNIFICANT + 1)
    digits = max(0, -math.floor(math.log10(step)))
    return _plain(round(direction(value / step) * step, digits))


def _loaded(model: str) -> tuple[Any, str]:
    """The model, loaded as the suite will load it (no trust), or None and why not."""
    from mlqa.baseline.models import load

    try:
        return load(Path(model).read_bytes(), name=model), ""
    except (InputError, OSError) as exc:
        return None, str(exc)


def _is_classification(y: Any) -> bool:
    import pandas as pd

    from mlqa.quality.frames import kind_of

    if kind_of(y) != "number" or pd.api.types.is_bool_dtype(y.dtype):
        return True
    values = y.dropna()
    return bool((values == values.round()).all() and values.nunique() <= MAX_CLASSES)


MAX_CLASSES = 20  # a numeric label with more distinct values than this is a regression target


def _metric_check(frame: Any, target: str, model: Any) -> dict[str, Any]:
    """A metric threshold the model meets on this data: accuracy (classes) or mean absolute
    error (numbers), its bound set just outside the 95% interval and rounded outward."""
    from mlqa.metrics import check_metric
    from mlqa.result import Outcome
    from mlqa.suite.runner import features

    options = {"data": "current", "target": target}
    X = features(frame, options, model)
    y = frame[target]
    classes = _is_classification(y)
    metric, side = ("accuracy", "min") if classes else ("mae", "max")
    measured = check_metric(y, metric=metric, model=model, X=X, min=0.0)  # only its interval
    low, high = measured.ci if measured.ci is not None else (None, None)
    if low is None or high is None:
        raise InputError(f"the model's {metric} on --target {target!r} could not be computed: "
                         f"{measured.message}")
    if classes:
        bound = math.floor(low * 100) / 100
        bound = round(bound - 0.01 if bound >= low else bound, 2)
    else:
        bound = _rounded(high, math.ceil)
        bound = _rounded(bound * 1.01, math.ceil) if bound <= high else bound
    check = {"id": metric, "kind": "metric", "data": "current", "target": target,
             "metric": metric, side: bound}
    again = check_metric(y, metric=metric, model=model, X=X, min=bound if classes else None,
                         max=None if classes else bound)
    if again.outcome is not Outcome.PASS:  # pragma: no cover - the bound is outside the CI
        raise InputError(f"mlqa init: the {metric} bound {bound} does not pass on its own data")
    return check


def _latency_check(frame: Any, target: str | None, model: Any) -> dict[str, Any]:
    """A latency SLO whose measurement runs long enough for a finite p99 bound: the default
    ``min_iters`` queries at the model's speed on one row (timed here), with room to spare."""
    check: dict[str, Any] = {"id": "latency_p99", "kind": "latency", "data": "current"}
    if target is not None:
        check["target"] = target
    check.update({"device": "cpu", "quantile": 0.99, "max_ms": 1000})
    per_query = _seconds_per_query(frame, target, model) if model is not None else None
    if per_query is None:
        check["max_time_s"] = STARTER_TIME_S
        return check
    from mlqa.latency.measure import measure_latency

    queries = int(inspect.signature(measure_latency).parameters["min_iters"].default)
    check["max_time_s"] = max(STARTER_TIME_S, math.ceil(2 * queries * per_query + 2))
    check["max_ms"] = max(1000, _rounded(per_query * 1000 * 20, math.ceil))
    return check


STARTER_TIME_S = 3  # the measurement's budget for a fast model


def _seconds_per_query(frame: Any, target: str | None, model: Any) -> float | None:
    """The median time of one-row predictions (after a warm-up), or None when the model
    cannot predict on the data's rows here (the check will say why when it runs)."""
    import time

    from mlqa.suite.runner import features

    call = getattr(model, "predict", model)
    if not callable(call):
        return None
    X = features(frame, {"data": "current", "target": target}, model).iloc[:1]
    times = []
    try:
        for i in range(25):
            start = time.perf_counter()
            call(X)
            if i >= 5:
                times.append(time.perf_counter() - start)
    except Exception:  # noqa: BLE001 - the latency check itself reports what is wrong
        return None
    return sorted(times)[len(times) // 2]


def _metric_block(target: str | None, *, with_model: bool, why: str = ""
                  ) -> tuple[str, dict[str, Any]]:
    head = "# A metric threshold: "
    if why:
        head += f"(the model could not be loaded here: {_one_line(why)})\n# "
    if with_model:
        head += "" if target else "name the label column, "
    else:
        head += ("" if target else "name the label column and ") + \
            "a column of the model's predictions (or add model: {path: ...}), "
    item: dict[str, Any] = {"id": "accuracy", "kind": "metric", "data": "current",
                            "target": target or "label"}
    if not with_model:
        item["prediction"] = "prediction"
    item.update({"metric": "accuracy", "min": 0.9})
    return head + "then uncomment:\n", item


def _regression_block(metric: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    """Against the previous model: the run saved with --mlqa-save-baseline records the metric
    check's predictions under its id, which the regression names as ``baseline``."""
    item: dict[str, Any] = {"id": f"{metric['id']}_vs_baseline", "kind": "regression",
                            "data": "current", "target": metric["target"],
                            "metric": metric["metric"], "baseline": metric["id"],
                            "max_drop": 0.01}
    if "min" not in metric:
        item["relative"] = True
    return (f"# Against the previous model: run `pytest {_one_line(name)} "
            f"--mlqa-save-baseline` once (it records\n# the model's predictions under the "
            f"metric check's id), promote that record\n# (`mlqa baseline promote latest`), "
            f"then uncomment:\n",
            item)


def _dump(value: Any, *, quoted: bool = False) -> str:
    import yaml

    if quoted:  # every scalar double-quoted, on one line: line breaks written as \n
        return str(yaml.safe_dump(value, sort_keys=False, default_style='"',
                                  width=float("inf")))
    return str(yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100))


def _commented(item: dict[str, Any]) -> str:
    """``item`` as a list item of ``checks:``, serialised as data, each line commented; a
    value that is not one printable line (a label named with a newline) makes it written
    double-quoted, so that each of its lines stays one commented line."""
    odd = any(isinstance(v, str) and not v.isprintable() for v in item.values())
    return "".join(f"# {line}\n" for line in _dump([item], quoted=odd).splitlines())


def _one_line(text: str, limit: int = 200) -> str:
    """``text`` for a comment: whitespace runs made one space, any other character that is not
    printable (a line or paragraph separator, a control character) escaped, at most
    ``limit`` characters."""
    flat = " ".join(text.split())
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in flat)[:limit]


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


def _validated(text: str, output: Path, suite: dict[str, Any],
               blocks: list[dict[str, Any]]) -> None:
    """The text must be exactly the suite meant (its YAML is ``suite``; each commented block,
    uncommented, is its item) and must load: a starter that does not is a bug, not the
    user's, and a name that changed what the text says is refused rather than written."""
    import tempfile

    import yaml

    from mlqa.suite.loader import load_suites

    commented, inside = [], False  # the lines of the commented list items, uncommented
    for line in text.splitlines():
        inside = line.startswith("# - ") or (inside and line.startswith("#   "))
        if inside:
            commented.append(line[2:])
    try:
        same = yaml.safe_load(text) == suite and (not blocks or yaml.safe_load(
            "\n".join(commented)) == blocks)
    except yaml.YAMLError:
        same = False
    if not same:
        raise InputError(f"mlqa init: the suite for {_one_line(output.name)!r} does not read "
                         f"back as written (a name in it breaks its YAML); nothing was "
                         f"written")
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / output.name
        probe.write_text(text, encoding="utf-8")
        load_suites(probe, display=str(output), data_roots=None)
