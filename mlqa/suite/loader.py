"""Reading ``*.mlqa.yaml`` files into Suites, refusing anything it cannot run.

Checks in order: YAML syntax and duplicate keys (``yamlpos``), the shipped JSON Schema
(``validate``), then what a schema cannot say: unique check ids and suite names, data sources
and metric names that exist. Every problem is reported at once, each at file:line:column.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlqa._text import did_you_mean
from mlqa.suite import validate
from mlqa.suite.errors import SuiteError
from mlqa.suite.model import CheckSpec, Source, Suite
from mlqa.suite.spec import DATA_KEYS
from mlqa.suite.yamlpos import Document, load_documents

Problem = tuple[int, int, str]
_METRIC_KINDS = ("metric", "regression")


# The options that let a suite read files outside its folder (pytest's ini and command line).
ROOTS_INI, ROOTS_OPTION = "mlqa_data_roots", "--mlqa-data-root"
# Check options that name a file the check reads.
_FILE_OPTIONS = ("baseline_file", "payloads")


def load_suites(path: str | os.PathLike[str], *, display: str | None = None,
                data_roots: Iterable[str | os.PathLike[str]] | None = ()) -> list[Suite]:
    """The suites of one file (one per YAML document); ``display`` is how messages name it.

    Every file a suite reads (data, model, latency record, payloads) must resolve (symbolic
    links followed) under the suite's folder or one of ``data_roots``: a suite is read by
    people who approve it, not audited like code, and must not be a way to put
    ``/proc/self/environ`` into a report. ``data_roots=None`` skips that check (for a tool
    that validates the text of a suite written somewhere else)."""
    file = Path(path)
    shown = display or os.fspath(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(shown, [(1, 1, f"cannot be read: {exc}")]) from None
    docs = load_documents(text, shown)
    if not docs:
        raise SuiteError(shown, [(1, 1, "is empty: a suite needs at least 'checks:'")])
    found: list[Problem] = []
    suites: list[Suite] = []
    names: dict[str, int] = {}
    for doc in docs:
        if not isinstance(doc.value, dict):
            found.append((*doc.where(()), "a suite is a mapping with 'checks:' (and 'data:', "
                                           "'model:', 'baseline:')"))
            continue
        trouble = validate.problems(doc)
        if not trouble:
            trouble = _semantics(doc)
        if not trouble and data_roots is not None:
            trouble = _confined(doc, file.parent, data_roots)
        found += trouble
        if trouble:
            continue
        suite = _build(doc, file)
        if suite.name in names:
            found.append((*doc.where(("suite",)), f"duplicate suite name {suite.name!r} (first "
                                                  f"at line {names[suite.name]})"))
        names[suite.name] = suite.line
        suites.append(suite)
    if found:
        raise SuiteError(shown, found)
    return suites


def default_name(file: Path) -> str:
    """``release.mlqa.yaml`` -> ``release``."""
    return file.name.split(".")[0] or "suite"


def _semantics(doc: Document) -> list[Problem]:
    value = doc.value
    out: list[Problem] = []
    data = value.get("data") or {}
    seen: dict[str, int] = {}
    metric_checks = []
    for i, check in enumerate(value["checks"]):
        cid = check["id"]
        if cid in seen:
            out.append((*doc.where(("checks", i, "id")), f"duplicate check id {cid!r} (first "
                                                          f"at line {seen[cid]})"))
        else:
            seen[cid] = doc.where(("checks", i, "id"))[0]
        for key in DATA_KEYS:
            name = check.get(key)
            if isinstance(name, str) and name not in data:
                where = validate.describe(doc, ("checks", i, key))
                known = ", ".join(data) or "none is defined under data:"
                out.append((*doc.where(("checks", i, key)),
                            f"{where} names the data source {name!r}, which is not under "
                            f"data:{did_you_mean(name, data)}; known: {known}"))
        if check["kind"] in _METRIC_KINDS:
            metric_checks.append(i)
        if check["kind"] in ("metric", "regression", "latency", "latency_regression",
                             "disparity", "shadow") and \
                "prediction" not in check and "model" not in value:
            alternative = "" if check["kind"].startswith("latency") else \
                " or a prediction column"
            out.append((*doc.where(("checks", i)),
                        f"{validate.describe(doc, ('checks', i))} needs a model: add 'model:' "
                        f"to the suite{alternative}"))
        if check["kind"] == "latency_regression":
            out += _latency_baseline(doc, i)
    if metric_checks:
        out += _metric_names(doc, metric_checks)
    baseline = value.get("baseline") or {}
    store = str(baseline.get("store", ""))
    for key in ("timeout_s", "attempts"):
        if key in baseline and not store.startswith(("http://", "https://")):
            out.append((*doc.where(("baseline", key), key=True),
                        f"baseline {key!r} applies to an http(s):// store; give 'store:' a "
                        f"URL or leave {key!r} out"))
    return out


def _latency_baseline(doc: Document, i: int) -> list[Problem]:
    """A latency comparison reads one stored baseline: a file, or the baseline record's."""
    check = doc.value["checks"][i]
    who = validate.describe(doc, ("checks", i))
    if ("baseline" in check) == ("baseline_file" in check):
        return [(*doc.where(("checks", i)), f"{who} needs one of 'baseline' (a latency name "
                                            f"in the baseline record) or 'baseline_file'"
                                            f"{'' if 'baseline' not in check else ', not both'}")]
    if "against" in check and "baseline" not in check:
        return [(*doc.where(("checks", i, "against"), key=True),
                 f"{who}: 'against' chooses a baseline record; a baseline_file is one file")]
    return []


def _confined(doc: Document, base: Path, roots: Iterable[str | os.PathLike[str]]
              ) -> list[Problem]:
    """Files named outside the suite's folder and every allowed root."""
    allowed = [base.resolve(), *(Path(r).resolve() for r in roots)]
    value = doc.value
    named: list[tuple[Any, str, str]] = []  # (path in the document, who, the path written)
    for name, source in (value.get("data") or {}).items():
        if "path" in source:
            named.append((("data", name, "path"), f"data source {name!r}", source["path"]))
    if isinstance(value.get("model"), dict) and "path" in value["model"]:
        named.append((("model", "path"), "the model", value["model"]["path"]))
    for i, check in enumerate(value["checks"]):
        for key in _FILE_OPTIONS:
            if isinstance(check.get(key), str):
                named.append((("checks", i, key), validate.describe(doc, ("checks", i, key)),
                              check[key]))
    out = []
    for where, who, written in named:
        try:
            real = (base / written).resolve()
        except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL in the name
            real = None
        if real is None or not any(real.is_relative_to(root) for root in allowed):
            out.append((*doc.where(where), f"{who}: {written[:200]!r} is outside the suite's "
                                           f"folder; allow the folder holding it with "
                                           f"{ROOTS_OPTION}=DIR or the ini option {ROOTS_INI}"))
    return out


def _metric_names(doc: Document, indexes: list[int]) -> list[Problem]:
    """Metric names that scikit-learn's scorers (and mlqa's aliases) do not know."""
    from mlqa.metrics.registry import ALIASES, METRICS

    known = sorted(set(METRICS) | set(ALIASES))
    out = []
    for i in indexes:
        name = str(doc.value["checks"][i]["metric"])
        key = name.strip().removeprefix("neg_")
        if key not in METRICS and key not in ALIASES:
            out.append((*doc.where(("checks", i, "metric")),
                        f"{validate.describe(doc, ('checks', i, 'metric'))}: unknown metric "
                        f"{name!r}{did_you_mean(key, known)}; see docs/metrics.md for the "
                        f"names"))
    return out


def _source(name: str, spec: dict[str, Any], base: Path) -> Source:
    path = spec.get("path")
    resolved = None if path is None else (base / path if not os.path.isabs(path)
                                          else Path(path))
    return Source(name=name, path=resolved, fixture=spec.get("fixture"),
                  format=spec.get("format"), trust=bool(spec.get("trust", False)))


def _build(doc: Document, file: Path) -> Suite:
    value = doc.value
    base = file.parent
    checks = []
    for i, check in enumerate(value["checks"]):
        line, col = doc.where(("checks", i))
        options = {k: v for k, v in check.items()
                   if k not in ("id", "kind", "marks", "description")}
        checks.append(CheckSpec(id=check["id"], kind=check["kind"], options=options,
                                marks=tuple(check.get("marks", ())),
                                description=check.get("description", ""), line=line,
                                column=col))
    data = {n: _source(n, s, base) for n, s in (value.get("data") or {}).items()}
    model = value.get("model")
    baseline = value.get("baseline") or {}
    store = baseline.get("store")
    if store is not None and "://" not in store and not os.path.isabs(store):
        store = os.fspath(base / store)
    return Suite(name=value.get("suite") or default_name(file), file=file, checks=tuple(checks),
                 data=data, model=None if model is None else _source("model", model, base),
                 baseline_store=store, baseline_ref=baseline.get("ref"),
                 baseline_timeout_s=baseline.get("timeout_s"),
                 baseline_attempts=baseline.get("attempts"),
                 marks=tuple(value.get("marks", ())), description=value.get("description", ""),
                 line=doc.where(("suite",))[0] if "suite" in value else 1)
