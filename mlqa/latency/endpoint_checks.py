"""Gates on an open-loop endpoint run: an SLO on a percentile, and candidate vs champion.

Both decide with the statistics mlqa's latency family already trusts: the run's latencies
(each from its request's intended send time, failed requests at the time they ended) become a
:class:`~mlqa.latency.report.LatencyReport`, and ``check_latency`` (exact order-statistic
bound against ``max_ms``) or ``check_latency_regression`` (the interleaved design: blocks of
arrivals resampled jointly for both arms) judges it. On top, what only an endpoint has:

* **reachability**: no request answered successfully is ERROR (a dead or refused endpoint, a
  500 storm), never a latency figure of error pages;
* **errors**: FAIL when the error rate's exact (Clopper-Pearson) lower bound exceeds
  ``max_error_rate`` (with the default 0, any failed request fails the gate);
* **the client's own schedule**: a client that falls behind offers the server a different
  load. Lag only lengthens latencies measured from the intended time, so a PASS stands; a
  breach that vanishes when latencies are measured from the moment the client actually
  dispatched is INCONCLUSIVE, naming the lag; and a lag that shifted the offered load by more
  than a tenth of the run (or above ``max_schedule_lag_ms``) is INCONCLUSIVE whatever the rest.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from mlqa._text import fmt_num
from mlqa.display import Display
from mlqa.errors import InputError
from mlqa.latency import options
from mlqa.latency.checks import LatencyCheckResult, check_latency, check_latency_regression
from mlqa.latency.display import EndpointTimeline, endpoint_display, timeline_of
from mlqa.latency.endpoint import EndpointRun
from mlqa.latency.quantiles import order_stat_upper_rank
from mlqa.latency.report import quantile_label
from mlqa.result import FieldReader, Outcome

# A client whose worst dispatch lag exceeds this share of the run offered a shifted load.
MAX_LAG_SHARE = 0.1
_MAX_EARLY_STOP = 100_000_000


@dataclasses.dataclass(frozen=True)
class EndpointLatencyResult(LatencyCheckResult):
    """A latency check of a served endpoint. Adds ``timeline`` (latency over time, intended vs
    achieved rate and errors per time bin) and ``requests``: the run's per-request records
    (``EndpointRun.to_dict()``; :meth:`run` reads them back)."""

    timeline: EndpointTimeline | None = None
    requests: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_fields(cls, f: FieldReader) -> EndpointLatencyResult:
        base = LatencyCheckResult.from_fields(f)
        fields = {fl.name: getattr(base, fl.name) for fl in dataclasses.fields(base)}
        return cls(**fields, timeline=f.nested("timeline", EndpointTimeline.from_fields),
                   requests=f.mapping("requests"))

    def run(self) -> EndpointRun:
        if not self.requests:
            raise InputError(f"{self.name}: the result carries no request records")
        return EndpointRun.from_dict(self.requests)

    def display(self, *, details: bool = True) -> Display:
        return endpoint_display(self, details=details)

    def family_properties(self) -> dict[str, Any]:
        keys = ("intended_rate", "achieved_rate", "error_rate", "failed_requests",
                "schedule_lag_p99_ms")
        return {**super().family_properties(),
                **{k: self.details[k] for k in keys if self.details.get(k) is not None}}


def check_endpoint_latency(run: EndpointRun, *, quantile: float = 0.99, max_ms: float,
                           max_error_rate: float = 0.0, policy: str = "no_false_alarm",
                           confidence: float = 0.99, max_schedule_lag_ms: float | None = None,
                           name: str | None = None) -> EndpointLatencyResult:
    """Hold the ``quantile`` latency users of the endpoint saw to ``max_ms``, and its error
    rate to ``max_error_rate``.

    The latency is decided by :func:`~mlqa.latency.check_latency` on every request's time
    from its intended send time (``policy`` as there); when the run is too short for a finite
    bound, the message gives MLPerf's early-stopping count (how many requests, at the
    over-limit share seen, a run needs). See the module's notes for errors and client lag.
    """
    options.CHECK_ENDPOINT_LATENCY.validate(locals())
    run = _run(run)
    q, limit, max_err, level = (float(quantile), float(max_ms), float(max_error_rate),
                                float(confidence))
    lag_limit = max_schedule_lag_ms
    pct = quantile_label(q)
    check_name = name or f"endpoint_latency_{pct}"
    latency = check_latency(run.latency_report(confidence=level), quantile=q, max_ms=limit,
                            policy=policy, name=check_name)
    load = _load_figures(run, "candidate", q, level)
    outcome, message = latency.outcome, f"{run.target}: {latency.message}"
    why = _unreachable(run, "candidate")
    if why:
        outcome, message = Outcome.ERROR, why
    else:
        errors = _error_verdict(run, "candidate", max_err, level, load)
        lagged = _lagged(run, q, lag_limit)
        if outcome is Outcome.FAIL and not lagged:
            from_dispatch = check_latency(run.latency_report(since="dispatched",
                                                             confidence=level),
                                          quantile=q, max_ms=limit, policy=policy)
            if from_dispatch.outcome is not Outcome.FAIL:
                lagged = (f"the breach rests on the client's own lag: measured from when it "
                          f"dispatched, {pct} is {fmt_num(from_dispatch.value)} ms")
        if outcome is Outcome.INCONCLUSIVE:
            message += _early_stopping(run, q, limit, level)
        if errors is not None:
            outcome, message = Outcome.FAIL, f"{errors}; {message}"
        elif lagged and outcome is not Outcome.ERROR:
            outcome = Outcome.INCONCLUSIVE
            message = (f"{run.target}: not judged: the client could not keep its schedule "
                       f"({lagged}); run it on a less loaded agent or lower the rate. "
                       f"[{latency.message}]")
    message += _load_text(load)
    return _endpoint_result(latency, outcome, message, run, "candidate", load,
                            {"max_error_rate": max_err})


def check_endpoint_latency_regression(run: EndpointRun, *, max_slowdown: float = 1.10,
                                      quantile: float = 0.5, confidence: float = 0.99,
                                      max_error_rate: float = 0.0,
                                      max_schedule_lag_ms: float | None = None,
                                      n_resamples: int = 2000, random_state: Any = 0,
                                      name: str | None = None) -> EndpointLatencyResult:
    """Is the candidate endpoint slower than the champion by more than ``max_slowdown`` at
    ``quantile``? ``run`` comes from ``measure_endpoint_latency(..., champion=...)``: both
    endpoints received the same arrivals. Decided by
    :func:`~mlqa.latency.check_latency_regression`'s interleaved design (the ratio of
    quantiles with blocks of arrivals resampled jointly for both arms). Either endpoint
    unreachable is ERROR; the candidate's error rate above ``max_error_rate`` is FAIL."""
    options.CHECK_ENDPOINT_LATENCY_REGRESSION.validate(locals())
    run = _run(run)
    if run.champion is None:
        raise InputError("check_endpoint_latency_regression needs a run with a champion: "
                         "measure_endpoint_latency(candidate_url, ..., champion=champion_url)")
    q, max_err, level = float(quantile), float(max_error_rate), float(confidence)
    lag_limit = max_schedule_lag_ms
    check_name = name or f"endpoint_latency_regression_{quantile_label(q)}"
    result = check_latency_regression(
        run.latency_report("candidate", confidence=level),
        run.latency_report("champion", confidence=level), max_slowdown=max_slowdown,
        quantile=q, confidence=level, n_resamples=n_resamples, random_state=random_state,
        name=check_name)
    load = _load_figures(run, "candidate", q, level)
    outcome, message = result.outcome, f"{run.target} vs champion {run.champion}: " \
                                       f"{result.message}"
    why = _unreachable(run, "candidate") or _unreachable(run, "champion")
    if why:
        outcome, message = Outcome.ERROR, why
    else:
        errors = _error_verdict(run, "candidate", max_err, level, load)
        lagged = _lagged(run, q, lag_limit)
        if errors is not None:
            outcome, message = Outcome.FAIL, f"{errors}; {message}"
        elif lagged:
            outcome = Outcome.INCONCLUSIVE
            message = (f"not judged: the client could not keep its schedule ({lagged}). "
                       f"[{message}]")
    message += _load_text(load)
    return _endpoint_result(result, outcome, message, run, "candidate", load,
                            {"max_error_rate": max_err, "champion": run.champion})


# -- pieces ------------------------------------------------------------------------------


def _run(run: Any) -> EndpointRun:
    if isinstance(run, EndpointLatencyResult):
        return run.run()
    if not isinstance(run, EndpointRun):
        raise InputError(f"run must be an EndpointRun from measure_endpoint_latency (or an "
                         f"imported report), got {type(run).__name__}")
    return run


def _unreachable(run: EndpointRun, arm: str) -> str:
    """Why no latency figure of ``arm`` can be trusted at all ('' when some can)."""
    n = run.n(arm)
    url = run.target if arm == "candidate" else run.champion
    if n == 0:
        return f"{url}: no request was sent in the measured window"
    if not run.ok(arm).any():
        return (f"{url} answered none of {n} requests successfully ({run.error_summary()}): "
                f"the endpoint is unreachable or failing; no latency is reported for it")
    return ""


def _error_verdict(run: EndpointRun, arm: str, max_error_rate: float, confidence: float,
                   load: dict[str, Any]) -> str | None:
    """The error-rate breach, in words, when it is established (lower bound above the
    limit); else None."""
    from mlqa.stats.proportion import proportion_interval

    n, k = run.n(arm), run.failed(arm)
    low, high = proportion_interval(k, n, confidence, method="exact")
    load["error_rate_ci"] = [low, high]
    if k and low > max_error_rate:
        return (f"error rate {k / n:.2%} ({k} of {n} requests failed: {run.error_summary()}) "
                f"> max_error_rate {max_error_rate:.2%} ({confidence:.0%} CI "
                f"{low:.2%}\u2013{high:.2%})")
    return None


def _lagged(run: EndpointRun, q: float, lag_limit: float | None) -> str:
    lag = run.lag_ms()
    worst = float(lag.max()) if len(lag) else 0.0
    if worst > MAX_LAG_SHARE * run.duration_s * 1e3:
        return (f"its dispatches ran up to {fmt_num(worst)} ms late, over "
                f"{MAX_LAG_SHARE:.0%} of the {fmt_num(run.duration_s)} s run")
    if lag_limit is not None and len(lag):
        at_q = float(np.quantile(lag, q))
        if at_q > lag_limit:
            return (f"{quantile_label(q)} dispatch lag {fmt_num(at_q)} ms > "
                    f"max_schedule_lag_ms {fmt_num(lag_limit)}")
    return ""


def _early_stopping(run: EndpointRun, q: float, max_ms: float, confidence: float) -> str:
    """MLPerf's early-stopping count: with ``t`` requests over ``max_ms`` so far, the fewest
    requests whose one-sided ``confidence`` upper bound on the ``q``-quantile could lie at or
    below ``max_ms`` (every further request under the limit)."""
    ms = run.latency_ms()
    over = int((ms > max_ms).sum())
    n = len(ms)

    def enough(total: int) -> bool:
        u = order_stat_upper_rank(total, q, confidence)
        return u is not None and total - 1 - u >= over

    if enough(n):
        return ""
    hi = max(n, 1)
    while not enough(hi):
        hi *= 2
        if hi > _MAX_EARLY_STOP:
            return ""
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    return (f"; early stopping: with {over} of {n} requests over {fmt_num(max_ms)} ms, a "
            f"{confidence:.0%} bound on {quantile_label(q)} needs at least {hi} requests "
            f"({hi - n} more)")


def _load_figures(run: EndpointRun, arm: str, q: float, confidence: float) -> dict[str, Any]:
    lag = run.lag_ms()
    n, k = run.n(arm), run.failed(arm)
    return {"intended_rate": run.intended_rate, "achieved_rate": run.achieved_rate(arm),
            "requests": n, "failed_requests": k, "error_rate": k / n if n else None,
            "errors": dict(run.errors),
            "schedule_lag_p99_ms": float(np.quantile(lag, 0.99)) if len(lag) else None,
            "schedule_lag_max_ms": float(lag.max()) if len(lag) else None,
            "target": run.target, "protocol": run.protocol, "arrival": run.arrival,
            "duration_s": run.duration_s, "timeout_s": run.timeout_s,
            "max_in_flight": run.max_in_flight}


def _load_text(load: dict[str, Any]) -> str:
    return (f" [load: {fmt_num(load['intended_rate'])}/s intended, "
            f"{fmt_num(load['achieved_rate'])}/s answered, {load['failed_requests']} of "
            f"{load['requests']} failed, client lag p99 "
            f"{fmt_num(load['schedule_lag_p99_ms'])} ms]")


def _endpoint_result(base: LatencyCheckResult, outcome: Outcome, message: str,
                     run: EndpointRun, arm: str, load: dict[str, Any],
                     extra: dict[str, Any]) -> EndpointLatencyResult:
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    fields.update(outcome=outcome, message=message,
                  details={**base.details, **load, **extra, "check": "endpoint_latency"},
                  timeline=timeline_of(run, arm), requests=run.to_dict())
    if outcome is Outcome.ERROR:
        fields["value"] = None if not run.ok(arm).any() else fields["value"]
    return EndpointLatencyResult(**fields)
