"""``check_drift`` where the data lives (DuckDB, Spark, Parquet paths): validate, pick the
engine, let it summarise, decide here with the drift family's own code.

The engine (:mod:`mlqa.engines`) only runs the summary queries (:mod:`mlqa.engines.sql`) and
returns plain numbers and arrays; it knows no test. Which summary a test needs, and its
formula on it, is the test's registry entry (``summary``, ``from_summary``); the test choice,
the per-column finish (``choose_test``, ``tests_to_run``, ``finish_run``) and the decision
across columns (``decide``, ``dataset_result``) are ``check_drift``'s own, so a result on an
engine reads exactly like one in memory:

* categorical columns: the count of every value per side -> the same ``Sample`` the in-memory
  path builds, so every categorical test and effect size is the in-memory function itself;
* numerical columns: pass 1, one scan per side: n, min, max, mean, population variance and
  (``exact=True``) a HyperLogLog estimate of the distinct values; then the pooled order
  reduced to the sums every rank statistic needs, by one of two exact plans
  (:func:`mlqa.engines.sql.pooled_sums`): one sort of the union rows where most values are
  distinct (continuous columns), or ``GROUP BY`` value and a window over the distinct values
  (discrete columns).
  Where it is small (at most 20 distinct values, or at most ``SMALL_ROWS`` values in all)
  the pooled order itself is fetched and the in-memory tests run on it (that covers scipy's
  exact small-sample p-values); otherwise the statistics are finished from the sums
  by each test's ``from_summary`` (:mod:`mlqa.drift.stattests.from_sums` for the catalogue).
  evidently's binned tests count bins in a second pass over the Sturges edges that pass 1
  fixed, exactly as numpy bins them;
* ``exact="decision"`` / ``exact=False``: large numerical columns decided from certified
  bounds on histogram cells, refined by scans (:mod:`mlqa.drift.sketched`); a column they
  cannot settle takes the exact path above (``"decision"``) or is INCONCLUSIVE (``False``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlqa.drift import columns as col
from mlqa.drift.check import (
    AUTO,
    EVIDENTLY,
    ColumnRun,
    check_named_columns,
    choose_test,
    dataset_result,
    decide,
    effect_floors,
    finish_run,
    tests_by_column,
    tests_to_run,
)
from mlqa.drift.profile import ColumnProfile
from mlqa.drift.result import DriftResult
from mlqa.drift.rich import NEEDS_ROWS
from mlqa.drift.sketched import Bounded, Context, bounded_run, settle
from mlqa.drift.stattests import ColumnTestError, get
from mlqa.drift.stattests import from_sums as finish
from mlqa.drift.stattests.binned import (
    MAX_DISTINCT_AS_CATEGORIES,
    hellinger_from_histograms,
    sturges_edges,
)
from mlqa.drift.stattests.categorical import tvd_effect
from mlqa.drift.stattests.registry import BINS, COUNTS, HISTOGRAM
from mlqa.engines import engine_for, ranges, sql
from mlqa.engines.base import BOOLEAN, DATETIME, DOUBLE, INTEGER, STRING, Engine, Table
from mlqa.engines.failures import stage
from mlqa.errors import InputError
from mlqa.result import Outcome

# Up to this many values on both sides together the pooled order is fetched and the
# in-memory tests run on it (scipy's exact p-values apply up to 10000 per side for KS).
SMALL_ROWS = 20_000
# The pooled order of a column where more than this share of a side's values are distinct
# (HyperLogLog estimate) is built from one sort of the rows; below it, from GROUP BY value
# (a hash aggregate and a window over the distinct values: much cheaper when they are few,
# about even at half). Both plans are exact; only their cost differs.
ROWS_PLAN_SHARE = 0.5
# Columns share one batched pooled-order query (Spark) up to this many values in all: at
# 200,000 rows per side x 20 columns (8M values) one query per plan ran on a default 1 GB
# driver; at 1M rows per side (40M values) it ran out of memory where column by column did not,
# and at 8M values (4 such columns) one of six runs of the 1M-row table still did (auto, 2
# shuffle partitions); 4M values (2 columns at 1M rows per side) is the measured margin.
BATCH_VALUES = 4_000_000


def has_engine_form(test: Any) -> bool:
    """Whether a backend can compute registry entry ``test``: whatever its entry declares
    but the rows (a ``POOLED_SUMS``/``MOMENTS`` entry carries its ``from_summary``)."""
    return not test.needs_rows


def refuse_without_engine_form(names: Any, engine_name: str) -> None:
    """InputError, before any query, for a named test no backend summary gives: the same at
    any size, so a gate never works at 5,000 rows and errs at 30,000."""
    from mlqa.drift.stattests import REGISTRY

    for t in sorted(set(names)):
        test = get(t)
        if not has_engine_form(test):
            able = sorted(n for n, e in REGISTRY.items() if has_engine_form(e))
            raise InputError(
                f"drift test {t!r} cannot run on the {engine_name} engine: its registry "
                f"entry says it is computed from {test.summary!r}, which no engine summary "
                f"gives; run it in memory (pandas/Arrow data) or choose one of {able}")


def check_drift_on_engine(reference: Any, current: Any, columns: Sequence[str] | None = None,
                          *, alpha: float = 0.05, correction: str | None = "holm",
                          tests: str | Mapping[str, str] = AUTO,
                          thresholds: Mapping[str, float] | None = None,
                          column_types: Mapping[str, str] | None = None,
                          min_effect: float | Mapping[str, float] | None = None,
                          drift_share: float = 0.5, min_rows: int = 20,
                          exact: bool | str = True, html: str | None = None,
                          name: str = "drift", max_missing_change: float | None = None,
                          **ignored: Any) -> DriftResult:
    """``check_drift`` on data in an engine; same arguments and result (``html=`` is refused:
    evidently's report needs the rows in memory). The change of each column's missing share
    is decided by the in-memory path's own function (Newcombe's interval, Bonferroni over
    the columns) from the exact counts pass 1 returns (``n_rows - n``)."""
    from mlqa.quality.missing import missing_in_drift
    # the options were validated by check_drift's table before it chose this backend
    if html is not None:
        raise InputError("html= needs the rows in memory (evidently's report); it is not "
                         "available for Spark DataFrames, DuckDB relations or Parquet paths")
    by_column, mode = tests_by_column(tests)
    engine = engine_for(reference, current, label="check_drift")
    refuse_without_engine_form(by_column.values(), engine.name)
    ref_t = engine.table(reference, "reference")
    cur_t = engine.table(current, "current")
    if columns is None:
        from mlqa.drift.tables import check_same_columns

        names = list(ref_t.types)
        check_same_columns(names, list(cur_t.types))
    else:
        names = [str(c) for c in columns]
        ref_t.require(names)
        cur_t.require(names)
    check_named_columns(names, by_column, thresholds)
    types = _column_types(engine, ref_t, names, dict(column_types or {}))
    clashes = [f"{n!r} ({_family(ref_t.types[n])} in reference, {_family(cur_t.types[n])} "
               f"in current)" for n in names if types[n] not in col.EXCLUDED
               and _family(ref_t.types[n]) != _family(cur_t.types[n])]
    if clashes:
        raise InputError("incompatible column dtypes: " + ", ".join(clashes))
    numerical = [n for n in names if types[n] == col.NUMERICAL]
    other = [n for n in names if types[n] in (col.CATEGORICAL, col.BINARY)]
    with stage("check_drift pass 1 (counts and moments of every column)"):
        # the HyperLogLog estimate only picks the exact path's plan: exact=True needs it for
        # every numerical column, "decision" only for a column that falls back (_sums)
        ref_m = sql.moments(engine, ref_t, numerical, other, distinct=exact is True)
        cur_m = sql.moments(engine, cur_t, numerical, other, distinct=exact is True)
    side = _Sides(engine, ref_t, cur_t, ref_m, cur_m, exact)
    side.alpha = alpha
    side.context = Context(mode, alpha, correction, dict(thresholds or {}),
                           lambda n, t: effect_floors(min_effect, {n: ColumnRun(t)})[n],
                           max(1, 2 * len(numerical) + len(other)))
    side.pool(numerical, min_rows)
    runs: dict[str, ColumnRun] = {}
    excluded: dict[str, str] = {}
    for n in names:
        if types[n] in col.EXCLUDED:
            excluded[n] = col.EXCLUDED[types[n]]
            if types[n] in NEEDS_ROWS and mode == AUTO:  # in memory auto mode tests it
                excluded[n] = (f"{NEEDS_ROWS[types[n]]}, which only summaries leave an "
                               f"engine: not tested (run it in memory)")
            continue
        with stage(f"check_drift column {n!r}"):
            runs[n] = side.run(n, types[n], by_column.get(n), mode, min_rows)
    def decide_runs(rs: dict[str, ColumnRun]) -> dict[str, Any]:
        return decide(rs, mode, alpha, correction, dict(thresholds or {}),
                      effect_floors(min_effect, rs))

    results = {} if not runs else decide_runs(runs) if not side.bounded else settle(
        side.bounded, runs, side.context, decide_runs,
        None if exact is False else lambda n: side.exact_run(n, types[n], by_column.get(n),
                                                             mode, min_rows),
        side.inconclusive, side.fallback)  # no runs: dataset_result makes that an ERROR
    result = dataset_result(name, results, excluded, mode, correction, alpha, drift_share,
                             ref_m_rows(ref_m, engine, ref_t), ref_m_rows(cur_m, engine, cur_t))
    details = dict(result.details, engine=engine.name, exact=exact)
    bounds = {n: b.detail for n, b in side.bounded.items()}
    if bounds or side.fallback:
        details.update(bounds=bounds, fallback=dict(side.fallback))
    changes: dict[str, Any] = {"details": details}
    errors = [c for c, r in results.items() if r.drifted is None]
    if side.inconclusive and result.outcome is Outcome.ERROR and \
            set(errors) == set(side.inconclusive):
        # only the sketch's error stood in the way: not an error of the check, not a pass
        changes.update(outcome=Outcome.INCONCLUSIVE,
                       message=result.message + " | approximate (exact=False): INCONCLUSIVE")
    # as in memory: enforced in auto mode (default bound) and wherever a bound is given
    enforce = mode != EVIDENTLY or max_missing_change is not None
    return missing_in_drift(dataclasses.replace(result, **changes), max_missing_change,
                            alpha=alpha, enforce=enforce)


def ref_m_rows(m: Mapping[str, sql.Moments], engine: Engine, table: Table) -> int:
    if m:
        return next(iter(m.values())).n_rows
    return int(engine.one(f"SELECT COUNT(*) FROM {table.source}")[0])


def _family(t: str) -> str:
    return {DOUBLE: "number", INTEGER: "number", BOOLEAN: "number", STRING: "string",
            DATETIME: "datetime"}.get(t, "other")


def _column_types(engine: Engine, table: Table, names: Sequence[str],
                  given: dict[str, str]) -> dict[str, str]:
    """evidently's inference (as ``mlqa.drift.columns.infer_type``) from the schema and, for
    integer and string columns, the exact number of distinct values."""
    from mlqa.drift.profile import validated_types

    validated_types(given, table.types)
    out = {}
    for n in names:
        if n in given:
            out[n] = given[n]
            continue
        t = table.types[n]
        if t == DOUBLE:
            out[n] = col.NUMERICAL
        elif t == BOOLEAN:
            out[n] = col.CATEGORICAL
        elif t == DATETIME:
            out[n] = "datetime"
        elif t == INTEGER:
            distinct, count = sql.distinct_count(engine, table, n)
            # all values distinct: an identifier, whatever the row order (which a lake or a
            # shuffled Spark table does not keep; in memory pandas' order also counts)
            out[n] = col.CATEGORICAL if distinct <= col.INTEGER_CARDINALITY_LIMIT else \
                "id" if distinct == count else col.NUMERICAL
        elif t == STRING:
            distinct, count = sql.distinct_count(engine, table, n)
            out[n] = col.string_type(distinct, count)
        else:
            out[n] = "unsupported"
    return out


@dataclasses.dataclass
class _Shape:
    """What the selection rules ask of a side that stays in the engine: its kind, size and
    number of distinct values (``mlqa.drift.selection`` only asks "more than k?")."""

    kind: str
    n: int
    distinct: int

    def distinct_upto(self, limit: int) -> int:
        return min(self.distinct, limit + 1)


class _Sides:
    def __init__(self, engine: Engine, ref: Table, cur: Table,
                 ref_m: Mapping[str, sql.Moments], cur_m: Mapping[str, sql.Moments],
                 exact: bool | str) -> None:
        self.engine, self.ref, self.cur = engine, ref, cur
        self.ref_m, self.cur_m, self.exact = ref_m, cur_m, exact
        self.bounded: dict[str, Bounded] = {}  # columns decided from cells (sketched.py)
        self.fallback: dict[str, str] = {}  # columns the cells did not settle: why
        self.inconclusive: list[str] = []
        self.alpha = 0.05
        self.context: Context | None = None
        self.pooled: dict[str, sql.PooledSums] = {}  # sums computed ahead, all in one query

    def pool(self, names: Sequence[str], min_rows: int) -> None:
        """Where the engine batches columns (Spark: a query is a job with its shuffles), the
        pooled-order sums of every numerical column the exact path will use, in one query
        per plan (:func:`mlqa.engines.sql.pooled_sums_many`) instead of one per column; the
        figures are the same. Elsewhere each column runs its own query (:meth:`_sums`)."""
        if not self.engine.batches_columns or self.exact is not True:
            return
        wanted = {n: self._pooled(n) for n in names
                  if min(self.ref_m[n].n, self.cur_m[n].n) >= max(min_rows, 1)}
        batch: dict[str, ranges.Pooled] = {}
        size, last = 0, next(reversed(wanted), None)
        for n, p in wanted.items():  # batches of at most BATCH_VALUES values
            batch[n] = p
            size += p.n_ref + p.n_cur
            if size >= BATCH_VALUES or n == last:
                if len(batch) > 1:
                    with stage(f"check_drift pooled order of {len(batch)} numerical columns "
                               f"(one query per plan)"):
                        self.pooled.update(sql.pooled_sums_many(
                            self.engine, self.ref, self.cur, batch,
                            {c: _plan(self.ref_m[c], self.cur_m[c]) for c in batch}))
                batch, size = {}, 0

    def _pooled(self, name: str) -> ranges.Pooled:
        rm, cm = self.ref_m[name], self.cur_m[name]
        assert rm.low is not None and cm.low is not None  # both sides have values here
        assert rm.high is not None and cm.high is not None
        return ranges.Pooled(rm.n, cm.n, (min(rm.low, cm.low), max(rm.high, cm.high)))

    def _sums(self, name: str) -> sql.PooledSums:
        """The column's pooled-order sums: computed ahead (:meth:`pool`) or by its own query."""
        if name in self.pooled:
            return self.pooled.pop(name)
        p = self._pooled(name)
        rm, cm = self.ref_m[name], self.cur_m[name]
        if rm.distinct_estimate is None or cm.distinct_estimate is None:
            # exact="decision" skips pass 1's HyperLogLog (the cells need none); a column
            # that falls back to the exact path gets its estimate now, for its plan
            rm, cm = (dataclasses.replace(m, distinct_estimate=sql.approx_distinct(
                self.engine, t, name)) for m, t in ((rm, self.ref), (cm, self.cur)))
        return sql.pooled_sums(self.engine, self.ref, self.cur, name, p.n_ref, p.n_cur,
                               plan=_plan(rm, cm), bounds=p.bounds)

    def exact_run(self, name: str, type_: str, test_name: str | None, mode: str,
                  min_rows: int) -> ColumnRun:
        """The column by the exact path (a decision the cells did not settle)."""
        keep, self.exact = self.exact, True
        try:
            return self.run(name, type_, test_name, mode, min_rows)
        finally:
            self.exact = keep

    def run(self, name: str, type_: str, test_name: str | None, mode: str, min_rows: int
            ) -> ColumnRun:
        rm, cm = self.ref_m[name], self.cur_m[name]
        run = ColumnRun(type_, rm.n_rows, (rm.n_rows - rm.n) / rm.n_rows if rm.n_rows else 0.0,
                   type_, cm.n_rows, (cm.n_rows - cm.n) / cm.n_rows if cm.n_rows else 0.0)
        for side, m in (("reference", rm), ("current", cm)):
            if m.n == 0:
                run.reason = f"no values in {side} (all {m.n_rows} rows NaN or inf)"
                return run
            if m.n < min_rows:
                run.reason = f"too few values in {side}: {m.n} < min_rows={min_rows}"
                return run
        try:
            if type_ == col.NUMERICAL:
                self._numerical(run, name, test_name, mode)
            else:
                self._categorical(run, name, test_name, mode)
        except ColumnTestError as exc:
            run.reason = f"{run.test.name if run.test else test_name}: {exc}"
        return run

    # -- categorical: counts are the whole story ----------------------------------------

    def _categorical(self, run: ColumnRun, name: str, test_name: str | None, mode: str) -> None:
        ref = _counted(self.engine, self.ref, name, self.ref_m[name].n_rows)
        cur = _counted(self.engine, self.cur, name, self.cur_m[name].n_rows)
        profile = ColumnProfile(name, run.type, "", ref)
        self._finish_samples(run, profile, ref, cur, test_name, mode)

    def _finish_samples(self, run: ColumnRun, profile: ColumnProfile, ref: col.Sample,
                        cur: col.Sample, test_name: str | None, mode: str,
                        sums: sql.PooledSums | None = None) -> None:
        """The in-memory tests themselves on samples built from the engine's summaries
        (categorical counts, or a fetched pooled order); ``sums`` gives the effect of a
        numerical column whose sample is a value -> count map."""
        from mlqa.drift.check import effect_bound, reported_type, untestable

        run.kind = reported_type(profile, ref, cur)
        run.reason = untestable(ref, cur, 1)
        if run.reason:
            return
        run.test = choose_test(test_name, ref, cur, mode)
        with np.errstate(divide="ignore", invalid="ignore"):
            for t in tests_to_run(run.test.name, test_name, mode):
                run.statistics[t] = get(t).func(ref, cur)
        if ref.kind == col.NUMERICAL and ref.values is None and sums is not None:
            rm = self.ref_m[profile.name]
            self._finish(run, mode, lambda: finish.normed_wasserstein(sums, rm),
                         lambda: finish.wasserstein_bound(sums, rm, self.alpha))
        elif ref.kind == col.NUMERICAL:
            from mlqa.drift.stattests.numerical import normed_wasserstein

            self._finish(run, mode, lambda: normed_wasserstein(ref, cur),
                         lambda: effect_bound(ref, cur, self.alpha))
        else:
            self._finish(run, mode, lambda: tvd_effect(ref, cur),
                         lambda: effect_bound(ref, cur, self.alpha))

    def _finish(self, run: ColumnRun, mode: str, effect: Any, bound: Any) -> None:
        finish_run(run, mode, self.alpha, effect, bound)

    # -- numerical ------------------------------------------------------------------------

    def _numerical(self, run: ColumnRun, name: str, test_name: str | None, mode: str) -> None:
        rm, cm = self.ref_m[name], self.cur_m[name]
        integer = (self.ref.types[name] == INTEGER and rm.n == rm.n_rows and
                   self.cur.types[name] == INTEGER and cm.n == cm.n_rows)
        if self.exact is not True and self.context is not None and bounded_run(
                self, run, name, test_name, mode, self.context, SMALL_ROWS,
                MAX_DISTINCT_AS_CATEGORIES):
            return
        sums = self._sums(name)
        shape_ref: Any = _Shape(col.NUMERICAL, rm.n, sums.distinct_ref)
        shape_cur: Any = _Shape(col.NUMERICAL, cm.n, sums.distinct_cur)
        small = rm.n + cm.n <= SMALL_ROWS
        if sums.distinct <= MAX_DISTINCT_AS_CATEGORIES or small:
            v, r, c = sql.pooled_counts(self.engine, self.ref, self.cur, name)
            ref = _from_pooled(v, r, rm.n_rows, integer, small)
            cur = _from_pooled(v, c, cm.n_rows, integer, small)
            profile = ColumnProfile(name, run.type, "number", ref)
            if small:  # the in-memory sample itself: every test exactly as in memory
                self._finish_samples(run, profile, ref, cur, test_name, mode)
                return
            if choose_test(test_name, ref, cur, mode).summary in (COUNTS, BINS):
                # categorical tests and binned ones on <= 20 values: from the counts
                self._finish_samples(run, profile, ref, cur, test_name, mode, sums)
                return
            shape_ref, shape_cur = ref, cur
        run.kind = col.BINARY if run.type == col.BINARY or sums.distinct == 2 else run.type
        if sums.distinct == 1:
            run.reason = (f"constant column (only the value {rm.low!r} on both sides): "
                          f"nothing to test")
            return
        run.test = choose_test(test_name, shape_ref, shape_cur, mode)
        summaries = finish.Summaries(sums, rm, cm)
        for t in tests_to_run(run.test.name, test_name, mode):
            entry = get(t)
            if entry.from_summary is not None:
                run.statistics[t] = entry.from_summary(summaries)
            elif entry.summary in (BINS, HISTOGRAM):
                run.statistics[t] = self._binned(t, name, sums, rm, cm, integer)
            else:
                raise ColumnTestError(f"{t} is not available on an engine for a numerical "
                                      f"column with {sums.distinct} distinct values")
        self._finish(run, mode, lambda: finish.normed_wasserstein(sums, rm),
                     lambda: finish.wasserstein_bound(sums, rm, self.alpha))

    def _binned(self, test: str, name: str, sums: sql.PooledSums, rm: sql.Moments,
                cm: sql.Moments, integer: bool) -> tuple[float, float | None]:
        assert rm.low is not None and cm.low is not None  # both sides have values here
        assert rm.high is not None and cm.high is not None
        low, high = min(rm.low, cm.low), max(rm.high, cm.high)
        if get(test).summary == HISTOGRAM:
            # evidently's numerical hellinger: Sturges edges over the distinct values
            edges = sturges_edges(low, high, sums.distinct, integer)
            return hellinger_from_histograms(sql.bin_counts(self.engine, self.ref, name, edges),
                                             sql.bin_counts(self.engine, self.cur, name, edges),
                                             edges)
        if sums.distinct_ref <= MAX_DISTINCT_AS_CATEGORIES:
            raise ColumnTestError("internal: few distinct values are binned as categories")
        edges = sturges_edges(low, high, rm.n + cm.n, integer)
        ref = _as_bins(sql.bin_counts(self.engine, self.ref, name, edges), rm.n_rows)
        cur = _as_bins(sql.bin_counts(self.engine, self.cur, name, edges), cm.n_rows)
        return get(test).func(ref, cur)


def _as_bins(counts: np.ndarray, n_rows: int) -> col.Sample:
    """Bin counts as a categorical sample over the bin numbers: the binned tests' categorical
    branch then gives exactly their numerical-branch figures (zero bins kept)."""
    return col.Sample(col.CATEGORICAL, n_rows, categories=np.arange(len(counts)),
                      counts=counts)


def _plan(rm: sql.Moments, cm: sql.Moments) -> str:
    """``"rows"`` (one sort of the union rows) for a continuous column, ``"grouped"`` (GROUP BY
    value first) for a discrete one: from the HyperLogLog estimate of the distinct values."""
    share = max((m.distinct_estimate or 0) / m.n for m in (rm, cm) if m.n)
    return "rows" if share > ROWS_PLAN_SHARE else "grouped"


def _from_pooled(values: np.ndarray, counts: np.ndarray, n_rows: int, integer: bool,
                 expand: bool) -> col.Sample:
    """One side of a fetched pooled order: its sorted values when there are few rows (the
    in-memory sample itself), else its value -> count map."""
    seen = counts > 0
    if expand:
        return col.Sample(col.NUMERICAL, n_rows, values=np.repeat(values, counts),
                          integer=integer)
    return col.Sample(col.NUMERICAL, n_rows, categories=values[seen], counts=counts[seen],
                      integer=integer)


def _counted(engine: Engine, table: Table, name: str, n_rows: int) -> col.Sample:
    keys, counts = sql.category_counts(engine, table, name)
    arr = np.array(keys, dtype=object if any(isinstance(k, str) for k in keys) else None)
    order = col._sort_order(arr)
    return col.Sample(col.CATEGORICAL, n_rows, categories=arr[order], counts=counts[order])
