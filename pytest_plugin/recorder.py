"""Maps pytest onto the library: each result a test expects becomes JUnit properties, a line
in the results bundle, and the pass / fail / error / skip DESIGN.md's outcome table gives it."""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from mlqa import policy, recording

_results_key = pytest.StashKey[list]()
_observed_key = pytest.StashKey[list]()  # results of check_* calls the test made, expected or not
_recorded_key = pytest.StashKey[int]()  # how many of the test's results are in the bundle
_attempt_key = pytest.StashKey[int]()  # 1, then 2, 3... when pytest-rerunfailures reruns it
_suite_key = pytest.StashKey[bool]()  # the test belongs to an mlqa suite (it owes evidence)
_failed_key = pytest.StashKey[bool]()  # a phase of this attempt failed
_skipped_key = pytest.StashKey[bool]()  # a phase of this attempt skipped
_MLQA_DIR = Path(__file__).resolve().parent.parent / "mlqa"  # frames here are inside a check
_ERROR = "error"
_OUTCOME_PROP = re.compile(r"mlqa\.(?:\d+\.)?outcome")


class Recorder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        workerinput = getattr(config, "workerinput", None)
        self.is_controller = workerinput is None
        self.worker = "main" if workerinput is None else str(workerinput["workerid"])
        # Every line carries its run's id: the gate refuses a line another run appended.
        self.run_id = uuid.uuid4().hex if workerinput is None else \
            str(workerinput.get("mlqa_run_id", ""))
        results = config.getoption("mlqa_results")
        self.results_dir = None if results is None else \
            (config.invocation_params.dir / results).resolve()
        self.require_gpu = bool(config.getoption("mlqa_require_gpu"))
        self.waivers_file = config.getoption("mlqa_waivers")
        waivers = None if self.waivers_file is None else _load_waivers(config, self.waivers_file)
        self._previous_policy = policy.set_active(policy.Policy(
            inconclusive=config.getoption("mlqa_inconclusive"),
            require_gpu=self.require_gpu, device=config.getoption("mlqa_device"),
            waivers=waivers))
        self._current: pytest.Item | None = None
        self._running: str | None = None  # the mlqa-suite test this worker has marked running
        self._unsubscribe = recording.subscribe(self._on_result)
        self._unsubscribe_start = recording.subscribe_start(self._on_check_start)
        self._unsubscribe_observed = recording.subscribe_observed(self._on_observed)
        self.outcomes: Counter[str] = Counter()
        self.session = SessionTally()
        if self.results_dir is not None:
            from mlqa import provenance

            provenance.clear()  # registrations belong to one run
            if self.is_controller:
                from mlqa.report import bundle, evidence

                bundle.reset(self.results_dir)
                evidence.start(self.results_dir, self.run_id)
                provenance.reset(self.results_dir)
                from mlqa.waivers import keep_in_bundle

                keep_in_bundle(self.results_dir, waivers)

    # -- collecting results --------------------------------------------------------------

    def _on_result(self, result: Any) -> None:
        if self._current is not None:
            self._current.stash[_results_key].append(result)
            self._mark_running(self._current)

    def _on_observed(self, result: Any) -> None:
        if self._current is not None:
            self._current.stash[_observed_key].append(result)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["mlqa_run_id"] = self.run_id  # pytest-xdist: one run, one id

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.session.deselected += len(items)

    def _on_check_start(self) -> None:
        if self._current is not None:
            self._mark_running(self._current)

    def _mark_running(self, item: pytest.Item) -> None:
        """On a pytest-xdist worker, note that an mlqa-suite test is running, so that the
        controller can give it an ERROR line if this process dies inside it (see
        :func:`mlqa.report.evidence.crashed_tests`)."""
        if self.is_controller or self.results_dir is None or self._running == item.nodeid:
            return
        from mlqa.report import evidence

        evidence.mark_running(self.results_dir, self.worker, item.nodeid)
        self._running = item.nodeid

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        item.stash[_results_key] = []
        item.stash[_observed_key] = []
        self._current = item
        if item.get_closest_marker("mlqa") is not None:  # YAML suite items carry it too
            self._mark_running(item)
        try:
            with recording.running_test(item.nodeid):
                return (yield)
        finally:
            self._current = None
            if self._running is not None:
                from mlqa.report import evidence

                assert self.results_dir is not None
                evidence.clear_running(self.results_dir, self.worker)
                self._running = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        attempt = item.stash.get(_attempt_key, 0) + 1
        item.stash[_attempt_key] = attempt
        if attempt > 1:  # a rerun: this attempt's results replace the previous attempt's
            item.stash[_results_key] = []
            item.stash[_observed_key] = []
            item.stash[_recorded_key] = 0
            item.stash[_failed_key] = item.stash[_skipped_key] = False
        if item.get_closest_marker("gpu") is None:
            return
        device = policy.active().device
        if device is not None and not device.startswith("cuda"):
            return  # --mlqa-device moved the device checks off the GPU
        from mlqa.devices import cuda_unavailable_reason

        reason = cuda_unavailable_reason()
        if reason is None:
            return
        if self.require_gpu:
            self._record_error(item, "device", f"--mlqa-require-gpu: {reason}")
            pytest.fail(f"--mlqa-require-gpu: {reason}", pytrace=False)
        pytest.skip(reason)

    # -- mapping outcomes -----------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        results: list[Any] = item.stash.setdefault(_results_key, [])
        skip_reason = None
        if call.excinfo is not None and "mlqa.errors" in sys.modules:
            skip_reason = self._interpret(item, call.excinfo.value)
        report = yield
        if skip_reason is not None:
            path, lineno, _ = item.location
            report.outcome = "skipped"
            report.longrepr = (str(path), (lineno or 0) + 1, f"Skipped: {skip_reason}")
        observed = item.stash.setdefault(_observed_key, [])
        if report.failed and call.excinfo is not None and not results and observed:
            # ``assert mlqa.check_metric(...).passed``: the checks it called are its evidence
            results.extend(observed)
        suite = _in_suite(item, call)
        if suite and report.failed and call.excinfo is not None:
            _explain_failure(item, call)
        elif suite and call.when == "teardown" and not results and not item.stash.get(
                _failed_key, False) and not item.stash.get(_skipped_key, False) and \
                not _saved_baseline(item):
            item.stash[_results_key].append(_evidence_result(
                item, "evidence missing: the test passed without recording any mlqa check "
                      "(call mlqa.expect or an expect_* helper)"))
        if call.when == "teardown" and not report.failed and not item.stash.get(
                _failed_key, False) and not item.stash.get(_skipped_key, False) and (
                self.results_dir is not None or item.get_closest_marker("mlqa") is not None):
            # where the gate will read this test's lines (or the test is in the suite), pytest
            # must not pass what the gate blocks; outside, a test may catch what expect raised
            _fail_if_blocking(report, item.stash[_results_key])
        if call.when == "call" and report.skipped and hasattr(report, "wasxfail") and (
                self.results_dir is not None or item.get_closest_marker("mlqa") is not None):
            # xfail is the author's word, not a reviewed waiver: a blocking line stays red
            _fail_if_blocking(report, results, "the test is marked xfail, which does not "
                                               "waive a check (a waivers file does)")
            if report.failed:
                del report.wasxfail  # JUnit would write an xfail-marked failure as skipped
        item.stash[_failed_key] = item.stash.get(_failed_key, False) or report.failed
        item.stash[_skipped_key] = item.stash.get(_skipped_key, False) or report.skipped
        results = item.stash[_results_key]
        if results:
            _sync_properties(item, results)
            report.user_properties = list(item.user_properties)
            # travels with the report under xdist
            report.mlqa_outcome = _overall(results)  # type: ignore[attr-defined]
        recorded = item.stash.get(_recorded_key, 0)
        written = 0
        if self.results_dir is not None and len(results) > recorded:
            self._write(item, results, recorded, _test_outcome(results, report))
            written = len(results) - recorded
        elif self.results_dir is not None and report.skipped and not results and \
                (skip_reason is not None or suite or item.get_closest_marker("gpu") is not None):
            self._write_skip(item, report)
            written = 1
        item.stash[_recorded_key] = len(results)
        # the session's count of the test's bundle lines, and whether it owes any
        report.mlqa_records = written  # type: ignore[attr-defined]
        report.mlqa_suite = item.stash.get(_suite_key, False)  # type: ignore[attr-defined]
        # a test that saved into the run's baseline record owes no line (the gate knows why)
        report.mlqa_saved = _saved_baseline(item)  # type: ignore[attr-defined]
        return report

    def _interpret(self, item: pytest.Item, exc: BaseException) -> str | None:
        """Attach what an mlqa exception says to the test; return a skip reason if it skips."""
        from mlqa.errors import CheckWaived, DeviceUnavailable, InputError, ResultError

        results = item.stash.setdefault(_results_key, [])
        carried = exc.result if isinstance(exc, ResultError) else None
        if carried is not None and not any(r is carried for r in results):
            results.append(carried)  # raised directly, not through expect()
        if isinstance(exc, CheckWaived):
            return exc.result.message
        if isinstance(exc, DeviceUnavailable):
            if not self.require_gpu:
                return str(exc)
            self._record_error(item, "device", f"--mlqa-require-gpu: {exc}")
        elif isinstance(exc, InputError) and carried is None:
            self._record_error(item, "input", str(exc))
        return None

    def _record_error(self, item: pytest.Item, check: str, message: str) -> None:
        from mlqa.result import CheckResult, Outcome

        item.stash.setdefault(_results_key, []).append(
            CheckResult(name=item.name, outcome=Outcome.ERROR, check=check, message=message))

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport
                                 ) -> tuple[str, str, str] | None:
        # A check that could not run is an error, not a failure, in the terminal too.
        if report.when == "call" and report.failed and \
                getattr(report, "mlqa_outcome", None) == _ERROR:
            return "error", "E", "ERROR"
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.session.add(report)
        if report.when != "teardown":
            return
        props = dict(report.user_properties)
        several = "mlqa.checks" in props
        for name, value in report.user_properties:
            if _OUTCOME_PROP.fullmatch(name) and not (several and name == "mlqa.outcome"):
                self.outcomes[str(value)] += 1

    # -- end of the session ---------------------------------------------------------------

    def _write(self, item: pytest.Item, results: list[Any], start: int, outcome: str) -> None:
        for index, result in enumerate(results[start:], start):
            self._append(item, index, outcome, result)

    def _write_skip(self, item: pytest.Item, report: pytest.TestReport) -> None:
        """A model-quality test that skipped (no GPU) leaves no result; the gatekeeper still
        needs to see that its evidence is missing."""
        from mlqa.report.bundle import SkippedTest

        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = str(reason).removeprefix("Skipped: ")
        self._append(item, 0, "skipped", SkippedTest(name=item.name, message=reason))

    def _append(self, item: pytest.Item, index: int, outcome: str, result: Any) -> None:
        self._append_line(item.nodeid, index=index, attempt=item.stash.get(_attempt_key, 1),
                          worker=self.worker, outcome=outcome, result=result,
                          markers=tuple(sorted({m.name for m in item.iter_markers()})))

    def _append_line(self, nodeid: str, *, index: int, attempt: int, worker: str,
                     outcome: str, result: Any, markers: tuple[str, ...] = ()) -> None:
        from mlqa.report import bundle

        classname, name = _junit_identity(self.config, nodeid)
        assert self.results_dir is not None
        bundle.append(self.results_dir, self.worker, bundle.BundleRecord(
            nodeid=nodeid, result=result, run_id=self.run_id, classname=classname,
            testname=name, index=index, attempt=attempt, worker=worker,
            test_outcome=outcome, markers=markers))

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        result = yield  # pytest's junitxml writes its file in here
        if self.results_dir is not None:
            from mlqa import provenance

            provenance.write_part(self.results_dir, self.worker)
        if self.is_controller:
            xmlpath = self.config.getoption("xmlpath", None)
            if xmlpath and Path(xmlpath).exists():
                from mlqa.report.junit import promote_errors

                promote_errors(Path(xmlpath))
            if self.results_dir is not None:
                from mlqa.errors import InputError
                from mlqa.report import bundle, evidence

                for nodeid, worker in evidence.crashed_tests(self.results_dir):
                    self._record_crash(nodeid, worker)
                try:
                    self.bundle_file = bundle.merge(self.results_dir)
                except InputError as exc:  # a part torn by a killed worker: the parts stay,
                    # and the gate, which reads them, refuses naming the line
                    terminal = self.config.pluginmanager.get_plugin("terminalreporter")
                    if terminal is not None:
                        terminal.write_line(f"mlqa: results bundle not merged: {exc}", red=True)
                provenance.merge(self.results_dir, root=self.config.rootpath)
                evidence.finish(self.results_dir, run_id=self.run_id,
                                tests=self.session.finished_tests,
                                selected=self.session.selected,
                                narrowed_by=_narrowed_by(self.config),
                                deselected=None if self.session.collected_on_workers
                                else self.session.deselected,
                                ended_early=_ended_early(session),
                                exitstatus=int(session.exitstatus),
                                collection_errors=self.session.collection_errors)
        return result

    def _record_crash(self, nodeid: str, worker: str) -> None:
        """The ERROR line of an mlqa-suite test whose xdist worker died while running it (no
        report of the test's own ever came): its evidence is whatever it wrote before, which
        cannot stand for the whole test. The session's tally counts the line."""
        from mlqa.report import bundle
        from mlqa.result import CheckResult, Outcome

        assert self.results_dir is not None
        name = _junit_identity(self.config, nodeid)[1]
        index, attempt = bundle.next_slot(self.results_dir, nodeid)
        message = (f"check crashed: the pytest-xdist worker {worker} crashed while running this "
                   f"test (os._exit, a signal such as SIGSEGV or SIGKILL, or the out-of-memory "
                   f"killer); what it recorded before cannot stand for the whole test")
        result = CheckResult(name=name, outcome=Outcome.ERROR, check="crashed", message=message)
        self._append_line(nodeid, index=index, attempt=attempt, worker=worker,
                          outcome=_ERROR, result=result)
        test = self.session.tests.setdefault(nodeid, {"outcome": "error", "mlqa": True,
                                                      "records": 0})
        test["mlqa"] = True
        test["records"] += 1
        self.outcomes[_ERROR] += 1

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.session.selected = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.session.selected = len(ids)  # the controller collects nothing itself
        self.session.collected_on_workers = True

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.session.collection_errors.append(report.nodeid or ".")

    def blocking(self) -> str | None:
        """Why the gate would block this run's lines (so no baseline is saved from it), or
        None. The run's policy decides INCONCLUSIVE as pytest did. Skipped and deselected tests
        do not stop a save: a record only collects evidence (a stored comparison skips itself
        while its baseline is being recorded, and a latency record is saved with ``-k``); it is
        judged when promoted, and ``mlqa baseline promote --bundle`` asks the gate."""
        from mlqa.result import Outcome

        rule = policy.active().inconclusive
        stopping = [Outcome.ERROR.value, Outcome.FAIL.value, Outcome.INCONCLUSIVE.value]
        if rule == "pass":
            stopping.remove(Outcome.INCONCLUSIVE.value)
        bad = {o: self.outcomes[o] for o in stopping if self.outcomes[o]}
        if bad:
            return "the gate would not approve it (" + ", ".join(
                f"{n} {o}" for o, n in bad.items()) + ")"
        return None

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.outcomes:
            return
        total = sum(self.outcomes.values())
        from mlqa.result import worst_first

        counts = ", ".join(f"{self.outcomes[o]} {o}" for o in worst_first(self.outcomes))
        line = f"mlqa: {total} check{'s' * (total != 1)}: {counts}"
        if self.results_dir is not None:
            line += f"; results bundle: {os.path.relpath(self.results_dir)}"
        terminalreporter.write_sep("-", line)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._unsubscribe()
        self._unsubscribe_start()
        self._unsubscribe_observed()
        policy.set_active(self._previous_policy)


def _load_waivers(config: pytest.Config, path: str) -> Any:
    """A waivers file that does not validate stops the run before any test: a usage error."""
    from mlqa.errors import InputError
    from mlqa.waivers import load

    try:
        return load(config.invocation_params.dir / path)
    except InputError as exc:
        raise pytest.UsageError(f"--mlqa-waivers: {exc}") from None


def _sync_properties(item: pytest.Item, results: list[Any]) -> None:
    """Replace this test's mlqa properties with ones for all its results so far (pytest's
    junitxml reads the properties of the teardown report, so the last write wins)."""
    from mlqa.report.junit import case_properties

    kept: list[tuple[str, object]] = [p for p in item.user_properties
                                      if not str(p[0]).startswith("mlqa.")]
    item.user_properties[:] = [*kept, *case_properties(results)]


def _overall(results: list[Any]) -> str:
    from mlqa.report.junit import overall_outcome

    return overall_outcome(results).value


def _test_outcome(results: list[Any], report: pytest.TestReport) -> str:
    if results and report.failed and _overall(results) == _ERROR:
        return _ERROR
    return report.outcome


def _junit_identity(config: pytest.Config, nodeid: str) -> tuple[str, str]:
    """(classname, name) as pytest's junitxml writes them, so the report can point at Jenkins'
    test pages."""
    from _pytest.junitxml import mangle_test_address

    names = mangle_test_address(nodeid)
    prefix = config.getoption("junitprefix", None)
    if prefix:
        names.insert(0, prefix)
    return ".".join(names[:-1]), names[-1]


# -- evidence: every test of an mlqa suite leaves a line -------------------------------------------

def _saved_baseline(item: pytest.Item) -> bool:
    """The test saved into this run's baseline record (``mlqa_baseline.save_*``): it collects
    evidence for a later run to judge against, and owes no check itself."""
    from .baseline import saved_by

    return item.nodeid in saved_by(item.config)


def _in_suite(item: pytest.Item, call: pytest.CallInfo[None]) -> bool:
    """Part of an mlqa suite: marked ``mlqa`` (YAML suite items carry the marker too), or it
    recorded a result, or it crashed inside an mlqa check. Remembered for the later phases."""
    suite = item.stash.get(_suite_key, False) or item.get_closest_marker("mlqa") is not None \
        or bool(item.stash.get(_results_key, [])) or (
            call.excinfo is not None and _mlqa_frame(call.excinfo) is not None)
    item.stash[_suite_key] = suite
    return suite


def _explain_failure(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """Add the line a failed phase owes the bundle (mlqa's own exceptions already left one)."""
    excinfo = call.excinfo
    assert excinfo is not None
    exc = excinfo.value
    errors = sys.modules.get("mlqa.errors")
    if errors is not None and isinstance(exc, errors.MlqaError):
        return
    from mlqa.result import Outcome

    results = item.stash[_results_key]
    what = f"{excinfo.typename}: {exc}" if str(exc) else excinfo.typename
    raised = _where(excinfo.traceback[-1]) if excinfo.traceback else "?"
    inside = _mlqa_frame(excinfo)
    phase = {"setup": "a fixture (setup)", "teardown": "teardown"}.get(call.when, "the test")
    if inside is not None:
        message = f"check crashed in {inside}: {what} (raised at {raised})"
        results.append(_evidence_result(item, message, check="crashed"))
    elif not results:
        message = f"evidence missing: {phase} raised {what} at {raised} before any check " \
                  f"was recorded"
        results.append(_evidence_result(item, message))
    elif call.when == "call" and isinstance(exc, AssertionError):
        message = f"the test failed after its checks: {what} at {raised}"
        results.append(_evidence_result(item, message, outcome=Outcome.FAIL, check="test"))
    else:
        message = f"{phase} raised {what} at {raised} after its checks"
        results.append(_evidence_result(item, message, check="test"))


def _evidence_result(item: pytest.Item, message: str, *, outcome: Any = None,
                     check: str = "evidence") -> Any:
    from mlqa.result import CheckResult, Outcome

    return CheckResult(name=item.name, outcome=outcome or Outcome.ERROR, check=check,
                       message=message)


def _mlqa_frame(excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
    """``module.function (file:line)`` of the innermost frame inside the mlqa library, if the
    exception passed through one: the check itself crashed (or a model it called raised)."""
    for entry in reversed(excinfo.traceback):
        path = Path(str(entry.path))
        if path.is_relative_to(_MLQA_DIR) and path.name != "expectations.py":
            module = ".".join(("mlqa", *path.relative_to(_MLQA_DIR).with_suffix("").parts))
            return f"{module}.{entry.name} ({_where(entry)})"
    return None


def _where(entry: Any) -> str:
    path = Path(str(entry.path))
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        shown = str(path)
    return f"{shown}:{entry.lineno + 1}"


class SessionTally:
    """How pytest ended each test, as the controlling process sees the reports (pytest-xdist
    sends them all there): written to the bundle's ``session.json`` at the end."""

    def __init__(self) -> None:
        self.tests: dict[str, dict[str, Any]] = {}
        self.selected: int | None = None
        self.collection_errors: list[str] = []
        self.deselected = 0  # by -k, -m, --lf, --sw, --deselect (counted where collected)
        self.collected_on_workers = False  # pytest-xdist: the count above is not known here

    def add(self, report: pytest.TestReport) -> None:
        test = self.tests.get(report.nodeid)
        if test is None or report.when == "setup":  # a rerun starts the record again
            test = self.tests[report.nodeid] = {"outcome": None, "mlqa": False, "records": 0}
        test["records"] += int(getattr(report, "mlqa_records", 0))
        test["mlqa"] = bool(test["mlqa"] or getattr(report, "mlqa_suite", False))
        if getattr(report, "mlqa_saved", False):
            test["saved_baseline"] = True
        if str(report.outcome) == "rerun":  # pytest-rerunfailures' word, not in pytest's types
            test["outcome"] = "rerun"
        elif report.failed:
            test["outcome"] = "failed" if report.when == "call" else \
                (test["outcome"] if test["outcome"] == "failed" else "error")
        elif report.skipped and test["outcome"] is None:
            test["outcome"] = "skipped"
        elif report.passed and report.when == "call" and test["outcome"] is None:
            test["outcome"] = "passed"

    @property
    def finished_tests(self) -> dict[str, dict[str, Any]]:
        return {n: t for n, t in self.tests.items() if t["outcome"] not in (None, "rerun")}


def _fail_if_blocking(report: pytest.TestReport, results: list[Any],
                      said: str = "the test passed") -> None:
    """A test that passed (or was xfailed) while one of its lines blocks the release (a FAIL
    it caught, an ERROR such as missing evidence, an INCONCLUSIVE under
    ``--mlqa-inconclusive=fail``) fails with the line's message: pytest's exit code, JUnit's
    ``<failure>``/``<error>`` and the gate then say the same thing."""
    from mlqa.result import Outcome

    rule = policy.active().inconclusive
    blocking = [r for r in results if r.outcome in (Outcome.FAIL, Outcome.ERROR) or (
        r.outcome is Outcome.INCONCLUSIVE and rule == "fail")]
    if not blocking:
        return
    first = blocking[0]
    report.outcome = "failed"
    report.longrepr = (f"mlqa: {said}, but its check {first.name!r} is "
                       f"{first.outcome.value.upper()} and blocks the release: {first.message}")


def _narrowed_by(config: pytest.Config) -> list[str]:
    """The options of this run that select less than the whole suite, as a user typed them."""
    option = config.option
    narrowed = []
    if getattr(option, "keyword", ""):
        narrowed.append(f"-k {option.keyword!r}")
    if getattr(option, "markexpr", ""):
        narrowed.append(f"-m {option.markexpr!r}")
    if getattr(option, "lf", False):
        narrowed.append("--lf")
    if getattr(option, "stepwise", False) or getattr(option, "stepwise_skip", False):
        narrowed.append("--sw")
    if getattr(option, "deselect", None):
        narrowed.append(f"--deselect ({len(option.deselect)})")
    return narrowed


def _ended_early(session: pytest.Session) -> str | None:
    """Why the session stopped before running what it selected, or None."""
    for reason in (session.shouldfail, session.shouldstop):
        if reason:
            return str(reason) if isinstance(reason, str) else "stopped early"
    status = int(session.exitstatus)
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED,
                      pytest.ExitCode.NO_TESTS_COLLECTED):
        return f"pytest exit status {status} ({pytest.ExitCode(status).name.lower()})"
    return None
