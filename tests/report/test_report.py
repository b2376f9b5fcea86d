"""``mlqa report``: the HTML page, the Markdown summary, plot CSVs and JUnit attachments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlqa
from mlqa.cli import main
from mlqa.gate import evaluate
from mlqa.report import bundle, html, markdown
from mlqa.result import Outcome


def test_report_of_a_real_run(mixed_bundle: Path, jenkins_check, monkeypatch) -> None:
    base = mixed_bundle.parent
    junit = base / "junit.xml"
    before = jenkins_check(junit)
    assert before["counts"] == {**before["counts"], "total": 9, "skipped": 2, "failed": 4}
    monkeypatch.chdir(base)
    rc = main(["report", str(mixed_bundle), "--waivers",
               str(mixed_bundle.parent / "waivers.yaml"), "-o", "out/report.html",
               "--md", "out/summary.md",
               "--plot-csv", "out/plots", "--attach-junit", str(junit),
               "--attach-dir", "out/attachments", "--workspace", str(base)])
    assert rc == 0

    md = (base / "out/summary.md").read_text()
    assert md.startswith("## Model release: REFUSE\n")
    for nodeid in ("test_recall_fails", "test_f1_cannot_run", "test_auc_inconclusive",
                   "test_precision_waived", "test_latency_on_gpu", "test_drift_in_two_columns",
                   "test_regression_misses_its_margin"):
        assert re.search(rf"\| \*?\*?[A-Z]+\*?\*? \| `test_suite.py::{nodeid}`", md), nodeid
    assert "<details><summary>2 passing checks</summary>" in md
    assert "`test_suite.py::test_recall_*`: expired; someone.else" in md
    assert "`test_suite.py::test_f1_cannot_run`: valid, unused" in md  # errors are not waived
    assert re.search(r"Judged as of \d{4}-\d{2}-\d{2} \\\(today in UTC\\\)", md)  # the day used
    assert "model churn-classifier `sha256:" in md

    page = (base / "out/report.html").read_text()
    assert page.index('id="verdict"') < page.index('id="attention"') < page.index('id="checks"') \
        < page.index('id="waivers"') < page.index('id="provenance"')
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "dataset holdout" in page and "sha256:" in page
    assert re.search(r"waivers judged as of \d{4}-\d{2}-\d{2} \(today in UTC\)", page)

    csvs = sorted(p.name for p in (base / "out/plots").iterdir())
    assert "mlqa-test_suite.py.test_recall_fails.csv" in csvs
    assert "mlqa-test_suite.py.test_latency_on_gpu.csv" not in csvs  # no value, no point
    header, row = (base / "out/plots/mlqa-test_suite.py.test_auc_inconclusive.csv") \
        .read_text().splitlines()
    auc = next(r.result for r in bundle.read(mixed_bundle)
               if r.nodeid.endswith("test_auc_inconclusive"))
    assert header == "value,threshold,ci_low,ci_high"
    assert row == ",".join(repr(v) for v in (auc.value, auc.threshold, *auc.ci))

    after = jenkins_check(junit, "--workspace", str(base))  # absolute paths inside it
    assert after["counts"] == before["counts"]
    text = junit.read_text()
    attached = re.findall(r"\[\[ATTACHMENT\|([^\]]+)\]\]", text)
    assert len(attached) >= 4 and all(Path(p).is_file() for p in attached)
    assert any(p.endswith("test_drift_in_two_columns-age.svg") for p in attached)
    assert any(p.endswith("test_latency_p99-latency-batch1.svg") for p in attached)


@pytest.fixture(scope="module")
def big_bundle_records() -> list[dict]:
    """2000 metric checks (0.2% failing) and one drift check of 300 columns (3 drifted), each
    from a real check, recorded under many node ids."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1000)
    good = mlqa.check_metric(y, np.where(rng.random(1000) < 0.9, y, 1 - y), "accuracy", min=0.8)
    bad = mlqa.check_metric(y, np.where(rng.random(1000) < 0.7, y, 1 - y), "accuracy", min=0.8)
    assert good.outcome is Outcome.PASS and bad.outcome is Outcome.FAIL
    reference = pd.DataFrame(rng.normal(size=(500, 300)), columns=[f"c{j}" for j in range(300)])
    current = reference.sample(frac=1.0, random_state=1).reset_index(drop=True)
    current[["c0", "c1", "c2"]] += 3.0
    drift = mlqa.check_drift(reference, current)
    assert sorted(drift.drifted_columns) == ["c0", "c1", "c2"]
    recs = [bundle.BundleRecord(f"tests/test_big.py::test_m[{i}]", bad if i % 500 == 7 else good)
            for i in range(2000)]
    recs.append(bundle.BundleRecord("tests/test_big.py::test_drift", drift))
    return recs


def test_big_bundles_fold_passing_rows_and_stay_bounded(big_bundle_records) -> None:
    verdict = evaluate(big_bundle_records)
    page = html.render(verdict)
    assert page.count('class="check-row') == 2001 + 5  # every check once, attention table too
    folded = page.index("<details><summary>1996 passing checks</summary>")
    first_pass = page.index('data-outcome="pass"')
    assert first_pass > folded  # failures first, passes folded below them
    # one metric interval plot (rows capped), the failing checks' details (no per-check
    # details for 1996 passes), 3 drifted columns plus the other columns capped at 12
    assert page.count('aria-label="metric: accuracy') == 1
    assert page.count('class="check-details"') == 4 + 1
    assert page.count("<svg") == 1 + 3 + 12
    assert len(page) < 3_000_000
    assert len(markdown.render(verdict)) < 65_536  # fits a GitHub comment


HOSTILE = "<img src=x onerror=alert(1)>"


def test_text_from_data_is_escaped_in_html_and_markdown() -> None:
    """Check names, column names and messages come from users' data: never markup."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    metric = mlqa.check_metric(y, 1 - y, "accuracy", min=0.9, name="<script>alert(1)</script>")
    reference = pd.DataFrame({HOSTILE: rng.normal(size=300), "*bold* [x](javascript:y)":
                              rng.normal(size=300)})
    current = reference + 5.0
    drift = mlqa.check_drift(reference, current)
    verdict = evaluate([bundle.BundleRecord("t.py::x[<blink>|]", metric),
                        bundle.BundleRecord("t.py::d", drift)])
    page = html.render(verdict)
    assert "<script>alert" not in page and "<img src=x" not in page and "<blink>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    md = markdown.render(verdict)
    outside_code = re.sub(r"(`+).*?\1", "", md)  # a code span's text is literal, never HTML
    assert "<script" not in outside_code and "<img" not in outside_code
    assert "<blink>" not in outside_code
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in md
    assert "](javascript" not in md and "\\*bold\\*" in md
    assert "`t.py::x[<blink>\\|]`" in md  # a code span shows the node id literally


@pytest.mark.parametrize("url,live", [
    ("javascript:alert(document.cookie)", False),
    ("JavaScript:alert(1)", False),
    (" javascript:alert(1)", False),
    ("data:text/html,<script>alert(1)</script>", False),
    ("//evil.example/x", False),
    ("https://jenkins.example/job/x/7/", True),
    ("http://jenkins:8080/job/x/7/", True),
])
def test_only_http_build_urls_become_links(url, live) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    verdict = evaluate([bundle.BundleRecord(
        "t.py::a", mlqa.check_metric(y, y, "accuracy", min=0.5))])
    prov = {"jenkins": {"JOB_NAME": "model-release", "BUILD_NUMBER": "7", "BUILD_URL": url}}
    page = html.render(verdict, prov)
    md = markdown.render(verdict, prov)
    links = re.findall(r'<a href="([^"]*)"', page)
    md_links = re.findall(r"\]\(([^)]*)\)", md)
    if live:
        assert links == [url.strip()] and len(md_links) == 1 and md_links[0].startswith("http")
    else:
        assert links == [] and md_links == []
        assert "model-release #7" in page and "model\\-release #7" not in md


def test_malformed_waivers_stop_pytest_at_start_naming_the_line(pytester: pytest.Pytester
                                                                ) -> None:
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    pytester.makefile(".yaml", w="- check: a\n  reason: r\n  approver: x\n  expires: soon\n")
    result = pytester.runpytest_inprocess("--mlqa-waivers=w.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "w.yaml:1" in result.stderr.str() and "expires" in result.stderr.str()


@pytest.mark.parametrize("change,field", [
    ({"type": "FancyResult"}, "result.type"),
    ({"outcome": "FAILED"}, "result.outcome"),
    ({"value": "0.9"}, "result.value"),
])
def test_report_refuses_a_line_it_cannot_read(tmp_path: Path, capsys, change, field) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    good = mlqa.check_metric(y, y, "accuracy", min=0.5).to_dict()
    lines = [{"schema": 1, "nodeid": "t.py::ok", "index": 0, "result": good},
             {"schema": 1, "nodeid": "t.py::bad", "index": 0, "result": {**good, **change}}]
    (tmp_path / "results-main.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    bundle.merge(tmp_path)
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "results.jsonl:1" in err and field in err  # file:line (merged lines sort by test id)
    assert not (tmp_path / "r.html").exists()


_NOT_FINITE_ATTR = re.compile(r'\s(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height)="[^"]*(?:nan|inf)',
                              re.IGNORECASE)


def test_plots_never_write_a_non_finite_number_and_say_what_they_left_out() -> None:
    from mlqa.display import DistributionPlot, HistogramPlot, IntervalPlot, IntervalPoint
    from mlqa.report import plots

    inf, nan = float("inf"), float("nan")
    histogram = plots.histogram(HistogramPlot("latency", counts=(1, nan, inf, 3),
                                              edges=(0.0, 1.0, inf, 3.0, 4.0),
                                              marks=(("p99", inf), ("p50", 2.0))))
    distribution = plots.distribution_plot(DistributionPlot("age", (0.5, nan, 0.5),
                                                            (0.2, inf, 0.8)))
    huge = plots.interval_plot(IntervalPlot("x", (
        IntervalPoint("a", 1.7e308, (-1.7e308, 1.7e308), -1.7e308, None, "pass"),)))
    for svg in (histogram, distribution, huge):
        assert not _NOT_FINITE_ATTR.search(svg), svg
    assert "left out: a figure is not finite (inf or NaN)" in histogram
    assert "left out: a figure is not finite" in distribution
    assert "p50 2" in histogram  # the finite mark stays
    assert histogram.count("<rect") >= 2  # as do the finite bars
    assert "left out" not in huge and "<circle" in huge  # huge but finite: drawn, not dropped


_ACCURACY = mlqa.check_metric([0, 1] * 50, [0, 1] * 40 + [1, 0] * 10, "accuracy", min=0.5)
_IDS = st.text(alphabet="ab/:[]-._ \u00e9#", min_size=1, max_size=12).map(lambda s: f"t.py::{s}")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(nodeids=st.lists(_IDS, min_size=2, max_size=6, unique=True),
       names=st.lists(st.sampled_from(["accuracy", "a-b", "a.b", "a/b"]), min_size=1,
                      max_size=3))
def test_plot_file_names_are_injective_stable_and_safe(nodeids: list[str],
                                                       names: list[str]) -> None:
    """Different checks never share a file name, whatever their ids sanitise to; the same
    checks get the same names however they are ordered (as in the next build)."""
    from mlqa.gate import CheckVerdict
    from mlqa.report.cli import file_stems

    def build(order: list[str]) -> dict[tuple[str, int], str]:
        checks = [CheckVerdict(bundle.BundleRecord(n, _ACCURACY.replace(name=name), index=i),
                               Outcome.PASS, advisory=False, blocks=False, asks=False)
                  for n in order for i, name in enumerate(names)]
        stems = file_stems(checks)
        return {(c.nodeid, c.record.index): stems[id(c)] for c in checks}

    stems = build(nodeids)
    assert len(set(stems.values())) == len(stems) == len(nodeids) * len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]{1,120}", s) for s in stems.values())
    assert build(list(reversed(nodeids))) == stems
