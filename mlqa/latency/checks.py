"""Latency gates: an absolute SLO on a percentile, and regression against a baseline run.

Both decide on intervals. A report with several batch sizes is judged at each; the result is
the worst of them (by ``Outcome.severity``: ERROR > FAIL > INCONCLUSIVE > PASS), with every
batch size's figures in ``details["batch_sizes"]``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from typing import Any

from mlqa._text import fmt_num
from mlqa.display import Display
from mlqa.errors import InputError
from mlqa.latency import environment
from mlqa.latency.display import (
    LatencyHistogram,
    LatencyPercentile,
    histogram_of,
    percentiles_of,
)
from mlqa.latency.quantiles import check_quantile, paired_ratio_interval, ratio_interval
from mlqa.latency.report import LatencyReport, LatencyResult, load_latency, quantile_label
from mlqa.result import CheckResult, FieldReader, Outcome, decide, describe

POLICIES = ("no_false_alarm", "certify")
# Stored-baseline comparisons: above this share of preempted queries a percentile is not
# judged (tails move by whole time slices; the median survives much more).
TAIL_CONTENTION = 0.05
MEDIAN_CONTENTION = 0.5
TAIL_FROM = 0.9
_PERCENTILES = ("p50", "p95", "p99")  # recorded with every result, whatever was gated


@dataclasses.dataclass(frozen=True)
class LatencyCheckResult(CheckResult):
    """A latency check's result: adds the percentiles and device as ``mlqa.*`` properties.
    ``percentiles``: p50/p95/p99 of every batch size with exact bounds; ``histogram``: the
    judged batch size's latencies on log-spaced bins (both for the release report)."""

    percentiles: tuple[LatencyPercentile, ...] = ()
    histogram: LatencyHistogram | None = None

    @classmethod
    def from_fields(cls, f: FieldReader) -> LatencyCheckResult:
        return cls(**cls.base_fields(f),
                   percentiles=f.each("percentiles", LatencyPercentile.from_fields),
                   histogram=f.nested("histogram", LatencyHistogram.from_fields))

    def display(self, *, details: bool = True) -> Display:
        from mlqa.latency.display import latency_display

        return latency_display(self, details=details)

    def family_properties(self) -> dict[str, Any]:
        d = self.details
        props = {f"{p}_ms": d[p] for p in _PERCENTILES if d.get(p) is not None}
        keys = ("device", "batch_size", "preempted_fraction", "overhead_ns", "baseline_device",
                "paired")
        return {**props, **{k: d[k] for k in keys if d.get(k) is not None}}


@dataclasses.dataclass(frozen=True)
class _Verdict:
    """One batch size's judgement."""

    batch_size: int
    outcome: Outcome
    message: str
    value: float | None = None
    ci: tuple[float | None, float | None] | None = None
    n: int | None = None
    baseline: float | None = None
    threshold: float | None = None


def check_latency(report: LatencyReport, quantile: float = 0.99, max_ms: Any = None, *,
                  policy: str = "no_false_alarm", batch_size: int | None = None,
                  name: str | None = None) -> LatencyCheckResult:
    """Hold the ``quantile`` latency of ``report`` to ``max_ms`` (an SLO).

    ``max_ms`` is a number, or a mapping batch size -> number. The decision uses the exact
    order-statistic interval ``(L, U)`` of the percentile at the report's confidence:

    * ``policy="no_false_alarm"`` (shared CI): FAIL when ``L > max_ms`` (the breach is
      established), PASS when ``U <= max_ms``, else INCONCLUSIVE. A breach that disappears
      once preempted queries are left out (the OS, not the model) is INCONCLUSIVE too.
    * ``policy="certify"`` (release, dedicated agents; MLPerf semantics): PASS only when
      ``U <= max_ms``; otherwise FAIL, including when too few queries give no finite ``U``.
    """
    q = check_quantile("quantile", quantile)
    if policy not in POLICIES:
        raise InputError(f"policy must be one of {POLICIES}, got {policy!r}")
    report = _report("report", report)
    sizes = _batch_sizes(report, batch_size)
    limits = _limits(max_ms, sizes)
    pct = quantile_label(q)
    label = f"{pct} latency ms"
    verdicts = [_slo_verdict(report[bs], q, limits[bs], policy, label) for bs in sizes]
    chosen = _worst(verdicts)
    result = report[chosen.batch_size]
    return _result(name or f"latency_{pct}", chosen, verdicts, report, result,
                   metric=f"{pct}_ms", comparison="<=",
                   details={"policy": policy, "quantile": q, "max_ms": chosen.threshold})


def check_latency_regression(report: LatencyReport, baseline: Any, max_slowdown: float = 1.10,
                             quantile: float = 0.5, confidence: float = 0.99, *,
                             batch_size: int | None = None, max_contention: float | None = None,
                             timing: str = "wall", draws: int = 2000, seed: int = 0,
                             name: str | None = None) -> LatencyCheckResult:
    """Is ``report`` slower than ``baseline`` by more than ``max_slowdown`` at ``quantile``?

    The figure is ``quantile(current) / quantile(baseline)`` over the queries that were not
    preempted, with a two-sided ``confidence`` interval from independent moving-block
    bootstraps of both runs (blocks of sqrt(n) queries: samples are autocorrelated), or, for
    arms of one interleaved run, from resampling their shared rounds jointly. FAIL when
    the interval lies wholly above ``max_slowdown``, PASS when wholly at or below it, else
    INCONCLUSIVE. A margin, never a bare significance test: the same model measured in two
    processes differs by a few percent, which a test on thousands of queries calls significant.

    ``baseline`` is a report or the path of a stored record (``save_latency``). Reports from
    unlike environments (device class, device model, torch/CUDA version, thread count, mode)
    are not compared: INCONCLUSIVE, naming what differs. Against a stored baseline, tails
    (``quantile >= 0.9``) are judged only when both runs had at most 5% preempted queries and
    no GPU slowdown (the median: at most 50%), else INCONCLUSIVE with the reason; arms of one
    ``measure_latency_interleaved`` run saw the same neighbours and skip this rule.
    ``max_contention`` overrides the cut-off.

    ``timing="device"`` compares device time instead of wall time: CUDA-event time, or on one
    CPU thread the thread's CPU time. Preemption adds nothing to it, so all queries count and
    the contention rule is not applied: the robust way to ask "does the model do more work"
    on an overloaded machine, though not what a user waits for.
    """
    q = check_quantile("quantile", quantile)
    if not (isinstance(confidence, float | int) and 0.5 <= confidence < 1):
        raise InputError(f"confidence must be in [0.5, 1), got {confidence!r}")
    if isinstance(max_slowdown, bool) or not isinstance(max_slowdown, float | int) or \
            not (math.isfinite(max_slowdown) and max_slowdown > 0):
        raise InputError(f"max_slowdown must be a positive number, got {max_slowdown!r}")
    if max_contention is not None and not (isinstance(max_contention, float | int)
                                           and 0 <= max_contention <= 1):
        raise InputError(f"max_contention must be in [0, 1] or None, got {max_contention!r}")
    if timing not in ("wall", "device"):
        raise InputError(f"timing must be 'wall' or 'device', got {timing!r}")
    report = _report("report", report)
    if isinstance(baseline, str | os.PathLike):
        baseline = load_latency(baseline)
    baseline = _report("baseline", baseline)
    paired = report.pairing is not None and report.pairing == baseline.pairing
    pct = quantile_label(q)
    label = f"{pct} latency ratio"
    common = [bs for bs in report.batch_sizes if bs in baseline.results]
    if batch_size is None and not common:
        raise InputError(f"report and baseline share no batch size (report: "
                         f"{list(report.batch_sizes)}, baseline: {list(baseline.batch_sizes)})")
    sizes = _batch_sizes(report, batch_size, also=baseline)
    details: dict[str, Any] = {"quantile": q, "max_slowdown": float(max_slowdown),
                               "paired": paired, "baseline_device": baseline.device}
    differs = environment.differences(dict(report.environment), dict(baseline.environment))
    if differs:
        result = report[sizes[0]]
        verdict = _Verdict(sizes[0], Outcome.INCONCLUSIVE, f"{label} not compared: the "
                           f"environments differ ({'; '.join(differs)})",
                           threshold=float(max_slowdown))
        return _result(name or f"latency_regression_{pct}", verdict, [verdict], report,
                       result, metric=f"{pct}_ratio", comparison="<=",
                       details={**details, "differences": differs}, confidence=confidence)
    if max_contention is None:
        max_contention = 1.0 if paired or timing == "device" else (
            TAIL_CONTENTION if q >= TAIL_FROM else MEDIAN_CONTENTION)
    throttle = [t for t in (report.environment.get("throttled"),
                            baseline.environment.get("throttled")) if t]
    verdicts = [_regression_verdict(report[bs], baseline[bs], q, float(max_slowdown),
                                    confidence, label, max_contention,
                                    throttle if q >= TAIL_FROM and not paired else [],
                                    paired, timing, draws, seed) for bs in sizes]
    chosen = _worst(verdicts)
    return _result(name or f"latency_regression_{pct}", chosen, verdicts, report,
                   report[chosen.batch_size], metric=f"{pct}_ratio", comparison="<=",
                   details={**details, "max_contention": max_contention, "timing": timing},
                   confidence=confidence)


# -- one batch size ----------------------------------------------------------------------


def _slo_verdict(result: LatencyResult, q: float, max_ms: float, policy: str,
                 label: str) -> _Verdict:
    est = result.quantile(q)
    name = f"{label} (batch {result.batch_size})"
    low, high = est.ci
    outcome = decide(est.value, max=max_ms, ci=(low, high))
    note = ""
    if not est.finite and outcome is not Outcome.FAIL:
        note = (f"; {est.n} queries give no finite {est.confidence:.0%} bound on "
                f"{quantile_label(q)}: it needs >= {est.min_n}")
    if policy == "certify" and outcome is Outcome.INCONCLUSIVE:
        outcome = Outcome.FAIL
        note = f"; not certified: the upper bound exceeds {fmt_num(max_ms)} ms" + note
    elif policy == "no_false_alarm" and outcome is Outcome.FAIL and result.preempted_fraction:
        clean = result.quantile(q, clean=True)
        if clean.ci_low <= max_ms:
            outcome = Outcome.INCONCLUSIVE
            note = (f"; the breach rests on preempted queries ({result.preempted_fraction:.1%}"
                    f" of {result.n}): without them the lower bound is "
                    f"{fmt_num(clean.ci_low)} ms")
    message = describe(name, est.value, max=max_ms, ci=_finite(est.ci),
                       confidence=est.confidence, n=est.n,
                       outcome=outcome if not note else None) + note
    return _Verdict(result.batch_size, outcome, message, est.value, _finite(est.ci), est.n,
                    threshold=max_ms)


def _regression_verdict(current: LatencyResult, base: LatencyResult, q: float,
                        max_slowdown: float, confidence: float, label: str,
                        max_contention: float, throttle: list[str], paired: bool,
                        timing: str, draws: int, seed: int) -> _Verdict:
    name = f"{label} (batch {current.batch_size})"
    reasons = [f"{side} run had {r.preempted_fraction:.1%} preempted queries "
               f"(> {max_contention:.0%})" for side, r in (("current", current),
                                                           ("baseline", base))
               if r.preempted_fraction is not None and r.preempted_fraction > max_contention]
    reasons += throttle
    if reasons:
        return _Verdict(current.batch_size, Outcome.INCONCLUSIVE,
                        f"{name} not judged: {'; '.join(reasons)}", threshold=max_slowdown)
    clean = timing == "wall"  # preemption adds nothing to device time: keep every query
    cur = current.samples_ms(clean=clean, timing=timing)
    ref = base.samples_ms(clean=clean, timing=timing)
    cur_q = current.quantile(q, clean=clean, timing=timing).value
    ref_q = base.quantile(q, clean=clean, timing=timing).value
    if ref_q <= 0:
        return _Verdict(current.batch_size, Outcome.ERROR,
                        f"{name} undefined: the baseline's {quantile_label(q)} is {ref_q} ms",
                        threshold=max_slowdown)
    cur_rounds, ref_rounds = current.rounds_of(clean=clean), base.rounds_of(clean=clean)
    if paired and cur_rounds is not None and ref_rounds is not None:
        ratio, ci = paired_ratio_interval(cur, cur_rounds, ref, ref_rounds, q, confidence,
                                          draws=draws, seed=seed)
    else:
        ratio, ci = ratio_interval(cur, ref, q, confidence, draws=draws, seed=seed)
    outcome = decide(ratio, max=max_slowdown, ci=ci)
    message = describe(name, ratio, max=max_slowdown, ci=ci, confidence=confidence,
                       n=len(cur), outcome=outcome)
    message += f" [{fmt_num(cur_q)} ms vs baseline {fmt_num(ref_q)} ms, n={len(ref)}]"
    return _Verdict(current.batch_size, outcome, message, ratio, ci, len(cur), ref_q,
                    max_slowdown)


# -- shared plumbing ---------------------------------------------------------------------


def _worst(verdicts: list[_Verdict]) -> _Verdict:
    """The verdict that speaks for the report: most severe outcome, then largest margin."""
    def key(v: _Verdict) -> tuple[int, float]:
        excess = (v.value / v.threshold) if v.value is not None and v.threshold else 0.0
        return v.outcome.severity, excess

    return max(verdicts, key=key)


def _result(name: str, chosen: _Verdict, verdicts: list[_Verdict], report: LatencyReport,
            result: LatencyResult, *, metric: str, comparison: str, details: dict[str, Any],
            confidence: float | None = None) -> LatencyCheckResult:
    message = chosen.message
    if len(verdicts) > 1:
        message += f"; worst of batch sizes {', '.join(str(v.batch_size) for v in verdicts)}"
    def percentiles(r: LatencyResult) -> dict[str, float]:
        return {p: r.quantile(int(p[1:]) / 100).value for p in _PERCENTILES}

    by_batch = {bs: percentiles(r) for bs, r in report.items()}
    return LatencyCheckResult(
        name=name, outcome=chosen.outcome, message=message, check="latency", metric=metric,
        value=chosen.value, threshold=chosen.threshold, comparison=comparison,
        baseline=chosen.baseline, ci=chosen.ci,
        confidence=confidence if confidence is not None else result.confidence,
        n=chosen.n, percentiles=tuple(p for r in report.values() for p in percentiles_of(r)),
        histogram=histogram_of(result), details={
            **details, "device": report.device, "batch_size": chosen.batch_size,
            **by_batch[chosen.batch_size], "percentiles_by_batch": by_batch,
            "preempted_fraction": result.preempted_fraction,
            "overhead_ns": result.overhead_ns, "stop_reason": result.stop_reason,
            "batch_sizes": {v.batch_size: {"outcome": v.outcome.value, "value": v.value,
                                           "ci": v.ci, "n": v.n, "message": v.message}
                            for v in verdicts},
        })


def _report(label: str, report: Any) -> LatencyReport:
    if not isinstance(report, LatencyReport):
        raise InputError(f"{label} must be a LatencyReport from measure_latency, "
                         f"got {type(report).__name__}")
    return report


def _batch_sizes(report: LatencyReport, batch_size: int | None,
                 also: LatencyReport | None = None) -> list[int]:
    if batch_size is None:
        return [bs for bs in report.batch_sizes if also is None or bs in also.results]
    for label, r in (("report", report), ("baseline", also)):
        if r is not None and batch_size not in r.results:
            raise InputError(f"batch_size {batch_size} is not in the {label} "
                             f"(measured: {list(r.batch_sizes)})")
    return [batch_size]


def _limits(max_ms: Any, sizes: list[int]) -> dict[int, float]:
    if max_ms is None:
        raise InputError("check_latency needs a requirement: pass max_ms=")
    if isinstance(max_ms, Mapping):
        missing = [bs for bs in sizes if bs not in max_ms]
        if missing:
            raise InputError(f"max_ms has no limit for batch size(s) {missing}")
        limits = {bs: max_ms[bs] for bs in sizes}
    else:
        limits = dict.fromkeys(sizes, max_ms)
    for bs, limit in limits.items():
        if isinstance(limit, bool) or not isinstance(limit, float | int) or \
                not (math.isfinite(limit) and limit > 0):
            raise InputError(f"max_ms must be a positive number of milliseconds, "
                             f"got {limit!r} for batch size {bs}")
    return {bs: float(v) for bs, v in limits.items()}


def _finite(ci: tuple[float, float]) -> tuple[float | None, float | None] | None:
    """An infinite bound (too few queries) is recorded as a missing one."""
    low, high = (c if math.isfinite(c) else None for c in ci)
    return None if low is None and high is None else (low, high)
