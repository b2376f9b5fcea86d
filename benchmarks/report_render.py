"""How long ``mlqa report`` takes on a big bundle (target: under 5 s).

A bundle of 5000 metric checks (1% failing), 20 drift checks of 300 columns each (with
histograms), 50 latency checks with 2000 samples and 50 regression checks: read, judged by the
gate, rendered to HTML and Markdown. Best of N runs; the anchor is reading the bundle's JSON lines
in the same run (the least any report must do).

    .venv/bin/python benchmarks/report_render.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from mlqa.gate import gate
from mlqa.report import bundle, html, markdown
from mlqa.result import CheckResult, Outcome


def build(folder: Path) -> None:
    rng = np.random.default_rng(0)
    for i in range(5000):
        failing = i % 100 == 3
        r = CheckResult(name="accuracy", outcome=Outcome.FAIL if failing else Outcome.PASS,
                        check="metric", metric="accuracy", value=0.9, threshold=0.8,
                        comparison=">=", ci=(0.85, 0.95), confidence=0.95, n=10_000,
                        details={"slice": f"s{i % 40}"}, message="accuracy 0.9 >= min 0.8")
        bundle.append(folder, "main", {"nodeid": f"tests/test_m.py::test_acc[{i}]", "index": 0,
                                       "result": r.to_dict()})
    for i in range(20):
        cols = {f"col{j}": {"test": "ks", "statistic": 0.1, "p_value": 0.3,
                            "adjusted_p_value": 0.9, "effect_size": 0.05, "drifted": j < 10,
                            "histogram": {"edges": list(np.linspace(0, 1, 21)),
                                          "reference": rng.integers(1, 100, 20).tolist(),
                                          "current": rng.integers(1, 100, 20).tolist()}}
                for j in range(300)}
        r = CheckResult(name="drift", outcome=Outcome.FAIL, check="drift",
                        message="10 of 300 columns drifted", details={"columns": cols})
        bundle.append(folder, "main", {"nodeid": f"tests/test_d.py::test_drift[{i}]",
                                       "index": 0, "result": r.to_dict()})
    for i in range(50):
        samples = rng.gamma(9, 1.0, 2000)
        p = {f"p{q}": float(np.percentile(samples, q)) for q in (50, 95, 99)}
        r = CheckResult(name="latency_p99", outcome=Outcome.PASS, check="latency",
                        value=p["p99"], threshold=40.0, comparison="<=", n=2000,
                        message="p99 ok", details={**p, "samples_ms": samples.tolist(),
                                                   "percentiles_by_batch": {"1": p, "8": p}})
        bundle.append(folder, "main", {"nodeid": f"tests/test_l.py::test_lat[{i}]",
                                       "index": 0, "result": r.to_dict()})
        r = CheckResult(name="accuracy", outcome=Outcome.PASS, check="regression",
                        value=0.91, baseline=0.9, n=10_000, message="no regression",
                        details={"difference": 0.01, "difference_ci": [-0.002, 0.02],
                                 "margin": -0.005, "flip_rate": 0.03})
        bundle.append(folder, "main", {"nodeid": f"tests/test_r.py::test_reg[{i}]",
                                       "index": 0, "result": r.to_dict()})
    bundle.merge(folder)


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build(folder)
        size = (folder / bundle.RESULTS_FILE).stat().st_size
        read = best(lambda: bundle.read(folder), args.repeats)
        verdict = gate(folder)
        judged = best(lambda: gate(folder), args.repeats)
        page = html.render(verdict)
        render_html = best(lambda: html.render(verdict), args.repeats)
        render_md = best(lambda: markdown.render(verdict), args.repeats)
        browser = browser_times(folder, page, args.repeats)
    total = judged + render_html + render_md
    print(f"bundle: {len(verdict.checks)} checks, {size / 1e6:.1f} MB of JSON lines")
    print(f"read bundle (anchor)      {read:7.3f} s")
    print(f"read + gate               {judged:7.3f} s  ({judged / read:.2f}x the anchor)")
    print(f"HTML render               {render_html:7.3f} s  ({render_html / read:.2f}x the anchor,"
          f" {len(page) / 1e6:.1f} MB page, {page.count('<svg')} plots)")
    print(f"Markdown render           {render_md:7.3f} s")
    print(f"mlqa report, all of it    {total:7.3f} s  ({total / 5:.0%} of the 5 s budget)")
    if browser:
        empty, full = browser
        print(f"chromium load, empty page {empty:7.3f} s (anchor)")
        print(f"chromium load, this page  {full:7.3f} s  ({full / empty:.2f}x the empty page)")


def browser_times(folder: Path, page: str, repeats: int) -> tuple[float, float] | None:
    """Headless chromium loading an empty page and the report (--dump-dom waits for load)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    (folder / "empty.html").write_text("<!DOCTYPE html><p>.</p>")
    (folder / "report.html").write_text(page)

    def load(name: str) -> None:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--no-first-run",
                        f"--user-data-dir={folder / 'profile'}", "--dump-dom",
                        (folder / name).as_uri()], capture_output=True, check=True, timeout=120)

    return best(lambda: load("empty.html"), repeats), best(lambda: load("report.html"), repeats)


if __name__ == "__main__":
    main()
