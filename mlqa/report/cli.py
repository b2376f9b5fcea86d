"""``mlqa report BUNDLE -o report.html [--md summary.md] [--plot-csv DIR]``.

Also writes, for Jenkins' Plot plugin, one CSV per check (``--plot-csv``: a header row and one
value row, file names fixed by the test's node id so trends survive across builds), and, behind
``--attach-junit``, SVG plots attached to their test cases for the junit-attachments plugin.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from mlqa import gate
from mlqa._files import make_folder, write_output
from mlqa.errors import InputError
from mlqa.gate import CheckVerdict, Verdict
from mlqa.report.rows import shown_all

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="results folder (--mlqa-results) or its results.jsonl")
    parser.add_argument("-o", "--output", metavar="HTML", default=None,
                        help="write the HTML report here (default: report.html in the bundle)")
    parser.add_argument("--md", metavar="FILE", default=None, help="also write a Markdown summary")
    parser.add_argument("--plot-csv", metavar="DIR", default=None,
                        help="write one CSV per check for Jenkins' Plot plugin into DIR")
    parser.add_argument("--attach-junit", metavar="XML", default=None,
                        help="write each check's plots as SVG and attach them to its test case "
                             "in this JUnit file ([[ATTACHMENT|...]] lines, junit-attachments)")
    parser.add_argument("--attach-dir", metavar="DIR", default="mlqa-plots",
                        help="where --attach-junit writes the SVG files (inside the workspace)")
    parser.add_argument("--workspace", metavar="DIR", default=None,
                        help="the Jenkins workspace the attachments must lie in "
                             "(default: $WORKSPACE, else the current folder)")
    parser.add_argument("--history", metavar="N", type=int, default=None,
                        help="draw each check over the last N builds of the history (value, "
                             "interval band, requirement, approved releases, this build)")
    parser.add_argument("--history-store", metavar="PATH|URL", default=None,
                        help="the store holding the history (default: the one the run added "
                             "to, from the bundle's history.json, else $MLQA_BASELINE)")
    gate.add_gate_options(parser)


def run(args: argparse.Namespace) -> int:
    from mlqa import provenance
    from mlqa.report import html, markdown

    verdict = gate.verdict_from_args(args)
    folder = Path(args.bundle) if Path(args.bundle).is_dir() else Path(args.bundle).parent
    prov = provenance.read(folder)
    output = Path(args.output) if args.output else folder / "report.html"
    # Every folder first: an unwritable one is refused before any file is written.
    make_folder(output.parent, "-o", output)
    if args.md:
        make_folder(Path(args.md).parent, "--md", Path(args.md))
    if args.plot_csv:
        make_folder(Path(args.plot_csv), "--plot-csv")
    checks = shown_all(verdict)  # every line read back into its type once
    sections = []
    if args.history is not None:  # read before anything is written: a bad history refuses
        from mlqa.report import trends

        sections.append(trends.history_section(folder, args.history, args.history_store))
    write_output(output, html.render(verdict, prov, checks=checks, sections=sections), "-o")
    written = [output]
    if args.md:
        write_output(Path(args.md), markdown.render(verdict, prov, checks=checks), "--md")
        written.append(Path(args.md))
    if args.plot_csv:
        written += write_plot_csv(verdict, Path(args.plot_csv))
    if args.attach_junit:
        workspace = args.workspace or os.environ.get("WORKSPACE") or os.getcwd()
        written += attach_plots(verdict, Path(args.attach_junit), Path(args.attach_dir),
                                Path(workspace))
    print(f"mlqa report: {verdict.headline()}")
    print(f"mlqa report: wrote {output}" + (f" and {len(written) - 1} more files"
                                            if len(written) > 1 else ""))
    return 0


# A node id (and result name) that becomes a file name unchanged but for "::" -> ".": a path of
# safe characters, one "::", a test function's name (no "." or "-"). Any other id is sanitised
# and carries a hash of its exact text, so two ids that sanitise alike ("test_col[a/b]",
# "test_col[a:b]") never share a file; the last "." in a plain stem is always the "::".
_PLAIN_NODEID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*::[A-Za-z0-9_]+")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")
_MAX_PLAIN = 120


def file_stem(nodeid: str, part: str | None) -> str:
    """The file name of one check's plots and CSV, safe on every file system.

    Fixed by the check's id alone (:func:`mlqa.history.check_id`: its node id, plus what the
    result measures when the test has several), never by its display name, so the same check
    gets the same name in every build, renamed or not: Jenkins' Plot plugin keys a trend on
    it. Different checks get different names: a name that had to be sanitised keeps a short
    hash of the exact node id and part."""
    text = nodeid if part is None else f"{nodeid}-{part}"
    readable = _UNSAFE.sub("_", text.replace("::", ".")).strip("._") or "check"
    if (_PLAIN_NODEID.fullmatch(nodeid) and (part is None or _PLAIN_NAME.fullmatch(part))
            and readable == text.replace("::", ".") and len(readable) <= _MAX_PLAIN):
        return readable
    exact = json.dumps([nodeid, part])  # not text: "a-b" + "c" and "a" + "b-c" differ
    return f"{readable[:100]}-{hashlib.sha256(exact.encode()).hexdigest()[:12]}"


def file_stems(checks: Sequence[CheckVerdict]) -> dict[int, str]:
    """:func:`file_stem` of each check, by ``id``: one name per check, never shared. A test
    skipped before its check ran (no result, nothing plotted) is named by its place."""
    from mlqa.history import check_ids

    measured = [c for c in checks if c.result is not None]
    ids = check_ids([(c.nodeid, c.result) for c in measured if c.result is not None])
    stems = {id(c): file_stem(c.nodeid, key[len(c.nodeid) + 2:] or None)
             for c, key in zip(measured, ids, strict=True)}
    for c in checks:
        if c.result is None:
            stems[id(c)] = file_stem(c.nodeid, f"skipped#{c.record.index}")
    return stems


def write_plot_csv(verdict: Verdict, directory: Path) -> list[Path]:
    """``mlqa-<check>.csv`` per check with a value: header ``value,threshold,...`` and one row.

    The Plot plugin reads the header as series labels and each later row as points of this
    build, so one row per file; numbers are plain ``.``-decimals (it parses them with
    ``Double.parseDouble``)."""
    make_folder(directory, "--plot-csv")
    stems = file_stems(verdict.checks)
    written = []
    for c in verdict.checks:
        series = c.result.plot_series() if c.result is not None else {}
        for suffix, values in series.items():
            # one unit per file: the decision's figure and its requirement, the levels apart
            path = directory / f"mlqa-{stems[id(c)]}{'-' * bool(suffix)}{suffix}.csv"
            path.write_text(",".join(values) + "\n"
                            + ",".join(repr(v) for v in values.values()) + "\n",
                            encoding="ascii")
            written.append(path)
    return written


def attach_plots(verdict: Verdict, junit_path: Path, directory: Path,
                 workspace: Path) -> list[Path]:
    """Write each check's plots as SVG under ``directory`` and put one
    ``[[ATTACHMENT|path]]`` line per plot at the head of its test case's ``<system-out>``.

    Paths are absolute: junit-attachments resolves a relative one against the workspace root
    (not the report's folder), which the Jenkins checker flags; so the files must lie inside
    ``workspace``, where the plugin can read them on the agent. Markers go first because
    Jenkins keeps only the head and tail of a passing test's output.
    """
    from mlqa.report import html
    from mlqa.report.junit import write_tree

    workspace = workspace.resolve()
    directory = directory.resolve()
    if not directory.is_relative_to(workspace):
        raise InputError(f"--attach-dir {directory} is outside the workspace {workspace}: "
                         f"junit-attachments reads files from the workspace only")
    try:
        tree = ET.parse(junit_path)
    except (OSError, ET.ParseError) as exc:
        raise InputError(f"--attach-junit {junit_path}: cannot be read as XML ({exc})") from None
    cases = {(str(t.get("classname")), str(t.get("name"))): t for t in tree.iter("testcase")}
    checks = shown_all(verdict)
    stems = file_stems([s.verdict for s in checks])
    markers: dict[tuple[str, str], list[str]] = {}
    written = []
    make_folder(directory, "--attach-dir")
    for s in checks:
        c = s.verdict
        key = (c.record.classname, c.record.testname)
        if key not in cases:
            continue
        for suffix, svg in html.check_plots(s):
            path = directory / f"{stems[id(c)]}-{_UNSAFE.sub('_', suffix)}.svg"
            path.write_text(svg, encoding="utf-8")
            written.append(path)
            markers.setdefault(key, []).append(f"[[ATTACHMENT|{path}]]")
    for key, lines in markers.items():
        out = cases[key].find("system-out")
        if out is None:
            out = ET.SubElement(cases[key], "system-out")
        out.text = "\n".join(lines) + "\n" + (out.text or "")
    if markers:
        write_tree(tree, junit_path)
    return written
