"""The HTML report in a real browser: Debian's chromium, headless, offline.

The report of a real run (tests/report/conftest.py: metric, regression with a failing margin,
drift with two drifted columns, latency, a waiver) is loaded in chromium and the text of the
right cells of the parsed document is checked against the typed results in the bundle, for
every figure issue 10 asks the report to show. Screenshots are kept under the pytest basetemp
(``screenshots/``; CI archives them) and in ``$MLQA_KEEP_SCREENSHOT`` when set.

CI installs chromium (.ci/install-packages.sh); elsewhere the test skips when it is missing.
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest
from _browser import Node, parse_dom

from mlqa._text import fmt_num
from mlqa.cli import main
from mlqa.report import bundle
from mlqa.result import CheckResult


def test_the_net_log_sees_a_request_when_a_page_makes_one(chromium, tmp_path: Path) -> None:
    """The negative control: a page that fetches from a local server is caught."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = tmp_path / "leaky.html"
        page.write_text(f'<img src="http://127.0.0.1:{server.server_port}/pixel.png">')
        _, urls = chromium(page, "--dump-dom")
    finally:
        server.shutdown()
    assert hits == ["/pixel.png"]
    assert any(u.endswith("/pixel.png") for u in urls)




# -- the report of a real run, in the browser ---------------------------------------------------

@pytest.fixture(scope="module")
def rendered(mixed_bundle: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, dict[str, CheckResult]]:
    out = tmp_path_factory.mktemp("report")
    report = out / "report.html"
    assert main(["report", str(mixed_bundle), "--waivers",
               str(mixed_bundle.parent / "waivers.yaml"), "-o", str(report)]) == 0
    results = {r.nodeid.split("::")[-1]: r.result
               for r in bundle.read(mixed_bundle) if not r.skipped}
    return report, results


@pytest.fixture
def page(chromium, rendered) -> tuple[Node, dict[str, CheckResult]]:
    report, results = rendered
    dom, urls = chromium(report, "--dump-dom")
    assert urls == [], f"the report made requests: {urls}"
    return parse_dom(dom), results


def details_of(doc: Node, test: str) -> Node:
    return doc.find("details", class_="check-details",
                    data_check=f"test_suite.py::{test}")


def row_of(doc: Node, test: str) -> Node:
    """The check's row in its family table (the one with an anchor id)."""
    rows = [tr for tr in doc.find_all("tr", id=lambda v: v.startswith("check-"))
            if tr.find("td", class_="check").text.startswith(f"test_suite.py::{test}")]
    assert len(rows) == 1, [r.text for r in rows]
    return rows[0]


def test_report_renders_in_a_browser_offline(chromium, page, rendered,
                                             tmp_path_factory) -> None:
    doc, _ = page
    verdict = doc.find(id="verdict")
    assert verdict.attrs["data-verdict"] == "refuse" and "Verdict: REFUSE" in verdict.text
    rows = {tr.find("td", class_="check").text.split(" ")[0]: tr.attrs["data-outcome"]
            for tr in doc.find_all("tr", id=lambda v: v.startswith("check-"))}
    assert rows == {
        "test_suite.py::test_accuracy_passes": "pass",
        "test_suite.py::test_recall_fails": "fail",
        "test_suite.py::test_auc_inconclusive": "inconclusive",
        "test_suite.py::test_precision_waived": "waived",
        "test_suite.py::test_f1_cannot_run": "error",
        "test_suite.py::test_latency_on_gpu": "skipped",
        "test_suite.py::test_regression_misses_its_margin": "fail",
        "test_suite.py::test_drift_in_two_columns": "fail",
        "test_suite.py::test_latency_p99": "pass"}
    families = doc.find_all("details", class_="family")
    assert families and all("open" in f.attrs for f in families)  # small bundle: all shown

    report, _ = rendered
    shots = tmp_path_factory.getbasetemp() / "screenshots"
    shots.mkdir(exist_ok=True)
    shot = shots / "release-report.png"
    _, urls = chromium(report, f"--screenshot={shot}", "--window-size=1280,5200")
    assert urls == []
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    keep = os.environ.get("MLQA_KEEP_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
        shutil.copyfile(report, Path(keep).with_suffix(".html"))


def test_verdict_banner_names_blocking_checks_and_waived_failures(page) -> None:
    doc, _ = page
    blocking = doc.find(id="verdict-blocking")
    assert {li.attrs.get("data-check") for li in blocking.find_all("li")} == {
        "test_suite.py::test_recall_fails", "test_suite.py::test_f1_cannot_run",
        "test_suite.py::test_regression_misses_its_margin",
        "test_suite.py::test_drift_in_two_columns"}
    waived = doc.find(id="verdict-waived").find_all("li")
    assert len(waived) == 1 and waived[0].attrs["data-check"] == \
        "test_suite.py::test_precision_waived"
    assert waived[0].find(class_="approver").text == "gatekeeper.jane"
    assert waived[0].find(class_="expires").text == "2999-12-31"
    assert "precision target under review" in waived[0].text


def test_regression_cells_and_plot(page) -> None:
    doc, results = page
    r = results["test_regression_misses_its_margin"]
    assert r.outcome.value == "fail" and r.margin_low == -0.01
    box = details_of(doc, "test_regression_misses_its_margin")
    assert box.cell("candidate") == fmt_num(r.candidate)
    assert box.cell("baseline") == fmt_num(r.baseline)
    assert abs(r.candidate - r.baseline - r.value) < 1e-12  # the difference is cand - base
    assert box.cell("difference") == fmt_num(r.value)
    assert box.cell("difference_ci") == f"95% {fmt_num(r.ci[0])}\u2013{fmt_num(r.ci[1])}"
    assert box.cell("margin") == "difference \u2265 -0.01"
    assert box.cell("test") == "mcnemar"
    assert box.cell("p_value") == f"{r.p_value:.2e}"
    assert box.cell("flips") == (
        f"{r.negative_flips} newly wrong ({r.negative_flip_rate:.1%}), "
        f"{r.positive_flips} newly right ({r.positive_flip_rate:.1%})")
    row = row_of(doc, "test_regression_misses_its_margin")
    assert row.cell("baseline") == fmt_num(r.baseline)  # never the difference
    assert row.cell("requirement") == "\u0394 \u2265 -0.01"
    # one plot per quantity: the accuracy change, margin dashed, no other unit on its axis
    family = doc.find("details", id="family-regression")
    plots = [svg for svg in family.find_all("svg")
             if svg.attrs["aria-label"].startswith("regression: accuracy change")]
    assert len(plots) == 1
    assert plots[0].find_all("line", stroke_dasharray="3,2")  # the margin
    assert len(plots[0].find_all("circle")) == 1  # the one regression check of that metric
    titles = [svg.attrs["aria-label"] for svg in doc.find_all("svg")
              if "value, interval and requirement" in svg.attrs["aria-label"]]
    assert len(titles) == len(set(titles))  # one plot per quantity and unit


def test_drift_columns_distributions_and_missing_shares(page) -> None:
    doc, results = page
    r = results["test_drift_in_two_columns"]
    assert sorted(r.drifted_columns) == ["age", "plan"]
    row = row_of(doc, "test_drift_in_two_columns")
    assert row.cell("value") == "2 of 5 columns drifted"
    box = details_of(doc, "test_drift_in_two_columns")
    table_rows = {tr.cell("column"): tr for tr in box.find_all("tr")
                  if tr.find_all(data_field="column")}
    assert list(table_rows)[:2] == ["age", "plan"]  # drifted columns first
    for name in ("age", "plan"):
        c, tr = r.columns[name], table_rows[name]
        assert tr.cell("drifted") == "yes" and tr.cell("test") == c.test
        assert tr.cell("statistic") == fmt_num(c.statistic)
        assert tr.cell("adjusted_p_value") == f"{c.adjusted_p_value:.2e}"
        assert tr.cell("effect_size") == fmt_num(c.effect_size)
    assert table_rows["plan"].cell("test") == "chi2_homogeneity"
    tenure = r.columns["tenure"]
    assert tenure.missing_current > 0.25 and not tenure.drifted
    assert table_rows["tenure"].cell("missing") == \
        f"0.0% \u2192 {tenure.missing_current:.1%} ({tenure.missing_change:+.1%})"
    assert "missing share changed: tenure 0.0% \u2192" in box.find("summary").text
    plotted = [svg.attrs["aria-label"] for svg in box.find_all("svg")]
    assert plotted[0].startswith("age: ks") and plotted[1].startswith("plan: chi2_homogeneity")
    assert "p_adj" in plotted[0] and "effect" in plotted[0]
    plan_plot = box.find_all("svg")[1]
    assert [t.text for t in plan_plot.find_all("text")][-3:] == ["basic", "plus", "pro"]
    others = box.find("details", class_="more")  # the other columns, on demand
    assert "other columns (3)" in others.find("summary").text
    assert len(others.find_all("svg")) == 3


def test_latency_percentiles_with_bounds_and_log_histogram(page) -> None:
    doc, results = page
    r = results["test_latency_p99"]
    box = details_of(doc, "test_latency_p99")
    rows = [tr for tr in box.find_all("tr") if tr.find_all(data_field="percentile")]
    assert [tr.cell("percentile") for tr in rows] == ["p50", "p95", "p99"]
    for tr, p in zip(rows, r.percentiles, strict=True):
        assert tr.cell("ms") == fmt_num(p.value)
        assert tr.cell("bounds") == f"{fmt_num(p.low)}\u2013{fmt_num(p.high)}"
        assert p.low <= p.value <= p.high
        assert tr.cell("n") == str(p.n)
    svg = box.find("svg")
    assert "log bins" in svg.attrs["aria-label"]
    edges = r.histogram.edges
    ratios = [b / a for a, b in zip(edges, edges[1:], strict=False)]
    assert max(ratios) / min(ratios) < 1 + 1e-9  # log-spaced: a constant ratio
    marks = {t.text.split()[0]: float(t.attrs["y"]) for t in svg.find_all("text")
             if t.text.startswith("p")}
    assert set(marks) == {"p50", "p95", "p99"}
    ys = sorted(marks.values())
    assert all(b - a >= 11 for a, b in zip(ys, ys[1:], strict=False))  # labels never overlap


def test_metric_per_class_table_and_confusion_matrix(page) -> None:
    doc, results = page
    r = results["test_accuracy_passes"]
    box = details_of(doc, "test_accuracy_passes")
    labels, counts = r.confusion.labels, r.confusion.counts
    assert labels == ("0", "1") and sum(map(sum, counts)) == r.n
    matrix = [tr for tr in box.find_all("tr") if tr.find_all(data_field="true")]
    assert [tr.cell("true") for tr in matrix] == ["0", "1"]
    for tr, row in zip(matrix, counts, strict=True):
        assert [tr.cell(f"pred:{x}") for x in labels] == [fmt_num(v) for v in row]
    per_class = {tr.cell("class"): tr for tr in box.find_all("tr")
                 if tr.find_all(data_field="class")}
    tp, fn = counts[1][1], counts[1][0]
    assert per_class["1"].cell("support") == fmt_num(tp + fn)
    assert per_class["1"].cell("recall") == f"{tp / (tp + fn):.3f}"
    # the recall check's own figure agrees with the per-class table of the same predictions
    assert results["test_recall_fails"].value == pytest.approx(tp / (tp + fn))
