"""``check_shadow``: a candidate against the champion on the same unlabelled rows.

Until labels arrive, the only evidence about a candidate on current traffic is how it differs
from the champion on the same rows, and whether its outputs moved away from the evaluation
set's. Two figures, each on an interval:

* **labels**: the disagreement rate ``k / n`` (rows where the two predict differently), with
  Clopper-Pearson's exact interval (:func:`mlqa.stats.proportion.proportion_interval`,
  ``method="exact"``: never below nominal coverage, and at ``k = 0`` its upper bound is
  ``1 - (alpha/2)^(1/n)``, about ``3.7 / n`` at 95%);
* **scores**: the mean absolute shift ``mean |s_cand - s_champ|`` with the influence interval
  of a mean from its moments (:func:`mlqa.metrics.intervals.moments_interval`: it is the mean
  absolute error between the two score columns).

Held to ``max_disagreement`` / ``max_score_shift`` as ``check_metric`` holds a ``max=``: PASS
when the whole interval is at or below it, FAIL when wholly above, else INCONCLUSIVE. A batch
below ``min_rows`` is INCONCLUSIVE whatever it shows: a small batch never passes.

With ``evaluation_pred`` (the candidate's outputs on the evaluation set), the candidate's
outputs on the traffic are also tested against them by ``check_drift`` (its tests, its
correction over the output columns), nested in ``result.components``; the outcome is the
worse of the two.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from mlqa import display as d
from mlqa._validation import as_1d, check_consistent_length, check_finite
from mlqa.errors import InputError
from mlqa.options import LEVEL, POSITIVE, Options, OptionTable, Text, at_least, param
from mlqa.recording import observed
from mlqa.result import (
    CheckResult,
    CommonFields,
    FieldReader,
    Outcome,
    decide,
    describe,
    worst,
)
from mlqa.stats.small_sample import tail_rows

LABELS, SCORES = "labels", "scores"
DEFAULT_MIN_ROWS = 30
PREDICTION = "prediction"

OPTIONS = OptionTable("check_shadow", {
    "max_disagreement": param(LEVEL, None, doc="the largest share of rows the two may disagree on"),
    "max_score_shift": param(POSITIVE, None, doc="the largest mean absolute score shift"),
    "confidence": param(LEVEL),
    "alpha": param(LEVEL, doc="prediction drift's significance level"),
    "correction": param(Options("holm", "bh"), None),
    "min_rows": param(at_least(1)),
    "name": param(Text(), None, suite=False),
})


@dataclasses.dataclass(frozen=True)
class ShadowResult(CheckResult):
    """A shadow comparison: ``value`` is the disagreement rate (``mode="labels"``) or the
    mean absolute score shift (``"scores"``), ``ci`` its interval; ``components`` holds the
    prediction-drift result when the evaluation set's outputs were given."""

    mode: str = LABELS
    disagreements: int | None = None
    components: Mapping[str, CheckResult] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "components", MappingProxyType(dict(self.components)))

    @classmethod
    def from_fields(cls, fields: FieldReader) -> ShadowResult:
        return cls(**cls.base_fields(fields), mode=fields.str_("mode", LABELS),
                   disagreements=fields.opt_int("disagreements"),
                   components=fields.results("components"))

    def family_properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {"mode": self.mode}
        if self.disagreements is not None:
            props["disagreements"] = self.disagreements
        drift = self.components.get("prediction_drift")
        if drift is not None:
            props["prediction_drift"] = drift.outcome.value
        return props

    def display(self, *, details: bool = True) -> d.Display:
        base = CheckResult.display(self)
        sections: list[d.Section] = []
        if details:
            shown: list[tuple[str, CheckResult]] = [
                ("disagreement" if self.mode == LABELS else "score shift", self),
                *self.components.items()]
            rows = tuple((label, r.outcome.value, d.num(r.value),
                          d.interval_text(r.ci, r.confidence), d.num(r.n), r.message)
                         for label, r in shown)
            blocks: list[d.Block] = [d.Table(
                headers=("figure", "outcome", "value", "interval", "n", "message"),
                fields=("figure", "outcome", "value", "interval", "n", "message"), rows=rows,
                highlight=tuple(r.outcome is not Outcome.PASS for _, r in shown))]
            drift = self.components.get("prediction_drift")
            if drift is not None:
                blocks += [b for s in drift.display().sections for b in s.blocks]
            sections.append(d.Section("shadow", tuple(blocks)))
        return dataclasses.replace(base, sections=tuple(sections),
                                   summary=f"shadow {self.mode}: {base.cells.value}",
                                   plot_group=f"shadow: {self.metric}")


@observed
def check_shadow(candidate_pred: Any = None, champion_pred: Any = None, *,
                 max_disagreement: float | None = None, max_score_shift: float | None = None,
                 evaluation_pred: Any = None, model: Any = None, champion_model: Any = None,
                 X: Any = None, evaluation_X: Any = None, confidence: float = 0.95,
                 alpha: float = 0.05, correction: str | None = "holm",
                 min_rows: int = DEFAULT_MIN_ROWS, data: Any = None,
                 evaluation_data: Any = None, name: str | None = None) -> ShadowResult:
    """Compare ``candidate_pred`` with ``champion_pred`` on the same unlabelled rows.

    ``max_disagreement``: the largest share of rows on which the two predicted labels may
    differ (exact binomial interval). ``max_score_shift``: the largest mean absolute
    difference of their scores (one per row). Instead of predictions, ``model=`` and
    ``champion_model=`` score ``X=`` (``predict`` for labels; the positive class's
    ``predict_proba`` for scores). ``evaluation_pred`` (or ``model=`` with ``evaluation_X=``)
    adds prediction drift of the candidate's outputs against the evaluation set, by
    ``check_drift`` at ``alpha`` with its ``correction``.

    PASS when the interval lies at or below the limit (and no prediction drift), FAIL when
    it lies above it (or the outputs drifted), INCONCLUSIVE otherwise; a batch of fewer than
    ``min_rows`` rows is INCONCLUSIVE, never PASS.

    ``data=``: a table (pandas, Arrow, a DuckDB relation, a Spark DataFrame, Parquet) whose
    columns ``candidate_pred`` and ``champion_pred`` name; ``evaluation_data=`` the
    evaluation set's table, whose ``evaluation_pred`` column (the candidate's outputs) is the
    reference of prediction drift. An engine counts the disagreements (or the shift's
    moments) where the data lives, and ``check_drift`` tests the column there too.
    """
    OPTIONS.validate(locals())
    if (max_disagreement is None) == (max_score_shift is None):
        raise InputError("check_shadow needs one requirement: max_disagreement= (labels) or "
                         "max_score_shift= (scores)")
    mode = LABELS if max_disagreement is not None else SCORES
    limit = max_disagreement if mode == LABELS else max_score_shift
    assert limit is not None
    label = name or "shadow"
    from mlqa.engines import on_engine

    if data is not None and on_engine(data):
        summary, reference, current = _engine_summary(
            data, evaluation_data, candidate_pred, champion_pred, evaluation_pred, model,
            champion_model, mode)
        tested = candidate_pred  # the candidate's column in both tables
    else:
        if data is not None or evaluation_data is not None:
            from mlqa.tables import memory_columns

            read = memory_columns(data, {"candidate_pred": candidate_pred,
                                         "champion_pred": champion_pred}) \
                if data is not None else {}
            candidate_pred = read.get("candidate_pred", candidate_pred)
            champion_pred = read.get("champion_pred", champion_pred)
            if evaluation_data is not None:
                evaluation_pred = memory_columns(evaluation_data, {
                    "evaluation_pred": evaluation_pred})["evaluation_pred"]
        candidate = _outputs("candidate_pred", candidate_pred, model, X, mode, "model")
        champion = _outputs("champion_pred", champion_pred, champion_model, X, mode,
                            "champion_model")
        check_consistent_length(candidate_pred=candidate, champion_pred=champion)
        summary = _summary(candidate, champion, mode)
        reference = current = None
        tested = PREDICTION
        if evaluation_pred is not None or evaluation_X is not None:
            import pandas as pd

            evaluation = _outputs("evaluation_pred", evaluation_pred, model, evaluation_X,
                                  mode, "model")
            reference = pd.DataFrame({PREDICTION: evaluation})
            current = pd.DataFrame({PREDICTION: candidate})
    result = _decided(label, summary, limit, confidence, min_rows)
    if reference is None:
        return result.replace(details={**result.details, "prediction_drift":
                                       "not checked: no evaluation_pred"})
    from mlqa.drift import check_drift

    drift = check_drift(reference, current, [tested], alpha=alpha, correction=correction,
                        name=f"{label}[prediction_drift]")
    return result.replace(outcome=worst([result.outcome, drift.outcome]),
                          message=f"{result.message}; prediction drift: {drift.message}",
                          components={"prediction_drift": drift})


@dataclasses.dataclass(frozen=True)
class Summary:
    """What the decision needs, from the rows in memory or from an engine alike: ``n`` rows;
    labels: ``disagreements``; scores: the mean and sample variance of ``|s_c - s_b|``, the
    mean signed shift, the rows whose scores differ at all (``disagreements`` too) and
    whether every score lies in [0, 1] (``bounded``)."""

    mode: str
    n: int
    disagreements: int = 0
    mean: float = 0.0
    variance: float = 0.0
    signed: float = 0.0
    bounded: bool = False
    largest: tuple[float, ...] = ()  # the largest |s_c - s_b|, for the tail rule


def _summary(candidate: np.ndarray, champion: np.ndarray, mode: str) -> Summary:
    n = len(candidate)
    if mode == LABELS:
        try:
            differ = candidate != champion
        except TypeError:
            raise InputError("candidate_pred and champion_pred hold labels that cannot be "
                             "compared") from None
        return Summary(mode, n, disagreements=int(np.sum(differ)))
    shift = np.abs(candidate - champion)
    both = np.concatenate([candidate, champion])
    top = min(tail_rows(n), n)
    return Summary(mode, n, disagreements=int(np.count_nonzero(shift)), mean=float(shift.mean()),
                   variance=float(shift.var(ddof=1)) if n > 1 else 0.0,
                   signed=float(np.mean(candidate - champion)),
                   bounded=bool(both.min() >= 0 and both.max() <= 1),
                   largest=tuple(np.sort(np.partition(shift, n - top)[n - top:])[::-1]))


def _engine_summary(data: Any, evaluation_data: Any, candidate: Any, champion: Any,
                    evaluation: Any, model: Any, champion_model: Any, mode: str
                    ) -> tuple[Summary, Any, Any]:
    """The summary counted where ``data`` lives, and the two sides of prediction drift
    (the evaluation table and the traffic, tested on the candidate's column)."""
    from mlqa.engines import metrics as summaries
    from mlqa.engines.failures import stage
    from mlqa.metrics.on_engine import open_columns
    from mlqa.metrics.registry import resolve_metric

    if model is not None or champion_model is not None:
        raise InputError("model= needs the rows in memory; on an engine name the prediction "
                         "columns in candidate_pred/champion_pred")
    if evaluation_data is not None and evaluation != candidate:
        raise InputError(f"on an engine, prediction drift compares one column: name the "
                         f"candidate's outputs alike in both tables (evaluation_pred="
                         f"{evaluation!r}, candidate_pred={candidate!r})")
    metric = resolve_metric("accuracy" if mode == LABELS else "mean_absolute_error")
    with stage(f"check_shadow on {candidate!r}/{champion!r}"):
        engine, table = open_columns(data, metric, {"candidate_pred": candidate,
                                                    "champion_pred": champion})
        c, b = engine.quote(candidate), engine.quote(champion)
        if mode == LABELS:
            n, k = (int(v or 0) for v in engine.one(
                f"SELECT COUNT(*), SUM(CASE WHEN {c} = {b} THEN 0 ELSE 1 END) "
                f"FROM {table.source}"))
            summary = Summary(mode, n, disagreements=k)
        else:
            shift = f"(CAST({c} AS DOUBLE) - CAST({b} AS DOUBLE))"
            n, mean, variance = summaries.loss_moments(engine, table, f"ABS({shift})")
            signed = summaries.loss_moments(engine, table, shift)[1]
            differing, low, high = engine.one(
                f"SELECT SUM(CASE WHEN {shift} = 0 THEN 0 ELSE 1 END), MIN(LEAST({c}, {b})), "
                f"MAX(GREATEST({c}, {b})) FROM {table.source}")
            summary = Summary(mode, n, disagreements=int(differing or 0), mean=mean,
                              variance=variance, signed=signed,
                              bounded=low is not None and float(low) >= 0 and float(high) <= 1,
                              largest=tuple(summaries.largest(engine, table, f"ABS({shift})",
                                                              tail_rows(n))))
    if evaluation_data is None:
        return summary, None, None
    return summary, evaluation_data, data


def _outputs(arg: str, given: Any, model: Any, X: Any, mode: str, model_arg: str
             ) -> np.ndarray:
    if given is not None:
        if model is not None and arg != "evaluation_pred":
            raise InputError(f"pass either {arg} or {model_arg}= and X=, not both")
        out = as_1d(arg, given)
    else:
        if model is None or X is None:
            raise InputError(f"{arg} is required (or pass {model_arg}= and "
                             f"{'evaluation_X' if arg == 'evaluation_pred' else 'X'}=)")
        from mlqa.metrics.registry import resolve_metric
        from mlqa.metrics.scoring import model_predictions

        metric = resolve_metric("accuracy" if mode == LABELS else "roc_auc")
        out = as_1d(arg, model_predictions(metric, model, X)[0])
    if len(out) == 0:
        raise InputError(f"{arg} is empty")
    if mode == SCORES:
        if out.dtype.kind not in "biuf":
            raise InputError(f"{arg} must be numeric scores for max_score_shift, got dtype "
                             f"{out.dtype}")
        out = out.astype(float)
        check_finite(arg, out)
    return out


def _decided(label: str, summary: Summary, limit: float, confidence: float,
             min_rows: int) -> ShadowResult:
    """The decision from the summary: the exact interval of the disagreement rate, or the
    influence interval of the mean absolute shift, against ``limit``."""
    n = summary.n
    details: dict[str, Any] = {"max": limit, "min_rows": min_rows}
    if n == 0:
        raise InputError("candidate_pred is empty")
    if summary.mode == LABELS:
        from mlqa.stats.proportion import proportion_interval

        metric, value = "disagreement_rate", summary.disagreements / n
        ci: tuple[float, float] | None = proportion_interval(summary.disagreements, n,
                                                             confidence, method="exact")
        details["method"] = "exact"
    else:
        from mlqa.metrics.intervals import moments_interval, tail_from_largest
        from mlqa.metrics.registry import resolve_metric

        metric, value = "mean_absolute_score_shift", summary.mean
        details.update(mean_signed_shift=summary.signed, rows_shifted=summary.disagreements)
        if summary.disagreements == 0:
            # identical scores: no spread to build a mean's interval from. A shift of scores
            # in [0, 1] is at most 1, so the mean is at most the share of rows that differ,
            # bounded exactly; unbounded scores leave it unbounded (no interval: not decided)
            from mlqa.stats.proportion import proportion_interval

            ci = (0.0, proportion_interval(0, n, confidence, method="exact")[1]) \
                if summary.bounded else None
            details["method"] = "exact share of rows shifted"
        else:
            # the loss family's tail rule: a shift carried by a few rows (a candidate that
            # changes 1% of rows a lot) leaves no interval of its mean trustworthy
            details["method"] = "influence"
            heavy = tail_from_largest(resolve_metric("mean_absolute_error"), n,
                                      np.array(summary.largest), summary.mean,
                                      summary.variance, None, details)
            iv = moments_interval("mean_absolute_error", n, summary.mean, summary.variance,
                                  confidence)
            ci = (max(iv.low, 0.0), iv.high) if iv.defined and heavy is None else None
            if heavy is not None:
                details["reason"] = heavy
    fields: CommonFields = {"name": label, "check": "shadow", "metric": metric,
                            "value": value, "threshold": limit, "comparison": "<=", "n": n}
    base = ShadowResult(outcome=Outcome.INCONCLUSIVE, confidence=confidence, ci=ci,
                        mode=summary.mode, details=details, disagreements=(
                            summary.disagreements if summary.mode == LABELS else None),
                        **fields)
    if n < min_rows:
        return base.replace(message=f"{describe(metric, value, max=limit, n=n)}: the batch "
                                    f"has {n} rows < min_rows {min_rows}, not decided")
    if ci is None or not all(math.isfinite(c) for c in ci):
        why = f" ({details['reason']})" if "reason" in details else ""
        return base.replace(ci=None, message=f"{describe(metric, value, max=limit, n=n)}: "
                                             f"no interval{why}, not decided")
    outcome = decide(value, max=limit, ci=ci)
    text = describe(metric, value, max=limit, ci=ci, confidence=confidence, n=n,
                    outcome=outcome)
    if outcome is Outcome.INCONCLUSIVE and summary.mode == LABELS and value < limit:
        text += f" (at this rate about {_rows_to_pass(value, limit, confidence)} rows pass)"
    return base.replace(outcome=outcome, message=text)


def _rows_to_pass(rate: float, limit: float, confidence: float) -> int:
    """The batch size at which the observed rate's exact upper bound falls below the limit."""
    from mlqa.stats.proportion import proportion_interval

    n = 16
    while n < 10**8:
        n = int(n * 1.25) + 1
        if proportion_interval(round(rate * n), n, confidence, method="exact")[1] <= limit:
            return n
    return n
