"""measure_endpoint_latency and its gates against a real model server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request

import numpy as np
import pytest

import mlqa
from mlqa import Outcome
from mlqa.latency.endpoint import EndpointRun, schedule
from mlqa.result import CheckResult

ROWS = np.random.default_rng(0).normal(size=(4, 8)).tolist()
PAYLOADS = [[row] for row in ROWS]


def test_a_stall_is_missed_by_the_closed_loop_and_caught_by_the_open_loop(model_server):
    body = json.dumps(PAYLOADS[0]).encode()
    url = model_server.url("stall")

    calls = {"n": 0}

    def one_request(_batch):  # the closed loop: the next request only after this one returned
        calls["n"] += 1
        if calls["n"] == 50:  # inside the timed queries: the stall comes 1 s from now
            model_server.reset()
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()

    closed = mlqa.measure_latency(one_request, [0], device="cpu", warmup_iters=5,
                                  warmup_time_s=0.0, min_iters=600, min_time_s=2.0,
                                  max_time_s=4.0, overhead_iters=10)
    closed_ms = closed[1].samples_ms()
    assert closed_ms.max() >= 250  # the stall happened during the closed-loop run...
    closed_check = mlqa.check_latency(closed, quantile=0.99, max_ms=150)
    assert closed_check.outcome is not Outcome.FAIL  # ...and hid in one sample

    model_server.reset()
    run = mlqa.measure_endpoint_latency(url, PAYLOADS, rate=100, duration_s=2.5, warmup_s=0.3,
                                        timeout_s=2.0, random_state=1)
    result = mlqa.check_endpoint_latency(run, quantile=0.99, max_ms=150)
    assert result.outcome is Outcome.FAIL, result.message
    assert result.ci[0] > 150  # the breach is established, not a point estimate
    ms = run.latency_ms()
    assert (ms > 150).sum() >= 5  # the requests queued behind the stall all count
    # The report shows it: one time bin holds the spike.
    t = result.timeline
    assert max(t.max_ms) >= 250 and sorted(t.max_ms)[-3] < max(t.max_ms)


def test_records_bundle_round_trip_and_display_over_kserve_v2(model_server):
    run = mlqa.measure_endpoint_latency(model_server.url("clean", "kserve-v2"), PAYLOADS,
                                        rate=80, duration_s=1.0, warmup_s=0.2,
                                        protocol="kserve-v2", random_state=2)
    assert run.failed() == 0 and run.n() == len(schedule(80, 1.2, random_state=2)[
        schedule(80, 1.2, random_state=2) >= 0.2])
    assert np.all(np.diff(run.intended_s) >= 0)
    assert np.all(run.dispatched_s >= run.intended_s - 1e-3)
    assert np.all(run.answered_s > run.sent_s) and np.all(run.sent_s >= run.dispatched_s)
    result = mlqa.check_endpoint_latency(run, max_ms=500)
    line = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    back = CheckResult.from_dict(line)
    assert type(back).__name__ == "EndpointLatencyResult" and back.timeline == result.timeline
    again = back.run()
    np.testing.assert_allclose(again.latency_ms(), run.latency_ms(), atol=1e-3)
    assert mlqa.check_endpoint_latency(again, max_ms=500).outcome is result.outcome
    sections = {s.title: s for s in result.display().sections}
    load = sections["load over time"]
    assert load.blocks[0].name == "endpoint-latency-over-time"
    assert sum(result.timeline.intended) == run.n()
    from mlqa.report.html import _section  # the release report's own renderer

    html = _section(load)
    assert "latency over time" in html and "<svg" in html and "intended /s" in html
    props = result.family_properties()
    assert props["intended_rate"] == 80 and props["failed_requests"] == 0


def test_an_invalid_kserve_answer_is_a_failed_request(model_server):
    run = mlqa.measure_endpoint_latency(model_server.url("nooutputs", "kserve-v2"), PAYLOADS,
                                        rate=50,
                                        duration_s=0.4, warmup_s=0.0, protocol="kserve-v2")
    result = mlqa.check_endpoint_latency(run, max_ms=100)
    assert result.outcome is Outcome.ERROR
    assert "outputs" in result.message


def _bounded(call, limit_s):
    start = time.monotonic()
    out = call()
    assert time.monotonic() - start < limit_s  # never a hang
    return out


@pytest.mark.parametrize("case", ["refused", "dead", "error500", "drip"])
def test_a_bad_endpoint_is_an_error_with_its_reason_never_a_pass(model_server, case):
    keep = []
    if case == "refused":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/predict/clean"
        s.close()  # nothing listens there now
        reason = "Connect"
    elif case == "dead":  # accepts connections (the kernel's backlog), never answers
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        keep.append(s)
        url = f"http://127.0.0.1:{s.getsockname()[1]}/predict/clean"
        reason = "timeout after 0.5 s"
    else:
        url = model_server.url(case)
        reason = "HTTP 500" if case == "error500" else "timeout after 0.5 s"
    try:
        run = _bounded(lambda: mlqa.measure_endpoint_latency(
            url, PAYLOADS, rate=40, duration_s=0.5, warmup_s=0.0, timeout_s=0.5), 10)
    finally:
        for s in keep:
            s.close()
    result = mlqa.check_endpoint_latency(run, max_ms=1000)
    assert result.outcome is Outcome.ERROR
    assert reason in result.message and "answered none" in result.message
    assert run.failed() == run.n() > 0  # every failure kept, at the time it ended
    if "timeout" in reason:
        assert np.all(run.latency_ms() >= 490)
    with pytest.raises(mlqa.CheckError):
        mlqa.expect_endpoint_latency(run, max_ms=1000)


def test_an_error_rate_above_the_limit_fails_and_below_it_does_not():
    async def flaky(payload):  # an in-process async target: payload 0 (every 5th) fails
        await asyncio.sleep(0.001)
        if payload == 0:
            raise RuntimeError("model crashed")

    run = mlqa.measure_endpoint_latency(flaky, [0, 1, 2, 3, 4], rate=200, duration_s=1.0,
                                        warmup_s=0.0)
    assert run.errors["model crashed"] == -(-run.n() // 5)  # every one kept, none dropped
    strict = mlqa.check_endpoint_latency(run, max_ms=1000, max_error_rate=0.05)
    assert strict.outcome is Outcome.FAIL and "error rate" in strict.message
    lenient = mlqa.check_endpoint_latency(run, max_ms=1000, max_error_rate=0.5)
    assert "error rate" not in lenient.message and lenient.outcome is not Outcome.FAIL


def test_a_client_that_cannot_keep_its_schedule_is_not_judged():
    async def blocking(payload):  # blocks the client's own event loop: its lag, not a server's
        time.sleep(0.03)

    run = mlqa.measure_endpoint_latency(blocking, PAYLOADS, rate=100, duration_s=0.6,
                                        warmup_s=0.0)
    assert run.lag_ms().max() > 60
    result = mlqa.check_endpoint_latency(run, max_ms=10)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "could not keep its schedule" in result.message


def test_the_schedule_is_seeded_and_has_the_asked_rate():
    a, b = schedule(200, 50, random_state=3), schedule(200, 50, random_state=3)
    np.testing.assert_array_equal(a, b)
    assert len(a) == pytest.approx(200 * 50, rel=0.05)
    assert not np.array_equal(a, schedule(200, 50, random_state=4))
    constant = schedule(100, 1, arrival="constant")
    np.testing.assert_allclose(np.diff(constant), 0.01)


@pytest.mark.parametrize("kwargs, word", [
    ({"rate": 0}, "rate"), ({"rate": 10, "arrival": "burst"}, "arrival"),
    ({"rate": 10, "protocol": "grpc"}, "protocol"), ({"rate": 10, "max_in_flight": 0},
                                                     "max_in_flight")])
def test_bad_options_are_input_errors(kwargs, word):
    with pytest.raises(mlqa.InputError, match=word):
        mlqa.measure_endpoint_latency("http://127.0.0.1:9/x", PAYLOADS, duration_s=1, **kwargs)
    with pytest.raises(mlqa.InputError, match="URL"):
        mlqa.measure_endpoint_latency("ftp://x", PAYLOADS, rate=1)


def test_the_champion_comparison_needs_a_champion():
    async def fast(payload):
        return payload

    run = mlqa.measure_endpoint_latency(fast, PAYLOADS, rate=50, duration_s=0.2, warmup_s=0)
    with pytest.raises(mlqa.InputError, match="champion"):
        mlqa.check_endpoint_latency_regression(run)
    assert isinstance(run, EndpointRun)
