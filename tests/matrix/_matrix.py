"""The matrix's case format (see README.md): a case is an id, an action and an expected class."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from mlqa.errors import InputError

INPUT_ERROR, ERROR_OUTCOME, EXIT_CODE, REFUSAL = "input_error", "error_outcome", "exit_code", \
    "refusal"


@dataclasses.dataclass(frozen=True)
class Expect:
    kind: str
    text: str = ""
    exc: type[BaseException] = InputError
    outcome: str = "error"
    code: int = 2
    absent: tuple[str, ...] = ()  # must not appear anywhere (credentials)


def input_error(text: str, exc: type[BaseException] = InputError, *,
                absent: tuple[str, ...] = ()) -> Expect:
    return Expect(INPUT_ERROR, text, exc=exc, absent=absent)


def error_outcome(text: str, outcome: str = "error", *, absent: tuple[str, ...] = ()) -> Expect:
    return Expect(ERROR_OUTCOME, text, outcome=outcome, absent=absent)


def exit_code(code: int, text: str = "", *, absent: tuple[str, ...] = ()) -> Expect:
    return Expect(EXIT_CODE, text, code=code, absent=absent)


def refusal(text: str, *, absent: tuple[str, ...] = ()) -> Expect:
    return Expect(REFUSAL, text, code=2, absent=absent)


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    action: Callable[[Path], Any]
    expect: Expect
    marks: tuple[Any, ...] = ()


@dataclasses.dataclass(frozen=True)
class Ran:
    """What a command did: exit code and its two streams."""

    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


def cli(*argv: Any) -> Ran:
    """Run ``mlqa ARGV`` in this process; a SystemExit (argparse) counts as its code."""
    from mlqa.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return Ran(int(code), out.getvalue(), err.getvalue())


def cases(table: Iterable[Case]) -> list[Any]:
    table = list(table)
    ids = [c.id for c in table]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"matrix case ids must be unique: {dupes}"
    return [pytest.param(c, id=c.id, marks=c.marks) for c in table]


def run_case(case: Case, tmp_path: Path, record_property: Callable[[str, Any], None]
             ) -> None:
    """Run the action and assert its class; the class is recorded for the summary."""
    record_property("matrix.class", case.expect.kind)
    expect = case.expect
    if expect.kind == INPUT_ERROR:
        with pytest.raises(BaseException) as info:
            returned = case.action(tmp_path)
            pytest.fail(f"{case.id}: expected {expect.exc.__name__} naming {expect.text!r}, "
                        f"got {returned!r}")
        assert isinstance(info.value, expect.exc), \
            f"{case.id}: expected {expect.exc.__name__}, got {info.type.__name__}: {info.value}"
        _contains(case, str(info.value) + repr(info.value))
        return
    returned = case.action(tmp_path)
    if expect.kind == ERROR_OUTCOME:
        outcome = getattr(getattr(returned, "outcome", None), "value", None)
        assert outcome == expect.outcome, \
            f"{case.id}: expected outcome {expect.outcome}, got {returned!r}"
        _contains(case, str(returned.message) + repr(returned))
        return
    assert isinstance(returned, Ran), f"{case.id}: the action must return cli(...)'s Ran"
    assert returned.code == expect.code, \
        f"{case.id}: expected exit {expect.code}, got {returned.code}\n{returned.output}"
    _contains(case, returned.output)


def _contains(case: Case, text: str) -> None:
    assert "Traceback" not in text, f"{case.id}: a traceback instead of a message:\n{text}"
    assert case.expect.text in text, \
        f"{case.id}: expected the text {case.expect.text!r} in:\n{text}"
    for secret in case.expect.absent:
        assert secret not in text, f"{case.id}: {secret!r} leaked into:\n{text}"


def pytest_run(tmp_path: Path, files: dict[str, str], *args: str) -> Ran:
    """Run pytest in a fresh process on ``files`` written under ``tmp_path``."""
    import subprocess
    import sys

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False)
    return Ran(proc.returncode, proc.stdout, proc.stderr)
