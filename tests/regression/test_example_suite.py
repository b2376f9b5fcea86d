"""The example regression suite runs as the docs say, against its committed baseline, and its
JUnit report is clean for Jenkins."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from mlqa.baseline import load_record

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "example_suites" / "regression"


def test_example_suite_passes_against_its_baseline(tmp_path, jenkins_check, one_verdict):
    store = SUITE / "baselines"
    approved = load_record(store, "approved")  # committed, checksums verified
    assert approved.model["name"] == "example-classifier" and approved.model["version"] == "1.0"
    report = tmp_path / "regression.xml"
    proc = subprocess.run(
        # the store comes from the suite's pytest.ini (mlqa_baseline = baselines)
        [sys.executable, "-m", "pytest", "example_suites/regression", f"--junitxml={report}",
         f"--mlqa-results={tmp_path / 'results'}", "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "mlqa: 3 checks: 3 pass" in proc.stdout
    one_verdict(report, tmp_path / "results", proc.returncode)
    cases = {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")}
             for c in ET.parse(report).iter("testcase")}
    auc = cases["test_roc_auc_does_not_regress"]
    assert auc["mlqa.test"] == "delong" and auc["mlqa.outcome"] == "pass"
    assert cases["test_f1_does_not_regress"]["mlqa.test"] == "paired_bootstrap"
    assert float(cases["test_accuracy_does_not_regress"]["mlqa.negative_flip_rate"]) < 0.05
    verdict = jenkins_check(report)
    assert verdict["ok"]
