"""The matrix framework module (``_matrix``) is imported by name from the case files, and the
terminal summary counts the cases by class and result."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

_counts: Counter[tuple[str, str]] = Counter()


def pytest_runtest_logreport(report: Any) -> None:
    if report.when != "call" and not (report.when == "setup" and report.failed):
        return
    kind = dict(report.user_properties).get("matrix.class")
    if kind is not None:
        _counts[(str(kind), report.outcome)] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _counts:
        return
    kinds = sorted({k for k, _ in _counts})
    total = sum(_counts.values())
    parts = [f"{k}: {_counts[(k, 'passed')]} held, {_counts[(k, 'failed')]} broken"
             for k in kinds]
    terminalreporter.write_sep("-", f"matrix: {total} cases; " + "; ".join(parts))
