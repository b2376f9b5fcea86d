"""``mlqa summary BUNDLE``: the checks of a run, worst first, and a count per outcome."""

from __future__ import annotations

import argparse
from collections import Counter

from mlqa._text import one_line
from mlqa.report import bundle
from mlqa.result import severity, worst_first


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="results folder (--mlqa-results) or its results.jsonl")


def run(args: argparse.Namespace) -> int:
    records = bundle.read(args.bundle)
    records.sort(key=lambda r: (-severity(str(r["result"].get("outcome"))),
                                r.get("nodeid", "")))
    counts = Counter(r["result"].get("outcome") for r in records)
    for r in records:
        result = r["result"]
        print(f"{str(result.get('outcome')).upper():<13} {r.get('nodeid', '?')}: "
              f"{one_line(result.get('message', ''), 300)}")
    total = len(records)
    print(f"{total} check{'s' * (total != 1)}: "
          + ", ".join(f"{counts[o]} {o}" for o in worst_first(map(str, counts))))
    return 0
