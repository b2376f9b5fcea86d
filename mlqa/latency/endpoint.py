"""Latency of a served model, measured the way its users see it: an open-loop client.

A client that sends the next request only when the previous one came back (a closed loop)
stops sending while the server stalls, so a 300 ms stall hides in one slow sample
(coordinated omission). ``measure_endpoint_latency`` instead fixes every request's send time
in advance (a seeded Poisson or constant schedule at ``rate``) and times each request from
that **intended** send time, as wrk2 and MLPerf LoadGen's Server scenario do: requests that
queue behind a stall count with the time they waited.

Every request leaves a record: arm, intended send time, the time the client's scheduler
dispatched it (its own lag), the time it was sent (after waiting for an in-flight slot), the
time it ended, and its status (an HTTP status, or a negative code for a timeout, a failed
connection, an exception or an invalid answer). A failed request is kept, at the time it
ended: it is never dropped from the latencies, and it counts in the error rate.

With ``champion=``, both endpoints receive the same arrival process: every arrival sends one
request to each, the first of the two alternating, so the pair sees the same moment of the
machine (``check_endpoint_latency_regression`` resamples blocks of arrivals for both arms
jointly, the interleaved design of ``check_latency_regression``).

URLs are driven by :mod:`mlqa.latency.http_client` (asyncio streams, stdlib only): the
client's own cost per request is part of every figure, so it is kept small.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlqa._plain import to_plain
from mlqa.errors import InputError
from mlqa.latency.options import MEASURE_ENDPOINT_LATENCY

ARMS = ("candidate", "champion")
# Negative status codes: what went wrong on the client's side of a request.
TIMEOUT, CONNECTION, EXCEPTION, INVALID = -1, -2, -3, -4
STATUS_NAMES = {TIMEOUT: "timeout", CONNECTION: "connection failed", EXCEPTION: "exception",
                INVALID: "invalid answer"}
# The comparability keys of a latency report (mlqa.latency.environment) for a served endpoint:
# the client knows no device, framework or thread count of the server.
ENDPOINT_ENVIRONMENT = {"device": "endpoint", "device_type": "endpoint", "device_name": None,
                        "torch": None, "cuda": None, "n_threads": None}
MAX_REQUESTS = 1_000_000  # a bound on one run's schedule (rate x duration)
_NS_PER_S = 1e9

AsyncTarget = Callable[[Any], Awaitable[Any]]


@dataclasses.dataclass(frozen=True, eq=False)
class EndpointRun:
    """One open-loop run: the settings, and one record per request in schedule order.

    Times are seconds from the start of the measured window (warm-up requests are sent but
    not recorded). ``answered_s`` is when the request ended, whether it succeeded or not;
    ``sent_s`` is NaN for a request that timed out before an in-flight slot freed.
    ``errors`` counts the failures by their first line (``"HTTP 500"``, ``"timeout after 2
    s"``, ``"ConnectionRefusedError: [Errno 111] ..."``).
    """

    target: str
    protocol: str
    arrival: str
    rate: float
    duration_s: float
    warmup_s: float
    timeout_s: float
    max_in_flight: int
    seed: int
    arm: np.ndarray
    intended_s: np.ndarray
    dispatched_s: np.ndarray
    sent_s: np.ndarray
    answered_s: np.ndarray
    status: np.ndarray
    errors: Mapping[str, int] = dataclasses.field(default_factory=dict)
    champion: str | None = None
    environment: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    pairing: str | None = None
    created: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        n = len(self.intended_s)
        for name in ("intended_s", "dispatched_s", "sent_s", "answered_s"):
            set_(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        for name in ("arm", "status"):
            set_(self, name, np.asarray(getattr(self, name), dtype=np.int64))
        for name in ("arm", "dispatched_s", "sent_s", "answered_s", "status"):
            if len(getattr(self, name)) != n:
                raise InputError(f"endpoint run: {name} has {len(getattr(self, name))} values "
                                 f"for {n} requests")
        set_(self, "errors", dict(self.errors))

    # -- figures ------------------------------------------------------------------------

    @property
    def arms(self) -> tuple[str, ...]:
        return ARMS if self.champion is not None else ARMS[:1]

    def _arm(self, arm: str) -> np.ndarray:
        if arm not in self.arms:
            raise InputError(f"arm must be one of {self.arms}, got {arm!r}")
        return self.arm == self.arms.index(arm)

    def n(self, arm: str = "candidate") -> int:
        return int(self._arm(arm).sum())

    def ok(self, arm: str = "candidate") -> np.ndarray:
        """Per request of ``arm``: answered with a 2xx status and a valid body."""
        s = self.status[self._arm(arm)]
        return (s >= 200) & (s < 300)

    def failed(self, arm: str = "candidate") -> int:
        return int((~self.ok(arm)).sum())

    def latency_ms(self, arm: str = "candidate", *, since: str = "intended") -> np.ndarray:
        """End time minus the ``intended`` send time (what a user waits; the gated figure),
        or minus the ``dispatched`` time (leaving out the client's own scheduling lag)."""
        start = {"intended": self.intended_s, "dispatched": self.dispatched_s}[since]
        keep = self._arm(arm)
        return (self.answered_s[keep] - start[keep]) * 1e3

    def lag_ms(self, arm: str | None = None) -> np.ndarray:
        """How late the client's scheduler dispatched each request (its own lag, not the
        server's: a request waiting for an in-flight slot was already dispatched)."""
        keep = slice(None) if arm is None else self._arm(arm)
        return np.maximum(self.dispatched_s[keep] - self.intended_s[keep], 0.0) * 1e3

    @property
    def intended_rate(self) -> float:
        """Arrivals per second the schedule asked for (each arm receives every arrival)."""
        return self.rate

    def achieved_rate(self, arm: str = "candidate") -> float:
        """Successful answers per second of the measured window."""
        return float(self.ok(arm).sum()) / self.duration_s

    def sent_rate(self, arm: str = "candidate") -> float:
        """Requests the client dispatched per second of its schedule's span."""
        return self.n(arm) / self.duration_s

    def latency_report(self, arm: str = "candidate", *, since: str = "intended",
                       confidence: float = 0.99, block: int | None = None) -> Any:
        """``arm``'s latencies as a :class:`~mlqa.latency.report.LatencyReport` (batch size
        1), so mlqa's latency checks judge them. Rounds are blocks of ``block`` consecutive
        arrivals (default ``ceil(sqrt(arrivals))``, the moving-block length), shared by the
        arms of a champion run."""
        from mlqa.latency.report import LatencyReport, LatencyResult

        keep = self._arm(arm)
        ms = self.latency_ms(arm, since=since)
        if len(ms) == 0:
            raise InputError(f"the endpoint run has no {arm} requests")
        order = np.cumsum(keep) - 1  # index of each request among its arm's
        arrivals = int(keep.sum())
        block = block or max(1, math.ceil(math.sqrt(arrivals)))
        rounds = order[keep] // block
        result = LatencyResult(
            batch_size=1, samples_ns=np.round(np.maximum(ms, 0.0) * 1e6).astype(np.int64),
            duration_s=self.duration_s, warmup_s=self.warmup_s,
            stop_reason=f"open loop: {self.arrival} arrivals at {self.rate:g}/s for "
                        f"{self.duration_s:g} s",
            throughput_qps=self.achieved_rate(arm), confidence=confidence,
            rounds=rounds if self.champion is not None else None)
        url = self.target if arm == "candidate" else str(self.champion)
        return LatencyReport(results={1: result}, environment=dict(self.environment),
                             model=url, created=self.created, pairing=self.pairing, arm=arm)

    def error_summary(self) -> str:
        """``"12 x HTTP 500; 3 x timeout after 2 s"``, most frequent first."""
        ranked = sorted(self.errors.items(), key=lambda kv: -kv[1])
        return "; ".join(f"{c} x {e}" for e, c in ranked[:4]) + \
            (f"; {len(ranked) - 4} other kind(s)" if len(ranked) > 4 else "")

    # -- records ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name in ("intended_s", "dispatched_s", "sent_s", "answered_s"):
            d[name] = [None if not math.isfinite(x) else round(float(x), 7)
                       for x in getattr(self, name)]
        return to_plain(d)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EndpointRun:
        names = {f.name for f in dataclasses.fields(cls)}
        missing = [k for k in ("target", "rate", "duration_s", "intended_s") if k not in d]
        if missing:
            raise InputError(f"endpoint run record lacks {missing}")
        kwargs = {k: v for k, v in d.items() if k in names}
        for name in ("intended_s", "dispatched_s", "sent_s", "answered_s"):
            kwargs[name] = [math.nan if x is None else x for x in kwargs.get(name, [])]
        return cls(**kwargs)


def schedule(rate: float, duration_s: float, *, arrival: str = "poisson",
             random_state: int = 0) -> np.ndarray:
    """Intended send times in ``[0, duration_s)``: a Poisson process at ``rate`` per second
    (exponential gaps from ``numpy.random.default_rng(random_state)``), or one request every
    ``1 / rate`` seconds."""
    if arrival == "constant":
        return np.arange(int(math.ceil(rate * duration_s))) / rate
    rng = np.random.default_rng(random_state)
    expected = rate * duration_s
    gaps = rng.exponential(1.0 / rate, size=int(expected + 10 * math.sqrt(expected) + 20))
    times = np.cumsum(gaps) - gaps[0]  # the first request at time 0
    while times[-1] < duration_s:  # a bounded top-up: each pass adds as many arrivals again
        more = np.cumsum(rng.exponential(1.0 / rate, size=len(gaps))) + times[-1]
        times = np.concatenate([times, more])
    return times[times < duration_s]


def measure_endpoint_latency(target: str | AsyncTarget, payloads: Any, *, rate: float,
                             duration_s: float = 10.0, arrival: str = "poisson",
                             protocol: str = "http-json", warmup_s: float = 1.0,
                             max_in_flight: int = 64, timeout_s: float = 5.0,
                             champion: str | AsyncTarget | None = None,
                             headers: Mapping[str, str] | None = None,
                             random_state: int = 0) -> EndpointRun:
    """Send ``payloads`` to ``target`` on a fixed open-loop schedule and time each request
    from its intended send time.

    ``target``: a URL (``http://host:port/path``: the request is a POST of the payload as
    JSON), or an async callable ``await target(payload)`` (an in-process server, a gRPC stub);
    a callable that raises marks its request failed. ``payloads``: a sequence of request
    bodies, used in turn. ``protocol="http-json"`` posts each payload as it is;
    ``"kserve-v2"`` posts to a KServe/Triton v2 ``.../v2/models/<name>/infer`` URL, wrapping a
    payload that is a list of rows as one FP32 input named ``input-0`` (a dict with
    ``inputs`` is sent as it is) and requires ``outputs`` in the answer.

    ``rate`` arrivals per second, ``arrival="poisson"`` (seeded by ``random_state``) or
    ``"constant"``, for ``warmup_s`` (sent, not recorded) plus ``duration_s``. At most
    ``max_in_flight`` requests are outstanding at once (per endpoint); a request waiting for a
    slot is late, and its latency shows it. A request that has not ended ``timeout_s`` after
    its intended send time is abandoned and recorded as a timeout at that moment, so a run
    always ends within ``warmup_s + duration_s + timeout_s`` (plus the time to close).

    ``champion``: a second endpoint that receives the same arrivals, the first of each pair
    alternating (judge with ``check_endpoint_latency_regression``).
    """
    MEASURE_ENDPOINT_LATENCY.validate(locals())
    rate_, duration, warmup, timeout = (float(rate), float(duration_s), float(warmup_s),
                                        float(timeout_s))
    if rate_ * (warmup + duration) > MAX_REQUESTS:
        raise InputError(f"rate x (warmup_s + duration_s) = {rate_ * (warmup + duration):.0f} "
                         f"requests; one run is limited to {MAX_REQUESTS}")
    bodies = _payloads(payloads)
    targets = [_target("target", target), *([] if champion is None
                                            else [_target("champion", champion)])]
    times = schedule(rate_, warmup + duration, arrival=arrival, random_state=random_state)
    if not (times >= warmup).any():
        raise InputError(f"the schedule has no arrival in the measured window: rate {rate_:g}/s "
                         f"over duration_s={duration:g} is too few")
    plan = _Plan(times=times, targets=targets, bodies=bodies, protocol=protocol,
                 timeout_s=timeout, max_in_flight=max_in_flight, headers=dict(headers or {}))
    records, problems = _run_loop(plan)
    measured = records["intended"] >= warmup
    errors: dict[str, int] = {}
    for i in np.flatnonzero(measured):
        if int(i) in problems:
            errors[problems[int(i)]] = errors.get(problems[int(i)], 0) + 1
    shift = {k: (v[measured] - warmup if k not in ("arm", "status") else v[measured])
             for k, v in records.items()}
    from mlqa.latency import environment

    env = {**environment.host(), **ENDPOINT_ENVIRONMENT, "mode": f"open loop {protocol}"}
    return EndpointRun(
        target=_label(target), protocol=protocol, arrival=arrival, rate=rate_,
        duration_s=duration, warmup_s=warmup, timeout_s=timeout, max_in_flight=max_in_flight,
        seed=random_state, arm=shift["arm"], intended_s=shift["intended"],
        dispatched_s=shift["dispatched"], sent_s=shift["sent"], answered_s=shift["answered"],
        status=shift["status"], errors=errors,
        champion=None if champion is None else _label(champion), environment=env,
        pairing=uuid.uuid4().hex if champion is not None else None,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def load_payloads(path: str | os.PathLike[str]) -> list[Any]:
    """Request bodies from a file: a JSON array (one payload per element) or JSON lines (one
    payload per line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"payload file {path} could not be read: {exc}") from None
    stripped = text.strip()
    if not stripped:
        raise InputError(f"payload file {path} is empty")
    try:  # one JSON array of payloads; else JSON lines (a line may itself be an array)
        data = json.loads(stripped)
        if not isinstance(data, list):
            raise InputError(f"payload file {path} holds one JSON {type(data).__name__}: "
                             f"write an array of request bodies or one body per line")
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in stripped.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise InputError(f"payload file {path} is not JSON or JSON lines: {exc}") from None
    return _payloads(data, where=f"payload file {path}")


# -- the client -------------------------------------------------------------------------


@dataclasses.dataclass
class _Plan:
    times: np.ndarray
    targets: list[Any]  # URLs or async callables, candidate first
    bodies: list[Any]
    protocol: str
    timeout_s: float
    max_in_flight: int
    headers: dict[str, str]


def _run_loop(plan: _Plan) -> tuple[dict[str, np.ndarray], dict[int, str]]:
    """Run the asyncio client on a loop of its own (in a thread when the caller is already
    inside a running loop, as a notebook is)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_drive(plan))
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["out"] = asyncio.run(_drive(plan))
        except BaseException as exc:  # handed to the caller's thread below
            box["exc"] = exc

    thread = threading.Thread(target=work, name="mlqa-endpoint-client")
    thread.start()
    thread.join()
    if "exc" in box:
        raise box["exc"]
    out: tuple[dict[str, np.ndarray], dict[int, str]] = box["out"]
    return out


async def _drive(plan: _Plan) -> tuple[dict[str, np.ndarray], dict[int, str]]:
    arms = len(plan.targets)
    n = len(plan.times) * arms
    intended = np.repeat(plan.times, arms)
    arm = np.tile(np.arange(arms), len(plan.times))
    dispatched = np.full(n, np.nan)
    sent = np.full(n, np.nan)
    answered = np.full(n, np.nan)
    status = np.zeros(n, dtype=np.int64)
    problems: dict[int, str] = {}  # request index -> what went wrong
    clients: list[Any] = []  # the URL targets' connection pools, closed at the end
    senders = [_sender(t, plan, clients) for t in plan.targets]
    slots = [asyncio.Semaphore(plan.max_in_flight) for _ in plan.targets]
    clock = time.perf_counter
    tasks: list[asyncio.Task[None]] = []
    t0 = 0.0

    async def one(i: int) -> None:
        a = int(arm[i])
        deadline = t0 + intended[i] + plan.timeout_s

        async def attempt() -> int:
            async with slots[a]:
                sent[i] = clock() - t0
                return await senders[a](plan.bodies[(i // arms) % len(plan.bodies)])

        try:
            code, problem = await asyncio.wait_for(attempt(), max(deadline - clock(), 0.0)), ""
        except asyncio.TimeoutError:
            code, problem = TIMEOUT, f"timeout after {plan.timeout_s:g} s"
        except _ClientFailure as exc:
            code, problem = exc.code, exc.text
        except Exception as exc:  # the target's own failure: a failed request, kept
            code, problem = EXCEPTION, _first_line(exc)
        answered[i] = clock() - t0
        status[i] = code
        if not 200 <= code < 300:
            problems[i] = problem or f"HTTP {code}"

    try:
        t0 = clock()
        for k in range(len(plan.times)):
            delay = t0 + plan.times[k] - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            # Alternate which endpoint of a pair goes first, so neither always has the lead.
            order = range(arms) if k % 2 == 0 else range(arms - 1, -1, -1)
            for a in order:
                i = k * arms + a
                dispatched[i] = clock() - t0
                tasks.append(asyncio.ensure_future(one(i)))
        # Every task ends by its deadline (wait_for); the outer bound only guards that promise.
        await asyncio.wait_for(asyncio.gather(*tasks), plan.timeout_s + 30.0)
    finally:
        for task in tasks:
            task.cancel()
        for client in clients:
            await client.aclose()
    return ({"arm": arm, "intended": intended, "dispatched": dispatched, "sent": sent,
             "answered": answered, "status": status}, problems)


class _ClientFailure(Exception):
    def __init__(self, code: int, text: str):
        super().__init__(text)
        self.code, self.text = code, text


def _sender(target: Any, plan: _Plan, clients: list[Any]) -> Callable[[Any], Awaitable[int]]:
    if not isinstance(target, str):
        async def call(payload: Any) -> int:
            await target(payload)
            return 200
        return call

    from mlqa.latency.http_client import Connections, HttpError

    connections = Connections(target, plan.headers)
    clients.append(connections)
    kserve = plan.protocol == "kserve-v2"
    encoded = {id(b): b if isinstance(b, bytes) else
               json.dumps(_kserve_body(b) if kserve else b).encode() for b in plan.bodies}

    async def post(payload: Any) -> int:
        try:
            code, body = await connections.post(encoded[id(payload)])
        except HttpError as exc:
            raise _ClientFailure(CONNECTION if exc.kind == "connect" else EXCEPTION,
                                 _first_line(exc)) from None
        if kserve and 200 <= code < 300:
            try:
                outputs = json.loads(body).get("outputs")
            except (ValueError, AttributeError):
                outputs = None
            if not isinstance(outputs, list):
                raise _ClientFailure(INVALID, "invalid answer: no KServe v2 'outputs' list")
        return code

    return post


def _kserve_body(payload: Any) -> Any:
    """A KServe v2 inference request for ``payload``: a dict with ``inputs`` as it is, a
    list of rows (or one row) as one FP32 tensor ``input-0``."""
    if isinstance(payload, Mapping) and "inputs" in payload:
        return payload
    arr = np.asarray(payload, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise InputError(f"a kserve-v2 payload must be rows of numbers or a dict with 'inputs', "
                         f"got an array of shape {arr.shape}")
    return {"inputs": [{"name": "input-0", "shape": list(arr.shape), "datatype": "FP32",
                        "data": arr.ravel().tolist()}]}


def _payloads(payloads: Any, where: str = "payloads") -> list[Any]:
    if isinstance(payloads, str | bytes) or not isinstance(payloads, Sequence):
        raise InputError(f"{where} must be a sequence of request bodies, "
                         f"got {type(payloads).__name__}")
    if len(payloads) == 0:
        raise InputError(f"{where} is empty: give at least one request body")
    return list(payloads)


def _target(name: str, target: Any) -> Any:
    if isinstance(target, str):
        if not target.startswith(("http://", "https://")):
            raise InputError(f"{name} must be an http(s):// URL or an async callable, "
                             f"got {target!r}")
        return target
    if callable(target):
        return target
    raise InputError(f"{name} must be an http(s):// URL or an async callable, "
                     f"got {type(target).__name__}")


def _label(target: Any) -> str:
    return target if isinstance(target, str) else \
        getattr(target, "__qualname__", type(target).__name__)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:160]
