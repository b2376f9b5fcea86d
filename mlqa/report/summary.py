"""``mlqa summary BUNDLE``: the checks of a run, worst first, and a count per outcome."""

from __future__ import annotations

import argparse
from collections import Counter

from mlqa._text import one_line
from mlqa.report import bundle

_ORDER = ("error", "fail", "inconclusive", "waived", "pass")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="results folder (--mlqa-results) or its results.jsonl")


def run(args: argparse.Namespace) -> int:
    records = bundle.read(args.bundle)
    rank = {o: i for i, o in enumerate(_ORDER)}
    records.sort(key=lambda r: (rank.get(r["result"].get("outcome"), len(_ORDER)),
                                r.get("nodeid", "")))
    counts = Counter(r["result"].get("outcome") for r in records)
    for r in records:
        result = r["result"]
        print(f"{str(result.get('outcome')).upper():<13} {r.get('nodeid', '?')}: "
              f"{one_line(result.get('message', ''), 300)}")
    total = len(records)
    print(f"{total} check{'s' * (total != 1)}: "
          + ", ".join(f"{counts[o]} {o}" for o in _ORDER if counts[o]))
    return 0
