"""History across builds: a run with ``--mlqa-results`` and a baseline store (``--mlqa-baseline``
or the ``mlqa_baseline`` ini key) adds one row per check to the store's history
(:mod:`mlqa.history`), once, from the controlling process, after the bundle is merged."""

from __future__ import annotations

from collections.abc import Generator

import pytest


def _store_named(config: pytest.Config) -> bool:
    return bool(config.getoption("mlqa_baseline", None) or config.getini("mlqa_baseline"))


def pytest_configure(config: pytest.Config) -> None:
    results = config.getoption("mlqa_results", None)
    if results is not None and not hasattr(config, "workerinput"):
        from mlqa.history.bundle import forget

        forget(config.invocation_params.dir / results)


# tryfirst: the outermost wrapper, so this runs after the recorder merged the bundle.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    result = yield
    config = session.config
    recorder = config.pluginmanager.get_plugin("mlqa-recorder")
    if recorder is None or not recorder.is_controller or recorder.results_dir is None \
            or not _store_named(config) or getattr(recorder, "bundle_file", None) is None:
        return result
    from mlqa.baseline.errors import BaselineError
    from mlqa.errors import InputError
    from mlqa.history.bundle import record_run

    from .baseline import _session

    terminal = config.pluginmanager.get_plugin("terminalreporter")
    try:
        store = _session(config).store
        entry = record_run(recorder.results_dir, store)
    except (BaselineError, InputError, OSError) as exc:
        # Asked for (a store was named) and not kept: the build must see it, as with a
        # baseline that was not saved.
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        if terminal is not None:
            terminal.write_line(f"mlqa: history NOT updated: {exc}", red=True)
        return result
    if terminal is not None:
        terminal.write_line(f"mlqa: history entry {entry} added to {store.location}")
    return result
