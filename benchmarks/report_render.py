"""How long ``mlqa report`` takes on a big bundle (target: under 5 s).

A bundle of 5000 metric checks (1% failing), 20 drift checks of 300 columns each (with
their distributions), 50 latency checks and 50 regression checks, all results of real checks:
read, judged by the gate, rendered to HTML and Markdown. Best of N runs; the anchor is reading
the bundle's JSON lines in the same run (the least any report must do).

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
from mlqa.report.rows import shown_all
from mlqa.result import CheckResult


def _real_results() -> dict[str, CheckResult]:
    """One result per family from a real check; the bundle repeats them under many node ids
    (what the report renders is the result's own display, as in a real run)."""
    import pandas as pd

    import mlqa
    from mlqa.latency.report import LatencyReport, LatencyResult

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 10_000)
    baseline = np.where(rng.random(10_000) < 0.9, y, 1 - y)
    good = mlqa.check_metric(y, baseline, "accuracy", min=0.8)
    bad = mlqa.check_metric(y, np.where(rng.random(10_000) < 0.7, y, 1 - y), "accuracy",
                            min=0.8)
    reference = pd.DataFrame(rng.normal(size=(2000, 300)),
                             columns=[f"col{j}" for j in range(300)])
    current = reference.sample(frac=1.0, random_state=1).reset_index(drop=True)
    current.iloc[:, :10] += 1.0
    drift = mlqa.check_drift(reference, current)
    samples = (rng.gamma(9, 1.0, 2000) * 1e6).astype(np.int64)  # ns
    lat = LatencyReport({1: LatencyResult(1, samples), 8: LatencyResult(8, samples * 3)},
                        environment={"device": "cpu"})
    latency = mlqa.check_latency(lat, quantile=0.99, max_ms=40.0)
    candidate = np.where(rng.random(10_000) < 0.91, y, 1 - y)
    regression = mlqa.check_regression(y, candidate, baseline, "accuracy", max_drop=0.005)
    return {"good": good, "bad": bad, "drift": drift, "latency": latency,
            "regression": regression}


RUN = "benchmark"  # the run id of the synthetic bundle


def build(folder: Path) -> None:
    real = _real_results()

    def add(nodeid: str, r: CheckResult) -> None:
        bundle.append(folder, "main", bundle.BundleRecord(nodeid, r, run_id=RUN))

    for i in range(5000):
        add(f"tests/test_m.py::test_acc[{i}]", real["bad" if i % 100 == 3 else "good"])
    for i in range(20):
        add(f"tests/test_d.py::test_drift[{i}]", real["drift"])
    for i in range(50):
        add(f"tests/test_l.py::test_lat[{i}]", real["latency"])
        add(f"tests/test_r.py::test_reg[{i}]", real["regression"])
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
        typed = best(lambda: shown_all(verdict), args.repeats)
        checks = shown_all(verdict)  # mlqa report reads every line back once, for both pages
        page = html.render(verdict, checks=checks)
        render_html = best(lambda: html.render(verdict, checks=checks), args.repeats)
        render_md = best(lambda: markdown.render(verdict, checks=checks), args.repeats)
        browser = browser_times(folder, page, args.repeats)
    total = judged + typed + render_html + render_md
    print(f"bundle: {len(verdict.checks)} checks, {size / 1e6:.1f} MB of JSON lines")
    print(f"read bundle (anchor)      {read:7.3f} s")
    print(f"read + gate               {judged:7.3f} s  ({judged / read:.2f}x the anchor)")
    print(f"typed results + display   {typed:7.3f} s  ({typed / read:.2f}x the anchor)")
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
