"""The example suite runs as README's main-job command runs it, and Jenkins reads its report."""

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "example_suites" / "tabular_classifier"


def test_example_suite_passes_and_leaves_junit_and_bundle(tmp_path, jenkins_check, one_verdict):
    junit, results = tmp_path / "junit.xml", tmp_path / "mlqa-results"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(EXAMPLE), f"--junitxml={junit}",
         f"--mlqa-results={results}", "-p", "no:cacheprovider", "-q"],
        capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    one_verdict(junit, results, proc.returncode)
    verdict = jenkins_check(junit)
    assert verdict["predicted_build_result"] == "SUCCESS"
    assert verdict["counts"]["total"] == verdict["counts"]["passed"] == 8
    classes = {c["class_name"] for c in verdict["cases"]}
    assert classes == {"test_model_quality.TestCandidateMetrics",
                       "test_model_quality.TestCandidateScores"}
    records = [json.loads(line) for line in (results / "results.jsonl").read_text().splitlines()]
    assert len(records) == 8
    assert {r["result"]["outcome"] for r in records} == {"pass"}
    assert {r["result"]["metric"] for r in records} >= {"accuracy", "roc_auc", "log_loss"}

    summary = subprocess.run([sys.executable, "-m", "mlqa.cli", "summary", str(results)],
                             capture_output=True, text=True, check=True).stdout
    assert summary.strip().endswith("8 checks: 8 pass")
    report = subprocess.run(
        [sys.executable, "-m", "mlqa.cli", "report", str(results), "-o", str(tmp_path / "r.html"),
         "--md", str(tmp_path / "s.md")], capture_output=True, text=True, check=False)
    assert report.returncode == 0, report.stderr
    assert "Model release: APPROVE" in (tmp_path / "s.md").read_text()
    gate = subprocess.run([sys.executable, "-m", "mlqa.cli", "gate", str(results)],
                          capture_output=True, text=True, check=False)
    assert gate.returncode == 0 and "APPROVE" in gate.stdout
