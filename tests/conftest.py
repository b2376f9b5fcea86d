"""Fixtures shared by the project's own tests."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
import sklearn.metrics  # noqa: F401

import mlqa

sys.path.insert(0, str(Path(__file__).parent))  # the helper modules named _*.py, by name
from _browser import chromium_runner  # noqa: E402
from _verdict import assert_one_verdict  # noqa: E402

# pytester's in-process runs (runpytest) drop the modules first imported inside them: C
# extensions (numpy above all) then refuse a second import, and a re-imported mlqa module makes
# classes the outer test's objects are not instances of. Import the library (and with it the
# scientific stack) once, here, so every in-process run finds it loaded.
for _module in pkgutil.walk_packages(mlqa.__path__, "mlqa."):
    importlib.import_module(_module.name)
# torch too (mlqa imports it lazily): first imported inside one in-process run, dropped, and
# imported again by the next, it crashed the process in the garbage collector (a segmentation
# fault: tests/regression/test_anchor.py then tests/suites/test_collection.py, in one process,
# -k "yaml_latency or latency_slo").
with contextlib.suppress(ImportError):
    import torch  # noqa: F401

# Nothing may call home from a test run (evidently reads this; so do other libraries).
os.environ.setdefault("DO_NOT_TRACK", "1")

# Every pytest these tests start (pytester runs, example suites, xdist workers) leaves out the
# third-party plugins that the dev install drags in and no test uses: faker (via polyfactory)
# and anyio (via httpx/litestar), both from evidently, which only the dev extra installs now
# (mlqa[evidently]; a user's core install has neither), and hypothesis's pytest plugin: together
# about 1.7 s of CPU per process and 5 s per `-n 2` run, and the suite starts a few hundred.
# `-p no:NAME` blocks a plugin that is installed and is a no-op for one that is not.
# mlqa, xdist and rerunfailures still load through their entry points as on a user's machine;
# the tests that check the plugin as installed (tests/plugin/test_light_and_registered.py, the
# README's main job) run with the environment as found (`PLUGINS_OFF` names what to remove).
PLUGINS_OFF = "-p no:faker -p no:anyio -p no:hypothesispytest"


def _addopts_not_ours() -> str:
    """``PYTEST_ADDOPTS`` as the environment set it, without ``PLUGINS_OFF``."""
    return os.environ.get("PYTEST_ADDOPTS", "").replace(PLUGINS_OFF, "").strip()


os.environ["PYTEST_ADDOPTS"] = " ".join(filter(None, [_addopts_not_ours(), PLUGINS_OFF]))


@pytest.fixture
def plugins_as_installed(monkeypatch):
    """Child pytest runs load every installed plugin, as a user's `pytest` does."""
    rest = _addopts_not_ours()
    if rest:
        monkeypatch.setenv("PYTEST_ADDOPTS", rest)
    else:
        monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)


@pytest.fixture
def pytester(pytester, request, monkeypatch):
    """pytest's own, with PLUGINS_OFF put back: pytester drops PYTEST_ADDOPTS on purpose (the
    outer run's options must not leak in), and these options are the environment's, not ours."""
    if "plugins_as_installed" not in request.fixturenames:
        monkeypatch.setenv("PYTEST_ADDOPTS", PLUGINS_OFF)
    return pytester

ROOT = Path(__file__).resolve().parent.parent
# MLQA_JENKINS_CHECKER points elsewhere (a git worktree beside the checkout has no ../shared).
JENKINS_CHECKER = Path(os.environ.get("MLQA_JENKINS_CHECKER") or
                       ROOT.parent / "shared" / "jenkins" / "jenkins_junit_check.py")


@pytest.fixture
def jenkins_check():
    """Run shared/jenkins/jenkins_junit_check.py --strict on a JUnit file; returns its JSON.

    Skips when ../shared/jenkins is absent, except under MLQA_REQUIRE_SHARED=1 (CI), where its
    absence fails the test: a report nobody checked must not pass as checked.
    """
    if not JENKINS_CHECKER.exists():
        if os.environ.get("MLQA_REQUIRE_SHARED") == "1":
            pytest.fail(f"MLQA_REQUIRE_SHARED=1 but the Jenkins checker is missing: "
                        f"{JENKINS_CHECKER}")
        pytest.skip(f"Jenkins JUnit checker not found at {JENKINS_CHECKER}")

    def check(path: str | os.PathLike[str], *extra: str) -> dict:
        proc = subprocess.run(
            [sys.executable, str(JENKINS_CHECKER), "--strict", "--json", *extra, str(path)],
            capture_output=True, text=True, check=False)
        try:
            verdict = json.loads(proc.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"Jenkins checker gave no JSON (rc={proc.returncode}):\n"
                        f"{proc.stdout}\n{proc.stderr}")
        problems = [f for f in verdict.get("findings", [])
                    if f.get("severity") in ("error", "warning")]
        assert proc.returncode == 0 and verdict["ok"], \
            f"Jenkins checker not clean on {path}:\n" + "\n".join(map(str, problems))
        return verdict

    return check


@pytest.fixture
def chromium(tmp_path: Path):
    """``run(page, *flags) -> (stdout, urls the page requested)`` in headless Chromium,
    offline (tests/_browser.py); skips where chromium is missing, fails on CI."""
    return chromium_runner(tmp_path)


@pytest.fixture
def one_verdict():
    """:func:`assert_one_verdict`, for tests that run a suite with --junitxml and
    --mlqa-results."""
    return assert_one_verdict


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory):
    """A migrated sqlite MLflow tracking database, made once per session (tests/_mlflow_store)."""
    from _mlflow_store import migrated_template

    return migrated_template(tmp_path_factory.mktemp("mlflow-template"))


@pytest.fixture
def mlflow_store(mlflow_template, tmp_path, monkeypatch):
    """A fresh tracking store (a copy of the template) as ``$MLFLOW_TRACKING_URI``."""
    from _mlflow_store import TrackingStore

    store = TrackingStore(mlflow_template, tmp_path / "mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.uri)
    return store


def pytest_collection_modifyitems(config, items):
    """The long tests (marked slow) first, in their order: pytest-xdist hands tests to the
    workers in this order, so the longest start while the short ones fill the other worker,
    instead of one of them running on alone at the end of the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
