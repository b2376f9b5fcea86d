"""example_suites/Jenkinsfile: its Groovy is well-formed, and its shell steps, replayed in order
in a scratch workspace, produce what its junit / archive / publishHTML / plot steps read."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from mlqa.cli import SUBCOMMANDS
from mlqa.report import bundle

ROOT = Path(__file__).resolve().parents[2]
JENKINSFILE = ROOT / "example_suites" / "Jenkinsfile"
STEPS = {"pipeline", "agent", "options", "buildDiscarder", "logRotator", "timestamps",
         "parameters", "booleanParam", "environment", "stages", "stage", "steps", "sh", "junit",
         "archiveArtifacts", "publishHTML", "script", "plot", "error", "timeout", "input", "echo",
         "attachments", "withCredentials"}


def groovy_problems(text: str) -> list[str]:
    """Unbalanced brackets or unterminated strings, outside comments and strings."""
    problems, stack, i, line = [], [], 0, 1
    pairs = {")": "(", "]": "[", "}": "{"}
    while i < len(text):
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i)
            problems += [] if end >= 0 else [f"line {line}: unterminated comment"]
            line += text[i:end].count("\n")
            i = len(text) if end < 0 else end + 2
            continue
        for quote in ("'''", '"""', "'", '"'):
            if text.startswith(quote, i):
                j = i + len(quote)
                while j < len(text) and not text.startswith(quote, j):
                    if len(quote) == 1 and text[j] == "\n":
                        problems.append(f"line {line}: string not closed on its line")
                        break
                    j += 2 if text[j] == "\\" else 1
                if j >= len(text):
                    problems.append(f"line {line}: unterminated string")
                line += text[i:j].count("\n")
                i = j + len(quote)
                break
        else:
            if c in "([{":
                stack.append((c, line))
            elif c in ")]}":
                if not stack or stack[-1][0] != pairs[c]:
                    problems.append(f"line {line}: unexpected {c!r}")
                else:
                    stack.pop()
            line += c == "\n"
            i += 1
    problems += [f"line {ln}: {c!r} never closed" for c, ln in stack]
    return problems


def shell_steps(text: str) -> list[tuple[str, str]]:
    """(stage, script) for every sh step, in file order."""
    stages = [(m.start(), m.group(1)) for m in re.finditer(r"stage\('([^']+)'\)", text)]
    found = []
    for m in re.finditer(r"\bsh[ (](?:script:\s*)?('''(.*?)'''|'([^'\n]*)')", text, re.S):
        script = m.group(2) if m.group(2) is not None else m.group(3)
        stage = [name for pos, name in stages if pos < m.start()][-1]
        found.append((stage, textwrap.dedent(script)))
    return found


def test_jenkinsfile_is_well_formed_groovy_with_known_steps() -> None:
    text = JENKINSFILE.read_text()
    assert groovy_problems(text) == []
    code = re.sub(r"//[^\n]*", "", re.sub(r"'''.*?'''", "''", text, flags=re.S))
    # statements start a line; named arguments (name:) and environment entries (NAME =) do not
    calls = set(re.findall(r"^\s*([A-Za-z]\w*)\b(?!\s*[:=])", code, re.M))
    assert calls - {"def", "for", "if", "String"} <= STEPS, calls - STEPS
    assert "keepProperties: true" in text and "junit_family=xunit1" in text


def test_the_checker_catches_what_it_claims() -> None:
    assert groovy_problems("stage('x') { steps { sh 'a' }") == ["line 1: '{' never closed"]
    assert groovy_problems("sh '''\nunclosed") == ["line 1: unterminated string"]


SUITE = textwrap.dedent('''
    import numpy as np

    import mlqa

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    scores = y + rng.normal(0, 0.5, 2000)

    def test_auc():
        mlqa.expect_metric(y, scores, "roc_auc", min=0.8)

    def test_recall():
        mlqa.expect_metric(y, (scores > 0.9).astype(int), "recall", min=0.8)
''')


def test_replaying_the_shell_steps_feeds_every_publisher(tmp_path: Path, jenkins_check) -> None:
    ws = tmp_path / "workspace"
    (ws / "suites").mkdir(parents=True)
    (ws / "suites" / "test_model.py").write_text(SUITE)
    (ws / "quality").mkdir()
    (ws / "quality" / "waivers.yaml").write_text(
        '- check: "suites/test_model.py::test_recall"\n  reason: relabelling\n'
        "  approver: jane\n  expires: 2999-01-01\n")
    (ws / ".venv").symlink_to(sys.prefix)  # the Install stage, already done
    text = JENKINSFILE.read_text()
    env_block = re.search(r"environment \{(.*?)\n    \}", text, re.S).group(1)
    env = {**os.environ, **dict(re.findall(r"(\w+) = '([^']*)'", env_block)),
           "SUITES": "suites", "ATTACH_PLOTS": "true", "WORKSPACE": str(ws),
           # 'Publish to Nexus' into a folder repository (no credentials to bind)
           "MLQA_MAVEN_REPO": str(ws / "maven"), "BUILD_NUMBER": "7"}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("MODEL_VERSION", None)
    (ws / "maven").mkdir()
    (ws / "models").mkdir()
    (ws / "models" / "churn.onnx").write_bytes(b"the model a Java service loads")
    ran = []
    for stage, script in shell_steps(text):
        if stage == "Install" or ("baseline promote" in script and "baseline" not in SUBCOMMANDS):
            continue
        proc = subprocess.run(["bash", "-ec", script], cwd=ws, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        ran.append((stage, proc.returncode))
        assert proc.returncode == 0, f"{stage}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    assert [s for s, _ in ran][:3] == ["Model checks", "Report", "Publish"]
    assert "Gate" in [s for s, _ in ran]
    assert [s for s, _ in ran][-2:] == ["Promote baseline", "Publish to Nexus"]
    # the approved build went out as com.acme.models:churn:1.0.7, verified, marked released in
    # the history the Report stage drew
    from mlqa.history import read_history
    from mlqa.publish.maven_verify import verify

    released = ws / "maven" / "com/acme/models/churn/1.0.7"
    assert (released / "churn-1.0.7.jar").is_file() and verify(ws / "maven") == []
    (build,) = read_history(ws / ".mlqa" / "baselines").builds
    assert (build.number, build.released) == ("7", True)

    reports = ws / "reports"
    verdict = jenkins_check(reports / "mlqa-junit.xml", "--workspace", str(ws))  # junit step
    assert verdict["counts"]["total"] == 2 and verdict["counts"]["skipped"] == 1  # waived
    xml = (reports / "mlqa-junit.xml").read_text()
    attached = re.findall(r"\[\[ATTACHMENT\|([^\]]+)\]\]", xml)
    assert attached and all(Path(p).is_file() and Path(p).is_relative_to(ws) for p in attached)
    assert (reports / "report.html").is_file()  # publishHTML
    assert '<h2 id="history">History: last 1 build' in (reports / "report.html").read_text()
    csvs = sorted(p.name for p in (reports / "plots").glob("*.csv"))  # plot loop
    # "/" had to be sanitised: the name keeps a hash of the exact node id (never two checks
    # on one file), the same in every build (the Plot plugin's trend)
    assert csvs == ["mlqa-suites_test_model.py.test_auc-646b9ce5406f.csv",
                    "mlqa-suites_test_model.py.test_recall-fa6a322a1baf.csv"]
    header, row = (reports / "plots" / csvs[0]).read_text().splitlines()
    auc = next(r.result for r in bundle.read(reports / "mlqa-results")
               if r.nodeid.endswith("test_auc"))
    assert header == "value,threshold,ci_low,ci_high"
    assert row == ",".join(repr(v) for v in (auc.value, 0.8, *auc.ci))


def test_publish_to_nexus_says_it_is_skipped_where_no_repository_is_configured(tmp_path):
    """Without MLQA_MAVEN_REPO the stage passes on and says why, publishing nothing."""
    (script,) = [sc for stage, sc in shell_steps(JENKINSFILE.read_text())
                 if stage == "Publish to Nexus"]
    env = {k: v for k, v in os.environ.items() if k != "MLQA_MAVEN_REPO"}
    proc = subprocess.run(["bash", "-ec", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Publish to Nexus skipped: MLQA_MAVEN_REPO" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_release_page_shows_the_stage_the_jenkinsfile_runs():
    """docs/release.md's 'Publish to Nexus' is the Jenkinsfile's, script for script."""
    page = (ROOT / "docs" / "release.md").read_text()
    snippet = re.search(r"```groovy\n(stage\('Publish to Nexus'\).*?)```", page, re.S).group(1)
    ours = [sc for stage, sc in shell_steps(JENKINSFILE.read_text()) if stage == "Publish to Nexus"]
    assert [sc for _, sc in shell_steps(snippet)] == ours != []
