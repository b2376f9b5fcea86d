"""The pooled order's sums from one sorted stream: an engine that hands back the rows of an
``ORDER BY`` in order, batch by batch (DuckDB), sorts each column's union once with all its
threads and the sums are added up here, chunk by chunk, in bounded memory.

This is the exact path's cheapest form where the engine and mlqa share a process: the sort is
the engine's own ``ORDER BY`` (parallel, spilling to disk past its memory limit) and nothing
else runs per row in SQL. The range-partitioned windows of
:func:`mlqa.engines.sql.pooled_sums` cost 19x that sort on DuckDB at 5M rows per side (each
window re-sorts its partition); one ``ORDER BY`` and this pass cost 1.06x the sort alone at
50M rows per side (``docs/scale.md``). Spark keeps the windows: its driver is not where the
rows should go.

Each batch's rows are collapsed into distinct values (ties are adjacent in sorted order; the
last value of a batch may continue in the next, so it is held back), and the distinct values
are summed in pieces of ``SUB_CHUNK``: each piece is one "range" of
:func:`mlqa.engines.sql._merged`, its sums taken with the counts below it as offsets, its
part of the suffix sum ``h`` merged there. The per-value terms are the module docstring's of
:mod:`mlqa.engines.sql` (simplified in :func:`value_sums`; ``_sums_select`` writes them in
SQL).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

# rows per batch fetched from the engine (two float64 columns: 16 MB)
BATCH_ROWS = 1 << 20
# distinct values summed at once: the twenty-odd float64 temporaries of this length stay in a
# core's cache (measured with the terms below: 0.34 s per 10M values, against 1.4 s for
# DuckDB's ~120k-row batches summed whole with the terms unsimplified)
SUB_CHUNK = 1 << 14


def value_sums(v: np.ndarray, r: np.ndarray, c: np.ndarray, below_r: float, below_c: float,
               next_low: float | None, n: int, m: int) -> list[float]:
    """One chunk's row of the per-range table: the 17 sums of ``PooledSums`` in order, then
    the chunk's reference and current counts and its part of ``h`` (``sum sign(d) gap``).
    ``v`` are distinct ascending values with counts ``r``, ``c`` (float64); ``below_*`` the
    counts of each side below the chunk; ``next_low`` the next distinct value after it (None
    after the last: its gap is 0, where F = G = 1)."""
    # In the module docstring's terms, with A = R - r/2 and E = C - c/2 (the midpoint counts
    # of each side at v_j, exact in float64 below 2**52) and B = b + l/2 = A + E:
    # midrank M = B + 1/2, Cramer-von Mises' offsets q_r = E and q_c = A, and Anderson-
    # Darling's numerators N A_j - B n = m A - n E = -(N E - B m). The SQL writes the same
    # terms unsimplified (sql._sums_select); both are exact in these counts.
    big_n = float(n + m)
    cr = np.cumsum(r)
    cr += below_r
    cc = np.cumsum(c)
    cc += below_c
    a, e = cr - 0.5 * r, cc - 0.5 * c
    bh = a + e
    f, gg = cr / n, cc / m
    d = f - gg
    dd = d * d
    gap = np.diff(v, append=v[-1] if next_low is None else next_low)
    l_ = r + c
    den = bh * (big_n - bh) - (big_n / 4) * l_
    x = m * a - n * e
    with np.errstate(divide="ignore", invalid="ignore"):
        ad = x * x * l_ / den
    ad[den == 0] = 0.0
    step = np.sign(d) * gap
    h = np.cumsum(step[::-1])[::-1]
    corrected = np.sqrt(np.maximum(dd - (f * (1 - f) / n + gg * (1 - gg) / m), 0.0))
    rh, ch = r * h, c * h
    rs, cs = float(r.sum()), float(c.sum())
    tied = bool(l_.max() > 1)  # all distinct (a continuous column): no tie terms
    return [float(v.size), float(np.count_nonzero(r)), float(np.count_nonzero(c)),
            float(d.max()), float(d.min()), float((np.abs(d) * gap).sum()),
            float((dd * gap).sum()), float((r * bh).sum()) + 0.5 * rs,
            float((l_ * l_ * l_ - l_).sum()) if tied else 0.0,
            float((r * e * e).sum()) + (float((r * r * r - r).sum()) / 12 if tied else 0.0),
            float((c * a * a).sum()) + (float((c * c * c - c).sum()) / 12 if tied else 0.0),
            float(ad.sum()) * (1 / n + 1 / m) / big_n,
            float((corrected * gap).sum()), float(rh.sum()), float((rh * h).sum()),
            float(ch.sum()), float((ch * h).sum()), rs, cs, float(step.sum())]


def prefetched(batches: Iterator[tuple[np.ndarray, ...]], depth: int = 4,
               interrupt: Callable[[], None] | None = None
               ) -> Iterator[tuple[np.ndarray, ...]]:
    """``batches`` read ahead by a thread: the engine hands out (and converts) the next
    batches while this thread sums the last ones (both release the GIL in their loops). An
    error of the reader is raised here, in order; stopping early (an error here, Ctrl-C)
    stops the reader, first ``interrupt``-ing the engine's query where the reader is still
    inside it (a sort of 100M rows runs minutes before its first batch)."""
    import queue
    import threading

    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def offer(item: Any) -> bool:
        """Put ``item`` unless the consumer has stopped (a full queue nobody reads would hold
        this thread, and the consumer's join, for ever)."""
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in batches:
                if not offer(item):
                    return
            offer(done)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(exc)

    reader = threading.Thread(target=read, name="mlqa-stream", daemon=True)
    reader.start()
    try:
        while (item := box.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        if reader.is_alive() and interrupt is not None:
            with contextlib.suppress(Exception):  # the query may just have ended
                interrupt()
        reader.join()


def distinct_chunks(batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]
                    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Chunks of complete distinct values ``(v, r, c)`` from batches of sorted rows
    ``(v, r, c)`` (a row may be one value's counts, or one occurrence: r/c 1 or 0): a value
    continuing into the next batch is held back until it ends. Raises RuntimeError where the
    stream is not in ascending order (a lie would follow)."""
    held: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    for v, r, c in batches:
        if v.size == 0:
            continue
        if held is not None:
            v, r, c = (np.concatenate([held[0], v]), np.concatenate([held[1], r]),
                       np.concatenate([held[2], c]))
        step = np.diff(v)  # the held value included: a batch starting below it is caught
        if bool((step < 0).any()):
            raise RuntimeError("internal: the engine's ORDER BY stream was not in order")
        if bool((step == 0).any()):
            starts = np.flatnonzero(np.concatenate([[True], step != 0]))
            v, r, c = v[starts], np.add.reduceat(r, starts), np.add.reduceat(c, starts)
        held = (v[-1:], r[-1:], c[-1:])
        if v.size > 1:
            yield v[:-1], r[:-1], c[:-1]
    if held is not None:
        yield held


def chunk_rows(chunks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int, m: int
               ) -> tuple[list[list[float]], np.ndarray, np.ndarray, np.ndarray]:
    """(per-piece rows ``rid, 17 sums, r, c, h part``, and the pieces' smallest values and
    counts per side: the cut :func:`mlqa.engines.sql._merged` checks them against). Each
    chunk is cut into pieces of ``SUB_CHUNK`` values (the counts below each first). Summing
    the pieces on two threads gained nothing measurable on 2 cores (the engine's reader is a
    thread already), so they are summed in turn."""
    rows: list[list[float]] = []
    lows: list[float] = []
    refs: list[float] = []
    curs: list[float] = []
    below = np.zeros(2)
    for (v, r, c), following in list_ahead(chunks):
        starts = np.arange(0, v.size, SUB_CHUNK)
        stops = np.append(starts[1:], v.size)
        per = np.stack([np.add.reduceat(r, starts), np.add.reduceat(c, starts)], axis=1)
        offsets = below + np.cumsum(per, axis=0) - per
        below = offsets[-1] + per[-1]
        for k, (i, j) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
            after = float(v[j]) if j < v.size else \
                None if following is None else float(following[0][0])
            rows.append([float(len(rows)), *value_sums(v[i:j], r[i:j], c[i:j],
                                                        float(offsets[k, 0]),
                                                        float(offsets[k, 1]), after, n, m)])
            lows.append(float(v[i]))
            refs.append(float(per[k, 0]))
            curs.append(float(per[k, 1]))
    return rows, np.array(lows), np.array(refs, dtype=np.int64), np.array(curs, dtype=np.int64)


def list_ahead(items: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]
               ) -> Iterator[tuple[tuple[np.ndarray, np.ndarray, np.ndarray],
                               tuple[np.ndarray, np.ndarray, np.ndarray] | None]]:
    """Each item with the one after it (None after the last): a chunk's last gap needs the
    next chunk's first value."""
    it = iter(items)
    previous = next(it, None)
    for item in it:
        assert previous is not None
        yield previous, item
        previous = item
    if previous is not None:
        yield previous, None
