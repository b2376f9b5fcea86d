"""Baselines in pytest: ``--mlqa-baseline``, ``--mlqa-save-baseline`` and the ``mlqa_baseline``
fixture. Importing this module costs nothing: the library is imported when a test asks for the
fixture or a run saves a record.

Under pytest-xdist each worker writes what its tests saved to a staging folder the controller
created; the controller merges the parts into one record once the run has passed.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

import pytest

_session_key = pytest.StashKey[Any]()
_STAGING = "mlqa_baseline_staging"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlqa")
    group.addoption("--mlqa-baseline", metavar="PATH|URL|maven:G:A:V|mlflow:models:/M@A",
                    default=None,
                    help="baseline store: a folder (default .mlqa/baselines) or an http(s) "
                         "URL of a raw/generic repository (credentials from MLQA_STORE_USER/"
                         "MLQA_STORE_PASSWORD or MLQA_STORE_TOKEN); or a release published "
                         "with 'mlqa publish maven': maven:GROUP:ARTIFACT:VERSION (RELEASE, "
                         "LATEST, a version or a range like [1.0,2.0)) in --mlqa-maven-repo; or a "
                         "registered MLflow model version gated with 'mlqa gate --registry': "
                         "mlflow:models:/NAME@ALIAS or mlflow:models:/NAME/VERSION (tracking "
                         "URI from $MLFLOW_TRACKING_URI; needs mlqa[mlflow])")
    group.addoption("--mlqa-maven-repo", metavar="PATH|URL", default=None,
                    help="the Maven repository a maven: baseline is resolved in (default "
                         "$MLQA_MAVEN_REPO; credentials from MLQA_MAVEN_USERNAME/"
                         "MLQA_MAVEN_PASSWORD or MLQA_MAVEN_TOKEN)")
    group.addoption("--mlqa-baseline-ref", metavar="REF", default=None,
                    help="record the mlqa_baseline fixture compares against: an alias or a "
                         "record id (default: approved)")
    group.addoption("--mlqa-save-baseline", action="store_true", default=False,
                    help="if the run passes, save what tests recorded through mlqa_baseline "
                         "(model, predictions and metric values, latency runs, drift "
                         "references) as one new record and point the 'latest' alias at it")
    group.addoption("--mlqa-trust-model", action="store_true", default=False,
                    help="allow model files from the store in formats that run code when "
                         "loaded (pickle, joblib, torch.save); only for files you trust")
    parser.addini("mlqa_baseline", "baseline store (folder or URL), as --mlqa-baseline")
    parser.addini("mlqa_baseline_ref", "record or alias compared against (default: approved)")
    parser.addini("mlqa_maven_repo", "Maven repository of a maven: baseline, as "
                                      "--mlqa-maven-repo")


def _setting(config: pytest.Config, name: str) -> str | None:
    return config.getoption(name) or config.getini(name) or None


def _session(config: pytest.Config) -> Any:
    session = config.stash.get(_session_key, None)
    if session is None:
        from mlqa.baseline.session import BaselineSession

        # an option is relative to where pytest was started, the ini key to its ini file
        location, base = config.getoption("mlqa_baseline"), config.invocation_params.dir
        if location is None:
            location = config.getini("mlqa_baseline") or None
            base = config.inipath.parent if config.inipath else config.rootpath
        source = None
        if location is not None and location.startswith("maven:"):
            source = _maven_baseline(config, location)
            location = None  # this run's record, if saved, goes to the default store
        elif location is not None and location.startswith("mlflow:"):
            from mlqa.registry.mlflow import MlflowBaseline

            source, location = MlflowBaseline(location), None
        if location is None:
            location = str(config.invocation_params.dir / ".mlqa" / "baselines")
        elif "://" not in location:
            location = str(base / location)
        session = BaselineSession(location, ref=_setting(config, "mlqa_baseline_ref") or
                                  "approved", trust_model=config.getoption("mlqa_trust_model"),
                                  save=config.getoption("mlqa_save_baseline"), source=source)
        config.stash[_session_key] = session
    return session


def _maven_baseline(config: pytest.Config, spec: str) -> Any:
    """``maven:G:A:V`` resolved in ``--mlqa-maven-repo`` (relative to where pytest started),
    the ini key (relative to the ini file) or ``$MLQA_MAVEN_REPO``, when a test asks."""
    from mlqa.baseline.maven import MavenBaseline

    repo, base = config.getoption("mlqa_maven_repo"), config.invocation_params.dir
    if repo is None:
        repo = config.getini("mlqa_maven_repo") or None
        base = config.inipath.parent if config.inipath else config.rootpath
    if repo is not None and "://" not in repo:
        repo = str(base / repo)
    return MavenBaseline(spec, repo)


def saved_by(config: pytest.Config) -> set[str]:
    """Node ids of the tests that saved into this run's record (none if no test asked)."""
    session = config.stash.get(_session_key, None)
    return set() if session is None else session.saved_by


@pytest.fixture(scope="session")
def mlqa_baseline(pytestconfig: pytest.Config) -> Any:
    """The run's :class:`mlqa.baseline.session.BaselineSession`: ``.predictions(name)`` etc.
    read the baseline record (``--mlqa-baseline``, ``--mlqa-baseline-ref``); ``.save_*`` collect
    this run's record, written when ``--mlqa-save-baseline`` is given and the run passes."""
    return _session(pytestconfig)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    bundle = _bundle_dir(config)
    if bundle is not None:  # a reference left by an earlier run must not be promoted
        (bundle / BUNDLE_REFERENCE).unlink(missing_ok=True)
    if config.getoption("mlqa_save_baseline"):
        config.stash[_staging_key] = tempfile.mkdtemp(prefix="mlqa-baseline-")


BUNDLE_REFERENCE = "baseline.json"  # in the results bundle: the record this run saved


def _bundle_dir(config: pytest.Config) -> Any:
    results = config.getoption("mlqa_results", None)
    return None if results is None else config.invocation_params.dir / results


_staging_key = pytest.StashKey[str]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:  # pytest-xdist: tell workers where parts go
    staging = node.config.stash.get(_staging_key, None)
    if staging is not None:
        node.workerinput[_STAGING] = staging


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not config.getoption("mlqa_save_baseline"):
        return
    mine = config.stash.get(_session_key, None)
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:  # an xdist worker: stage its part for the controller
        if mine is not None and mine.builder:
            from mlqa.baseline.stores import LocalStore

            mine.builder.save(LocalStore(workerinput[_STAGING]), aliases=())
        return
    staging = config.stash.get(_staging_key, None)
    try:
        line = _write(config, mine, staging, exitstatus)
        config.stash[_outcome_key] = line
        if line.startswith("baseline NOT saved"):  # asked for and failed: the build must see it
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


_outcome_key = pytest.StashKey[str]()


def _write(config: pytest.Config, mine: Any, staging: str | None, exitstatus: int) -> str:
    if exitstatus != 0:
        return "baseline not saved: the run did not pass"
    recorder = config.pluginmanager.get_plugin("mlqa-recorder")
    refusal = None if recorder is None else recorder.blocking()
    if refusal is not None:
        return f"baseline not saved: {refusal}"
    from mlqa.baseline.errors import BaselineError
    from mlqa.baseline.records import load_record, record_ids
    from mlqa.baseline.stores import LocalStore

    parts = []
    if staging is not None:
        stage = LocalStore(staging)
        parts = [load_record(stage, i) for i in record_ids(stage)]
    session = mine or _session(config)
    try:
        record_id = session.write(parts=parts)
    except BaselineError as exc:
        return f"baseline NOT saved: {exc}"
    if record_id is None:
        return "baseline not saved: no test recorded anything through mlqa_baseline"
    bundle = _bundle_dir(config)
    if bundle is not None:  # so that 'mlqa baseline promote BUNDLE' finds the record
        import json

        bundle.mkdir(parents=True, exist_ok=True)
        (bundle / BUNDLE_REFERENCE).write_text(json.dumps(
            {"schema": 1, "store": session.store.location, "record": record_id}) + "\n")
    return f"baseline record {record_id} saved to {session.store.location} (alias latest)"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    line = config.stash.get(_outcome_key, None)
    if line is not None:
        terminalreporter.write_sep("-", f"mlqa: {line}")
