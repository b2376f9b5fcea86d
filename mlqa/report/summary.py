"""``mlqa summary BUNDLE``: the checks of a run, worst first, and a count per outcome."""

from __future__ import annotations

import argparse
from collections import Counter

from mlqa._text import one_line
from mlqa.report import bundle
from mlqa.report.bundle import BundleRecord
from mlqa.result import SKIPPED, severity, worst_first


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="results folder (--mlqa-results) or its results.jsonl")


def _word(record: BundleRecord) -> str:
    result = record.check_result
    return SKIPPED if result is None else result.outcome.value


def run(args: argparse.Namespace) -> int:
    records = sorted(bundle.read(args.bundle), key=lambda r: (-severity(_word(r)), r.nodeid))
    counts = Counter(_word(r) for r in records)
    for r in records:
        print(f"{_word(r).upper():<13} {one_line(r.nodeid, 300)}: "
              f"{one_line(r.result.message, 300)}")
    total = len(records)
    print(f"{total} check{'s' * (total != 1)}: "
          + ", ".join(f"{counts[o]} {o}" for o in worst_first(counts)))
    return 0
