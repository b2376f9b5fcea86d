"""``mlqa verify maven-repo FOLDER|URL``: is a Maven repository consistent?

Exit 0 consistent, 1 inconsistent (each problem is printed), 2 not a folder to check."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    repo = sub.add_parser("maven-repo", help="layout, checksums, metadata and the evidence "
                                             "of every version")
    repo.add_argument("folder", metavar="FOLDER|URL",
                      help="the Maven repository: a folder, or an http(s) URL (credentials "
                           "from MLQA_MAVEN_USERNAME/MLQA_MAVEN_PASSWORD or MLQA_MAVEN_TOKEN)")
    repo.add_argument("--gav", metavar="GROUP:ARTIFACT[:VERSION]", default=None,
                      help="check only this artifact or version (needed for a URL: a server "
                           "cannot be listed)")


def run(args: argparse.Namespace) -> int:
    from mlqa.publish.maven_verify import verify

    problems = verify(args.folder, gav=args.gav)
    for problem in problems:
        print(f"  {problem}")
    what = args.gav or args.folder
    print(f"mlqa verify: {what}: " + (f"{len(problems)} problem{'s' * (len(problems) != 1)}"
                                      if problems else "consistent"))
    return 1 if problems else 0
