"""The HTML report in a real browser: Debian's chromium, headless, offline.

CI installs chromium (.ci/install-browser.sh); elsewhere the test skips when it is missing.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from mlqa.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--window-size=1280,1800",
         # chromium's own chatter (clock sync, accounts, updates) cannot leave the machine either
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")


@pytest.fixture
def chromium(tmp_path: Path):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but chromium is missing: run .ci/install-browser.sh")
        pytest.skip("chromium is not installed (.ci/install-browser.sh installs it)")

    def run(page: Path, *extra: str) -> tuple[str, list[str]]:
        """Load ``page``; return chromium's stdout and the URLs the page itself requested."""
        profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
        netlog = profile.with_suffix(".netlog.json")
        proc = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--log-net-log={netlog}",
             *extra, page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert netlog.exists(), "chromium wrote no net log: the offline check would prove nothing"
        return proc.stdout, page_requests(json.loads(netlog.read_text(encoding="utf-8")))

    return run


def page_requests(netlog: dict) -> list[str]:
    """URLs of network requests a document started (chromium's own background requests carry
    the initiator 'not an origin'); local file: and data: loads are not requests."""
    start = netlog["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in netlog["events"]:
        params = event.get("params") or {}
        if event["type"] == start and "url" in params \
                and params.get("initiator") != "not an origin":
            url = str(params.get("url", ""))
            if not url.startswith(("file:", "data:")):
                urls.append(url)
    return urls


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


def test_report_renders_in_a_browser_offline(chromium, mixed_bundle: Path,
                                             tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    assert main(["report", str(mixed_bundle), "-o", str(report)]) == 0

    dom, urls = chromium(report, "--dump-dom")
    assert urls == [], f"the report made requests: {urls}"
    verdict = re.search(r'id="verdict" data-verdict="([^"]+)"', dom)
    assert verdict and verdict.group(1) == "refuse"
    assert "Verdict: REFUSE" in dom

    rows = {}
    for m in re.finditer(r'<tr class="check-row[^"]*" id="check-\d+" data-outcome="(\w+)">'
                         r'.*?<td class="check">([^<]+)', dom):
        rows[m.group(2)] = m.group(1)
    expected = {"test_suite.py::test_accuracy_passes": "pass",
                "test_suite.py::test_recall_fails": "fail",
                "test_suite.py::test_auc_inconclusive": "inconclusive",
                "test_suite.py::test_precision_waived": "waived",
                "test_suite.py::test_f1_cannot_run": "error",
                "test_suite.py::test_latency_on_gpu": "skipped",
                "test_suite.py::test_no_drift": "fail",
                "test_suite.py::test_latency_p99": "pass"}
    assert rows == expected
    # Every family section is open (small bundle), so every row is on screen, not folded away.
    assert len(re.findall(r'<details class="family" id="family-[\w-]+" open(?:="")?>', dom)) == \
        len(re.findall(r'<details class="family"', dom))
    assert "waived by gatekeeper.jane until 2999-12-31" in dom
    assert dom.count("<svg") >= 4  # metric intervals, drift distribution, latency histogram

    shot = tmp_path / "report.png"
    _, urls = chromium(report, f"--screenshot={shot}")
    assert urls == []
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    keep = os.environ.get("MLQA_KEEP_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
        shutil.copyfile(report, Path(keep).with_suffix(".html"))
