"""Waivers: a reviewed file that lets a gatekeeper accept a known failure for a while.

```yaml
waivers:
  - check: "tests/test_quality.py::test_auc[segment-b]"   # a test node id, or a glob of them
    reason: "segment b relabelled; retrain scheduled"
    approver: "j.doe"
    expires: 2026-12-31            # valid through this day
    ticket: "ML-1234"              # optional
    model: "sha256:3f2a..."        # optional: only for this model (a prefix of 8+ hex digits)
```

A FAIL (or an INCONCLUSIVE the policy fails) covered by a valid waiver becomes WAIVED. An expired
waiver, or one for another model, does nothing and is reported as such. An ERROR is never waived:
a check that could not run has nothing to accept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlqa._files import read_regular
from mlqa._text import has_visible
from mlqa.errors import InputError
from mlqa.result import CheckResult, Outcome

__all__ = ["Waiver", "Waivers", "load", "parse", "waive", "keep_in_bundle", "today",
           "BUNDLE_FILE"]

BUNDLE_FILE = "waivers.yaml"  # the run's copy in its results bundle

REQUIRED = ("check", "reason", "approver", "expires")
OPTIONAL = ("ticket", "model")
WAIVABLE = (Outcome.FAIL, Outcome.INCONCLUSIVE)
_HEX = re.compile(r"(?:sha256:)?([0-9a-f]{8,64})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Waivers are judged on the UTC date: a gate machine's own zone would make a waiver that expires
# today valid at UTC-12 and expired at UTC+14 at the same instant. The date used is printed.
AS_OF_ZONE = "UTC"


def today() -> dt.date:
    """The day a waiver is judged on when none is given: today's date in :data:`AS_OF_ZONE`."""
    return dt.datetime.now(dt.timezone.utc).date()


# How a waiver stands for one run.
VALID, EXPIRED, OTHER_MODEL = "valid", "expired", "other model"


@dataclasses.dataclass(frozen=True)
class Waiver:
    """One entry of a waivers file; ``line`` is where it starts (1-based)."""

    check: str
    reason: str
    approver: str
    expires: dt.date
    ticket: str | None = None
    model: str | None = None
    line: int = 0
    source: str = ""

    def covers(self, nodeid: str) -> bool:
        """Exact node ids first: parametrised ids hold ``[...]``, which a glob reads as a set."""
        return nodeid == self.check or fnmatch.fnmatchcase(nodeid, self.check)

    def status(self, today: dt.date, models: Iterable[str] = ()) -> str:
        """``valid``, ``expired`` (after ``expires``) or ``other model`` (none of ``models``)."""
        if today > self.expires:
            return EXPIRED
        if self.model is not None and not any(_same_model(self.model, m) for m in models):
            return OTHER_MODEL
        return VALID

    def describe(self) -> str:
        ticket = f" [{self.ticket}]" if self.ticket else ""
        return f"waived by {self.approver} until {self.expires.isoformat()}: {self.reason}{ticket}"

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["expires"] = self.expires.isoformat()
        return d


@dataclasses.dataclass(frozen=True)
class Waivers:
    """The entries of one file, in file order (the first valid one that covers a check wins)."""

    entries: tuple[Waiver, ...] = ()
    source: str = ""

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, nodeid: str, today: dt.date, models: Iterable[str] = ()) -> Waiver | None:
        """The first valid waiver covering ``nodeid``, or None."""
        models = tuple(models)
        for waiver in self.entries:
            if waiver.covers(nodeid) and waiver.status(today, models) == VALID:
                return waiver
        return None


def keep_in_bundle(directory: str | os.PathLike[str], waivers: Waivers | None) -> None:
    """Copy the run's waivers file into the bundle (or drop a stale copy) so the report and
    the gate read the same file the run did."""
    target = Path(directory) / BUNDLE_FILE
    if waivers is None or not waivers.source:
        target.unlink(missing_ok=True)
    else:
        shutil.copyfile(waivers.source, target)


def waive(result: CheckResult, waiver: Waiver) -> CheckResult:
    """``result`` as WAIVED by ``waiver``; the original outcome and message stay in details."""
    if result.outcome not in WAIVABLE:
        raise InputError(f"only {[o.value for o in WAIVABLE]} results can be waived, "
                         f"got {result.outcome.value} for {result.name!r}")
    details = dict(result.details)
    details["waiver"] = {**waiver.to_dict(), "outcome": result.outcome.value,
                         "message": result.message}
    return result.replace(outcome=Outcome.WAIVED, details=details,
                          message=f"{waiver.describe()} (was: {result.message})")


def waived_from(result: CheckResult) -> tuple[Outcome, str]:
    """``(outcome, message)`` a WAIVED result had before :func:`waive` (the bundle validates
    that a waived line carries them); any other result is its own."""
    if result.outcome is not Outcome.WAIVED:
        return result.outcome, result.message
    waiver = result.details["waiver"]
    return Outcome(waiver["outcome"]), str(waiver.get("message", result.message))


def load(path: str | os.PathLike[str]) -> Waivers:
    """Read and validate a waivers file; any problem is an InputError naming file and line."""
    return parse(read_text(path, "waivers file"), source=str(path))


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """The UTF-8 text of a reviewed file (waivers, gate policy), or an InputError saying why not."""
    try:
        return read_regular(path, what).decode("utf-8")  # a FIFO is refused, never waited on
    except UnicodeDecodeError:
        raise InputError(f"{what} {path}: not UTF-8 text") from None


def check_keys(fields: Mapping[str, Any], allowed: Sequence[str], where: str, what: str) -> None:
    """A misspelt key must not be ignored silently: it names the line and the allowed keys."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise InputError(f"{where}: unknown {what} {unknown}; allowed: {list(allowed)}")


def parse(text: str, source: str = "<waivers>") -> Waivers:
    """Validate the YAML text of a waivers file (see the module docstring for its form)."""
    items = yaml_entries(text, source, key="waivers")
    return Waivers(tuple(_waiver(fields, line, source) for fields, line in items), source)


def _waiver(fields: Mapping[str, Any], line: int, source: str) -> Waiver:
    where = f"{source}:{line}"
    check_keys(fields, REQUIRED + OPTIONAL, where, "waiver field(s)")
    # "Filled in" means a reviewer can read it: a zero-width space or a word joiner is not an
    # approver, however non-empty the string.
    missing = [k for k in REQUIRED if fields.get(k) is None or not has_visible(str(fields[k]))]
    if missing:
        raise InputError(f"{where}: waiver lacks {missing} (every waiver needs "
                         f"{list(REQUIRED)})")
    texts = {}
    for key in ("check", "reason", "approver", "ticket", "model"):
        value = fields.get(key)
        if value is not None and not isinstance(value, str | int):
            raise InputError(f"{where}: waiver field {key!r} must be text, got {value!r}")
        texts[key] = None if value is None else str(value).strip()
    model = texts["model"]
    if model is not None:
        match = _HEX.fullmatch(model.lower())
        if match is None:
            raise InputError(f"{where}: waiver model must be a sha256 content hash (8 to 64 hex "
                             f"digits, as mlqa.provenance.model gives), got {model!r}")
        model = match.group(1)
    return Waiver(check=str(texts["check"]), reason=str(texts["reason"]),
                  approver=str(texts["approver"]),
                  expires=_date(fields["expires"], where), ticket=texts["ticket"], model=model,
                  line=line, source=source)


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        # Only YYYY-MM-DD: Python also reads 20300101 and week dates, which a reviewer may not.
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
            raise ValueError(value)
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{where}: waiver expires must be a date YYYY-MM-DD, "
                         f"got {value!r}") from None


def _same_model(waiver_model: str, model_hash: str) -> bool:
    """A waiver's hash may be a prefix (like a short git hash) of the full content hash."""
    full = model_hash.lower().removeprefix("sha256:")
    return full.startswith(waiver_model)


def yaml_entries(text: str, source: str, *, key: str) -> list[tuple[dict[str, Any], int]]:
    """The mappings listed under ``key`` (or a bare top-level list), each with its line.

    Shared by the waivers and gate policy files, so both name the line of a mistake.
    """
    document, line_of = yaml_document(text, source)
    if document is None:
        return []
    if isinstance(document, Mapping):
        check_keys(document, (key,), f"{source}:{line_of(document)}", "top-level key(s)")
        document = document.get(key) or []
    if not isinstance(document, Sequence) or isinstance(document, str):
        raise InputError(f"{source}: {key!r} must be a list of entries")
    entries = []
    for entry in document:
        if not isinstance(entry, Mapping):
            raise InputError(f"{source}:{line_of(entry)}: each entry must be a mapping of "
                             f"fields, got {entry!r}")
        entries.append((dict(entry), line_of(entry)))
    return entries


def yaml_document(text: str, source: str) -> tuple[Any, Any]:
    """Parse YAML safely; return the data and a function giving a mapping's 1-based line."""
    import yaml  # a core dependency; imported here as only the gatekeeper's commands need it

    lines: dict[int, int] = {}

    class _Loader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):  # noqa: ANN001 - PyYAML's signature
            # PyYAML lets a repeated key silently override the first (``expires:`` twice):
            # in a reviewed file the reviewer may have read the other one.
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = key_node.value
                    if key in seen:
                        raise InputError(f"{source}:{key_node.start_mark.line + 1}: duplicate "
                                         f"key {key!r} (first at line {seen[key]})")
                    seen[key] = key_node.start_mark.line + 1
            mapping = super().construct_mapping(node, deep=deep)
            lines[id(mapping)] = node.start_mark.line + 1
            return mapping

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                            lambda loader, node: loader.construct_mapping(
                                node, deep=True))
    # Dates stay text here, so an impossible one (2030-13-01) gets our message with its line.
    _Loader.add_constructor("tag:yaml.org,2002:timestamp",
                            lambda loader, node: loader.construct_scalar(
                                node))
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{source}{line}: not valid YAML ({problem})") from None
    return data, lambda mapping: lines.get(id(mapping), 0)
