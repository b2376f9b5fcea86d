"""README's main job, run as written from a fresh clone of the repository.

Only the environment set-up (``python3 -m venv`` and ``pip install``) is left out: the test
reuses the interpreter it runs in, with the clone first on ``PYTHONPATH`` so that the clone's
``mlqa`` is the one imported. Everything else (the example suite, its committed baseline and
waivers, the report and the gate) comes from the clone, so a file missing from git fails here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- main-job-command"
FAMILIES = {"metric", "regression", "drift", "quality", "latency"}


def main_job_commands(readme: str) -> list[list[str]]:
    """The commands of the block after the marker, without the environment set-up, with
    ``.venv/bin/X`` replaced by this interpreter."""
    block = re.search(re.escape(MARKER) + r".*?```bash\n(.*?)\n```", readme, re.S)
    assert block, f"README.md has no {MARKER} block"
    commands = []
    for part in block.group(1).split(" && "):
        argv = shlex.split(part)
        if argv[0] == "python3" or argv[:2] == [".venv/bin/pip", "install"]:
            continue  # set-up: this interpreter already has the dependencies
        tool = argv[0].removeprefix(".venv/bin/")
        assert tool in ("pytest", "mlqa"), f"unexpected command in the main job: {part}"
        module = ["-m", "pytest"] if tool == "pytest" else ["-m", "mlqa.cli"]
        commands.append([sys.executable, *module, *argv[1:]])
    return commands


@pytest.mark.slow
@pytest.mark.usefixtures("plugins_as_installed")  # exactly as the README runs it
def test_main_job_from_a_fresh_clone(tmp_path, request):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True,
                   capture_output=True)
    commands = main_job_commands((clone / "README.md").read_text())
    env = {**os.environ, "PYTHONPATH": str(clone), "DO_NOT_TRACK": "1"}
    for argv in commands:
        proc = subprocess.run(argv, cwd=clone, env=env, capture_output=True, text=True,
                              timeout=600, check=False)
        assert proc.returncode == 0, f"{' '.join(argv[1:])} exited {proc.returncode}:\n" \
                                     f"{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    assert "APPROVE" in proc.stdout  # the last command is the gate
    request.getfixturevalue("one_verdict")(clone / "reports" / "junit.xml",
                                           clone / "reports" / "mlqa-results", 0,
                                           waivers=clone / "example_suites/release/waivers.yaml")

    junit = clone / "reports" / "junit.xml"
    families = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        families.setdefault(props.get("mlqa.check"), []).append(case.get("name"))
    assert FAMILIES <= set(families), families
    assert "production_drift" in families["drift"]  # waived, still a testcase with its figures
    assert (clone / "reports" / "report.html").stat().st_size > 0
    summary = (clone / "reports" / "summary.md").read_text()
    assert "Model release: APPROVE" in summary and "production_drift" in summary
    verdict = request.getfixturevalue("jenkins_check")(junit)
    assert verdict["predicted_build_result"] == "SUCCESS"
    _what_was_judged_is_on_the_page(clone, request.getfixturevalue("chromium"))


def _what_was_judged_is_on_the_page(clone: Path, chromium) -> None:
    """The approver's side, read in Chromium from the page the main job wrote: the baseline
    record the regressions were judged against (id, model, who promoted it, when, why), every
    suite, model and dataset of the run with its SHA-256, and the suite's descriptions."""
    from _browser import parse_dom

    dom, requests = chromium(clone / "reports" / "report.html", "--dump-dom")
    assert requests == []
    doc = parse_dom(dom)
    alias = json.loads((clone / "example_suites/release/baselines/aliases/approved.json")
                       .read_text())
    rows = doc.find_all("tr", class_="baseline")
    assert len(rows) == 1, [r.text for r in rows]
    cells = [c.text for c in rows[0].find_all("td")]
    assert cells[:6] == [alias["record"], "breast-cancer-classifier 1.0", "approved",
                         alias["by"], alias["updated"], alias["reason"]]
    assert "roc_auc_vs_baseline" in cells[6] and "accuracy_vs_baseline" in cells[6]
    summary = (clone / "reports" / "summary.md").read_text()
    assert f"record {alias['record']}" in summary and alias["by"] in summary
    for case in ET.parse(clone / "reports" / "junit.xml").getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        if case.get("name", "").endswith("_vs_baseline"):
            assert props["mlqa.baseline_record"] == alias["record"], props
            assert props["mlqa.baseline_promoted_by"] == alias["by"]
            assert props["mlqa.baseline_reason"] == alias["reason"]
        else:
            assert "mlqa.baseline_record" not in props, case.get("name")

    prov = json.loads((clone / "reports" / "mlqa-results" / "provenance.json").read_text())
    listed = {dt.text: dd.text for dt, dd in zip(doc.find("dl").find_all("dt"),
                                                   doc.find("dl").find_all("dd"), strict=True)}
    files = [(kind, item) for kind in ("suite", "model", "dataset")
             for item in prov[f"{kind}s"]]
    assert {k for k, _ in files} == {"suite", "model", "dataset"}
    for kind, item in files:
        assert f"sha256:{item['sha256']}" in listed[f"{kind} {item['name']}"], (kind, item)
    suite = clone / "example_suites/release/release.mlqa.yaml"
    assert str(suite) in listed["suite release"]
    text = doc.text
    for said in ("Release gate for the breast-cancer classifier (candidate 2.0 vs approved 1.0)",
                 "accuracy overall and on small, medium and large tumours"):
        assert said in text, said
