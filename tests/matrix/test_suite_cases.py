"""Hostile and careless YAML suites (issue 24): resource bombs, files outside the suite's
folder, content echoed into messages, `mlqa init` writing what a file name says, names with a
trailing newline, a baseline store that never answers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests  # noqa: F401 - loaded at collection: pytester runs drop what they first import
from _matrix import Case, Ran, cases, cli, exit_code, input_error, run_case
from _silent_server import silent_server

from mlqa.baseline.errors import StoreError
from mlqa.suite import SuiteError, load_suites

TOKEN = "s3cret-store-token-4711"
CHECKS = """\
checks:
  - id: rows
    kind: row_count
    data: table
    min: 1
"""


def suite(text: str, *, name: str = "s.mlqa.yaml", **kwargs: Any) -> Callable[[Path], Any]:
    """Write ``text`` as a suite file and load it (what collection does)."""
    def action(tmp: Path) -> Any:
        (tmp / name).write_text(text, encoding="utf-8")
        return load_suites(tmp / name, display=name, **kwargs)
    return action


def table(path: str, extra: str = "") -> str:
    return f"data:\n  table: {{path: {path!r}}}\n{extra}{CHECKS}"


def bomb(levels: int) -> str:
    """The 'billion laughs' of YAML: each anchor is a list of nine aliases of the one before."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join([*lines, f"checks: *a{levels - 1}"]) + "\n"


def outside(tmp: Path) -> Path:
    """A folder beside the suite's, holding a file the suite must not read."""
    folder = tmp.parent / f"{tmp.name}-outside"
    folder.mkdir(exist_ok=True)
    (folder / "secret.csv").write_text(f"{TOKEN},b\n1,2\n")
    return folder


def symlink_out(tmp: Path) -> Any:
    (tmp / "data.csv").symlink_to(outside(tmp) / "secret.csv")
    return suite(table("data.csv"))(tmp)


def environ_as_csv(tmp: Path) -> Any:
    """A copy of a process environment inside the suite's folder, read as the table a metric
    check scores: the missing-target message must not show its 'header'."""
    from mlqa.suite.model import CheckSpec
    from mlqa.suite.runner import run_check

    (tmp / "env.csv").write_bytes(f"PATH=/usr/bin\0MLQA_STORE_TOKEN={TOKEN}\0HOME=/root,x\n"
                                  f"1,2\n".encode())
    (loaded,) = suite(table("env.csv").replace("checks:", "model: {fixture: m}\nchecks:"))(tmp)

    class Context:
        def frame(self, name: str) -> Any:
            from mlqa.quality.frames import read_path

            return read_path(name, str(loaded.data[name].path))

    spec = CheckSpec(id="auc", kind="metric", options={"data": "table", "target": "label",
                                                       "metric": "roc_auc", "min": 0.9})
    return run_check(spec, Context())  # type: ignore[arg-type]


def pytest_with_token(tmp: Path, files: dict[str, str], *args: str) -> Ran:
    """pytest in a fresh process with a store token in its environment; the JUnit XML it
    wrote is part of the output the case searches."""
    for name, text in files.items():
        (tmp / name).write_text(text)
    env = {**os.environ, "MLQA_STORE_TOKEN": TOKEN}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--junitxml=junit.xml", *args], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    junit = tmp / "junit.xml"
    return Ran(proc.returncode, proc.stdout, proc.stderr + (junit.read_text() if
                                                             junit.exists() else ""))


def run_environ_suite(tmp: Path) -> Ran:
    return pytest_with_token(tmp, {"s.mlqa.yaml": table("/proc/self/environ").replace(
        "checks:", "model: {fixture: m}\nchecks:") + "  - id: auc\n    kind: metric\n"
        "    data: table\n    target: label\n    metric: roc_auc\n    min: 0.9\n"})


def run_with_root(tmp: Path) -> Ran:
    outside(tmp)
    return pytest_with_token(tmp, {"s.mlqa.yaml": table(f"../{tmp.name}-outside/secret.csv")},
                             f"--mlqa-data-root=../{tmp.name}-outside", "-q")


INJECTED = "d\nmodel: {path: evil.pkl, trust: true}\nchecks: []\n#.csv"


def init_with_injected_name(tmp: Path, *, column: bool = False) -> Ran:
    """`mlqa init` on a file whose name (or label column) holds a suite: the suite written has
    no model, and the name comes back as data and nowhere else."""
    label = INJECTED.replace("#.csv", "# ") if column else "y"
    name = "d.csv" if column else INJECTED
    header = '"' + label + '",a' if column else "y,a"
    (tmp / name).write_text(header + "\n" + "".join(f"{i % 2},{i}\n" for i in range(8)))
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        ran = cli("init", name, "--target", label, "-o", "s.mlqa.yaml")
    finally:
        os.chdir(cwd)
    (written,) = load_suites(tmp / "s.mlqa.yaml")
    return Ran(ran.code, ran.out + f"model={written.model!r} checks="
               f"{[c.id for c in written.checks]}", ran.err)


def store_never_answers(tmp: Path) -> Any:
    """The suite's own deadline bounds the wait (0.3 s x 2 attempts + 0.5 s + 1 s)."""
    from mlqa.baseline.session import BaselineSession

    with silent_server() as url:
        (loaded,) = suite(table("t.csv", f"baseline: {{store: {url!r}, timeout_s: 0.3, "
                                         f"attempts: 2}}\n"))(tmp)
        return BaselineSession(loaded.baseline_location()).record


CASES = [
    # resource bombs and shapes the converter used to crash on
    Case("suite-alias-bomb-7", suite(bomb(7)), input_error(
        "expands to more than 20,000 values (through its aliases", SuiteError)),
    Case("suite-alias-bomb-9", suite(bomb(9)), input_error(
        "s.mlqa.yaml:5:5: expands to more than 20,000 values", SuiteError)),
    Case("suite-too-many-values", suite(CHECKS + "a: [" + ",".join(["1"] * 20_001) + "]\n"),
         input_error("holds more than 20,000 values (the limit of a suite)", SuiteError)),
    Case("suite-alias-too-many", suite("x: &x 1\ny: [" + ", ".join(["*x"] * 1001) + "]\n"
                                       + CHECKS),
         input_error("uses more than 1,000 aliases", SuiteError)),
    Case("suite-recursive-anchor", suite("a: &a [*a]\n" + CHECKS),
         input_error("s.mlqa.yaml:1:4: an alias refers to a value that contains it (a "
                     "recursive anchor)", SuiteError)),
    Case("suite-recursive-anchor-mapping", suite("a: &a {b: {c: *a}}\n" + CHECKS),
         input_error("recursive anchor", SuiteError)),
    Case("suite-nested-too-deep", suite("a: " + "[" * 40 + "]" * 40 + "\n" + CHECKS),
         input_error("is nested more than 32 levels deep", SuiteError)),
    Case("suite-nested-too-deep-200k", suite("a: " + "[" * 200_000 + "\n"),
         input_error("is nested more than 32 levels deep", SuiteError)),
    Case("suite-nested-too-deep-by-aliases", suite(
        "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [[[[[*a{i - 1}]]]]]\n" for i in range(1, 10))
        + CHECKS), input_error("levels deep (through its aliases", SuiteError)),
    Case("suite-file-too-large", suite(CHECKS + "#" + "x" * 1_000_000 + "\n"),
         input_error("a suite may hold at most 512,000", SuiteError)),
    Case("suite-tagged-list-key", suite("checks:\n  - ? !!python/object/apply:os.system "
                                        "['echo']\n    : 1\n"),
         input_error("s.mlqa.yaml:2:7: a key must be a plain word", SuiteError)),
    Case("suite-tagged-key", suite("checks:\n  - !!python/object/apply:os.system echo: 1\n"),
         input_error("unreadable value: could not determine a constructor for the tag "
                     "'tag:yaml.org,2002:python/object/apply:os.system'", SuiteError)),
    Case("suite-tagged-mapping", suite("data: !!python/object:os.Evil {a: 1}\n" + CHECKS),
         input_error("unreadable value: a mapping tagged 'tag:yaml.org,2002:python/object:"
                     "os.Evil'", SuiteError)),
    Case("suite-integer-too-long", suite(CHECKS + "    max: " + "9" * 5000 + "\n"),
         input_error("s.mlqa.yaml:6:10: unreadable value '" + "9" * 40 + "': Exceeds the limit "
                     "(4300 digits) for integer string conversion: value has 5000 digits",
                     SuiteError, absent=("sys.set_int",))),
    Case("suite-date-impossible", suite(CHECKS + "    max: 2026-13-45\n"),
         input_error("unreadable value '2026-13-45': month must be in 1..12", SuiteError)),
    Case("suite-explicit-timestamp-tag", suite("suite: !!timestamp release\n" + CHECKS),
         input_error("s.mlqa.yaml:1:8: unreadable value 'release' tagged "
                     "'tag:yaml.org,2002:timestamp'", SuiteError)),
    Case("suite-nul-character", suite("suite: a\x00b\n" + CHECKS),
         input_error("s.mlqa.yaml:1:9: not valid YAML: the character '\\x00' is not allowed",
                     SuiteError)),
    # a name that ends with a newline ('$' matched before it under re.search)
    Case("suite-check-id-trailing-newline", suite(table("t.csv").replace(
        "id: rows", 'id: "pass\\n"')), input_error(
        "check 'pass\\n': 'id' must be letters, digits, _ . -", SuiteError)),
    Case("suite-mark-trailing-newline", suite(table("t.csv") + '    marks: ["slow\\n"]\n'),
         input_error("'marks.0' must be letters, digits", SuiteError)),
    Case("suite-name-trailing-newline", suite('suite: "release\\n"\n' + table("t.csv")),
         input_error("'suite' must be letters, digits", SuiteError)),
    # files outside the suite's folder
    Case("suite-data-proc-environ", suite(table("/proc/self/environ")), input_error(
        "s.mlqa.yaml:2:17: data source 'table': '/proc/self/environ' is outside the suite's "
        "folder; allow the folder holding it with --mlqa-data-root=DIR or the ini option "
        "mlqa_data_roots", SuiteError)),
    Case("suite-data-dotdot", lambda tmp: suite(table(
        f"../{outside(tmp).name}/secret.csv"))(tmp), input_error(
        "secret.csv' is outside the suite's folder", SuiteError, absent=(TOKEN,))),
    Case("suite-data-symlink-out", symlink_out,
         input_error("data source 'table': 'data.csv' is outside the suite's folder",
                     SuiteError)),
    Case("suite-model-path-out", suite(
        "model: {path: /etc/passwd, trust: true}\ndata: {t: {path: t.csv}}\nchecks:\n"
        "  - {id: p99, kind: latency, data: t, max_ms: 5}\n"),
        input_error("the model: '/etc/passwd' is outside the suite's folder", SuiteError)),
    Case("suite-payloads-out", suite(
        "checks:\n  - {id: e, kind: endpoint_latency, url: 'http://127.0.0.1:9/', "
        "payloads: /etc/hostname, rate: 1, max_ms: 5}\n"),
        input_error("check 'e': 'payloads': '/etc/hostname' is outside", SuiteError)),
    Case("suite-data-root-allowed", lambda tmp: len(suite(table(
        f"../{outside(tmp).name}/secret.csv"), data_roots=[outside(tmp)])(tmp)) == 1 and
        Ran(0, "", ""), exit_code(0)),
    Case("run-suite-data-proc-environ", run_environ_suite, exit_code(
        2, "'/proc/self/environ' is outside the suite's folder", absent=(TOKEN,))),
    Case("run-suite-data-root-option", run_with_root, exit_code(0, "1 passed",
                                                                absent=(TOKEN,))),
    # what an error message may show of a data file: its name, never its content
    Case("suite-environ-copy-columns-not-echoed", environ_as_csv, input_error(
        "target column 'label' is not in data source 'table' (2 columns)",
        absent=(TOKEN, "PATH="))),
    # mlqa init serialises names as data
    Case("init-file-name-injects-suite", init_with_injected_name,
         exit_code(0, "model=None checks=['schema', 'missing'", absent=("evil.pkl",))),
    Case("init-label-column-injects-suite", lambda tmp: init_with_injected_name(tmp,
                                                                                column=True),
         exit_code(0, "model=None checks=['schema', 'missing'", absent=("evil.pkl",))),
    # a store that never answers: the suite's own deadline
    Case("suite-store-timeout-on-folder", suite(table("t.csv", "baseline: {store: b, "
                                                               "timeout_s: 1}\n")),
         input_error("baseline 'timeout_s' applies to an http(s):// store", SuiteError)),
    Case("suite-store-timeout-zero", suite(table("t.csv", "baseline: {store: 'http://h/', "
                                                          "timeout_s: 0, attempts: 11}\n")),
         input_error("'baseline.timeout_s' must be > 0, got 0", SuiteError)),
    Case("suite-store-never-answers", store_never_answers,
         input_error("failed after 2 attempts: timed out after 0.3 s", StoreError)),
]


@pytest.mark.parametrize("case", cases(CASES))
def test_case(case: Case, tmp_path: Path, record_property: Any) -> None:
    run_case(case, tmp_path, record_property)
