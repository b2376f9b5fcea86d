"""``mlqa gate --junitxml FILE``: the gate's verdict as a JUnit report.

A Jenkins stage that gates from a bundle (a later stage, another job) publishes this file with
the ``junit`` step and shows the same red as the run: one testcase per check the verdict turns
on (blocking: ``<failure>``, or ``<error>`` for a check that could not run; waived and
undecided: ``<skipped>`` with the reason) and one testcase for the verdict itself. Passing
checks are left out: the run's own JUnit file lists them.

Written with the standard library's ElementTree (junit-xml writes no testcase properties and
drops illegal characters silently); every text goes through :func:`mlqa._text.clean_text`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from mlqa._files import write_output
from mlqa._text import clean_text, one_line
from mlqa.gate import APPROVE, REFUSE, CheckVerdict, Verdict
from mlqa.result import Outcome

SUITE = "mlqa.gate"
CHECKS_CLASS = "mlqa.gate.checks"  # classname of the per-check cases; Jenkins' class: checks
VERDICT_CLASS = "mlqa.gate.release"  # the verdict's case; Jenkins' class: release


def verdict_tree(verdict: Verdict) -> ET.ElementTree[ET.Element]:
    """The JUnit tree of ``verdict`` (see the module docstring)."""
    shown = [c for c in verdict.worst_first() if c.blocks or c.asks or c.waiver is not None
             or c.status is Outcome.WAIVED]
    suite = ET.Element("testsuite", name=SUITE)
    lines = Counter(c.nodeid for c in shown)
    for c in shown:
        _check_case(suite, c, several=lines[c.nodeid] > 1)
    case = ET.SubElement(suite, "testcase", classname=VERDICT_CLASS, name="verdict", time="0")
    _properties(case, {"mlqa.decision": verdict.decision, "mlqa.exit_code":
                       str(verdict.exit_code)})
    headline = one_line(verdict.headline(), 1000)
    if verdict.decision == REFUSE:
        ET.SubElement(case, "failure", message=headline, type="mlqa.Refused").text = headline
    elif verdict.decision != APPROVE:
        ET.SubElement(case, "skipped", message=headline)
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
    suite.set("errors", str(sum(c.find("error") is not None for c in cases)))
    suite.set("skipped", str(sum(c.find("skipped") is not None for c in cases)))
    suite.set("time", "0")
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.ElementTree(root)


def _check_case(suite: ET.Element, c: CheckVerdict, *, several: bool) -> None:
    # The node id is the test's name: unique in a run, stable across builds (per-test history);
    # a test with several lines numbers them (Jenkins counts duplicate names twice).
    name = f"{c.nodeid} #{c.record.index}" if several else c.nodeid
    case = ET.SubElement(suite, "testcase", classname=CHECKS_CLASS,
                         name=clean_text(name, max_chars=500, one_line=True), time="0")
    props = {"mlqa.outcome": c.outcome, "mlqa.blocks": str(c.blocks).lower(),
             "mlqa.advisory": str(c.advisory).lower()}
    if c.record.reruns:
        props["mlqa.reruns"] = str(c.record.reruns)
    _properties(case, props)
    message = one_line(c.message, 1000)
    if c.blocks:
        tag = "error" if c.status is Outcome.ERROR else "failure"
        ET.SubElement(case, tag, message=message, type=f"mlqa.{c.outcome}").text = message
    else:  # waived, or asking for a decision
        ET.SubElement(case, "skipped", message=f"{c.outcome}: {message}")


def _properties(case: ET.Element, props: dict[str, str]) -> None:
    holder = ET.SubElement(case, "properties")
    for name, value in props.items():
        ET.SubElement(holder, "property", name=name, value=clean_text(value, one_line=True))


def write_verdict(verdict: Verdict, path: Path) -> Path:
    """Write ``verdict`` as a JUnit file at ``path``, atomically (Jenkins may be reading)."""
    root = verdict_tree(verdict).getroot()
    assert root is not None
    return write_output(path, ET.tostring(root, encoding="utf-8", xml_declaration=True),
                        "--junitxml")
