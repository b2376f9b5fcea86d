"""Running one check of a suite: options as written -> the library's ``check_*`` -> a result.

The caller (the pytest plugin, or a script) supplies a ``Context``: the tables and the model by
name, the baseline session, and a cache for latency measurements that several checks share.
Nothing here imports pytest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from mlqa.errors import InputError
from mlqa.result import CheckResult, Outcome
from mlqa.suite.model import CheckSpec


class Context(Protocol):
    def frame(self, name: str) -> Any:
        """The table a data source names (a pandas DataFrame)."""

    def table(self, name: str) -> Any:
        """The data source for a check that reads files itself: a Parquet path as it is,
        anything else as a DataFrame."""

    def model(self) -> Any:
        """The suite's model."""

    def baseline(self) -> Any:
        """The baseline session (``mlqa.baseline.session.BaselineSession``)."""

    def path(self, relative: str) -> str:
        """A path written in the suite, relative to the suite file."""

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per ``key`` in this process."""

    def read_by(self, name: str, engine: str) -> None:
        """Provenance: the data source ``name`` was read by ``engine`` (``memory``, ``duckdb``,
        ``spark``); a source that is a file is registered with its hash."""

    def recording(self) -> Any:
        """The baseline session this run saves its record into (``--mlqa-save-baseline``),
        or None when the run saves none."""

    def history(self) -> Any:
        """The store this run's history is kept in (the run's baseline store): where a trend
        check reads the builds before this one unless its suite names another."""


def run_check(spec: CheckSpec, ctx: Context) -> CheckResult:
    """The result of ``spec``; bad input raises ``InputError`` (the caller records an ERROR)."""
    return _KINDS[spec.kind](spec, dict(spec.options), ctx)


def _take(options: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: options[n] for n in names if n in options}


def _labels_and_features(ctx: Context, options: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """(frame, y_true, model features) of a metric-like check."""
    frame = ctx.frame(options["data"])
    target = options["target"]
    if target not in frame.columns:
        from mlqa.quality.frames import columns_hint

        raise InputError(f"target column {target!r} is not in data source {options['data']!r} "
                         f"({columns_hint(frame, target)})")
    return frame, frame[target], features(frame, options, ctx.model() if
                                          "prediction" not in options else None)


def features(frame: Any, options: Mapping[str, Any], model: Any) -> Any:
    """The model's input columns: those it was fitted on (``feature_names_in_``) when it says,
    else every column but the target and the stored prediction."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise InputError(f"data source {options['data']!r} lacks the model's input "
                             f"columns {missing[:10]}")
        return frame[list(names)]
    drop = [options.get("target"), options.get("prediction")]
    return frame[[c for c in frame.columns if c not in drop]]


def _predictions(frame: Any, options: Mapping[str, Any], metric: str, X: Any, ctx: Context
                 ) -> Any:
    column = options.get("prediction")
    if column is not None:
        if column not in frame.columns:
            raise InputError(f"prediction column {column!r} is not in data source "
                             f"{options['data']!r}")
        return frame[column]
    from mlqa.metrics.registry import resolve_metric
    from mlqa.metrics.scoring import model_predictions

    return model_predictions(resolve_metric(metric), ctx.model(), X)[0]


def _metric(spec: CheckSpec, o: dict[str, Any], ctx: Context) -> CheckResult:
    from mlqa.metrics import check_metric
    from mlqa.metrics.check import OPTIONS

    frame, y, X = _labels_and_features(ctx, o)
    kwargs = _take(o, *OPTIONS.suite_names())  # the options the schema was generated from
    if "slices" in o:
        if o["slices"] not in frame.columns:
            raise InputError(f"slices column {o['slices']!r} is not in data source "
                             f"{o['data']!r}")
        kwargs["slices"] = frame[o["slices"]].astype(str).to_numpy()
    if "prediction" in o:
        result = check_metric(y, frame[o["prediction"]], o["metric"], name=spec.id, **kwargs)
    else:
        result = check_metric(y, metric=o["metric"], model=ctx.model(), X=X, name=spec.id,
                              **kwargs)
    if ctx.recording() is not None and result.outcome is not Outcome.ERROR:
        # the evaluation a later run's regression check names as its baseline: this id
        _record(ctx, spec.id, y, _predictions(frame, o, o["metric"], X, ctx), X, o["metric"])
    return result


def _regression(spec: CheckSpec, o: dict[str, Any], ctx: Context) -> CheckResult:
    from mlqa.compare import check_regression
    from mlqa.compare.check import OPTIONS

    frame, y, X = _labels_and_features(ctx, o)
    candidate = _predictions(frame, o, o["metric"], X, ctx)
    stored = ctx.baseline().predictions(o["baseline"], against=o.get("against", "baseline"))
    kwargs = _take(o, *OPTIONS.suite_names())
    result = check_regression(y, candidate, stored, o["metric"], X=X, name=spec.id,
                              **kwargs)
    if ctx.recording() is not None and result.outcome is not Outcome.ERROR:
        # this candidate becomes the next run's baseline, under the name it was compared by
        _record(ctx, o["baseline"], y, candidate, X, o["metric"])
    return result


def _record(ctx: Context, evaluation: str, y: Any, predictions: Any, X: Any,
            metric: str) -> None:
    """Save the predictions a YAML check scored into this run's baseline record, as a Python
    test does with ``mlqa_baseline.save_predictions``: a YAML-only project then leaves the
    record its own regression checks read. Two checks may record one evaluation (a metric
    check and a regression naming it) when they scored the same rows; their metrics join."""
    from mlqa.baseline.fingerprint import fingerprint

    session = ctx.recording()
    metrics = {metric}
    earlier = session.builder.evaluations.get(evaluation)
    if earlier is not None:
        if earlier["fingerprint"] != fingerprint(y, X).to_dict():
            raise InputError(f"two checks record the baseline evaluation {evaluation!r} on "
                             f"different rows: give one of them another id or baseline name")
        metrics |= set(earlier["metrics"])
    session.save_predictions(evaluation, y, predictions, X=X, metrics=sorted(metrics))


def _drift(spec: CheckSpec, o: dict[str, Any], ctx: Context) -> CheckResult:
    from mlqa.drift import check_drift
    from mlqa.drift.check import OPTIONS

    kwargs = _take(o, *OPTIONS.suite_names())
    reference, current = ctx.table(o["reference"]), ctx.table(o["current"])
    from mlqa.engines import backend

    engine = backend(reference, current)
    for side in ("reference", "current"):
        ctx.read_by(o[side], engine)
    return check_drift(reference, current, name=spec.id, **kwargs)


def _source(ctx: Context, name: str) -> Any:
    """A data source as a check that reads files itself takes it (a Parquet path stays a
    path, for an engine), its reader recorded for provenance."""
    from mlqa.engines import backend

    table = ctx.table(name)
    ctx.read_by(name, backend(table))
    return table


def _disparity(spec: CheckSpec, o: dict[str, Any], ctx: Context) -> CheckResult:
    from mlqa.fairness import check_disparity
    from mlqa.fairness.check import OPTIONS

    groups = o["groups"]
    kwargs = _take(o, *(n for n in OPTIONS.suite_names() if n != "reference"))
    if "reference_group" in o:
        kwargs["reference"] = str(o["reference_group"])
    if "prediction" in o:  # columns of the source, wherever it lives
        return check_disparity(o["target"], o["prediction"], groups,
                               data=_source(ctx, o["data"]), name=spec.id, **kwargs)
    frame = ctx.frame(o["data"])
    for role, column in (("target", o["target"]), ("groups", groups)):
        if column not in frame.columns:
            raise InputError(f"{role} column {column!r} is not in data source {o['data']!r}")
    model = ctx.model()
    inputs = getattr(model, "feature_names_in_", None)
    # the group column is a model input only where the model says so
    rows = frame if inputs is not None and groups in inputs else frame.drop(columns=[groups])
    return check_disparity(frame[o["target"]], groups=frame[groups], model=model,
                           X=features(rows, o, model), name=spec.id, **kwargs)


def _shadow(spec: CheckSpec, o: dict[str, Any], ctx: Context) -> CheckResult:
    from mlqa.shadow import check_shadow
    from mlqa.shadow.check import OPTIONS

    kwargs = _take(o, *OPTIONS.suite_names())
    column = o.get("prediction")
    if column is not None:  # columns of the sources, wherever they live
        evaluation = _source(ctx, o["evaluation"]) if "evaluation" in o else None
        return check_shadow(column, o["champion"], data=_source(ctx, o["data"]),
                            evaluation_data=evaluation,
                            evaluation_pred=None if evaluation is None else column,
                            name=spec.id, **kwargs)
    frame = ctx.frame(o["data"])
    if o["champion"] not in frame.columns:
        raise InputError(f"champion column {o['champion']!r} is not in data source "
                         f"{o['data']!r}")
    model = ctx.model()
    X = features(frame.drop(columns=[o["champion"]]), o, model)
    evaluation_X = None if "evaluation" not in o else \
        features(ctx.frame(o["evaluation"]), o, model)
    return check_shadow(champion_pred=frame[o["champion"]], model=model, X=X,
                        name=spec.id, evaluation_X=evaluation_X, **kwargs)


def _quality(rule: str) -> Callable[[CheckSpec, dict[str, Any], Context], CheckResult]:
    def run(spec: CheckSpec, o: dict[str, Any], ctx: Context) -> CheckResult:
        from mlqa import quality

        data = ctx.frame(o.pop("data"))
        reference = ctx.frame(o.pop("reference")) if "reference" in o else None
        if rule == "schema":
            return quality.check_schema(reference, data, name=spec.id, **o)
        if rule == "missing":
            return quality.check_missing(reference, data, name=spec.id, **o)
        if rule == "ranges":
            return quality.check_ranges(data, o.pop("ranges"), name=spec.id, **o)
        if rule == "categories":
            return quality.check_categories(data, reference=reference, name=spec.id, **o)
        if rule == "duplicates":
            return quality.check_duplicates(data, name=spec.id, **o)
        if rule == "dates":
            return quality.check_dates(data, name=spec.id, **o)
        return quality.check_row_count(data, name=spec.id, **o)

    return run


def _measured(o: Mapping[str, Any], ctx: Context) -> Any:
    """The latency report of the model on the data source's rows, measured once per setting
    and process (an SLO check and a regression check share it)."""
    from mlqa.latency.options import MEASURE_LATENCY

    sizes = o.get("batch_sizes", (1,))
    settings = {**_take(dict(o), *MEASURE_LATENCY.suite_names()),
                "batch_sizes": (sizes,) if isinstance(sizes, int) else tuple(sizes),
                "device": o.get("device", "auto"), "confidence": o.get("confidence", 0.99)}
    key = ("latency", o["data"], tuple(sorted(settings.items())))

    def measure() -> Any:
        import numpy as np

        from mlqa.latency import measure_latency

        model = ctx.model()
        frame = ctx.frame(o["data"])
        X = features(frame, o, model)
        call = model.predict if hasattr(model, "predict") else model
        if not callable(call):
            raise InputError(f"the model ({type(model).__name__}) is neither callable nor has "
                             f"predict()")

        def rows(batch_size: int) -> Any:  # the data's rows, cycled to the batch size
            return X.iloc[np.arange(batch_size) % len(X)]

        return measure_latency(call, rows, **settings)

    return ctx.cached(key, measure)


def _latency(spec: CheckSpec, o: dict[str, Any], ctx: Context) -> CheckResult:
    from mlqa.latency import check_latency

    max_ms = o["max_ms"]
    if isinstance(max_ms, Mapping):
        try:
            max_ms = {int(k): v for k, v in max_ms.items()}
        except ValueError:
            raise InputError(f"max_ms keys must be batch sizes, got {list(max_ms)}") from None
    return check_latency(_measured(o, ctx), quantile=o.get("quantile", 0.99), max_ms=max_ms,
                         name=spec.id, **_take(o, "policy"))


def _latency_regression(spec: CheckSpec, o: dict[str, Any], ctx: Context) -> CheckResult:
    from mlqa.latency import check_latency_regression

    # the baseline record's runs (the previous build's, or the approved release's), else a
    # save_latency file
    stored = ctx.baseline().latency(o["baseline"], against=o.get("against", "baseline")) \
        if "baseline" in o else ctx.path(o["baseline_file"])
    return check_latency_regression(_measured(o, ctx), stored, name=spec.id,
                                    **_take(o, "max_slowdown", "quantile"))


def _endpoint_latency(spec: CheckSpec, o: dict[str, Any], ctx: Context) -> CheckResult:
    """One open-loop run (with the champion on the same arrivals when named); the SLO on the
    candidate, and with a champion the worse of the SLO and the comparison."""
    from mlqa.latency import (
        check_endpoint_latency,
        check_endpoint_latency_regression,
        load_payloads,
        measure_endpoint_latency,
    )
    from mlqa.result import worst

    run = measure_endpoint_latency(
        o["url"], load_payloads(ctx.path(o["payloads"])), rate=o["rate"],
        champion=o.get("champion"), random_state=o.get("seed", 0),
        **_take(o, "duration_s", "warmup_s", "arrival", "protocol", "max_in_flight",
                "timeout_s"))
    slo = check_endpoint_latency(run, max_ms=o["max_ms"], name=spec.id,
                                 **_take(o, "quantile", "max_error_rate", "policy",
                                         "confidence"))
    if "champion" not in o:
        return slo
    versus = check_endpoint_latency_regression(
        run, name=spec.id, quantile=o.get("slowdown_quantile", 0.5),
        **_take(o, "max_slowdown", "max_error_rate", "confidence"))
    chosen = worst([slo.outcome, versus.outcome])
    return slo if slo.outcome is chosen else versus


def _trend(spec: CheckSpec, o: dict[str, Any], ctx: Context) -> CheckResult:
    from mlqa.trend.history import OPTIONS, check_history_trend

    written = o.get("history")
    store = ctx.history() if written is None else \
        written if "://" in written else ctx.path(written)
    return check_history_trend(store, o["check"], name=spec.id,
                               **_take(o, *OPTIONS.suite_names()))


_KINDS: dict[str, Callable[[CheckSpec, dict[str, Any], Context], CheckResult]] = {
    "metric": _metric, "regression": _regression, "drift": _drift,
    "latency": _latency, "latency_regression": _latency_regression,
    "endpoint_latency": _endpoint_latency, "trend": _trend, "disparity": _disparity,
    "shadow": _shadow,
    **{rule: _quality(rule) for rule in ("schema", "missing", "ranges", "categories",
                                         "duplicates", "row_count", "dates")},
}
