"""``*.mlqa.yaml`` suites as pytest items (pytest's non-Python collection).

``pytest_collect_file`` -> ``SuiteFile`` (a ``pytest.File``) -> one ``SuiteNode`` per suite
-> one ``SuiteCheck`` item per check, with the stable id ``file::suite::check``. A check item
is a ``pytest.Function`` whose body runs the check, so fixtures (a YAML data source or model
may name one), markers (``-m``), ``-k``, pytest-xdist and every ``--mlqa-*`` option behave as
for a Python test: it expects its result through ``mlqa.expect``, which publishes it to the
recorder like any Python check (properties, bundle line, outcome policies, waivers).

A malformed suite is a collection error naming file:line:column, never a silent skip.
Importing this module costs nothing: the library and PyYAML load when a suite file is found.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

DEFAULT_PATTERNS = ["*.mlqa.yaml", "*.mlqa.yml"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mlqa_suite_files", type="args", default=DEFAULT_PATTERNS,
                  help="glob patterns of the YAML suite files collected as mlqa checks "
                       "(default: *.mlqa.yaml *.mlqa.yml)")
    parser.addini("mlqa_data_roots", type="paths", default=[],
                  help="folders (relative to the ini file) whose files a YAML suite may read "
                       "besides those under its own folder")
    parser.getgroup("mlqa").addoption(
        "--mlqa-data-root", action="append", default=[], metavar="DIR", dest="mlqa_data_root",
        help="a folder whose files YAML suites may read besides their own folder (repeatable; "
             "adds to the ini option mlqa_data_roots)")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.File | None:
    patterns = parent.config.getini("mlqa_suite_files")
    if any(fnmatch.fnmatch(file_path.name, p) for p in patterns):
        return SuiteFile.from_parent(parent, path=file_path)
    return None


class SuiteFile(pytest.File):
    """One YAML file; each YAML document in it is one suite."""

    def collect(self) -> Iterator[pytest.Collector]:
        from mlqa.suite import load_suites

        config = self.config
        roots = [*config.getini("mlqa_data_roots"),
                 *(config.invocation_params.dir / d for d in
                   config.getoption("mlqa_data_root"))]
        for suite in load_suites(self.path, display=self.nodeid.split("::")[0] or
                                 str(self.path), data_roots=roots):
            yield SuiteNode.from_parent(self, name=suite.name, suite=suite)

    def repr_failure(  # type: ignore[override]  # pytest subclasses drop style= too
            self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        from mlqa.suite import SuiteError

        if isinstance(excinfo.value, SuiteError):
            return f"malformed mlqa suite:\n{excinfo.value}"
        return super().repr_failure(excinfo)


class SuiteNode(pytest.Collector):
    """One suite: its checks, and what they share in this process (tables, model, latency)."""

    def __init__(self, *, suite: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite = suite
        self.cache: dict[Any, Any] = {}

    def collect(self) -> Iterator[pytest.Item]:
        for spec in self.suite.checks:
            item = SuiteCheck.from_parent(self, name=spec.id, spec=spec, callobj=_run)
            for mark in ("mlqa", *self.suite.marks, *spec.marks):
                item.add_marker(mark)
            device = str(spec.options.get("device", ""))
            if spec.kind.startswith("latency") and device.startswith("cuda"):
                item.add_marker("gpu")
            yield item


def _run(request: pytest.FixtureRequest) -> None:
    """The body of every YAML check (``request`` gives it fixtures by name)."""
    __tracebackhide__ = True
    request.node.run_check(request)


class SuiteCheck(pytest.Function):
    """One check of a suite."""

    def __init__(self, *, spec: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec

    @property
    def suite_node(self) -> SuiteNode:
        assert isinstance(self.parent, SuiteNode)
        return self.parent

    def run_check(self, request: pytest.FixtureRequest) -> None:
        __tracebackhide__ = True
        import mlqa
        from mlqa.errors import CheckError, DeviceUnavailable, InputError
        from mlqa.result import CheckResult, Outcome
        from mlqa.suite import run_check

        context = _Context(self.suite_node, request)
        context.register_suite()
        family = _FAMILY.get(self.spec.kind, "quality")
        try:
            result = self._described(run_check(self.spec, context))
        except DeviceUnavailable:
            raise  # a skip (or an error under --mlqa-require-gpu): the recorder decides
        except Exception as exc:  # noqa: BLE001 - a check that crashed is an ERROR, never a pass
            if isinstance(exc, InputError):
                why = str(exc)
            elif isinstance(exc, pytest.FixtureLookupError):
                why = f"no fixture named {exc.argname!r} (see pytest --fixtures)"
            else:
                why = f"check crashed: {type(exc).__name__}: {exc}"
            failed = self._described(CheckResult(
                name=self.spec.id, outcome=Outcome.ERROR, check=family,
                message=f"{self.spec.id} could not be evaluated: {why}"))
            try:
                mlqa.expect(failed)
            except CheckError as err:
                raise err from exc
        mlqa.expect(result)

    def _described(self, result: Any) -> Any:
        """``result`` with the YAML ``description:`` of the check and of its suite in its
        details: the report and the JUnit properties (``mlqa.description``) show them."""
        said = {key: text.strip() for key, text in (
            ("description", self.spec.description),
            ("suite_description", self.suite_node.suite.description)) if text.strip()}
        return result.replace(details={**result.details, **said}) if said else result

    def reportinfo(self) -> tuple[Path, int, str]:
        suite = self.suite_node.suite
        return self.path, self.spec.line - 1, f"{suite.name}::{self.spec.id} ({self.spec.kind})"

    def repr_failure(  # type: ignore[override]  # pytest subclasses drop style= too
            self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        from mlqa.errors import ResultError

        if isinstance(excinfo.value, ResultError):
            where = f"{self.nodeid.split('::')[0]}:{self.spec.line}:{self.spec.column}"
            return f"{where}: check {self.spec.id!r} ({self.spec.kind}): {excinfo.value}"
        return super().repr_failure(excinfo)


# The result family of each kind (the data-quality kinds are all "quality").
_FAMILY = {"metric": "metric", "regression": "regression", "drift": "drift",
           "latency": "latency", "latency_regression": "latency", "trend": "trend",
           "disparity": "disparity", "shadow": "shadow"}


class _Context:
    """What a check reads, resolved for this item: files relative to the suite, fixtures by
    name through the item's request, the baseline store of the suite or of --mlqa-baseline."""

    def __init__(self, node: SuiteNode, request: pytest.FixtureRequest) -> None:
        self.node, self.request = node, request
        self.suite = node.suite

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        if key not in self.node.cache:
            self.node.cache[key] = compute()
        return self.node.cache[key]

    def path(self, relative: str) -> str:
        return str(self.suite.file.parent / relative)

    # -- provenance: what was judged, by content hash (mlqa.provenance) --------------------

    def register_suite(self) -> None:
        def register() -> Any:
            from mlqa import provenance

            return provenance.suite(self.suite.name, self.suite.file, self.suite.description)

        self.cached(("provenance", "suite"), register)

    def _register_object(self, key: Any, kind: str, name: str, obj: Any) -> None:
        """A fixture's table or model by content hash (no file to name), once per suite."""

        def register() -> Any:
            from mlqa import provenance
            from mlqa.errors import InputError

            try:
                return provenance.dataset(name, obj, engine="memory") if kind == "dataset" \
                    else provenance.model(obj, name=name)
            except (InputError, TypeError, ValueError):
                # An object the hash cannot read (unpicklable, unhashable cells) goes
                # unrecorded rather than failing a check that has no quarrel with it.
                return None

        self.cached(key, register)

    def read_by(self, name: str, engine: str) -> None:
        source = self.suite.data[name]
        if source.path is None:
            return  # a fixture's table: no file to name

        def register() -> Any:
            from mlqa import provenance

            return provenance.dataset(name, source.path, engine=engine)

        self.cached(("provenance", name, engine), register)

    def recording(self) -> Any:
        """The run's baseline session under --mlqa-save-baseline (what Python tests reach as
        the mlqa_baseline fixture), with the suite's model file as the record's model."""
        if not self.request.config.getoption("mlqa_save_baseline"):
            return None
        session = self.request.getfixturevalue("mlqa_baseline")
        model = self.suite.model
        if model is not None and model.path is not None and not session.builder.model.get(
                "sha256"):
            session.save_model(path=str(model.path), name=Path(model.path).name.split(".")[0])
        return session

    def history(self) -> Any:
        """The run's baseline store (--mlqa-baseline), which the run's history is added to."""
        return self.request.getfixturevalue("mlqa_baseline").store

    def frame(self, name: str) -> Any:
        source = self.suite.data[name]
        if source.fixture is not None:
            from mlqa.quality.frames import as_frame

            frame = as_frame(f"data source {name!r}",
                             self.request.getfixturevalue(source.fixture))
            self._register_object(("provenance", "fixture", name), "dataset", name, frame)
            return frame

        def read() -> Any:
            from mlqa.quality.frames import read_path

            frame = read_path(f"data source {name!r}", str(source.path), source.format)
            self.read_by(name, "memory")
            return frame

        return self.cached(("data", name), read)

    def table(self, name: str) -> Any:
        """A Parquet file's path as it is (a check that reads Parquet itself, or on an
        engine, gets the path, not the rows); anything else as a DataFrame."""
        from mlqa.quality.frames import file_format

        source = self.suite.data[name]
        if source.path is not None and file_format(str(source.path), source.format) == \
                "parquet":
            return str(source.path)
        return self.frame(name)

    def model(self) -> Any:
        source = self.suite.model
        if source is None:
            from mlqa.errors import InputError

            raise InputError("the suite has no model: add 'model:'")
        if source.fixture is not None:
            model = self.request.getfixturevalue(source.fixture)
            self._register_object(("provenance", "fixture model"), "model", source.fixture,
                                  model)
            return model

        def load() -> Any:
            from mlqa.baseline.models import load as load_model
            from mlqa.errors import InputError

            try:
                data = Path(source.path).read_bytes()
            except OSError as exc:
                raise InputError(f"model file {str(source.path)!r} cannot be read: {exc}") \
                    from None
            trust = source.trust or bool(self.request.config.getoption("mlqa_trust_model"))
            model = load_model(data, name=str(source.path), trust=trust)
            from mlqa import provenance

            provenance.model(data, path=source.path)  # the hash of the very bytes loaded
            return model

        return self.cached(("model",), load)

    def baseline(self) -> Any:
        if self.suite.baseline_store is None:
            return self.request.getfixturevalue("mlqa_baseline")

        def session() -> Any:
            from mlqa.baseline.session import BaselineSession

            ref = self.suite.baseline_ref or self.request.config.getoption(
                "mlqa_baseline_ref") or "approved"
            return BaselineSession(self.suite.baseline_location(), ref=ref,
                                   trust_model=bool(self.request.config.getoption(
                                       "mlqa_trust_model")))

        return self.cached(("baseline",), session)
