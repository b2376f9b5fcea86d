"""``mlqa publish maven``: write an approved release into a Maven repository (a folder, or a
hosted repository over HTTP with credentials from MLQA_MAVEN_USERNAME/MLQA_MAVEN_PASSWORD or
MLQA_MAVEN_TOKEN).

After publishing, the run's build is marked ``released`` in the history it added to (see
:mod:`mlqa.history`).

Exit 0 published, 1 the gate did not approve (nothing written), 2 bad input or a release
version that is already there (nothing overwritten)."""

from __future__ import annotations

import argparse
import sys

from mlqa.gate import add_gate_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    maven = sub.add_parser("maven", help="a Maven repository, folder or http(s) URL (jar, "
                                         "POM, evidence zip, checksums, maven-metadata.xml)")
    maven.add_argument("--gav", required=True, metavar="GROUP:ARTIFACT:VERSION",
                       help="coordinates, e.g. com.acme.models:churn:1.4.0 (a -SNAPSHOT "
                            "version gets timestamped names)")
    maven.add_argument("--model", required=True, action="append", metavar="FILE",
                       help="model file to ship in the jar (repeat for several)")
    maven.add_argument("--bundle", required=True, metavar="RESULTS_DIR",
                       help="the run's results folder (--mlqa-results): the gate judges it")
    maven.add_argument("--repo", required=True, metavar="FOLDER|URL",
                       help="the Maven repository to write into: a folder, or the http(s) URL "
                            "of a hosted (release or snapshot) repository, e.g. Nexus' "
                            "https://nexus.example/repository/models/ (credentials from "
                            "MLQA_MAVEN_USERNAME/MLQA_MAVEN_PASSWORD or MLQA_MAVEN_TOKEN)")
    add_gate_options(maven)  # judged as `mlqa gate` judges; the waivers used are zipped too
    maven.add_argument("--checksums", metavar="ALGS", default=None,
                       help="extra checksum files besides .md5/.sha1: sha256, sha512 "
                            "(comma-separated)")


def run(args: argparse.Namespace) -> int:
    from mlqa.publish.maven import parse_checksums, parse_gav, publish

    gav = parse_gav(args.gav)  # bad coordinates are named before the gate runs
    done = publish(args.bundle, gav=gav, models=args.model, repo=args.repo,
                   waivers=args.waivers, checksums=parse_checksums(args.checksums),
                   policy=args.policy, inconclusive=args.inconclusive,
                   accept_partial=args.accept_partial, as_of=args.as_of)
    if not done.files:
        print(f"mlqa publish: not published: the gate says {done.decision.upper()} for "
              f"{args.bundle} (run `mlqa gate` for why); nothing was written", file=sys.stderr)
        return 1
    print(f"mlqa publish: {gav} published to {args.repo} ({len(done.files)} files; "
          f"bundle sha256 {done.bundle_sha256})")
    # the run's build, in the history it added to: released (the trend page marks it)
    from mlqa.history.bundle import mark_after

    mark_after("mlqa publish", args.bundle, "released", reason=f"published as {gav}")
    return 0
