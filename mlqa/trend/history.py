"""``check_history_trend``: :func:`~mlqa.trend.check_trend` on one check's history in a
baseline store, as the runs left it (:mod:`mlqa.history`).

The history is judged as it is, never patched up: a history that cannot be read (no history
in the store, a listed run whose file is missing or damaged, a check it does not hold) is an
ERROR naming the store or the file; a build whose check erred has no value and is left out,
said so; only the current series is judged, and when an earlier configuration was cut off
(a metric, slice or threshold changed) the result says from which build and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlqa._text import did_you_mean
from mlqa.errors import InputError
from mlqa.history.row import Build
from mlqa.options import Boolean, OptionTable, at_least, param
from mlqa.recording import observed
from mlqa.result import Outcome
from mlqa.trend.check import OPTIONS as TREND
from mlqa.trend.check import TrendResult, check_trend

# check_trend's options, but for the direction, which the history's requirement can tell, and
# how many of the last builds to read.
OPTIONS = OptionTable("check_history_trend", {
    **{k: p for k, p in TREND.params.items() if k not in ("greater_is_better", "metric")},
    "greater_is_better": param(Boolean(), None, doc="default: from the check's requirement "
                                                    "(a min: higher is better, a max: lower)"),
    "last": param(at_least(1), None, doc="judge the last N builds of the history (default: "
                                         "all)"),
})


def _labels(builds: Sequence[Build]) -> list[str]:
    """Each build's label (``#42``), or its history entry where two builds share one (a job
    rebuilt under the same number, two jobs in one store): check_trend names each build once."""
    labels = [b.label for b in builds]
    return [b.entry if labels.count(label) > 1 else label
            for b, label in zip(builds, labels, strict=True)]


def _direction(row: Any, check_id: str) -> bool:
    """Higher is better when the check's requirement is a floor, lower when it is a ceiling."""
    if row.low is not None and row.high is None:
        return True
    if row.high is not None and row.low is None:
        return False
    raise InputError(f"greater_is_better= is needed for the history of {check_id!r}: its "
                     f"requirement ({row.comparison or 'none'}) does not say whether a higher "
                     f"{row.metric or row.check} is better")


@observed
def check_history_trend(store: Any, check_id: str, *, last: int | None = None,
                        greater_is_better: bool | None = None, min_magnitude: float = 0.0,
                        alpha: float = 0.05, n_permutations: int = 199, min_history: int = 10,
                        min_size: int = 2, random_state: Any = 0,
                        name: str | None = None) -> TrendResult:
    """Whether the figure of the check ``check_id`` shifted for the worse across the builds of
    the history in ``store`` (a baseline store: folder, http(s) or WebDAV URL, or a Store).

    ``check_id`` is the check's key in the history: its test's node id
    (``test_model.py::test_auc``, a YAML check's ``release.mlqa.yaml::release::auc``), plus
    ``::metric`` when the test recorded several results (``mlqa.history.check_ids``). The
    values of its current series (after the last configuration change), oldest first, of the
    last ``last`` builds, go to :func:`~mlqa.trend.check_trend` with the other options (E-Divisive
    means with a permutation test; FAIL on a worse shift of at least ``min_magnitude``,
    INCONCLUSIVE below ``min_history`` builds). ``greater_is_better`` defaults to what the
    check's requirement says: a floor (``min=``, a regression's ``max_drop=``) means higher is
    better, a ceiling (``max=``, ``max_ms=``) lower.

    - ERROR: the history cannot be read (the store unreachable, a listed run's file missing
      or damaged: the message names the file).
    - INCONCLUSIVE: fewer than ``min_history`` builds of the check, none at all included (a
      store with no history yet, a check no build recorded: the message names the store and
      suggests the nearest id it holds).
    - Builds whose check erred (no value) are left out and counted in ``details``.
    - A configuration change (metric, slice, threshold...) starts a new series: builds before
      it are not judged with the ones after, and the message says from which build and why.

    A run's own rows join the history when the run ends (the pytest plugin appends them after
    the bundle is merged), so a trend judged during a run reads the builds before it.
    Bad options raise :class:`~mlqa.errors.InputError` (declared in :data:`OPTIONS`).
    """
    OPTIONS.validate(locals())
    if not isinstance(check_id, str) or not check_id.strip():
        raise InputError(f"check_id must be the history's name of a check (a test node id), "
                         f"got {check_id!r}")
    from mlqa.baseline.stores import Store, open_store, redacted
    from mlqa.history import read_history
    from mlqa.history.store import entries

    label = name or f"{check_id} trend"
    where = redacted(store.location if isinstance(store, Store) else store)
    common: dict[str, Any] = dict(name=label, check="trend",
                                  details={"check_id": check_id, "history": where})
    try:
        opened = open_store(store)
        history = read_history(opened, last=last) if entries(opened) else None
    except InputError as exc:  # BaselineError too: the store could not be read
        return TrendResult(outcome=Outcome.ERROR, **common,
                           message=f"{label}: the history cannot be read: {exc}")
    if history is None or check_id not in history.rows:
        # no build has recorded the check yet (the first builds of a store, or of a check):
        # not enough history, never a PASS; a misspelt id or store is named here
        if history is None:
            why = (f"the history in {where} holds no build yet (runs add to it when pytest "
                   f"runs with --mlqa-results and --mlqa-baseline)")
        else:
            ids = history.check_ids
            why = (f"none of the last {len(history.builds)} builds in the history in {where} "
                   f"recorded {check_id!r}{did_you_mean(check_id, ids)} (it holds "
                   f"{len(ids)}: {', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''})")
        return TrendResult(outcome=Outcome.INCONCLUSIVE, **common, n=0,
                           min_history=min_history,
                           message=f"{label}: {why}: not enough history to judge a trend")
    parts = history.series(check_id)
    series = parts[-1]
    measured = series.measured()
    erred = len(series.points) - len(measured.points)
    row = (measured.points or series.points)[-1].row  # the series' configuration
    gib = _direction(row, check_id) if greater_is_better is None else bool(greater_is_better)
    result = check_trend(measured.values, builds=_labels(measured.builds),
                         greater_is_better=gib, min_magnitude=min_magnitude, alpha=alpha,
                         n_permutations=n_permutations, min_history=min_history,
                         min_size=min_size, random_state=random_state, metric=row.metric,
                         name=label) if measured.points else None
    said = []
    if erred:
        said.append(f"{erred} build(s) whose check erred have no value and are left out")
    if series.note:
        said.append(series.note)
    details = {**common["details"], "erred_builds": erred,
               "series_starts": series.builds[0].label, "series_note": series.note}
    if result is None:  # every build of the series erred: nothing was measured
        return TrendResult(
            outcome=Outcome.INCONCLUSIVE, name=label, check="trend", metric=row.metric, n=0,
            min_history=min_history, greater_is_better=gib, details=details,
            message=f"{label}: no build of the current series has a value; "
                    f"{'; '.join(said)}: not enough history to judge a trend")
    message = result.message + (f" ({'; '.join(said)})" if said else "")
    return result.replace(message=message, details={**result.details, **details})
