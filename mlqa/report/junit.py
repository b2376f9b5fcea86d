"""JUnit enrichment: test properties for results, and ERROR checks as ``<error>``.

pytest's ``--junitxml`` stays the emitter. Two things it cannot do are done here: name the
figures of a check as ``mlqa.*`` testcase properties (plain strings), and write ``<error>`` for
a check that could not run inside the test body (pytest writes ``<error>`` only for setup and
teardown). The second is a rewrite of the finished file, touching only those testcases.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlqa._atomic import write_atomic
from mlqa._plain import plain_number, to_plain
from mlqa._text import clean_text, one_line
from mlqa.result import CheckResult, Outcome, worst

PREFIX = "mlqa"
_NUMBERS = ("value", "threshold", "baseline", "confidence", "p_value", "n")
_WORDS = ("check", "metric", "comparison")
MAX_PROPERTY_CHARS = 1000


def overall_outcome(results: Sequence[CheckResult]) -> Outcome:
    """The outcome that speaks for a test that recorded several results: the worst."""
    return worst(r.outcome for r in results)


def result_properties(result: CheckResult, prefix: str = PREFIX) -> list[tuple[str, str]]:
    """``(name, value)`` pairs for one result; every value a plain str, every name ASCII."""
    props: list[tuple[str, str]] = [(f"{prefix}.outcome", result.outcome.value)]
    for field in _WORDS:
        word = getattr(result, field)
        if word is not None:
            props.append((f"{prefix}.{field}", one_line(word, MAX_PROPERTY_CHARS)))
    for field in _NUMBERS:
        number = plain_number(getattr(result, field))
        if number is not None:
            props.append((f"{prefix}.{field}", number))
    if result.ci is not None:
        for side, bound in zip(("ci_low", "ci_high"), result.ci, strict=True):
            number = plain_number(bound)
            if number is not None:
                props.append((f"{prefix}.{side}", number))
    for key, value in result.family_properties().items():
        plain = to_plain(value)
        text = plain_number(plain) if isinstance(plain, int | float) else plain
        if text is not None:
            props.append((f"{prefix}.{_safe_key(key)}", one_line(text, MAX_PROPERTY_CHARS)))
    # a YAML suite's description: fields, as the check carries them
    for key, said in (("description", result.description),
                      ("suite_description", result.suite_description)):
        if said is not None:
            props.append((f"{prefix}.{key}", one_line(said, MAX_PROPERTY_CHARS)))
    record = result.baseline_record  # the stored baseline a comparison was judged against
    if record is not None:
        props += [(f"{prefix}.{key}", one_line(value, MAX_PROPERTY_CHARS))
                  for key, value in record.properties().items()]
    props.append((f"{prefix}.message", one_line(result.message, MAX_PROPERTY_CHARS)))
    return props


def case_properties(results: Sequence[CheckResult]) -> list[tuple[str, str]]:
    """Properties for a test: ``mlqa.<field>`` for one result; for several, the overall
    ``mlqa.outcome`` and ``mlqa.checks`` then ``mlqa.<i>.<field>`` per result (names stay
    unique: Jenkins keeps only the last of duplicate property names)."""
    if not results:
        return []
    if len(results) == 1:
        return result_properties(results[0])
    props = [(f"{PREFIX}.outcome", overall_outcome(results).value),
             (f"{PREFIX}.checks", str(len(results)))]
    for i, result in enumerate(results, 1):
        props += result_properties(result, prefix=f"{PREFIX}.{i}")
    return props


def _safe_key(key: str) -> str:
    """Property names come from code, but keep them to what every JUnit reader accepts."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in key)


def promote_errors(path: str | os.PathLike[str]) -> int:
    """Rewrite ``<failure>`` as ``<error>`` in testcases whose ``mlqa.outcome`` is ``error``.

    Returns how many testcases changed; the file is left untouched when none does.
    """
    path = Path(path)
    tree = ET.parse(path)
    changed = 0
    for case in tree.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iterfind("properties/property")}
        if props.get(f"{PREFIX}.outcome") != Outcome.ERROR.value:
            continue
        for failure in case.findall("failure"):
            failure.tag = "error"
            failure.set("type", "mlqa.CheckError")
            failure.set("message", clean_text(failure.get("message", ""), one_line=True))
            changed += 1
    if changed + _recount(tree):
        write_tree(tree, path)
    return changed


def _recount(tree: ET.ElementTree[Any]) -> int:
    """Make each testsuite's declared counts match its testcases. pytest counts a teardown
    error after a passing test as one more test, which the Jenkins checker flags (JW160)."""
    fixed = 0
    for suite in tree.iter("testsuite"):
        cases = suite.findall("testcase")
        counts = {"tests": len(cases),
                  "failures": sum(c.find("failure") is not None for c in cases),
                  "errors": sum(c.find("error") is not None for c in cases),
                  "skipped": sum(c.find("skipped") is not None for c in cases)}
        for key, n in counts.items():
            if suite.get(key) is not None and suite.get(key) != str(n):
                suite.set(key, str(n))
                fixed += 1
    return fixed


def write_tree(tree: ET.ElementTree[Any], path: str | os.PathLike[str]) -> None:
    """Write a JUnit tree back in place, atomically (Jenkins may be reading it)."""
    root = tree.getroot()
    if root is None:  # a parsed file always has a root; an empty tree has nothing to write
        raise ValueError(f"{path}: the JUnit tree is empty")
    write_atomic(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))
