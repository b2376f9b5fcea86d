"""One test run's view of baselines: the record it compares against, and the one it may leave.

The pytest plugin hands this to tests as the ``mlqa_baseline`` fixture; scripts can use it
directly. Reading is lazy (no store is touched until a test asks), and everything a test saves
is collected whether or not the run will write it, so a test reads the same either way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from mlqa import recording
from mlqa.baseline.records import (
    APPROVED,
    LATEST,
    BaselineRecord,
    LatencySamples,
    PredictionSet,
    RecordBuilder,
    load_record,
)
from mlqa.baseline.stores import Store, open_store, redacted
from mlqa.errors import InputError

# What a comparison is judged against: ``"baseline"``, the run's baseline (``ref``: the
# previous build's record when the run compares against ``latest``), or ``"approved-release"``,
# the record the ``approved`` alias points at (the last release ``mlqa baseline promote``
# approved). The anchor moves only when a person approves a release, so a model that loses a
# little on every build, each time within the build-to-build margin, fails against it once the
# losses add up beyond the margin (mozilla/bugbug#852).
BASELINE, APPROVED_RELEASE = "baseline", "approved-release"
AGAINST = (BASELINE, APPROVED_RELEASE)


class BaselineSession:
    """``store``: a path, URL or Store; ``ref``: the record compared against (an id or an
    alias, default ``approved``); ``trust_model``: allow pickled model files. ``source``, when
    given, is where the baseline is read from instead (anything with ``load() ->
    BaselineRecord``, such as :class:`mlqa.baseline.maven.MavenBaseline`); ``store`` then only
    receives this run's record."""

    def __init__(self, store: Store | str | os.PathLike[str] | None = None, *,
                 ref: str = APPROVED, trust_model: bool = False, save: bool = False,
                 source: Any = None):
        self._location = store
        self._source = source
        self._store: Store | None = store if isinstance(store, Store) else None
        self.ref = ref
        self.trust_model = trust_model
        self.saving = save
        self.builder = RecordBuilder()
        self._record: BaselineRecord | None = None
        self._release: BaselineRecord | None = None
        # pytest node ids of the tests that saved into this run's record: such a test collects
        # evidence for a later run rather than judging, so it owes no check of its own
        self.saved_by: set[str] = set()

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self._location)
        return self._store

    def __repr__(self) -> str:
        # Never the URL as given: it may hold a password (shown by pytest -l, in JUnit).
        where = self._store.location if self._store is not None else self._location
        if self._source is not None:
            return f"BaselineSession(store={redacted(where)!r}, source={self._source!r})"
        return f"BaselineSession(store={redacted(where)!r}, ref={self.ref!r})"

    # -- the previous model ---------------------------------------------------------------------

    @property
    def record(self) -> BaselineRecord:
        """The baseline record (loaded and verified on first use)."""
        if self._record is None:
            self._record = self._source.load() if self._source is not None else \
                load_record(self.store, self.ref)
        return self._record

    def record_for(self, against: str = BASELINE) -> BaselineRecord:
        """The record a comparison ``against`` reads (see :data:`AGAINST`)."""
        if against == BASELINE:
            return self.record
        if against != APPROVED_RELEASE:
            raise InputError(f"against= must be one of {', '.join(map(repr, AGAINST))} (the "
                             f"run's baseline {self.ref!r}, or the last approved release), got "
                             f"{against!r}")
        if self.ref == APPROVED:
            return self.record
        if self._release is None:
            self._release = load_record(self.store, APPROVED)
        return self._release

    def predictions(self, evaluation: str, *, against: str = BASELINE) -> PredictionSet:
        """The baseline's per-row predictions on ``evaluation``: pass them to
        ``check_regression`` as ``baseline_pred`` and the comparability guards run.
        ``against="approved-release"``: those of the last approved release instead (the
        anchor), compared with the same paired statistics."""
        return self.record_for(against).predictions(evaluation)

    def metric(self, evaluation: str, metric: str, *, against: str = BASELINE) -> float:
        return self.record_for(against).metric(evaluation, metric)

    def latency(self, name: str, *, against: str = BASELINE) -> LatencySamples:
        """Stored latency runs for ``check_latency_regression`` (``against`` as for
        :meth:`predictions`)."""
        return self.record_for(against).latency(name)

    def drift_reference(self, name: str) -> Any:
        return self.record.drift_reference(name)

    def load_model(self) -> Any:
        return self.record.load_model(trust=self.trust_model)

    # -- this run's record ----------------------------------------------------------------------

    def save_predictions(self, evaluation: str, y_true: Any, y_pred: Any, *, data: Any = None,
                         metrics: Any = ("accuracy",)) -> PredictionSet:
        self._saving_from_test()
        return self.builder.add_predictions(evaluation, y_true, y_pred, data=data,
                                            metrics=metrics)

    def save_model(self, model: Any = None, **kwargs: Any) -> None:
        self._saving_from_test()
        self.builder.set_model(model, **kwargs)

    def save_latency(self, name: str, samples_ms: Any, **kwargs: Any) -> None:
        self._saving_from_test()
        self.builder.add_latency(name, samples_ms, **kwargs)

    def save_drift_reference(self, name: str, frame: Any) -> None:
        self._saving_from_test()
        self.builder.add_drift_reference(name, frame)

    def _saving_from_test(self) -> None:
        test = recording.current_test()
        if test is not None:
            self.saved_by.add(test)

    def write(self, store: Store | None = None, *, parts: Sequence[BaselineRecord] = (),
              aliases: tuple[str, ...] = (LATEST,)) -> str | None:
        """Save what this run collected (plus ``parts`` from other processes) as one record;
        None when nothing was collected."""
        for part in parts:
            self.builder.merge(part)
        if not self.builder:
            return None
        return self.builder.save(store or self.store, aliases=aliases)
