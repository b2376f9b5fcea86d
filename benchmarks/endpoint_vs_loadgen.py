"""mlqa's open-loop endpoint gate against MLPerf LoadGen's Server scenario, on the same local
model server (tests/latency/endpoint_server.py: a scikit-learn model, 2 ms a request, one
lock) and the same load (Poisson arrivals at --rate for --duration s, a p99 bound of
--bound-ms), on a clean server and on one that stalls 300 ms once. Also the closed-loop
baseline (measure_latency around a blocking request) on the stalled server.

For each run: LoadGen's verdict (VALID/INVALID) and p99; mlqa's verdict under
``policy="certify"`` (PASS only when the 99% upper bound is within the bound: LoadGen's
early-stopping semantics) and its p99 with the exact 99% interval; whether each tool's p99
lies inside the other's interval, and whether the two intervals overlap (the agreement
criterion: LoadGen's per-query trace is read back with ``read_loadgen_log``, so both intervals
are the same order-statistic construction). A single stall makes the queries behind it one
correlated event, so two runs' stalled p99 differ by more than one run's interval suggests.

    pip install mlcommons-loadgen==6.0.17   # not a dependency of mlqa
    python benchmarks/endpoint_vs_loadgen.py [--rate 100] [--duration 10] [--bound-ms 50]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import mlqa

SERVER = Path(__file__).resolve().parents[1] / "tests" / "latency" / "endpoint_server.py"
PAYLOADS = [[[0.1 * i] * 8] for i in range(4)]


def start_server(folder: Path) -> tuple[subprocess.Popen, int]:
    port_file = folder / "port"
    proc = subprocess.Popen([sys.executable, str(SERVER), str(port_file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("model server did not start")
        time.sleep(0.05)
    return proc, int(port_file.read_text())


def reset(port: int) -> None:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/reset", data=b"{}", method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        r.read()


def loadgen(port: int, model: str, rate: float, duration: float, bound_ms: float,
            outdir: Path) -> mlqa.latency.EndpointRun:
    import mlperf_loadgen as lg

    local = threading.local()
    body = json.dumps(PAYLOADS[0]).encode()

    def post() -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", f"/predict/{model}", body, {"Content-Type": "application/json"})
        conn.getresponse().read()

    pool = ThreadPoolExecutor(64)

    def issue(queries: list) -> None:
        for q in queries:
            def work(q=q) -> None:
                post()
                lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, 0, 0)])
            pool.submit(work)

    s = lg.TestSettings()
    s.scenario, s.mode = lg.TestScenario.Server, lg.TestMode.PerformanceOnly
    s.server_target_qps = rate
    s.server_target_latency_ns = int(bound_ms * 1e6)
    s.min_duration_ms = int(duration * 1000)
    s.min_query_count = 100
    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(16, 16, lambda x: None, lambda x: None)
    log = lg.LogSettings()
    log.log_output.outdir = str(outdir)
    log.log_output.copy_summary_to_stdout = False
    log.enable_trace = True
    lg.StartTestWithLogSettings(sut, qsl, s, log)
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    pool.shutdown()
    return mlqa.read_loadgen_log(outdir)


def closed_loop(port: int, model: str) -> float:
    body = json.dumps(PAYLOADS[0]).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    calls = [0]

    def one(_batch: object) -> None:
        calls[0] += 1
        if calls[0] == 50:
            reset(port)  # the stall comes 1 s later, inside the timed queries
        conn.request("POST", f"/predict/{model}", body, {"Content-Type": "application/json"})
        conn.getresponse().read()

    rep = mlqa.measure_latency(one, [0], device="cpu", warmup_iters=5, warmup_time_s=0.0,
                               min_iters=600, min_time_s=3.0, max_time_s=6.0,
                               overhead_iters=10)
    return rep[1].quantile(0.99).value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--bound-ms", type=float, default=50.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(Path(tmp))
        try:
            print(f"load: Poisson {args.rate:g}/s for {args.duration:g} s, p99 bound "
                  f"{args.bound_ms:g} ms; machine load {os.getloadavg()[0]:.1f} on "
                  f"{os.cpu_count()} CPUs")
            print(f"{'server':7} {'tool':8} {'verdict':12} {'n':>5} {'p99 ms':>8} "
                  f"{'99% CI ms':>17} {'other p99 inside':>16}")
            agree = True
            for model in ("clean", "stall"):
                out = Path(tmp) / model
                out.mkdir()
                reset(port)
                lg_run = loadgen(port, model, args.rate, args.duration, args.bound_ms, out)
                reset(port)
                ours = mlqa.measure_endpoint_latency(
                    f"http://127.0.0.1:{port}/predict/{model}", PAYLOADS, rate=args.rate,
                    duration_s=args.duration, warmup_s=0.0, timeout_s=5.0)
                checks = {"loadgen": mlqa.check_endpoint_latency(
                    lg_run, max_ms=args.bound_ms, policy="certify"),
                    "mlqa": mlqa.check_endpoint_latency(ours, max_ms=args.bound_ms,
                                                        policy="certify")}
                validity = lg_run.environment["loadgen"]["result_validity"]
                for tool, other in (("loadgen", "mlqa"), ("mlqa", "loadgen")):
                    r, o = checks[tool], checks[other]
                    low, high = r.ci or (None, None)
                    inside = (low is None or low <= o.value) and (high is None or
                                                                  o.value <= high)
                    olow, ohigh = o.ci or (None, None)
                    # Two independent runs agree when their exact intervals overlap.
                    agree &= (low is None or ohigh is None or low <= ohigh) and \
                        (olow is None or high is None or olow <= high)
                    verdict = f"{validity}" if tool == "loadgen" else r.outcome.value.upper()
                    print(f"{model:7} {tool:8} {verdict:12} {r.n:>5} {r.value:>8.1f} "
                          f"{str(tuple(round(x, 1) if x else x for x in (low, high))):>17} "
                          f"{str(inside):>16}")
                same = (validity == "VALID") == (checks["mlqa"].outcome is mlqa.Outcome.PASS)
                agree &= same
                print(f"{model:7} same verdict: {same}")
            print(f"closed loop on the stalled server: p99 {closed_loop(port, 'stall'):.1f} ms")
            print("ALL AGREE" if agree else "DISAGREEMENT (see above)")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
