"""A small seeded version of the metric validation grid (benchmarks/metric_grid.py, issue 12.2).

With the requirement exactly at the population's true value, a PASS is a false approval: its
rate must stay at or below α/2 plus two standard errors; where an interval is given it must
cover the truth 93-97% of the time (± 2 SE), or the check must refuse (INCONCLUSIVE naming
why). The cells are the thin ones the audit found broken: few positives, skewed losses, t(3)
errors.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("metric_grid",
                                               ROOT / "benchmarks" / "metric_grid.py")
assert _spec is not None and _spec.loader is not None
grid = importlib.util.module_from_spec(_spec)
sys.modules["metric_grid"] = grid  # dataclasses look their module up there
_spec.loader.exec_module(grid)

REPS = 150
POPULATION = 100_000
CELLS = [  # metric, n, setting
    ("f1", 100, "pi=0.1"), ("f1", 500, "pi=0.02"),
    ("balanced_accuracy", 100, "pi=0.1"),
    ("roc_auc", 100, "pi=0.1"), ("roc_auc", 500, "pi=0.02"),
    ("average_precision", 500, "pi=0.1"),
    ("log_loss", 100, "pi=0.1"),
    ("rmse", 500, "gauss"), ("rmse", 500, "t3"), ("r2", 500, "t3"),
]
_POPULATIONS: dict[str, dict] = {}


@pytest.mark.statistical
@pytest.mark.parametrize("metric, n, setting", CELLS)
def test_cell_keeps_its_promise(metric, n, setting):
    pop = _POPULATIONS.setdefault(setting, grid.population(setting, POPULATION))
    truth = grid.truth_of(metric, pop)
    cell = grid.run_cell(metric, n, setting, REPS, pop, truth, seed=7)
    print(grid.table([cell]).splitlines()[-1])
    assert cell.pass_rate <= cell.pass_bound, f"false PASS rate {cell.pass_rate:.3f}"
    assert cell.coverage_ok, f"coverage {cell.coverage:.3f} of {cell.intervals} intervals"
    if cell.refused:
        assert cell.reason, "a refusal names its reason"
