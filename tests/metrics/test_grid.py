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
CELLS = [  # metric, n, setting, replicates
    ("f1", 100, "pi=0.1", REPS), ("f1", 500, "pi=0.02", REPS),
    ("balanced_accuracy", 100, "pi=0.1", REPS),
    ("roc_auc", 100, "pi=0.1", REPS), ("roc_auc", 500, "pi=0.02", REPS),
    # the cell the bootstrap alone missed (4.2% false PASS at 1000 replicates): 400 replicates
    # put the bound at 4.1%, so the check can fail; and a low AP with 10 positives, where
    # Boyd et al.'s binomial model alone approves too often and the bootstrap holds
    ("average_precision", 100, "pi=0.5", 400), ("average_precision", 100, "pi=0.1", REPS),
    ("log_loss", 100, "pi=0.1", REPS),
    ("rmse", 100, "gauss", 400), ("rmse", 100, "t3", REPS), ("rmse", 500, "t3", REPS),
    ("r2", 100, "gauss", REPS), ("r2", 500, "t3", REPS),
]
_POPULATIONS: dict[str, dict] = {}
# clean Gaussian errors: the loss tail rule refuses about a fifth at 100 rows (its Gaussian
# spread level, 80%), fewer above; a gate that refused most of them would not be usable
MAX_GAUSSIAN_REFUSED = 0.3


@pytest.mark.statistical
@pytest.mark.parametrize("metric, n, setting, reps", CELLS)
def test_cell_keeps_its_promise(metric, n, setting, reps):
    pop = _POPULATIONS.setdefault(setting, grid.population(setting, POPULATION))
    truth = grid.truth_of(metric, pop)
    cell = grid.run_cell(metric, n, setting, reps, pop, truth, seed=7)
    print(grid.table([cell]).splitlines()[-1])
    assert cell.pass_rate <= cell.pass_bound, f"false PASS rate {cell.pass_rate:.3f}"
    assert cell.coverage_ok, f"coverage {cell.coverage:.3f} of {cell.intervals} intervals"
    if cell.refused:
        assert cell.reason, "a refusal names its reason"
    if setting == "gauss":
        assert cell.refused / cell.reps <= MAX_GAUSSIAN_REFUSED, cell.reason
