"""``mlqa gate BUNDLE``: approve or refuse a release from a run's results bundle.

Exit 0 when every blocking check passed or is validly waived, 1 otherwise, 2 on unusable input
(no bundle, a malformed waivers or policy file). The verdict has three words:

- **refuse**: a blocking check failed (or could not run) and no valid waiver covers it;
- **needs a decision**: nothing blocks, but something asks for a human look: an INCONCLUSIVE
  check under ``inconclusive: warn``, a skipped check (its evidence is missing), an advisory
  check that failed;
- **approve**: every check passed or is validly waived.

The policy file (YAML) says which checks only advise and how INCONCLUSIVE counts::

    inconclusive: warn          # fail: it blocks; warn: needs a decision; pass: counts as a pass
    advisory:
      families: [latency]       # result families: metric, drift, regression, latency, ...
      checks: ["tests/test_exploratory.py::*"]   # node ids or globs
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import fnmatch
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlqa._text import one_line
from mlqa.errors import InputError
from mlqa.policy import INCONCLUSIVE_POLICIES
from mlqa.result import SEVERITY_ORDER, severity
from mlqa.waivers import (
    BUNDLE_FILE,
    VALID,
    Waiver,
    Waivers,
    check_keys,
    read_text,
    yaml_document,
)

__all__ = ["GatePolicy", "CheckVerdict", "Verdict", "WaiverUse", "evaluate", "load_policy",
           "gate", "APPROVE", "REFUSE", "DECIDE"]

APPROVE, REFUSE, DECIDE = "approve", "refuse", "needs a decision"
# Order a gatekeeper reads in: what stops the release first (the one order, mlqa.result's).
SEVERITY = SEVERITY_ORDER


@dataclasses.dataclass(frozen=True)
class GatePolicy:
    inconclusive: str = "warn"
    advisory_families: tuple[str, ...] = ()
    advisory_checks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.inconclusive not in INCONCLUSIVE_POLICIES:
            raise InputError(f"inconclusive must be one of {INCONCLUSIVE_POLICIES}, "
                             f"got {self.inconclusive!r}")

    def advisory(self, record: Mapping[str, Any]) -> bool:
        family = str(record["result"].get("check", ""))
        nodeid = str(record.get("nodeid", ""))
        return family in self.advisory_families or any(
            nodeid == p or fnmatch.fnmatchcase(nodeid, p) for p in self.advisory_checks)


def load_policy(path: str | os.PathLike[str]) -> GatePolicy:
    """Read a gate policy file; a problem is an InputError naming the file and line."""
    doc, line_of = yaml_document(read_text(path, "policy file"), str(path))
    if doc is None:
        return GatePolicy()
    if not isinstance(doc, Mapping):
        raise InputError(f"{path}: a gate policy is a mapping (inconclusive, advisory)")
    where = f"{path}:{line_of(doc)}"
    check_keys(doc, ("inconclusive", "advisory"), where, "policy key(s)")
    advisory = doc.get("advisory") or {}
    if not isinstance(advisory, Mapping):
        raise InputError(f"{where}: advisory must map 'families' and/or 'checks' to lists")
    where = f"{path}:{line_of(advisory) or line_of(doc)}"
    check_keys(advisory, ("families", "checks"), where, "advisory key(s)")
    lists = {}
    for key in ("families", "checks"):
        value = advisory.get(key) or []
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{where}: advisory {key} must be a list of strings, got {value!r}")
        lists[key] = tuple(value)
    try:
        return GatePolicy(inconclusive=str(doc.get("inconclusive", "warn")),
                          advisory_families=lists["families"], advisory_checks=lists["checks"])
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


@dataclasses.dataclass(frozen=True)
class CheckVerdict:
    """One bundle record as the gate sees it: ``outcome`` after waivers, and whether it
    ``blocks`` the release or ``asks`` for a human decision."""

    record: Mapping[str, Any]
    outcome: str
    advisory: bool
    blocks: bool
    asks: bool
    waiver: Waiver | None = None

    @property
    def nodeid(self) -> str:
        return str(self.record.get("nodeid") or self.record["result"].get("name", "?"))

    @property
    def result(self) -> Mapping[str, Any]:
        return self.record["result"]

    @property
    def message(self) -> str:
        if self.waiver is not None:
            was = self.result.get("details", {}).get("waiver", {}).get("message") \
                if self.result.get("outcome") == "waived" else self.result.get("message")
            return f"{self.waiver.describe()} (was: {was})"
        return str(self.result.get("message", ""))


@dataclasses.dataclass(frozen=True)
class WaiverUse:
    waiver: Waiver
    status: str  # valid, expired, other model
    used_by: tuple[str, ...]  # node ids it waived in this run


@dataclasses.dataclass(frozen=True)
class Verdict:
    decision: str
    reasons: tuple[str, ...]
    checks: tuple[CheckVerdict, ...]
    waivers: tuple[WaiverUse, ...]
    counts: Mapping[str, int]
    as_of: dt.date

    @property
    def exit_code(self) -> int:
        return 1 if self.decision == REFUSE else 0

    def worst_first(self) -> list[CheckVerdict]:
        return sorted(self.checks, key=lambda c: (not c.blocks, not c.asks,
                                                  -severity(c.outcome), c.nodeid))

    def headline(self) -> str:
        return f"{self.decision.upper()}: {'; '.join(self.reasons)}"


def evaluate(records: Sequence[Mapping[str, Any]], *, waivers: Waivers | None = None,
             policy: GatePolicy | None = None, models: Sequence[str] = (),
             as_of: dt.date | None = None) -> Verdict:
    """The gate's verdict on a bundle's records.

    Waivers are re-checked as of ``as_of`` (today): a result the run recorded as WAIVED
    counts as its original outcome unless a waiver in ``waivers`` still covers it, so an
    expired waiver cannot carry a failure past the gate. An ERROR is never waived.
    """
    policy = policy or GatePolicy()
    waivers = waivers or Waivers()
    as_of = as_of or dt.date.today()
    if not records:
        raise InputError("the bundle holds no checks: nothing to approve")
    used: dict[int, list[str]] = {}
    checks = []
    for record in records:
        result = record["result"]
        outcome = str(result.get("outcome"))
        if outcome == "waived":  # re-decide from what the check itself found
            outcome = str(result.get("details", {}).get("waiver", {}).get("outcome", "waived"))
        failing = outcome == "fail" or (outcome == "inconclusive"
                                        and policy.inconclusive == "fail")
        nodeid = str(record.get("nodeid") or result.get("name", ""))
        waiver = waivers.find(nodeid, as_of, models) if failing else None
        if waiver is not None:
            outcome = "waived"
            used.setdefault(id(waiver), []).append(nodeid)
        advisory = policy.advisory(record)
        bad = outcome in ("fail", "error") or (outcome == "inconclusive"
                                               and policy.inconclusive == "fail")
        asks = (outcome == "inconclusive" and policy.inconclusive == "warn") \
            or outcome == "skipped" or (advisory and bad)
        checks.append(CheckVerdict(record, outcome, advisory, blocks=bad and not advisory,
                                   asks=asks, waiver=waiver))
    uses = tuple(WaiverUse(w, w.status(as_of, models), tuple(used.get(id(w), ())))
                 for w in waivers)
    counts = Counter(c.outcome for c in checks)
    return Verdict(*_decide(checks, counts), tuple(checks), uses, dict(counts), as_of)


def _decide(checks: list[CheckVerdict], counts: Counter) -> tuple[str, tuple[str, ...]]:
    blocking = Counter(c.outcome for c in checks if c.blocks)
    asking = Counter(c.outcome if not c.advisory else "advisory" for c in checks if c.asks)
    total = len(checks)
    if blocking:
        parts = [f"{n} blocking check{'s' * (n != 1)} {_verb(o, n)}" for o, n in
                 sorted(blocking.items(), key=lambda kv: -severity(kv[0]))]
        return REFUSE, (*parts, *_asking(asking))
    if asking:
        return DECIDE, _asking(asking)
    waived = f" ({counts['waived']} waived)" if counts["waived"] else ""
    return APPROVE, (f"all {total} check{'s' * (total != 1)} passed{waived}",)


def _verb(outcome: str, n: int) -> str:
    return {"fail": "failed", "error": "could not run",
            "inconclusive": "inconclusive (policy: fail)"}.get(outcome, outcome)


def _asking(asking: Counter) -> tuple[str, ...]:
    words = {"inconclusive": "inconclusive: not enough data to decide",
             "skipped": "skipped: evidence missing",
             "advisory": "advisory, failed or could not run"}
    return tuple(f"{n} {words[k]}" for k, n in asking.items())


# -- from a bundle folder -----------------------------------------------------------------------

def gate(bundle_path: str | os.PathLike[str], *, waivers: str | os.PathLike[str] | None = None,
         policy: str | os.PathLike[str] | None = None, as_of: dt.date | None = None) -> Verdict:
    """Read a bundle (and its session record, provenance and waivers copy) and evaluate it.

    The bundle must be the complete evidence of its run (:func:`mlqa.report.evidence.verify`):
    otherwise this is an InputError, and the commands exit 2.

    ``waivers`` defaults to the copy the run kept in the bundle (``waivers.yaml``); the models
    a waiver may be scoped to come from the bundle's provenance.
    """
    from mlqa import provenance
    from mlqa.report import bundle, evidence
    from mlqa.waivers import load

    folder = Path(bundle_path) if Path(bundle_path).is_dir() else Path(bundle_path).parent
    if not Path(bundle_path).exists():
        raise InputError(f"results bundle {bundle_path} does not exist")
    records = bundle.read(bundle_path)  # an unreadable line is named first (file:line, field)
    session = evidence.read(folder)
    evidence.verify(records, session, str(folder))
    if waivers is None and (folder / BUNDLE_FILE).exists():
        waivers = folder / BUNDLE_FILE
    models = [m.get("sha256", "") for m in provenance.read(folder).get("models", [])]
    return evaluate(records, waivers=None if waivers is None else load(waivers),
                    policy=None if policy is None else load_policy(policy),
                    models=models, as_of=as_of)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="results folder (--mlqa-results) or its results.jsonl")
    add_gate_options(parser)


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    """Options the gate and the report share, so both decide the same way."""
    parser.add_argument("--waivers", metavar="FILE", default=None,
                        help="reviewed waivers (YAML); default: the copy in the bundle")
    parser.add_argument("--policy", metavar="FILE", default=None,
                        help="gate policy (YAML): advisory checks/families, how INCONCLUSIVE "
                             "counts")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", default=None, type=_iso_date,
                        help="judge waiver expiry as of this day (default: today)")


def verdict_from_args(args: argparse.Namespace) -> Verdict:
    return gate(args.bundle, waivers=args.waivers, policy=args.policy, as_of=args.as_of)


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def run(args: argparse.Namespace) -> int:
    verdict = verdict_from_args(args)
    try:
        _print(verdict, sys.stdout)
    except BrokenPipeError:  # ``mlqa gate | head``: the verdict stands, the rest is unread
        from mlqa.cli import quiet_stdout

        quiet_stdout()
    return verdict.exit_code


def _print(verdict: Verdict, out: Any) -> None:
    print(f"mlqa gate: {verdict.headline()}", file=out)
    shown = [c for c in verdict.worst_first() if c.blocks or c.asks]
    for c in shown:
        tag = ("BLOCKS " if c.blocks else "ASKS   ") + c.outcome.upper()
        note = " (advisory)" if c.advisory else ""
        print(f"  {tag:<20} {c.nodeid}{note}: {one_line(c.message, 300)}", file=out)
    for use in verdict.waivers:
        w = use.waiver
        state = use.status if use.status != VALID or use.used_by else "valid, unused"
        print(f"  waiver {w.source}:{w.line} {w.check!r} by {w.approver} until "
              f"{w.expires.isoformat()}: {state}", file=out)
    out.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
