"""``mlqa report``: the HTML page, the Markdown summary, plot CSVs and JUnit attachments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlqa.cli import main
from mlqa.gate import evaluate
from mlqa.report import html, markdown
from mlqa.result import CheckResult, Outcome


def test_report_of_a_real_run(mixed_bundle: Path, jenkins_check, monkeypatch) -> None:
    base = mixed_bundle.parent
    junit = base / "junit.xml"
    before = jenkins_check(junit)
    assert before["counts"] == {**before["counts"], "total": 8, "skipped": 2, "failed": 3}
    monkeypatch.chdir(base)
    rc = main(["report", str(mixed_bundle), "-o", "out/report.html", "--md", "out/summary.md",
               "--plot-csv", "out/plots", "--attach-junit", str(junit),
               "--attach-dir", "out/attachments", "--workspace", str(base)])
    assert rc == 0

    md = (base / "out/summary.md").read_text()
    assert md.startswith("## Model release: REFUSE\n")
    for nodeid in ("test_recall_fails", "test_f1_cannot_run", "test_auc_inconclusive",
                   "test_precision_waived", "test_latency_on_gpu", "test_no_drift"):
        assert re.search(rf"\| \*?\*?[A-Z]+\*?\*? \| `test_suite.py::{nodeid}`", md), nodeid
    assert "<details><summary>2 passing checks</summary>" in md
    assert "`test_suite.py::test_recall_*`: expired; someone.else" in md
    assert "`test_suite.py::test_f1_cannot_run`: valid, unused" in md  # errors are not waived
    assert "model churn-classifier `sha256:" in md

    page = (base / "out/report.html").read_text()
    assert page.index('id="verdict"') < page.index('id="attention"') < page.index('id="checks"') \
        < page.index('id="waivers"') < page.index('id="provenance"')
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "dataset holdout" in page and "sha256:" in page

    csvs = sorted(p.name for p in (base / "out/plots").iterdir())
    assert "mlqa-test_suite.py.test_recall_fails.csv" in csvs
    assert "mlqa-test_suite.py.test_latency_on_gpu.csv" not in csvs  # no value, no point
    header, row = (base / "out/plots/mlqa-test_suite.py.test_auc_inconclusive.csv") \
        .read_text().splitlines()
    assert header == "value,threshold,ci_low,ci_high" and row == "0.905,0.9,0.89,0.92"

    after = jenkins_check(junit, "--workspace", str(base))  # absolute paths inside it
    assert after["counts"] == before["counts"]
    text = junit.read_text()
    attached = re.findall(r"\[\[ATTACHMENT\|([^\]]+)\]\]", text)
    assert len(attached) >= 4 and all(Path(p).is_file() for p in attached)
    assert any(p.endswith("test_no_drift-age.svg") for p in attached)


def _records(n: int, columns: int = 0) -> list[dict]:
    recs = []
    for i in range(n):
        outcome = Outcome.FAIL if i % 500 == 7 else Outcome.PASS
        recs.append({"nodeid": f"tests/test_big.py::test_m[{i}]", "index": 0, "result":
                     CheckResult(name="accuracy", outcome=outcome, check="metric",
                                 metric="accuracy", value=0.9, threshold=0.8, comparison=">=",
                                 ci=(0.85, 0.95), n=1000, message="accuracy 0.9",
                                 details={"slice": f"s{i}"}).to_dict()})
    if columns:
        cols = {f"c{j}": {"test": "ks", "statistic": 0.1, "p_value": 0.5, "drifted": j < 3,
                          "histogram": {"edges": list(range(11)), "reference": [1] * 10,
                                        "current": list(range(10))}} for j in range(columns)}
        recs.append({"nodeid": "tests/test_big.py::test_drift", "index": 0,
                     "result": {**CheckResult(name="drift", outcome=Outcome.FAIL, check="drift",
                                              message="3 drifted").to_dict(), "columns": cols}})
    return recs


def test_big_bundles_fold_passing_rows_and_stay_bounded() -> None:
    verdict = evaluate(_records(2000, columns=300))
    page = html.render(verdict)
    assert page.count('class="check-row') == 2001 + 5  # every check once, attention table too
    folded = page.index("<details><summary>1996 passing checks</summary>")
    first_pass = page.index('data-outcome="pass"')
    assert first_pass > folded  # failures first, passes folded below them
    assert page.count("<svg") == 1 + 3  # one metric plot (capped rows), 3 drifted columns
    assert len(page) < 3_000_000
    assert len(markdown.render(verdict)) < 65_536  # fits a GitHub comment


def test_text_from_checks_is_escaped() -> None:
    hostile = CheckResult(name="<script>alert(1)</script>", outcome=Outcome.FAIL,
                          check="metric", message="<img src=x onerror=alert(1)>")
    page = html.render(evaluate([{"nodeid": "t.py::x[<b>]", "result": hostile.to_dict()}]))
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_malformed_waivers_stop_pytest_at_start_naming_the_line(pytester: pytest.Pytester
                                                                ) -> None:
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    pytester.makefile(".yaml", w="- check: a\n  reason: r\n  approver: x\n  expires: soon\n")
    result = pytester.runpytest_inprocess("--mlqa-waivers=w.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "w.yaml:1" in result.stderr.str() and "expires" in result.stderr.str()
