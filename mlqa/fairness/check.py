"""``check_disparity``: is a rate within a margin across groups, decided on simultaneous
intervals of the gaps (formulas: :mod:`mlqa.fairness.rates`).

Written as validate -> pick backend -> summarise (confusion cells per group,
:mod:`mlqa.fairness.cells`) -> decide (:func:`decide_disparity`, the same code whatever filled
the cells).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from mlqa.errors import InputError
from mlqa.fairness import auc
from mlqa.fairness import rates as R
from mlqa.fairness.auc import GroupedAuc, engine_auc, memory_auc
from mlqa.fairness.cells import GroupedCells, memory_cells
from mlqa.fairness.result import DisparityResult, GroupRate
from mlqa.metrics.defined import positive_index
from mlqa.options import LEVEL, Interval, Options, OptionTable, Text, at_least, param
from mlqa.recording import observed
from mlqa.result import CheckResult, Outcome, decide, describe, severity, worst

DEFAULT_MIN_GROUP_SIZE = 30
OVERALL, BEST = "overall", "best"
MARGIN = Interval(Real, 0, 1, closed="neither")

# check_disparity's keyword options, declared once: the Python call, the engine call and the
# YAML schema (mlqa.suite.spec, where ``reference`` is written ``reference_group``: a suite's
# ``reference`` names a data source) all read this table.
OPTIONS = OptionTable("check_disparity", {
    "metric": param(Options(*R.METRICS)),
    "max_difference": param(MARGIN, None, doc="the largest gap allowed (absolute, in rate "
                                              "units)"),
    "min_ratio": param(MARGIN, None, doc="the smallest ratio allowed (the p%-rule: 0.8)"),
    "reference": param(Text(), doc="overall, best, or a group's value: what each group is "
                                   "compared with"),
    "min_group_size": param(at_least(1)),
    "confidence": param(LEVEL, doc="simultaneous confidence over every compared pair"),
    "pair": param(Text(), None, doc="decide this pair alone ('B vs overall'); the family "
                                    "is still every pair"),
    "name": param(Text(), None, suite=False),
})


@observed
def check_disparity(y_true: Any, y_pred: Any = None, groups: Any = None, *,
                    metric: str = "true_positive_rate", max_difference: float | None = None,
                    min_ratio: float | None = None, reference: str = OVERALL,
                    min_group_size: int = DEFAULT_MIN_GROUP_SIZE, confidence: float = 0.95,
                    pair: str | None = None, data: Any = None, model: Any = None,
                    X: Any = None, name: str | None = None) -> DisparityResult:
    """Hold the gap of a rate between groups to ``max_difference`` (or the ratio to
    ``min_ratio``), on simultaneous intervals.

    ``metric``: ``true_positive_rate`` (``recall``), ``false_positive_rate``,
    ``true_negative_rate``, ``false_negative_rate``, ``precision``, ``selection_rate``
    (``demographic_parity``), ``accuracy``, or ``equalized_odds`` (TPR and FPR, each with its
    own interval; the pair's gap is the worse). Labels are binary with 1 positive (accuracy
    takes any labels). ``groups``: the group of each row (an array, or the name of a column of
    ``X``/``data``). ``reference``: ``"overall"`` (each group against the whole data),
    ``"best"`` (against the best group with at least ``min_group_size`` rows) or a group's
    value as text.

    Each gap (``p_g - p_ref``, or ``p_g / p_ref``) gets Newcombe's (MOVER-R's) interval at
    level ``1 - (1 - confidence)/m``, ``m`` the compared pairs (Bonferroni: simultaneous
    intervals, which Holm does not give). A pair PASSes when its whole interval lies inside the
    margin (``[-max_difference, max_difference]``; ``[min_ratio, 1/min_ratio]``; against the
    best, ``<= max_difference`` and ``>= min_ratio``), FAILs when it lies wholly outside, and
    is INCONCLUSIVE otherwise, naming the group sizes that would decide at the observed rates.
    A pair with a group below ``min_group_size`` rows is INCONCLUSIVE, never FAIL; a rate
    undefined in a group (no positives for TPR) is an ERROR. The result's outcome is the worst
    pair's; ``pair=`` decides that pair alone (one JUnit testcase per pair).

    ``data=``: the table ``y_true``/``y_pred``/``groups`` name columns of (pandas, Arrow, a
    DuckDB relation, a Spark DataFrame or Parquet): an engine counts the cells per group
    where the data lives. ``model=`` and ``X=`` give the predictions instead of ``y_pred``.
    """
    OPTIONS.validate(locals())
    if (max_difference is None) == (min_ratio is None):
        raise InputError("check_disparity needs one requirement: max_difference= or "
                         "min_ratio=")
    canonical, parts = R.resolve(metric)
    scores = canonical == R.AUC
    if scores and (min_ratio is not None or reference == OVERALL):
        raise InputError("roc_auc gaps are differences (max_difference=) against a group or "
                         "the best (reference=): the AUC of the whole data is not a mixture "
                         "of the groups' AUCs")
    from mlqa.engines import backend

    where = "memory" if data is None else backend(data)
    summary: GroupedCells | GroupedAuc
    if where != "memory":
        summary = _engine_summary(data, y_true, y_pred, groups, model, X, scores)
    else:
        arrays = _memory(y_true, y_pred, groups, data, model, X, scores)
        summary = memory_auc(*arrays) if scores else memory_cells(*arrays)
    result = decide_disparity(
        summary, metric=canonical, parts=parts, max_difference=max_difference,
        min_ratio=min_ratio, reference=reference, min_group_size=min_group_size,
        confidence=confidence, pair=pair, name=name or f"disparity_{canonical}", engine=where)
    if name is None and pair is not None:  # the report tells one pair's checks apart
        return result.replace(name=f"{result.name}[{pair}]")
    return result


def _memory(y_true: Any, y_pred: Any, groups: Any, data: Any, model: Any, X: Any,
            scores: bool) -> tuple[Any, Any, Any]:
    if groups is None:
        raise InputError("groups is required: the group of each row, or a column's name")
    if data is not None:
        from mlqa.tables import memory_columns

        read = memory_columns(data, {"y_true": y_true, "y_pred": y_pred,
                                     **({"groups": groups} if X is None else {})})
        y_true, y_pred = read["y_true"], read["y_pred"]
        groups = read.get("groups", groups)
    if isinstance(groups, str):
        if X is None or not hasattr(X, "columns") or groups not in X.columns:
            raise InputError(f"groups={groups!r} names a column, which needs it in X= (a "
                             f"DataFrame) or data=")
        groups = X[groups]
    if model is not None or X is not None:
        if y_pred is not None:
            raise InputError("pass either y_pred or model= and X=, not both")
        if model is None:
            raise InputError("X= gives the model's inputs: pass model= too")
        from mlqa.metrics.registry import resolve_metric
        from mlqa.metrics.scoring import model_predictions

        y_pred = model_predictions(resolve_metric("roc_auc" if scores else "accuracy"),
                                   model, X)[0]
    elif y_pred is None:
        raise InputError("y_pred is required (or pass model= and X=)")
    from mlqa.metrics.inputs import check_same_index

    check_same_index(y_true=y_true, y_pred=y_pred, groups=groups)
    return y_true, y_pred, groups


def _engine_summary(data: Any, y_true: Any, y_pred: Any, groups: Any, model: Any, X: Any,
                    scores: bool) -> GroupedCells | GroupedAuc:
    from mlqa.engines import metrics as summaries
    from mlqa.engines.failures import stage
    from mlqa.fairness.cells import grouped
    from mlqa.metrics.on_engine import open_columns
    from mlqa.metrics.registry import resolve_metric

    if model is not None or X is not None:
        raise InputError("model= and X= need the rows in memory; on an engine name the "
                         "prediction column in y_pred")
    if not isinstance(groups, str):
        raise InputError("with data= on an engine, groups names a column of it")
    with stage(f"check_disparity on {y_true!r}/{y_pred!r} by {groups!r}"):
        engine, table = open_columns(data, resolve_metric("roc_auc" if scores else "accuracy"),
                                     {"y_true": y_true, "y_pred": y_pred})
        table.require([groups], "groups=")
        if scores:
            return engine_auc(engine, table, groups, y_true, y_pred)
        values, labels, cells = summaries.grouped_confusion_cells(
            engine, table, groups, [y_true, y_pred])
    return grouped(values, labels, cells)


def decide_disparity(summary: GroupedCells | GroupedAuc, *, metric: str,
                     parts: tuple[str, ...], max_difference: float | None,
                     min_ratio: float | None, reference: str, min_group_size: int,
                     confidence: float, pair: str | None, name: str, engine: str = "memory"
                     ) -> DisparityResult:
    """The decision from the per-group summary (in memory or from an engine alike)."""
    names = summary.groups
    if len(names) < 2:
        raise InputError(f"disparity needs at least two groups; groups has {list(names)}")
    if reference not in (OVERALL, BEST) and reference not in names:
        raise InputError(f"reference={reference!r} is not a group; groups: {list(names)} "
                         f"(or 'overall', 'best')")
    kind = "difference" if max_difference is not None else "ratio"
    margin = max_difference if max_difference is not None else min_ratio
    assert margin is not None
    m = R.family_size(reference, len(names), len(parts))
    level = R.per_interval_level(confidence, m)
    group_level = R.per_interval_level(confidence, len(names) * len(parts))
    rows = summary.rows
    judged: Judge
    if isinstance(summary, GroupedAuc):
        judged = AucJudge(summary, margin, reference, level, min_group_size)
        table = tuple(_group_auc(summary, g, group_level) for g in range(len(names)))
    else:
        pos = positive_index(summary.labels)
        counted = {r: R.counts(r, summary.cells, pos) for r in parts}
        judged = Judge(kind, margin, reference, names, rows, counted, level, min_group_size)
        table = tuple(_group_rate(names[g], r, int(rows[g]), counted[r], g, group_level)
                      for r in parts for g in range(len(names)))
    compared = [g for g in range(len(names)) if reference in (OVERALL, BEST) or
                names[g] != reference]
    pairs = {f"{names[g]} vs {reference}": judged.pair(g, name, confidence, m)
             for g in compared}
    if pair is not None:
        if pair not in pairs:
            raise InputError(f"pair={pair!r} is not a compared pair; pairs: {list(pairs)}")
        pairs = {pair: pairs[pair]}
    outcome = worst(p.outcome for p in pairs.values())
    top = max(pairs.values(), key=lambda p: (severity(p.outcome), judged.badness(p.value)))
    counts = {o: sum(p.outcome is o for p in pairs.values()) for o in Outcome}
    tally = ", ".join(f"{c} {o.value}" for o, c in counts.items() if c)
    against = "the overall rate" if reference == OVERALL else \
        "the best group" if reference == BEST else f"group {reference}"
    head = f"{name}: {metric} of {len(names)} groups against {against}, " \
           f"{len(pairs)} pair(s): {tally}"
    bad = [p.message for p in pairs.values() if p.outcome is not Outcome.PASS]
    message = head + (" - " + "; ".join(bad[:5]) if bad else f" - worst: {top.message}")
    return DisparityResult(
        name=name, outcome=outcome, message=message, check="disparity", metric=metric,
        value=top.value, threshold=top.threshold, comparison=top.comparison, ci=top.ci,
        confidence=confidence, n=int(rows.sum()), reference=reference, pairs=pairs,
        groups=table, details={**judged.bounds(), "kind": kind, "margin": margin,
                               "family_size": m, "pair_level": level, "engine": engine,
                               "correction": "bonferroni", "groups": list(names),
                               "min_group_size": min_group_size})


def _group_rate(group: str, rate: str, rows: int, counted: tuple[np.ndarray, np.ndarray],
                g: int, level: float) -> GroupRate:
    k, n = int(counted[0][g]), int(counted[1][g])
    if n == 0:
        return GroupRate(group, rate, rows, k, n, None, None)
    return GroupRate(group, rate, rows, k, n, k / n, R.group_interval(k, n, level))


def _group_auc(s: GroupedAuc, g: int, level: float) -> GroupRate:
    """A group's AUC for the report's table (``k``: its positives, ``n``: its negatives)."""
    m, n = int(s.positives[g]), int(s.negatives[g])
    if not math.isfinite(s.auc[g]):
        return GroupRate(s.groups[g], "roc_auc", m + n, m, n, None, None)
    low, high, _ = auc.group_interval(float(s.auc[g]), float(s.variance[g]), m, n, level)
    ci = (low, high) if math.isfinite(low) and math.isfinite(high) else None
    return GroupRate(s.groups[g], "roc_auc", m + n, m, n, float(s.auc[g]), ci)


class Judge:
    """Decides each pair: its gap per rate, the margin, and the sizes that would decide."""

    def __init__(self, kind: str, margin: float, reference: str, names: tuple[str, ...],
                 rows: np.ndarray, counted: dict[str, tuple[np.ndarray, np.ndarray]],
                 level: float, min_group_size: int) -> None:
        self.kind, self.margin, self.reference = kind, margin, reference
        self.names, self.rows, self.counted = names, rows, counted
        self.level, self.min_group_size = level, min_group_size
        self.ref = names.index(reference) if reference in names else None

    def bounds(self) -> dict[str, float | None]:
        """The requirement on the gap as min/max (``decide``'s)."""
        if self.kind == "difference":
            return {"min": None if self.reference == BEST else -self.margin,
                    "max": self.margin}
        return {"min": self.margin, "max": None if self.reference == BEST else 1 / self.margin}

    def badness(self, value: float | None) -> float:
        """How far a gap is from parity (to pick the worst pair to headline)."""
        if value is None or not math.isfinite(value):
            return math.inf
        if self.kind == "difference":
            return abs(value)
        return abs(math.log(value)) if value > 0 else math.inf

    def gap(self, rate: str, g: int, scale: float = 1.0) -> R.Gap:
        k, n = (a * scale for a in self.counted[rate])
        if self.reference == OVERALL:
            return R.against_overall(self.kind, k[g], n[g], k.sum(), n.sum(), self.level)
        if self.reference == BEST:
            usable = (self.rows >= self.min_group_size) & (n > 0)
            return R.against_best(self.kind, k, n, g, self.level, usable)
        assert self.ref is not None
        if self.kind == "difference":
            return R.difference(k[g], n[g], k[self.ref], n[self.ref], self.level)
        return R.ratio(k[g], n[g], k[self.ref], n[self.ref], self.level)

    def _involved(self, g: int) -> list[int]:
        if self.ref is not None:
            return [g, self.ref]
        return [g] if self.reference == BEST else list(range(len(self.names)))

    def _refusal(self, rate: str, g: int) -> tuple[Outcome, str] | None:
        """ERROR for an undefined rate, INCONCLUSIVE for a group too small; else None."""
        k, n = self.counted[rate]
        for h in self._involved(g) if self.reference != OVERALL else [g]:
            if n[h] == 0:
                return Outcome.ERROR, f"group {self.names[h]}: {R.undefined_reason(rate)}"
        if self.reference == OVERALL and n.sum() == n[g]:
            return Outcome.ERROR, f"the other groups: {R.undefined_reason(rate)}"
        if self.kind == "ratio":
            if self.reference == OVERALL and k.sum() == 0 or \
                    self.ref is not None and k[self.ref] == 0:
                return Outcome.ERROR, f"the reference's {rate} is 0: the ratio is undefined"
            if self.reference == BEST and not (k[(self.rows >= self.min_group_size)] > 0).any():
                return Outcome.ERROR, f"every group's {rate} is 0: the ratio is undefined"
        small = [h for h in ([g] if self.ref is None else [g, self.ref])
                 if self.rows[h] < self.min_group_size]
        if small:
            h = small[0]
            return Outcome.INCONCLUSIVE, (f"group {self.names[h]} has {int(self.rows[h])} rows "
                                          f"< min_group_size {self.min_group_size}, not decided")
        if self.reference == BEST and not self._others(g, n > 0):
            return Outcome.INCONCLUSIVE, self._alone()
        return None

    def _others(self, g: int, defined: np.ndarray) -> bool:
        """Whether a group besides ``g`` can be the best: its rate defined, its size enough."""
        usable = (self.rows >= self.min_group_size) & defined
        return bool(usable.sum() - usable[g] > 0)

    def _alone(self) -> str:
        return (f"no other group has min_group_size {self.min_group_size} rows to be the best, "
                f"not decided")

    def pair(self, g: int, name: str, confidence: float, m: int) -> CheckResult:
        pair = f"{self.names[g]} vs {self.reference}"
        label = f"{name}[{pair}]"
        bounds = self.bounds()
        threshold = self.margin
        comparison = "within" if bounds["min"] is not None and bounds["max"] is not None \
            else "<=" if bounds["max"] is not None else ">="
        n_rows = int(self.rows[g] + (self.rows[self.ref] if self.ref is not None else
                                     0 if self.reference == BEST else
                                     self.rows.sum() - self.rows[g]))
        details: dict[str, Any] = {"group": self.names[g], "reference": self.reference,
                                   **bounds, "pair_level": self.level, "family_size": m,
                                   "kind": self.kind}
        parts: dict[str, dict[str, Any]] = {}
        decided: list[tuple[Outcome, str, R.Gap | None, str]] = []
        for rate in self.counted:
            refusal = self._refusal(rate, g)
            gap = None if refusal is not None and refusal[0] is Outcome.ERROR else \
                self.gap(rate, g)
            if refusal is not None:
                outcome, why = refusal
            else:
                assert gap is not None
                outcome = decide(gap.value, min=bounds["min"], max=bounds["max"],
                                 ci=(gap.low, gap.high))
                why, sizes = "", None
                if outcome is Outcome.INCONCLUSIVE:
                    why, sizes = self._deciding_size(rate, g, bounds)
            decided.append((outcome, rate, gap, why))
            parts[rate] = {"outcome": outcome.value,
                           **({} if gap is None else {"value": gap.value, "low": gap.low,
                                                      "high": gap.high}),
                           **({"reason": why} if why else {}),
                           **({"decides_at_rows": sizes} if refusal is None and sizes
                              else {})}
        details["parts"] = parts
        outcome, rate, gap, why = max(decided, key=lambda x: (
            severity(x[0]), self.badness(None if x[2] is None else x[2].value)))
        what = f"{rate} {'gap' if self.kind == 'difference' else 'ratio'} {pair}"
        ci = None if gap is None else (gap.low, gap.high)
        text = describe(what, None if gap is None else gap.value, min=bounds["min"],
                        max=bounds["max"], ci=ci, confidence=confidence, n=n_rows,
                        outcome=outcome if why == "" else None)
        if ci is not None:
            text = text.replace("% CI", "% simultaneous CI", 1)
        if why:
            text += f": {why}"
        return CheckResult(name=label, outcome=outcome, message=text, check="disparity",
                           metric=rate, value=None if gap is None else gap.value,
                           threshold=threshold, comparison=comparison, ci=ci,
                           confidence=confidence, n=n_rows, details=details)

    def _deciding_size(self, rate: str, g: int, bounds: dict[str, float | None]
                       ) -> tuple[str, dict[str, int] | None]:
        """The sizes at which the observed rates would decide, every group scaled alike:
        the first doubling that decides, refined by bisection (to about 10%); as text and
        as rows per involved group (None where no size up to 1024x decides)."""

        def decides(scale: float) -> bool:
            gap = self.gap(rate, g, scale)
            return decide(gap.value, min=bounds["min"], max=bounds["max"],
                          ci=(gap.low, gap.high)) is not Outcome.INCONCLUSIVE

        low, high = 1.0, 2.0
        while not decides(high):
            low, high = high, high * 2
            if high > 1024:
                return ("interval straddles the margin; at the observed rates no size up to "
                        "1024x decides (the gap is at the margin)", None)
        while high / low > 1.1:
            middle = math.sqrt(low * high)
            low, high = (low, middle) if decides(middle) else (middle, high)
        rows = {self.names[h]: math.ceil(self.rows[h] * high) for h in self._involved(g)}
        sizes = ", ".join(f"{n} in {group}" for group, n in list(rows.items())[:4])
        more = "" if len(rows) <= 4 else " (every group scaled alike)"
        return (f"interval straddles the margin; about {high:.1f}x the rows ({sizes}{more}) "
                f"would decide at the observed rates", rows)


class AucJudge(Judge):
    """ROC AUC gaps: each group's interval as check_metric makes it, combined by MOVER
    (:mod:`mlqa.fairness.auc`); against a group or the best, never the overall AUC."""

    def __init__(self, summary: GroupedAuc, margin: float, reference: str, level: float,
                 min_group_size: int) -> None:
        super().__init__("difference", margin, reference, summary.groups, summary.rows,
                         {"roc_auc": (summary.positives, summary.negatives)}, level,
                         min_group_size)
        self.summary = summary

    def _interval(self, g: int, scale: float) -> tuple[float, float]:
        s = self.summary
        low, high, _ = auc.group_interval(float(s.auc[g]), float(s.variance[g]) / scale,
                                          s.positives[g] * scale, s.negatives[g] * scale,
                                          self.level)
        return low, high

    def gap(self, rate: str, g: int, scale: float = 1.0) -> R.Gap:
        a = self.summary.auc
        if self.ref is not None:
            return auc.mover_difference(float(a[g]), self._interval(g, scale),
                                        float(a[self.ref]), self._interval(self.ref, scale))
        usable = [h for h in range(len(self.names)) if self._refusal(rate, h) is None]
        gaps = [auc.mover_difference(float(a[h]), self._interval(h, scale), float(a[g]),
                                     self._interval(g, scale)) for h in usable if h != g]
        return R.Gap(float(max(a[usable])) - float(a[g]), max([0.0, *(x.low for x in gaps)]),
                     max([0.0, *(x.high for x in gaps)]))

    def _refusal(self, rate: str, g: int) -> tuple[Outcome, str] | None:
        s = self.summary
        involved = [g] if self.ref is None else [g, self.ref]
        for h in involved:
            if s.positives[h] == 0 or s.negatives[h] == 0:
                return Outcome.ERROR, (f"group {self.names[h]}: roc_auc needs rows of both "
                                       f"classes, and the group has only one")
        for h in involved:
            if self.rows[h] < self.min_group_size:
                return Outcome.INCONCLUSIVE, (
                    f"group {self.names[h]} has {int(self.rows[h])} rows < min_group_size "
                    f"{self.min_group_size}, not decided")
            low, high = self._interval(h, 1.0)
            if not (math.isfinite(low) and math.isfinite(high)):
                return Outcome.INCONCLUSIVE, (f"group {self.names[h]} has too few rows of a "
                                              f"class for an interval of its AUC, not decided")
        if self.reference == BEST and not self._others(g, (s.positives > 0) &
                                                       (s.negatives > 0)):
            return Outcome.INCONCLUSIVE, self._alone()
        return None
