"""``mlqa baseline list|show|promote``: the gatekeeper's view of the baseline store.

``promote`` points the ``approved`` alias (what the next runs compare against) at a record,
after verifying it; with ``--bundle`` it refuses a run whose results hold a failed or errored
check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mlqa._text import fmt_num, one_line
from mlqa.baseline.records import APPROVED, LATEST, aliases, listing, load_record, set_alias
from mlqa.baseline.reference import read_reference
from mlqa.baseline.stores import open_store
from mlqa.gate import add_gate_options

STORE_ENV = "MLQA_BASELINE"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", default=os.environ.get(STORE_ENV),
                        help=f"baseline store: folder or http(s) URL (default ${STORE_ENV}, "
                             f"else .mlqa/baselines)")
    action = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    action.add_parser("list", parents=[common],
                      help="the records in the store, oldest first, with aliases")
    show = action.add_parser("show", parents=[common],
                             help="one record: model, evaluations, metrics, provenance")
    show.add_argument("ref", nargs="?", default=APPROVED, help="record id or alias "
                                                              "(default: approved)")
    show.add_argument("--json", action="store_true", help="print the record's JSON")
    promote = action.add_parser("promote", parents=[common],
                                help="make a record the approved baseline")
    promote.add_argument("ref", nargs="?", default=LATEST,
                         help="record id or alias to promote (default: latest), or the results "
                              "bundle of a run saved with --mlqa-save-baseline: its record, in "
                              "the store it was saved to")
    promote.add_argument("--alias", default=None,
                         help="alias to set (default: approved; champion with --registry)")
    promote.add_argument("--by", default=os.environ.get("USER"), help="who approves")
    promote.add_argument("--reason", default=None, help="why (kept in the alias file)")
    promote.add_argument("--bundle", default=None,
                         help="results bundle of the run: refuse unless the gate approves it "
                              "(NEEDS A DECISION only with --reason)")
    add_gate_options(promote)  # judged as `mlqa gate` and `mlqa publish maven` judge
    promote.add_argument("--registry", metavar="models:/NAME@ALIAS|models:/NAME/VERSION",
                         default=None,
                         help="promote in the MLflow registry instead: move the alias (default "
                              "champion) to this version, which 'mlqa gate --registry' "
                              "approved; --by and --reason become tags (needs mlqa[mlflow])")
    promote.add_argument("--tracking-uri", default=None,
                         help="MLflow tracking URI for --registry (default "
                              "$MLFLOW_TRACKING_URI)")


def run(args: argparse.Namespace) -> int:
    if args.action == "promote" and args.registry:
        return _promote_registry(args)
    if args.action == "promote":
        args.alias = args.alias or APPROVED
    if args.action == "promote" and _is_bundle(args.ref):
        return _promote_run(args)
    store = open_store(args.store)
    if args.action == "list":
        return _list(store)
    if args.action == "show":
        return _show(store, args.ref, args.json)
    return _promote(store, args)


def _list(store) -> int:
    ids, late = listing(store)
    for slot in late:  # said first and on stderr: the list below may be short
        print(f"warning: index slot {slot} of {store.location} was claimed more slowly than "
              f"the store's settle time, or over another writer's entry: a record saved at the "
              f"same moment may be missing from this list (it stays in the store under "
              f"records/)", file=sys.stderr)
    pointed: dict[str, list[str]] = {}
    for alias, record_id in aliases(store).items():
        pointed.setdefault(record_id, []).append(alias)
    if not ids:
        print(f"no baseline records in {store.location}")
        return 0
    for record_id in ids:
        record = load_record(store, record_id)
        model = record.model
        tags = f"  [{', '.join(sorted(pointed[record_id]))}]" if record_id in pointed else ""
        print(f"{record_id}  {model.get('name') or '-'} {model.get('version') or '-'}  "
              f"evaluations: {', '.join(record.evaluations) or '-'}{tags}")
    return 0


def _show(store, ref: str, as_json: bool) -> int:
    record = load_record(store, ref)
    if as_json:
        print(json.dumps(record.doc, indent=1, sort_keys=True))
        return 0
    model = record.model
    print(f"record   {record.id}  ({store.location})")
    print(f"created  {record.created}")
    print(f"model    {model.get('name') or '-'} {model.get('version') or '-'}  "
          f"sha256 {str(model.get('sha256') or '-')[:16]}  format {model.get('format') or '-'}")
    for name, entry in sorted(record.doc.get("evaluations", {}).items()):
        metrics = ", ".join(f"{m} {fmt_num(v['value'])}" for m, v in
                            sorted(entry.get("metrics", {}).items()))
        print(f"eval     {name}: n={entry.get('n')}  {metrics}  "
              f"labels {entry['fingerprint']['labels_sha256'][:12]}")
    for name, entry in sorted(record.doc.get("latency", {}).items()):
        env = entry.get("environment", {})
        where = ", ".join(str(env[k]) for k in ("device", "device_name") if env.get(k))
        if entry.get("kind") == "runs":
            print(f"latency  {name}: {entry.get('runs')} run(s), batch sizes "
                  f"{entry.get('batch_sizes')}, on {where or '-'}")
        else:
            print(f"latency  {name}: {entry.get('n')} samples (one run), on {where or '-'}")
    for name, entry in sorted(record.doc.get("drift_references", {}).items()):
        kind = "profile" if entry.get("kind") == "profile" else "data"
        print(f"drift    {name}: {kind}, {entry.get('rows')} rows x "
              f"{len(entry.get('columns', []))} cols")
    prov = record.provenance
    source = {"git": (prov.get("git") or {}).get("commit"),
              **{k.lower(): v for k, v in (prov.get("jenkins") or {}).items()
                 if k in ("BUILD_URL", "BUILD_NUMBER")},
              "host": (prov.get("platform") or {}).get("node")}
    print("source   " + ", ".join(f"{k}={v}" for k, v in source.items() if v))
    return 0


def _gate_refuses(args: argparse.Namespace) -> str | None:
    """Why the run's bundle may not become the baseline, or None: the gate must approve it;
    a run that NEEDS A DECISION (an INCONCLUSIVE check, a skipped one) only with a reason,
    which the alias file keeps."""
    from mlqa import gate

    verdict = gate.verdict_from_args(args)
    if verdict.decision == gate.APPROVE:
        return None
    if verdict.decision == gate.DECIDE and args.reason:
        return None
    hint = " (give --reason to accept it)" if verdict.decision == gate.DECIDE else ""
    return f"the gate says {one_line(verdict.headline(), 300)}{hint}"


def _is_bundle(ref: str) -> bool:
    path = Path(ref)
    return path.is_dir() or path.name == "results.jsonl"


def _promote_run(args: argparse.Namespace) -> int:
    """Promote the record a run saved, found through its results bundle (the Jenkinsfile's
    'Promote baseline' stage, after the gate and the gatekeeper's approval)."""
    folder = Path(args.ref) if Path(args.ref).is_dir() else Path(args.ref).parent
    reference = read_reference(folder)
    if reference is None:
        print(f"mlqa baseline promote: nothing promoted: the run in {folder} saved no baseline "
              f"record (run pytest with --mlqa-save-baseline and tests that record through "
              f"the mlqa_baseline fixture)")
        return 0
    store_location, record_id = args.store or reference[0], reference[1]
    args.bundle = args.bundle or str(folder)
    args.ref = record_id
    return _promote(open_store(store_location), args)


def _promote(store, args: argparse.Namespace) -> int:
    if args.bundle:
        refusal = _gate_refuses(args)
        if refusal is not None:
            print(f"mlqa baseline promote: refused: {refusal}")
            return 1
    record_id = set_alias(store, args.alias, args.ref, by=args.by, reason=args.reason)
    print(f"{args.alias} -> {record_id} in {store.location}")
    _mark_history(args, APPROVED)
    return 0


def _mark_history(args: argparse.Namespace, approving_alias: str) -> None:
    """The promoted run's build is marked approved in the history it added to (the trend
    page marks it; a gate against the approved release reads the alias just set). The same
    for a store's ``approved`` and the registry's ``champion``: moving another alias (a
    ``staging``, say) approves nothing."""
    if not args.bundle or args.alias != approving_alias:
        return
    from mlqa.history.bundle import mark_after

    mark_after("mlqa baseline promote", args.bundle, "approved", by=args.by, reason=args.reason)


def _promote_registry(args: argparse.Namespace) -> int:
    """Move the MLflow alias (``champion``): the version must carry the gate's APPROVE; with a
    bundle (``--bundle``, or one given as REF) the gate judges it again and it must be the
    bundle the version was approved for."""
    import hashlib

    from mlqa.registry.mlflow import CHAMPION, parse_model_uri, promote

    bundle = args.bundle or (args.ref if _is_bundle(args.ref) else None)
    bundle_sha = None
    if bundle:
        args.bundle = bundle
        refusal = _gate_refuses(args)
        if refusal is not None:
            print(f"mlqa baseline promote: refused: {refusal}")
            return 1
        folder = Path(bundle) if Path(bundle).is_dir() else Path(bundle).parent
        bundle_sha = hashlib.sha256((folder / "results.jsonl").read_bytes()).hexdigest()
    args.alias = args.alias or CHAMPION
    version = promote(args.registry, uri=args.tracking_uri, alias=args.alias, by=args.by,
                      reason=args.reason, bundle_sha256=bundle_sha)
    print(f"{args.alias} -> models:/{parse_model_uri(args.registry).name}/{version} in the "
          f"MLflow registry")
    _mark_history(args, CHAMPION)
    return 0
