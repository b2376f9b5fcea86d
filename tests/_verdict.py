"""The equality every run must keep (issue 19), shared by the tests that run a suite with
``--junitxml`` and ``--mlqa-results``. Imported by name (tests/conftest.py puts this folder on
``sys.path``)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from mlqa.errors import InputError
from mlqa.gate import Verdict, gate


def junit_red(junit: str | os.PathLike[str]) -> set[tuple[str, str]]:
    """(classname, name) of every failed or errored testcase: what Jenkins shows red."""
    return {(str(c.get("classname")), str(c.get("name")))
            for c in ET.parse(junit).iter("testcase")
            if c.find("failure") is not None or c.find("error") is not None}


def gate_blocking(verdict: Verdict) -> set[tuple[str, str]]:
    """(classname, name) of every check the gate counts as blocking."""
    return {(c.record.classname, c.record.testname) for c in verdict.checks if c.blocks}


def assert_one_verdict(junit: str | os.PathLike[str], results: str | os.PathLike[str],
                       returncode: int, *, waivers: str | os.PathLike[str] | None = None) -> None:
    """One verdict everywhere (issue 19): JUnit's failed and errored testcases are exactly the
    gate's blocking checks, and pytest's exit code is non-zero exactly when something is red.
    ``waivers``: the file the run was given (``--mlqa-waivers``), which the gate is given too.
    A run that only recorded a baseline holds no check: the gate has nothing to approve (it
    refuses), and JUnit must then show nothing red either."""
    red = junit_red(junit)
    try:
        verdict = gate(results, waivers=waivers)
    except InputError as exc:
        assert "holds no checks" in str(exc), exc
        assert not red and returncode == 0, (returncode, sorted(red))
        return
    blocking = gate_blocking(verdict)
    assert red == blocking, f"JUnit red {sorted(red)} != gate blocking {sorted(blocking)}"
    assert (returncode != 0) == bool(red), (returncode, sorted(red))

