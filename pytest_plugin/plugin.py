"""Entry point (``pytest11``): options, markers, and the recorder registered at configure."""

from __future__ import annotations

import pytest
from pytest_mlqa.recorder import Recorder

# One module per concept, loaded with this one (and blocked with it by -p no:mlqa):
pytest_plugins = [
    "pytest_mlqa.baseline",  # --mlqa-baseline, the mlqa_baseline fixture
    "pytest_mlqa.history",  # each run's rows added to the baseline store's history
    "pytest_mlqa.latency",  # the mlqa_device fixture
    "pytest_mlqa.progress",  # long checks show progress in the terminal
    "pytest_mlqa.slices",  # the mlqa_slices marker: one test case per slice
    "pytest_mlqa.suites",  # *.mlqa.yaml files: one test per check
]

MARKERS = (
    "mlqa: a model-quality check (select them with -m mlqa)",
    "gpu: needs a CUDA device; skipped without one, an error under --mlqa-require-gpu",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlqa", "mlqa model-quality checks")
    group.addoption("--mlqa-inconclusive", choices=("fail", "warn", "pass"), default="warn",
                    help="how an INCONCLUSIVE check counts: fail the test, pass it with a "
                         "warning (default), or pass it silently")
    group.addoption("--mlqa-results", metavar="DIR", default=None,
                    help="write the results bundle (one JSON line per check) to DIR")
    group.addoption("--mlqa-waivers", metavar="FILE", default=None,
                    help="reviewed waivers (YAML): a failing check a valid waiver covers is "
                         "reported as waived (skipped) instead of failed")
    group.addoption("--mlqa-require-gpu", action="store_true", default=False,
                    help="a device check without a GPU is an error instead of a skip")
    group.addoption("--mlqa-device", default=None, metavar="DEVICE",
                    help="device latency checks measure on (cpu, cuda, cuda:1, auto), "
                         "overriding what tests ask for")


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    config.pluginmanager.register(Recorder(config), "mlqa-recorder")
