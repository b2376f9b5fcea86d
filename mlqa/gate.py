"""``mlqa gate BUNDLE``: approve or refuse a release from a run's results bundle.

Exit 0 only on APPROVE, 1 on REFUSE, 3 on NEEDS A DECISION, 2 on unusable input (no bundle,
an unreadable line, a malformed waivers or policy file), so ``mlqa gate && deploy`` ships only
an approved release. The verdict has three words:

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
from mlqa.report.bundle import BundleRecord
from mlqa.result import SEVERITY_ORDER, SKIPPED, CheckResult, Outcome, severity
from mlqa.waivers import (
    AS_OF_ZONE,
    VALID,
    Waiver,
    Waivers,
    check_keys,
    read_text,
    today,
    waived_from,
    yaml_document,
)

__all__ = ["GatePolicy", "CheckVerdict", "Verdict", "WaiverUse", "evaluate", "load_policy",
           "gate", "APPROVE", "REFUSE", "DECIDE"]

APPROVE, REFUSE, DECIDE = "approve", "refuse", "needs a decision"
# ``mlqa gate`` exits 0 only on APPROVE, so ``mlqa gate && deploy`` cannot ship a refused or
# undecided release; 2 is unusable input (no bundle, an unreadable line, a malformed file).
EXIT_CODES = {APPROVE: 0, REFUSE: 1, DECIDE: 3}
EXIT_UNUSABLE = 2
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

    def advisory(self, record: BundleRecord) -> bool:
        result = record.check_result
        family = result.check if result is not None else SKIPPED
        nodeid = record.nodeid
        return family in self.advisory_families or any(
            nodeid == p or fnmatch.fnmatchcase(nodeid, p) for p in self.advisory_checks)

    def failing(self, outcome: Outcome) -> bool:
        """A check outcome that stops the release under this policy (an ERROR too, but an
        ERROR is never waivable, so it is not counted here)."""
        return outcome is Outcome.FAIL or (outcome is Outcome.INCONCLUSIVE
                                           and self.inconclusive == "fail")


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
    """One bundle record as the gate sees it: ``status`` after waivers (an :class:`Outcome`,
    or None for a test skipped before its check ran), and whether it ``blocks`` the release
    or ``asks`` for a human decision."""

    record: BundleRecord
    status: Outcome | None
    advisory: bool
    blocks: bool
    asks: bool
    waiver: Waiver | None = None

    @property
    def outcome(self) -> str:
        """The status as the word the report and the terminal show (``skipped`` for None)."""
        return SKIPPED if self.status is None else self.status.value

    @property
    def nodeid(self) -> str:
        return self.record.nodeid

    @property
    def result(self) -> CheckResult | None:
        """The typed check result (None for a test skipped before its check ran)."""
        return self.record.check_result

    @property
    def message(self) -> str:
        result = self.record.result
        if self.waiver is not None:
            was = waived_from(result)[1] if isinstance(result, CheckResult) else result.message
            return f"{self.waiver.describe()} (was: {was})"
        return result.message


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
    as_of_basis: str = f"today in {AS_OF_ZONE}"  # or "as given" (--as-of)

    @property
    def judged_as_of(self) -> str:
        """The day waivers were judged on, and why that day: every output says it."""
        return f"{self.as_of.isoformat()} ({self.as_of_basis})"

    @property
    def exit_code(self) -> int:
        """0 only on APPROVE; see :data:`EXIT_CODES` (2, unusable input, is the CLI's)."""
        return EXIT_CODES[self.decision]

    def worst_first(self) -> list[CheckVerdict]:
        return sorted(self.checks, key=lambda c: (not c.blocks, not c.asks,
                                                  -severity(c.outcome), c.nodeid))

    def headline(self) -> str:
        return f"{self.decision.upper()}: {'; '.join(self.reasons)}"

    @property
    def reruns(self) -> list[CheckVerdict]:
        """Checks whose test needed more than one attempt (pytest-rerunfailures): the line
        kept is the last attempt's, and a gatekeeper should know the test was flaky."""
        return [c for c in self.checks if c.record.reruns > 0]


def evaluate(records: Sequence[BundleRecord], *, waivers: Waivers | None = None,
             policy: GatePolicy | None = None, models: Sequence[str] = (),
             as_of: dt.date | None = None, partial: str | None = None) -> Verdict:
    """The gate's verdict on a bundle's records.

    Waivers are re-checked as of ``as_of`` (today): a result the run recorded as WAIVED
    counts as its original outcome unless a waiver in ``waivers`` still covers it, so an
    expired waiver cannot carry a failure past the gate. An ERROR is never waived.
    ``partial`` says why the run did not run the whole suite (``-k``, ``--lf``, ...): such a
    run is refused, whatever its checks say.
    """
    policy = policy or GatePolicy()
    waivers = waivers or Waivers()
    basis = f"today in {AS_OF_ZONE}" if as_of is None else "as given"
    as_of = as_of or today()
    if not records:
        raise InputError("the bundle holds no checks: nothing to approve")
    used: dict[int, list[str]] = {}
    checks = []
    for record in records:
        result = record.check_result
        status = None if result is None else (
            waived_from(result)[0] if result.outcome is Outcome.WAIVED else result.outcome)
        waiver = waivers.find(record.nodeid, as_of, models) \
            if status is not None and policy.failing(status) else None
        if waiver is not None:
            status = Outcome.WAIVED
            used.setdefault(id(waiver), []).append(record.nodeid)
        advisory = policy.advisory(record)
        bad = status is not None and (status is Outcome.ERROR or policy.failing(status))
        asks = status is None or (status is Outcome.INCONCLUSIVE
                                  and policy.inconclusive == "warn") or (advisory and bad)
        checks.append(CheckVerdict(record, status, advisory, blocks=bad and not advisory,
                                   asks=asks, waiver=waiver))
    uses = tuple(WaiverUse(w, w.status(as_of, models), tuple(used.get(id(w), ())))
                 for w in waivers)
    counts = Counter(c.outcome for c in checks)
    decision, reasons = _decide(checks, counts)
    if partial is not None:
        decision, reasons = REFUSE, (f"partial run: {partial}; gate the whole suite, or pass "
                                     f"--accept-partial to judge only what ran", *reasons)
    return Verdict(decision, reasons, tuple(checks), uses, dict(counts), as_of, basis)


def _decide(checks: list[CheckVerdict], counts: Counter[str]) -> tuple[str, tuple[str, ...]]:
    blocking = Counter(c.outcome for c in checks if c.blocks)
    asking = Counter(c.outcome if not c.advisory else "advisory" for c in checks if c.asks)
    total = len(checks)
    if blocking:
        parts = [f"{n} blocking check{'s' * (n != 1)} {_verb(o)}" for o, n in
                 sorted(blocking.items(), key=lambda kv: -severity(kv[0]))]
        return REFUSE, (*parts, *_asking(asking))
    if asking:
        return DECIDE, _asking(asking)
    waived = f" ({counts['waived']} waived)" if counts["waived"] else ""
    return APPROVE, (f"all {total} check{'s' * (total != 1)} passed{waived}",)


def _verb(outcome: str) -> str:
    return {"fail": "failed", "error": "could not run",
            "inconclusive": "inconclusive (policy: fail)"}.get(outcome, outcome)


def _asking(asking: Counter[str]) -> tuple[str, ...]:
    words = {"inconclusive": "inconclusive: not enough data to decide",
             SKIPPED: "skipped: evidence missing",
             "advisory": "advisory, failed or could not run"}
    return tuple(f"{n} {words[k]}" for k, n in asking.items())


# -- from a bundle folder -----------------------------------------------------------------------

# ``--inconclusive`` on the command line, in the gate's words, onto the policy's words.
INCONCLUSIVE_CHOICES = {"refuse": "fail", "decide": "warn", "approve": "pass"}


def gate(bundle_path: str | os.PathLike[str], *, waivers: str | os.PathLike[str] | None = None,
         policy: str | os.PathLike[str] | None = None, as_of: dt.date | None = None,
         inconclusive: str | None = None, accept_partial: bool = False) -> Verdict:
    """Read a bundle (and its session record and provenance) and evaluate it.

    The bundle must be the complete evidence of one run (:func:`mlqa.report.evidence.verify`):
    otherwise this is an InputError, and the commands exit 2.

    Waivers come only from the file a person names (``waivers``): the copy a run keeps in its
    bundle is written by the code under test's own process, which could have put anything
    there. The models a waiver may be scoped to come from the bundle's provenance.
    ``inconclusive`` (``refuse``, ``decide``, ``approve``) overrides the policy file's rule;
    a run that did not run the whole suite (``-k``, ``-m``, ``--lf``, ``--sw``, ``--deselect``)
    is refused unless ``accept_partial``.
    """
    from mlqa import provenance
    from mlqa.report import bundle, evidence
    from mlqa.waivers import load

    folder = Path(bundle_path) if Path(bundle_path).is_dir() else Path(bundle_path).parent
    if not os.path.lexists(bundle_path):  # a symlink loop is said as one by bundle.read
        raise InputError(f"results bundle {bundle_path} does not exist")
    records = bundle.read(bundle_path)  # an unreadable line is named first (file:line, field)
    session = evidence.read(folder)
    evidence.verify(records, session, str(folder))
    models = [m.get("sha256", "") for m in provenance.read(folder).get("models", [])]
    rules = GatePolicy() if policy is None else load_policy(policy)
    if inconclusive is not None:
        if inconclusive not in INCONCLUSIVE_CHOICES:
            raise InputError(f"--inconclusive must be one of {list(INCONCLUSIVE_CHOICES)}, "
                             f"got {inconclusive!r}")
        rules = dataclasses.replace(rules, inconclusive=INCONCLUSIVE_CHOICES[inconclusive])
    partial = None if accept_partial else evidence.partial(session)
    return evaluate(records, waivers=None if waivers is None else load(waivers),
                    policy=rules, models=models, as_of=as_of, partial=partial)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="results folder (--mlqa-results) or its results.jsonl")
    add_gate_options(parser)
    parser.add_argument("--junitxml", metavar="FILE", default=None,
                        help="also write the verdict as a JUnit report: one testcase per "
                             "blocking, waived and undecided check, and one for the verdict")
    parser.add_argument("--registry", metavar="models:/NAME/VERSION", default=None,
                        help="on APPROVE, write the verdict, bundle sha256 and build URL as tags "
                             "of this MLflow model version, its evidence as artifacts of its "
                             "run, and set its alias 'challenger' (needs mlqa[mlflow])")
    parser.add_argument("--tracking-uri", default=None,
                        help="MLflow tracking URI for --registry (default $MLFLOW_TRACKING_URI)")


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    """Options the gate and the report share, so both decide the same way."""
    parser.add_argument("--waivers", metavar="FILE", default=None,
                        help="reviewed waivers (YAML); without it no waiver counts (the copy "
                             "in the bundle is for reading, never trusted)")
    parser.add_argument("--policy", metavar="FILE", default=None,
                        help="gate policy (YAML): advisory checks/families, how INCONCLUSIVE "
                             "counts")
    parser.add_argument("--inconclusive", choices=list(INCONCLUSIVE_CHOICES), default=None,
                        help="how an INCONCLUSIVE check counts (overrides the policy file): "
                             "refuse, decide (NEEDS A DECISION, exit 3; the default) or approve")
    parser.add_argument("--accept-partial", action="store_true",
                        help="judge a run that deselected tests (-k, -m, --lf, --sw, "
                             "--deselect) instead of refusing it")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", default=None, type=_iso_date,
                        help="judge waiver expiry as of this day (default: today's date in UTC)")


def verdict_from_args(args: argparse.Namespace) -> Verdict:
    return gate(args.bundle, waivers=args.waivers, policy=args.policy, as_of=args.as_of,
                inconclusive=args.inconclusive, accept_partial=args.accept_partial)


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def run(args: argparse.Namespace) -> int:
    written = None
    if args.registry:
        from mlqa.registry.mlflow import gate_into_registry, parse_model_uri

        verdict, written = gate_into_registry(
            args.bundle, args.registry, uri=args.tracking_uri, waivers=args.waivers,
            policy=args.policy, as_of=args.as_of, inconclusive=args.inconclusive,
            accept_partial=args.accept_partial)
    else:
        verdict = verdict_from_args(args)
    if args.junitxml:
        from mlqa.report.gate_junit import write_verdict

        write_verdict(verdict, Path(args.junitxml))
    try:
        _print(verdict, sys.stdout)
        if written is not None:
            print(f"mlqa gate: {written.line(parse_model_uri(args.registry))}")
    except BrokenPipeError:  # ``mlqa gate | head``: the verdict stands, the rest is unread
        from mlqa.cli import quiet_stdout

        quiet_stdout()
    return verdict.exit_code


def _print(verdict: Verdict, out: Any) -> None:
    # Node ids and messages come from the code under test: no escape sequence or control
    # character of theirs reaches the terminal (one_line strips them, as the HTML escapes).
    print(f"mlqa gate: {one_line(verdict.headline(), 2000)}", file=out)
    shown = [c for c in verdict.worst_first() if c.blocks or c.asks]
    for c in shown:
        tag = ("BLOCKS " if c.blocks else "ASKS   ") + c.outcome.upper()
        note = " (advisory)" if c.advisory else ""
        print(f"  {tag:<20} {one_line(c.nodeid, 300)}{note}: {one_line(c.message, 300)}",
              file=out)
    for c in verdict.reruns:
        n = c.record.reruns
        print(f"  RERUN   {one_line(c.nodeid, 300)}: this line is from attempt {n + 1}; "
              f"{n} earlier attempt{'s' * (n != 1)} failed (pytest-rerunfailures)", file=out)
    for use in verdict.waivers:
        w = use.waiver
        state = use.status if use.status != VALID or use.used_by else "valid, unused"
        print(f"  waiver {w.source}:{w.line} {one_line(w.check, 200)!r} by "
              f"{one_line(w.approver, 200)} until {w.expires.isoformat()}: {state}", file=out)
    if verdict.waivers:  # the date expiry was judged on, where a waiver was judged
        print(f"  waivers judged as of {verdict.judged_as_of}", file=out)
    out.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
