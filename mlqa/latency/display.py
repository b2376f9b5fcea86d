"""How a latency check is shown: a percentile table with its exact order-statistic bounds
per batch size, and the latency histogram on log-spaced bins with p50/p95/p99 marks.

Latency is skewed (a tail ten times the median is ordinary), so linear bins put nearly every
query in one bar; log-spaced bins give each decade the same width.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from mlqa import display as d
from mlqa.result import FieldReader

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.latency.checks import LatencyCheckResult
    from mlqa.latency.report import LatencyResult

PERCENTILES = (0.5, 0.95, 0.99)  # shown with every latency result, whatever was gated
BINS = 50


@dataclasses.dataclass(frozen=True)
class LatencyPercentile:
    """One percentile of one batch size, in ms, with its exact two-sided bounds (None where
    the queries are too few for a finite bound)."""

    batch_size: int
    quantile: float
    value: float
    low: float | None
    high: float | None
    n: int
    confidence: float

    @property
    def label(self) -> str:
        from mlqa.latency.report import quantile_label

        return quantile_label(self.quantile)

    @classmethod
    def from_fields(cls, f: FieldReader) -> LatencyPercentile:
        return cls(batch_size=f.int_("batch_size"), quantile=f.float_("quantile"),
                   value=f.float_("value"), low=f.opt_float("low"), high=f.opt_float("high"),
                   n=f.int_("n"), confidence=f.float_("confidence"))


@dataclasses.dataclass(frozen=True)
class LatencyHistogram:
    """Query counts of one batch size over ``edges`` (ms, log-spaced when ``log``)."""

    batch_size: int
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    log: bool = True

    @classmethod
    def from_fields(cls, f: FieldReader) -> LatencyHistogram:
        counts = f.floats("counts")
        if any(c != int(c) for c in counts):
            raise d_error(f"{f.where}.counts must be whole numbers")
        edges = f.floats("edges")
        if len(edges) != len(counts) + 1:
            raise d_error(f"{f.where}.edges must have one more value than counts")
        return cls(batch_size=f.int_("batch_size"), edges=edges,
                   counts=tuple(int(c) for c in counts), log=f.bool_("log", True))


def d_error(message: str) -> Exception:
    from mlqa.errors import InputError

    return InputError(message)


def percentiles_of(result: LatencyResult) -> tuple[LatencyPercentile, ...]:
    out = []
    for q in PERCENTILES:
        est = result.quantile(q)
        low, high = (float(v) if math.isfinite(v) else None for v in est.ci)
        out.append(LatencyPercentile(result.batch_size, q, float(est.value), low, high,
                                     int(est.n), float(est.confidence)))
    return tuple(out)


def histogram_of(result: LatencyResult, bins: int = BINS) -> LatencyHistogram:
    """Wall latencies on log-spaced bins from the fastest query to the 99.9th percentile or
    twice the p99, whichever is lower; slower queries are counted in the last bin, so a few
    stalls cannot squeeze the body of the distribution into one bar."""
    import numpy as np

    ms = result.samples_ms()
    p99, p999 = (float(v) for v in np.quantile(ms, [0.99, 0.999]))
    low, top = float(ms.min()), min(p999, 2 * p99)
    log = low > 0
    if not top > low:
        top = low * 1.01 if low > 0 else low + 1e-6
    edges = np.geomspace(low, top, bins + 1) if log else np.linspace(low, top, bins + 1)
    counts, _ = np.histogram(np.minimum(ms, top), bins=edges)
    return LatencyHistogram(result.batch_size, tuple(edges.tolist()),
                            tuple(int(c) for c in counts.tolist()), log)


def latency_display(r: LatencyCheckResult, *, details: bool = True) -> d.Display:
    from mlqa.result import CheckResult

    base = CheckResult.display(r)  # the generic row and plot point
    if not details:
        return base
    rows = []
    for p in r.percentiles:
        low = "\u2212\u221e" if p.low is None else d.num(p.low)
        high = "\u221e" if p.high is None else d.num(p.high)
        bounds = "" if p.low is None and p.high is None else f"{low}\u2013{high}"
        rows.append((str(p.batch_size), p.label, d.num(p.value), bounds,
                     f"{p.confidence:.0%}", str(p.n)))
    table = d.Table(headers=("batch size", "percentile", "ms", "bounds (ms)", "confidence",
                             "queries"),
                    fields=("batch_size", "percentile", "ms", "bounds", "confidence", "n"),
                    rows=tuple(rows))
    blocks: list[d.Block] = [table]
    h = r.histogram
    if h is not None:
        marks = tuple((p.label, p.value) for p in r.percentiles if p.batch_size == h.batch_size)
        blocks.append(d.HistogramPlot(
            title=f"batch {h.batch_size}: latency (ms, {'log' if h.log else 'linear'} bins)",
            counts=tuple(float(c) for c in h.counts), edges=h.edges, marks=marks,
            log_x=h.log, name=f"latency-batch{h.batch_size}"))
    device: Any = r.details.get("device")
    summary = f"{r.metric} on {device}" if device else str(r.metric)
    return dataclasses.replace(base, summary=summary,
                               sections=(d.Section("percentiles", tuple(blocks)),))


# -- a served endpoint: latency over time, intended vs achieved rate, errors ------------------

_TIMELINE_BINS = 60  # at most this many time bins in the plot
_TABLE_ROWS = 20  # and this many rows in the load table
_NICE_WIDTHS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0)


@dataclasses.dataclass(frozen=True)
class EndpointTimeline:
    """One endpoint run over time, in bins of ``width_s`` seconds of its schedule: requests
    intended in each bin, successful answers and failures by the bin they ended in, and the
    slowest and median latency (ms, from the intended send time) of requests intended in it."""

    width_s: float
    intended: tuple[int, ...]
    answered: tuple[int, ...]
    failed: tuple[int, ...]
    max_ms: tuple[float, ...]
    median_ms: tuple[float, ...]

    @classmethod
    def from_fields(cls, f: FieldReader) -> EndpointTimeline:
        def ints(name: str) -> tuple[int, ...]:
            values = f.floats(name)
            if any(v != int(v) for v in values):
                raise d_error(f"{f.where}.{name} must be whole numbers")
            return tuple(int(v) for v in values)

        out = cls(width_s=f.float_("width_s"), intended=ints("intended"),
                  answered=ints("answered"), failed=ints("failed"), max_ms=f.floats("max_ms"),
                  median_ms=f.floats("median_ms"))
        if len({len(out.intended), len(out.answered), len(out.failed), len(out.max_ms),
                len(out.median_ms)}) != 1:
            raise d_error(f"{f.where}: its columns differ in length")
        return out


def timeline_of(run: Any, arm: str = "candidate") -> EndpointTimeline:
    """The timeline of one arm of an :class:`~mlqa.latency.endpoint.EndpointRun`."""
    import numpy as np

    width = next((w for w in _NICE_WIDTHS if run.duration_s / w <= _TIMELINE_BINS),
                 math.ceil(run.duration_s / _TIMELINE_BINS))
    bins = max(1, math.ceil(run.duration_s / width - 1e-9))
    keep = run.arm == run.arms.index(arm)
    ok = run.ok(arm)
    start = np.minimum((run.intended_s[keep] / width).astype(int), bins - 1)
    end = np.clip((run.answered_s[keep] / width).astype(int), 0, bins - 1)
    ms = run.latency_ms(arm)
    order = np.argsort(start, kind="stable")
    groups = np.split(ms[order], np.searchsorted(start[order], np.arange(1, bins)))
    return EndpointTimeline(
        width_s=float(width),
        intended=tuple(np.bincount(start, minlength=bins).tolist()),
        answered=tuple(np.bincount(end[ok], minlength=bins).tolist()),
        failed=tuple(np.bincount(end[~ok], minlength=bins).tolist()),
        max_ms=tuple(float(g.max()) if len(g) else 0.0 for g in groups),
        median_ms=tuple(float(np.median(g)) if len(g) else 0.0 for g in groups))


def endpoint_display(r: Any, *, details: bool = True) -> d.Display:
    """A latency check's display plus the endpoint's load: latency over time (a stall shows
    as a spike), intended vs achieved rate and errors."""
    base = latency_display(r, details=details)
    t = r.timeline
    if not details or t is None:
        return base
    edges = tuple(i * t.width_s for i in range(len(t.max_ms) + 1))
    spikes = d.HistogramPlot(
        title=f"latency over time: slowest request per {d.num(t.width_s)} s (ms; x: seconds "
              f"into the run)", counts=t.max_ms, edges=edges, name="endpoint-latency-over-time")
    step = max(1, math.ceil(len(t.intended) / _TABLE_ROWS))
    rows = []
    highlight = []
    for i in range(0, len(t.intended), step):
        span = slice(i, i + step)
        seconds = t.width_s * len(t.intended[span])
        intended, answered = sum(t.intended[span]), sum(t.answered[span])
        failed = sum(t.failed[span])
        rows.append((f"{d.num(i * t.width_s)}\u2013{d.num((i + step) * t.width_s)}",
                     d.num(intended / seconds), d.num(answered / seconds), str(failed),
                     d.num(max(t.max_ms[span]))))
        highlight.append(failed > 0 or answered < 0.9 * intended)
    dd = r.details
    table = d.Table(headers=("seconds", "intended /s", "answered /s", "failed",
                             "slowest ms"),
                    fields=("seconds", "intended_rate", "achieved_rate", "failed", "max_ms"),
                    rows=tuple(rows), highlight=tuple(highlight),
                    title=f"load: {d.num(dd.get('intended_rate'))}/s intended, "
                          f"{d.num(dd.get('achieved_rate'))}/s answered, "
                          f"{dd.get('failed_requests')} of {dd.get('requests')} failed, "
                          f"client lag p99 {d.num(dd.get('schedule_lag_p99_ms'))} ms")
    errors = dd.get("errors") or {}
    blocks: list[d.Block] = [spikes, table]
    if errors:
        blocks.append(d.Table(headers=("error", "requests"), fields=("error", "n"),
                              rows=tuple((str(k), str(v)) for k, v in errors.items())))
    return dataclasses.replace(base, sections=(*base.sections,
                                               d.Section("load over time", tuple(blocks))))
