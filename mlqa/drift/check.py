"""``check_drift``: per-column two-sample tests and the dataset verdict."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

from mlqa._text import fmt_num
from mlqa._validation import (
    UNSET,
    check_number,
    renamed,
)
from mlqa.drift import columns as col
from mlqa.drift import effects, selection
from mlqa.drift.display import column_distribution
from mlqa.drift.profile import (
    ColumnProfile,
    ReferenceProfile,
    profile_column,
    validated_types,
)
from mlqa.drift.result import ColumnDistribution, ColumnDrift, DriftResult
from mlqa.drift.stattests import ColumnTestError, StatTest, get
from mlqa.drift.stattests.categorical import tvd_effect
from mlqa.drift.stattests.numerical import (
    normed_wasserstein,
    pooled_order,
    release_pooled_order,
    sorted_pair,
)
from mlqa.drift.stattests.registry import set_random_state
from mlqa.drift.tables import check_same_columns, read_table
from mlqa.errors import InputError
from mlqa.options import (
    LEVEL,
    NON_NEGATIVE,
    NUMBER,
    SHARE,
    Anything,
    Boolean,
    FilePath,
    Interval,
    ListOf,
    MappingOf,
    Options,
    OptionTable,
    Text,
    at_least,
    param,
    seeds,
)
from mlqa.recording import observed
from mlqa.result import Outcome

CORRECTIONS = ("holm", "bh", None)
# Materiality floors of the effect size in mlqa's own mode: a tenth of a reference standard
# deviation of normed Wasserstein distance (evidently's own distance threshold) and two
# percentage points of total variation.
# Text and embedding classifiers: two points of Somers' D (2 AUC - 1, AUC 0.51); MMD: none
# (its kernel sample is capped, so significance alone already means a visible change).
DEFAULT_MIN_EFFECT = {col.NUMERICAL: 0.1, col.CATEGORICAL: 0.02, col.BINARY: 0.02,
                      "text": 0.02, "embedding": 0.02, "mmd": 0.0}
EVIDENTLY = "evidently"
AUTO = "auto"

# check_drift's keyword options, declared once: the Python call, the engine call
# (mlqa.drift.summarised) and the YAML schema (mlqa.suite.spec) all read this table.
OPTIONS = OptionTable("check_drift", {
    "columns": param(ListOf(Text()), None),
    "alpha": param(LEVEL),
    "correction": param(Options(*(c for c in CORRECTIONS if c is not None)), None),
    "tests": param(Options(AUTO, EVIDENTLY), MappingOf(Text(), key="column")),
    "thresholds": param(MappingOf(NUMBER, key="column"), None),
    "min_effect": param(NON_NEGATIVE, MappingOf(NON_NEGATIVE, key="column or column type"),
                        None),
    "drift_share": param(Interval(Real, 0, 1, closed="right")),
    "min_rows": param(at_least(1)),
    "max_missing_change": param(SHARE, None),
    "exact": param(Boolean(), Options("decision")),
    "column_types": param(MappingOf(Text(), key="column"), None, suite=False),
    "column_names": param(ListOf(Anything()), None, suite=False),
    "n_threads": param(at_least(1), None, suite=False),
    "random_state": param(*seeds(), suite=False),
    "embeddings": param(Anything(), None, suite=False),
    "html": param(FilePath(), None, suite=False),
    "name": param(Text(), suite=False),
})


@observed
def check_drift(reference: Any, current: Any, columns: Sequence[str] | None = None, *,
                alpha: float = 0.05, correction: str | None = "holm",
                tests: str | Mapping[str, str] = AUTO,
                thresholds: Mapping[str, float] | None = None,
                column_types: Mapping[str, str] | None = None,
                min_effect: float | Mapping[str, float] | None = None,
                drift_share: float = 0.5, min_rows: int = 20,
                column_names: Sequence[str] | None = None, n_threads: int | None = None,
                random_state: int | np.random.Generator | None = 0,
                html: str | None = None, name: str = "drift",
                max_missing_change: float | None = None, exact: bool | str = True,
                embeddings: Any = None, n_jobs: Any = UNSET) -> DriftResult:
    """Test every column of ``current`` against ``reference`` for a change of distribution.

    ``reference``/``current``: pandas DataFrames, 2-D numpy arrays (``column_names`` names
    their columns, else ``"0"``, ``"1"``...), pyarrow Tables or Parquet paths; ``reference``
    may be a ``ReferenceProfile`` (``mlqa.drift.profile``). ``columns`` selects columns; without
    it both sides must have the same ones. Column types are inferred from the reference (or
    given in ``column_types``); identifier columns are left out, with the reason, in
    ``result.excluded``. Text, embedding (a column of equal-length vectors) and datetime
    columns are tested from their rows as parts ``column.part`` in the same family
    (``mlqa.drift.rich``; docs/drift.md): text by descriptors and a held-out domain
    classifier, embeddings by MMD and the classifier, datetimes by epoch, weekday and hour.
    ``embeddings=`` adds embeddings given as arrays: ``(reference 2-D array, current 2-D
    array)`` or ``{name: (reference, current)}``. In evidently's mode, from a
    ``ReferenceProfile`` or on an engine they are left out, with the reason. NaN and +-inf are
    dropped per column and the change in their share is reported. A column that is empty,
    constant or has fewer than ``min_rows`` values on a side is an ERROR entry; the others
    still run.

    ``tests``:

    * ``"auto"`` (default): ``ks`` and ``anderson_asymptotic`` for numerical,
      ``chi2_homogeneity`` for categorical, ``z`` for binary columns; every p-value adjusted
      in one family (``correction``: ``"holm"`` controls the family-wise error rate, ``"bh"``
      the false discovery rate, None neither). A column drifts when an adjusted p-value is
      below ``alpha`` AND the lower confidence bound (level 1 - alpha) of its bias-corrected
      effect (``effect_low``; ``mlqa.drift.effects``) reaches ``min_effect`` (default 0.1
      normed Wasserstein for numerical columns, 0.02 total variation for categorical and
      binary). The dataset drifts when any column does.
    * ``"evidently"``: evidently 0.7's default test per column (its <=1000-reference-row rule)
      with its thresholds and comparison operators, no correction, no materiality floor;
      the dataset drifts when the share of drifted columns is >= ``drift_share``.
    * a dict ``{column: test name}``: those columns get that test (``"*"`` sets the mode of
      the others: ``"auto"``, the default, or ``"evidently"``).

    ``thresholds`` maps columns to the threshold of their drift score (p-value or distance).
    ``random_state`` seeds the permutation tests (``TVD``, ``empirical_mmd``): an int, a
    numpy Generator (one integer is drawn from it) or None (fresh entropy; verdicts may then
    differ between runs). Every other test is deterministic.
    Outcome: FAIL when the dataset drifts; else ERROR when a column could not be tested; else
    PASS. ``value`` is the share of drifted columns.

    Missing values are a signal too: every column's change of missing share (current minus
    reference) is in ``result.details["missing"]`` with its Newcombe interval (Bonferroni over
    the columns at ``alpha``); a change established beyond ``max_missing_change`` (default
    0.05, i.e. five percentage points of rows) fails the check and the message names the
    column. In ``"evidently"`` mode the default only reports it (evidently's verdict is
    reproduced as is); an explicit ``max_missing_change`` applies in every mode.

    Columns run on ``n_threads`` threads (None: one per core; ``n_jobs=`` is its deprecated
    name). ``html=path`` also writes evidently's
    DataDriftPreset report there (imports evidently; needs the reference data, not a profile).

    On an engine (a DuckDB relation, a Spark DataFrame, a Parquet path, glob or folder) only
    summaries leave it (``mlqa.engines``). ``exact=True`` (default) computes every statistic
    exactly; ``exact="decision"`` gives the same verdicts from certified bounds on histogram
    cells refined by scans, taking the exact path only for a column they cannot settle;
    ``exact=False`` uses the cells only (INCONCLUSIVE where they cannot settle). In memory
    every mode is exact (docs/scale.md, ``mlqa.drift.sketched``).
    """
    n_threads = renamed("n_jobs", n_jobs, "n_threads", n_threads, default=None,
                        where="check_drift")
    OPTIONS.validate(locals())  # the same table refuses a bad option on every backend
    from mlqa.engines import on_engine  # DuckDB relations, Spark DataFrames, Parquet paths

    if on_engine(reference, current):
        from mlqa.drift.summarised import check_drift_on_engine

        if embeddings is not None:
            raise InputError("embeddings= needs the rows in memory: pass pandas/numpy data")
        return check_drift_on_engine(
            reference, current, columns, alpha=alpha, correction=correction, tests=tests,
            thresholds=thresholds, column_types=column_types, min_effect=min_effect,
            drift_share=drift_share, min_rows=min_rows, exact=exact, html=html, name=name,
            max_missing_change=max_missing_change)
    seed = _seed(random_state)
    from mlqa.quality.missing import missing_in_drift

    by_column, mode = tests_by_column(tests)
    column_of, names, n_reference, raw_reference = _reference(reference, columns,
                                                              column_types, column_names)
    cur = read_table("current", current, columns=columns, column_names=column_names)
    if columns is None:
        check_same_columns(names, list(cur))
    check_named_columns(names, by_column, thresholds)

    # Each column is prepared, tested and let go in one job: only one reference and one
    # current column per thread are ever sorted in memory at a time.
    runs = dict(zip(names, col.map_columns(
        lambda n: _run(column_of(n), cur[n], by_column.get(n), mode, min_rows, alpha, seed,
                       raw_reference(n)),
        names,
        n_threads), strict=True))
    clashes = [r.reason for r in runs.values() if r.clash]
    if clashes:
        raise InputError("incompatible column dtypes: " + ", ".join(clashes))
    runs.update(embedding_runs(embeddings, set(names), mode, min_rows, alpha, seed))
    runs, views = expand_parts(runs)
    excluded = {n: r.reason for n, r in runs.items() if r.excluded}
    runs = {n: r for n, r in runs.items() if not r.excluded}
    if not runs:
        return dataset_result(name, {}, excluded, mode, correction, alpha, drift_share,
                               n_reference, len(next(iter(cur.values()))))
    floors = effect_floors(min_effect, runs)
    results = decide(runs, mode, alpha, correction, dict(thresholds or {}), floors)
    result = dataset_result(name, results, excluded, mode, correction, alpha, drift_share,
                             n_reference, len(next(iter(cur.values()))))
    result = missing_in_drift(result, max_missing_change, alpha=alpha,
                              enforce=mode != EVIDENTLY or max_missing_change is not None)
    if views:
        result = dataclasses.replace(result, details={**result.details, "rows_tested": views})
    if html is not None:
        from mlqa.drift.html import write_evidently_report

        write_evidently_report(html, reference, cur, result, column_names)
    return result


# -- options and inputs ---------------------------------------------------------------------

def tests_by_column(tests: str | Mapping[str, str]) -> tuple[dict[str, str], str]:
    """``tests=`` as the test named for each column and the mode of the others."""
    by_column = dict(tests) if isinstance(tests, Mapping) else {}
    mode = by_column.pop("*", AUTO) if isinstance(tests, Mapping) else tests
    if mode not in (AUTO, EVIDENTLY):
        raise InputError(f'tests must be "auto", "evidently" or a dict, got {mode!r}')
    return by_column, mode


def check_named_columns(names: Sequence[str], by_column: Mapping[str, str],
                        thresholds: Mapping[str, float] | None) -> None:
    """InputError for a column named in ``tests=`` or ``thresholds=`` that is not compared."""
    for option, given in (("tests", by_column), ("thresholds", thresholds or {})):
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise InputError(f"{option} names columns that are not compared: {unknown}")


def _seed(random_state: Any) -> int | None:
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2 ** 63))
    return None if random_state is None else int(random_state)


def _reference(reference: Any, columns: Sequence[str] | None,
               column_types: Mapping[str, str] | None, column_names: Sequence[str] | None
               ) -> tuple[Callable[[str], ColumnProfile], list[str], int,
                          Callable[[str], Any]]:
    """(column name -> its prepared reference column, the names, the reference's rows,
    column name -> its raw reference rows or None from a profile, which keeps none).

    Nothing is prepared here: each column's reference side is profiled inside its own column
    job (on ``n_threads`` threads, in ``check_drift``)."""
    if not isinstance(reference, ReferenceProfile):
        table = read_table("reference", reference, columns=columns, column_names=column_names)
        types = validated_types(column_types, table)
        return (lambda n: profile_column(n, table[n], types.get(n)), list(table),
                len(next(iter(table.values()))), table.__getitem__)
    if columns is not None:
        missing = [c for c in columns if c not in reference.columns]
        if missing:
            raise InputError(f"the reference profile lacks the columns {missing} asked for "
                             f"in columns=")
    for c, t in (column_types or {}).items():
        if c in reference.columns and reference.columns[c].type != t:
            raise InputError(f"column_types[{c!r}] = {t!r}, but the reference profile was "
                             f"made with {reference.columns[c].type!r}; profile again")
    names = list(reference.columns) if columns is None else list(columns)
    return reference.columns.__getitem__, names, reference.n_rows, lambda n: None


def embedding_runs(embeddings: Any, names: set[str], mode: str, min_rows: int, alpha: float,
                   seed: int | None) -> dict[str, ColumnRun]:
    """``embeddings=`` (a (reference, current) pair of 2-D arrays, or a dict of them by name)
    as runs of embedding columns."""
    from mlqa.drift import rich
    from mlqa.drift.embeddings import vectors

    if embeddings is None:
        return {}
    given = embeddings if isinstance(embeddings, Mapping) else {"embeddings": embeddings}
    out = {}
    for key, pair in given.items():
        key = str(key)
        if key in names:
            raise InputError(f"embeddings= names {key!r}, which is also a column")
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise InputError(f"embeddings[{key!r}] must be a (reference, current) pair of "
                             f"2-D arrays")
        if mode == EVIDENTLY:
            out[key] = ColumnRun(rich.EMBEDDING, excluded=True,
                                 reason=col.EXCLUDED[rich.EMBEDDING])
            continue
        x, y = vectors(key, pair[0]), vectors(key, pair[1])
        out[key] = rich.run_embedding(key, x, y, min_rows, alpha, np.random.default_rng(seed),
                                      n_rows=(len(pair[0]), len(pair[1])))
    return out


def expand_parts(runs: dict[str, ColumnRun]) -> tuple[dict[str, ColumnRun], dict[str, Any]]:
    """Each text, embedding or datetime column's parts as entries ``column.part``, and what
    the report shows of each such column (``details["rows_tested"]``)."""
    out: dict[str, ColumnRun] = {}
    views: dict[str, Any] = {}
    for n, r in runs.items():
        if r.parts is None:
            out[n] = r
            continue
        for part, run in r.parts.items():
            out[f"{n}.{part}"] = run
        views[n] = {**(r.view or {}), "parts": [f"{n}.{p}" for p in r.parts]}
    return out, views


def effect_floors(min_effect: float | Mapping[str, float] | None, runs: Mapping[str, ColumnRun]
            ) -> dict[str, float]:
    given: Mapping[str, float]
    if min_effect is None:
        given = {}
    elif isinstance(min_effect, Mapping):
        given = min_effect
    else:
        given = {t: float(min_effect) for t in DEFAULT_MIN_EFFECT}
    for key, value in given.items():
        check_number(f"min_effect[{key!r}]", value, low=0.0)
    return {n: float(given.get(n, given.get(r.type, DEFAULT_MIN_EFFECT[r.type])))
            for n, r in runs.items()}


# -- one column -----------------------------------------------------------------------------

@dataclasses.dataclass
class ColumnRun:
    """What testing one column produced, before the decision across columns: figures only,
    so that no sorted column outlives its job."""

    type: str
    n_reference: int = 0
    missing_reference: float = 0.0
    kind: str = ""
    n_current: int = 0
    missing_current: float = 0.0
    test: StatTest | None = None
    statistic: float | None = None
    p_value: float | None = None
    effect: float | None = None
    # auto mode: the lower confidence bound of the bias-corrected effect (computed when a
    # test of the column rejects before correction; otherwise the column cannot drift)
    effect_low: float | None = None
    # every test run on the column, the decisive one first: name -> (statistic, p-value)
    statistics: dict[str, tuple[float, float | None]] = dataclasses.field(default_factory=dict)
    reason: str = ""
    clash: bool = False
    excluded: bool = False
    distribution: ColumnDistribution | None = None  # what the report plots
    # a text, embedding or datetime column: its parts (entries "column.part") and what the
    # report shows of it (mlqa.drift.rich)
    parts: dict[str, ColumnRun] | None = None
    view: dict[str, Any] | None = None


def _run(column: ColumnProfile, series: Any, test_name: str | None, mode: str, min_rows: int,
         alpha: float, seed: int | None = 0, raw_reference: Any = None) -> ColumnRun:
    set_random_state(seed)
    try:
        if column.type in ("text", "datetime", "embedding") and mode == AUTO:
            return _run_rows(column, raw_reference, series, test_name, min_rows, alpha, seed)
        return _run_column(column, series, test_name, mode, min_rows, alpha)
    finally:
        release_pooled_order()


# In auto mode a numerical column's KS test has a companion in the same multiple-testing
# family: Anderson-Darling, which weighs the ECDF gap over the whole range with its tails
# up-weighted, and so sees a change of scale that KS (a maximum at one point, usually near
# the median) misses: at n = 1000, variance x1.5, 14 tests under Holm, KS flags 23% (normal)
# and 11% (t3) of columns, Cramér-von Mises 29% and 9%, Anderson-Darling 81% and 37%.
AUTO_COMPANIONS = {"ks": ("anderson_asymptotic",)}


def _run_rows(column: ColumnProfile, reference: Any, series: Any, test_name: str | None,
              min_rows: int, alpha: float, seed: int | None) -> ColumnRun:
    """A text, datetime or embedding column in auto mode: its parts (``mlqa.drift.rich``)."""
    from mlqa.drift import rich

    if test_name is not None:
        raise InputError(f"tests= names a test for {column.type} column {column.name!r}: its "
                         f"parts' tests are fixed (docs/drift.md); leave it out of tests=")
    if reference is None:
        return ColumnRun(column.type, excluded=True, reason=rich.NEEDS_ROWS[column.type] +
                         " (a reference profile keeps none): not tested")
    family = col.dtype_family(series)
    if family != column.family and "empty" not in (family, column.family):
        return ColumnRun(column.type, clash=True, reason=(
            f"{column.name!r} ({column.family} in reference, {family} ({series.dtype}) "
            f"in current)"))
    return rich.run_rows(column.type, column.name, reference, series, min_rows, alpha, seed)


def _run_column(column: ColumnProfile, series: Any, test_name: str | None, mode: str,
                min_rows: int, alpha: float) -> ColumnRun:
    if column.type in col.EXCLUDED:
        return ColumnRun(column.type, excluded=True,
                    reason=col.exclusion_reason(column.type, series))
    ref = column.sample
    if ref is None:  # only excluded columns are profiled without a sample
        raise TypeError(f"column {column.name!r} ({column.type}) has no reference sample")
    counted = None
    if col.is_text_like(series) and ref.kind == col.CATEGORICAL:
        counted = col.categorical_sample(column.name, series)
    family = col.dtype_family(series, None if counted is None else counted.categories)
    if family != column.family and "empty" not in (family, column.family):
        return ColumnRun(column.type, clash=True, reason=(
            f"{column.name!r} ({column.family} in reference, {family} ({series.dtype}) "
            f"in current)"))
    cur = counted or col.prepare(column.name, series, ref.kind)
    run = ColumnRun(column.type, ref.n_rows, ref.missing / ref.n_rows,
               reported_type(column, ref, cur), cur.n_rows, cur.missing / cur.n_rows)
    return tested(run, ref, cur, test_name, mode, min_rows, alpha)


def tested(run: ColumnRun, ref: col.Sample, cur: col.Sample, test_name: str | None,
           mode: str, min_rows: int, alpha: float) -> ColumnRun:
    """``run`` with the tests of one prepared column (or text descriptor, or calendar part)."""
    run.distribution = column_distribution(ref, cur)
    run.reason = untestable(ref, cur, min_rows)
    if run.reason:
        return run
    test = run.test = choose_test(test_name, ref, cur, mode)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            for test_name_ in tests_to_run(test.name, test_name, mode):
                run.statistics[test_name_] = get(test_name_).func(ref, cur)
    except ColumnTestError as exc:
        run.reason = f"{test_name_}: {exc}"
        return run
    effect = (lambda: normed_wasserstein(ref, cur)) if ref.kind == col.NUMERICAL else \
        (lambda: tvd_effect(ref, cur))
    finish_run(run, mode, alpha, effect, lambda: effect_bound(ref, cur, alpha))
    return run


def choose_test(test_name: str | None, ref: Any, cur: Any, mode: str) -> StatTest:
    """The column's decisive test: the one named for it, else the mode's choice from the
    two sides (samples, or anything answering ``kind``, ``n`` and ``distinct_upto``)."""
    if test_name is not None:
        return get(test_name, ref.kind)
    if mode == EVIDENTLY:
        return get(selection.evidently_default(ref, cur))
    return get(selection.auto_default(ref, cur))


def tests_to_run(chosen: str, test_name: str | None, mode: str) -> list[str]:
    """The decisive test plus, in auto mode, its companions in the Holm family."""
    names = [chosen]
    if mode == AUTO and test_name is None:
        names += AUTO_COMPANIONS.get(chosen, ())
    return names


def finish_run(run: ColumnRun, mode: str, alpha: float, effect: Callable[[], float],
               bound: Callable[[], effects.EffectBound]) -> None:
    """After a column's tests, on any backend: every score defined, the effect (the
    Wasserstein statistic itself when that is the test), and the effect's lower bound where
    a test rejects before correction (not in evidently's mode)."""
    assert run.test is not None
    run.statistic, run.p_value = run.statistics[run.test.name]
    for name_, (stat, p) in run.statistics.items():
        score = get(name_).score(stat, p)
        if score is None or not math.isfinite(score):
            run.reason = f"{name_} is undefined on this column (score {score})"
            return
    run.effect = run.statistic if run.test.name == "wasserstein" else effect()
    p_values = [p for _, p in run.statistics.values() if p is not None]
    if mode != EVIDENTLY and p_values and min(p_values) < alpha:
        run.effect_low = bound().low


def effect_bound(ref: col.Sample, cur: col.Sample, alpha: float) -> effects.EffectBound:
    if ref.kind == col.NUMERICAL:
        std = ref.with_std().std or 0.0
        pair = sorted_pair(ref, cur)  # KS and Anderson-Darling read it already
        if pair.distinct_rows:
            return effects.wasserstein_bound_sorted(pair, std, alpha)
        return effects.wasserstein_bound(pooled_order(ref, cur), std, alpha)
    _, r, c = col.aligned_counts(ref, cur)
    return effects.tvd_bound(r, c, alpha)


def untestable(ref: col.Sample, cur: col.Sample, min_rows: int) -> str:
    for side, s in (("reference", ref), ("current", cur)):
        if s.n == 0:
            return f"no values in {side} (all {s.n_rows} rows NaN or inf)"
        if s.n < min_rows:
            return f"too few values in {side}: {s.n} < min_rows={min_rows}"
    if selection.distinct_union(ref, cur, 1) == 1:
        value = ref.values[0] if ref.values is not None else ref.category_counts()[0][0]
        value = value.item() if isinstance(value, np.generic) else value  # not np.float64(1.0)
        return f"constant column (only the value {value!r} on both sides): nothing to test"
    return ""


# -- deciding -------------------------------------------------------------------------------

def adjust(p_values: Sequence[float], correction: str | None) -> list[float]:
    """p-values adjusted for testing several columns.

    Holm: sort ascending, p_(i) * (m - i + 1) made non-decreasing, capped at 1 (controls the
    family-wise error rate; statsmodels' ``multipletests(method="holm")``, without its
    seconds-long import). BH: ``scipy.stats.false_discovery_control`` (controls the false
    discovery rate).
    """
    p = np.asarray(p_values, dtype=float)
    if correction is None or len(p) == 0:
        return p.tolist()
    if correction == "bh":
        from scipy.stats import false_discovery_control

        return np.asarray(false_discovery_control(p, method="bh")).tolist()
    order = np.argsort(p, kind="stable")
    m = len(p)
    stepped = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return adjusted.tolist()


def decide(runs: dict[str, ColumnRun], mode: str, alpha: float,
            correction: str | None, thresholds: dict[str, float], floors: dict[str, float]
            ) -> dict[str, ColumnDrift]:
    """Each column's verdict. One multiple-testing family holds every p-value of every
    column (a numerical column contributes KS and Anderson-Darling in auto mode); a column
    reports its primary test when that rejects, else its smallest adjusted p-value."""
    evidently = mode == EVIDENTLY
    family = [(n, t, p) for n, r in runs.items() if r.test is not None and not r.reason
              for t, (_, p) in r.statistics.items() if p is not None]
    adjusted_all = adjust([p for _, _, p in family], None if evidently else correction)
    by_column: dict[str, dict[str, float]] = {}
    for (n, t, _), adjusted_p in zip(family, adjusted_all, strict=True):
        by_column.setdefault(n, {})[t] = adjusted_p
    out = {}
    for n, r in runs.items():
        if r.reason:
            out[n] = ColumnDrift(column=n, kind=r.kind,
                                 test=None if r.test is None else r.test.name, statistic=None,
                                 p_value=None, adjusted_p_value=None, effect_size=None,
                                 threshold=None, min_effect=None, drifted=None,
                                 n_reference=r.n_reference, n_current=r.n_current,
                                 missing_reference=r.missing_reference,
                                 missing_current=r.missing_current, reason=r.reason,
                                 distribution=r.distribution)
            continue
        test = r.test
        if test is None:  # a column without a reason was tested
            raise TypeError(f"column {n!r} has neither a test nor a reason")
        statistic, p_value = r.statistic, r.p_value
        p_adj: float | None
        if n in thresholds:
            threshold = float(thresholds[n])
        elif test.returns_p_value and not evidently:
            threshold = alpha
        else:
            threshold = test.default_threshold
        floor = None
        effect_low = None
        if test.returns_p_value:
            p_adj, decisive = _decisive(by_column[n], test, threshold)
            if decisive != test.name:  # only the companion test rejects
                test = get(decisive)
                statistic, p_value = r.statistics[decisive]
            drifted = test.drifted(p_adj, threshold)
            if not evidently:
                floor = floors[n]
                effect_low = r.effect_low
                drifted = drifted and effect_low is not None and effect_low >= floor
        else:
            p_adj = None
            if r.statistic is None:  # a distance's score is its statistic, checked in _run_column
                raise TypeError(f"column {n!r} has no statistic")
            drifted = test.drifted(r.statistic, threshold)
        out[n] = ColumnDrift(column=n, kind=r.kind, test=test.name, statistic=statistic,
                             p_value=p_value, adjusted_p_value=p_adj, effect_size=r.effect,
                             threshold=threshold, min_effect=floor, drifted=drifted,
                             n_reference=r.n_reference, n_current=r.n_current,
                             missing_reference=r.missing_reference,
                             missing_current=r.missing_current, effect_low=effect_low,
                             statistics=dict(r.statistics), distribution=r.distribution)
    return out


def _decisive(adjusted: dict[str, float], primary: StatTest, threshold: float
              ) -> tuple[float, str]:
    """(adjusted p-value, test) a column reports: its primary test (``ks``) when that rejects,
    else the test with the smallest adjusted p-value (Anderson-Darling when only it sees the
    change)."""
    if primary.drifted(adjusted[primary.name], threshold):
        return adjusted[primary.name], primary.name
    name = min(adjusted, key=lambda t: (adjusted[t], t != primary.name))
    return adjusted[name], name


def reported_type(column: ColumnProfile, ref: col.Sample, cur: col.Sample) -> str:
    if column.type == col.BINARY or selection.distinct_union(ref, cur, 2) == 2:
        return col.BINARY
    return column.type


def dataset_result(name: str, results: dict[str, ColumnDrift], excluded: dict[str, str],
                    mode: str, correction: str | None, alpha: float, drift_share: float,
                    n_reference: int, n_current: int) -> DriftResult:
    """The dataset's verdict; every excluded column is named with why in the message and in
    ``details["excluded"]``, and a check left with no column to test is an ERROR (it looked
    at nothing, so it cannot pass)."""
    details = {"tests": mode, "correction": None if mode == EVIDENTLY else correction,
               "alpha": alpha, "drift_share": drift_share, "n_reference": n_reference,
               "excluded": dict(excluded)}
    not_tested = "excluded (not tested): " + "; ".join(f"{c} ({why})"
                                                         for c, why in excluded.items())
    if not results:
        return DriftResult(
            name=name, outcome=Outcome.ERROR, check="drift", metric="drifted_share",
            message=f"{name} could not be evaluated: no column to test, every column is "
                    f"excluded | {not_tested}",
            n=n_current, excluded=excluded,
            details={**details, "dataset_drift": None, "drifted_columns": []})
    drifted = [c for c in results.values() if c.drifted]
    errors = [c for c in results.values() if c.drifted is None]
    share = len(drifted) / len(results)
    if mode == EVIDENTLY:
        dataset_drift = share >= drift_share
        rule = f"share {fmt_num(share)} {'>=' if dataset_drift else '<'} " \
               f"{fmt_num(drift_share)}, evidently's default tests"
        threshold, comparison = drift_share, "<"
    else:
        dataset_drift = bool(drifted)
        rule = (f"{correction or 'uncorrected'} at alpha={fmt_num(alpha)}, "
                f"material effect only")
        threshold, comparison = 0.0, "<="
    outcome = Outcome.FAIL if dataset_drift else Outcome.ERROR if errors else Outcome.PASS
    head = (f"{name}: {len(drifted)} of {len(results)} columns drifted ({rule}; "
            f"n_ref={n_reference}, n_cur={n_current})")
    parts = [head]
    if drifted:
        parts.append("drifted: " + "; ".join(c.summary() for c in drifted))
    if errors:
        parts.append("not tested: " + "; ".join(c.summary() for c in errors))
    if excluded:
        parts.append(not_tested)
    p_adj = [c.adjusted_p_value for c in results.values() if c.adjusted_p_value is not None]
    return DriftResult(
        name=name, outcome=outcome, message=" | ".join(parts), check="drift",
        metric="drifted_share", value=share, threshold=threshold, comparison=comparison,
        p_value=min(p_adj) if p_adj else None, n=n_current, columns=results, excluded=excluded,
        details={**details, "dataset_drift": dataset_drift,
                 "drifted_columns": [c.column for c in drifted]})
