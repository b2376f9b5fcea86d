"""How a metric check is shown: its row, its slices, and for classification the confusion
matrix and a per-class table (support, precision, recall, F1) made from it."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from mlqa import display as d
from mlqa.errors import InputError
from mlqa.result import FieldReader

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.metrics.check import MetricResult
    from mlqa.metrics.intervals import Evaluation

MAX_CLASSES = 30  # a larger matrix is not read by anyone; the metric is still checked


@dataclasses.dataclass(frozen=True)
class ConfusionMatrix:
    """``counts[i][j]``: rows of true class ``labels[i]`` predicted as ``labels[j]`` (sums of
    sample weights when the check was weighted)."""

    labels: tuple[str, ...]
    counts: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(map(str, self.labels)))
        object.__setattr__(self, "counts", tuple(tuple(map(float, row)) for row in self.counts))

    @classmethod
    def from_fields(cls, f: FieldReader) -> ConfusionMatrix:
        rows = f.data.get("counts")
        if not isinstance(rows, list | tuple):
            raise InputError(f"{f.where}.counts must be a list of rows, got {rows!r}")
        counts = tuple(FieldReader({"row": row}, f"{f.where}.counts[{i}]").floats("row")
                       for i, row in enumerate(rows))
        labels = f.strs("labels")
        if len(counts) != len(labels) or any(len(row) != len(labels) for row in counts):
            raise InputError(f"{f.where}: counts must be {len(labels)} x {len(labels)} "
                             f"(one row and column per label)")
        return cls(labels=labels, counts=counts)

    def per_class(self) -> list[tuple[str, float, float, float | None, float | None,
                                      float | None]]:
        """(class, support, predicted, precision, recall, F1) per class; None where a
        figure is undefined (no rows predicted as, or truly of, that class)."""
        out = []
        for i, label in enumerate(self.labels):
            hit = self.counts[i][i]
            support = sum(self.counts[i])
            predicted = sum(row[i] for row in self.counts)
            precision = hit / predicted if predicted else None
            recall = hit / support if support else None
            f1 = (2 * precision * recall / (precision + recall)
                  if precision is not None and recall is not None and precision + recall
                  else None)
            out.append((label, support, predicted, precision, recall, f1))
        return out


def confusion_of(ev: Evaluation) -> ConfusionMatrix | None:
    """The confusion matrix of a classification check on labels, None for anything else
    (scores, regression targets, more than ``MAX_CLASSES`` classes)."""
    import numpy as np

    from mlqa.metrics.registry import LABELS

    if ev.metric.input != LABELS or ev.y_true.ndim != 1 or ev.y_pred.ndim != 1:
        return None
    if ev.y_true.dtype.kind == "f" and not np.all(np.mod(ev.y_true, 1) == 0):
        return None  # a regression target
    try:
        labels = np.unique(np.concatenate([ev.y_true, ev.y_pred]))
    except TypeError:
        return None  # labels of mixed types
    if len(labels) > MAX_CLASSES or len(labels) < 2:
        return None
    t = np.searchsorted(labels, ev.y_true)
    p = np.searchsorted(labels, ev.y_pred)
    k = len(labels)
    weight = None if ev.weight is None else ev.weight
    counts = np.bincount(t * k + p, weights=weight, minlength=k * k).reshape(k, k)
    return ConfusionMatrix(labels=tuple(str(x) for x in labels.tolist()),
                           counts=tuple(tuple(row) for row in counts.tolist()))


def with_confusion(result: MetricResult, ev: Evaluation) -> MetricResult:
    confusion = confusion_of(ev)
    return result if confusion is None else result.replace(confusion=confusion)


def _rate(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def metric_display(r: MetricResult, *, details: bool = True) -> d.Display:
    from mlqa.result import CheckResult

    base = CheckResult.display(r)
    cells = base.cells
    if r.ci_method:
        cells = dataclasses.replace(cells, interval=f"{cells.interval} ({r.ci_method})"
                                    if cells.interval else "")
    sections: list[d.Section] = []
    if details and r.slices:
        rows = []
        for name, s in r.slices.items():
            sc = s.display().cells
            rows.append((name, s.outcome.value, sc.value, sc.interval, sc.n))
        sections.append(d.Section("slices", (d.Table(
            headers=("slice", "outcome", "value", "interval", "n"),
            fields=("slice", "outcome", "value", "interval", "n"), rows=tuple(rows),
            highlight=tuple(s.outcome.value != "pass" for s in r.slices.values())),)))
    if details and r.confusion is not None:
        cm = r.confusion
        per_class = d.Table(
            headers=("class", "support", "predicted", "precision", "recall", "F1"),
            fields=("class", "support", "predicted", "precision", "recall", "f1"),
            rows=tuple((label, d.num(s), d.num(p), _rate(pr), _rate(rc), _rate(f1))
                       for label, s, p, pr, rc, f1 in cm.per_class()))
        matrix = d.Table(
            headers=("true \\ predicted", *cm.labels),
            fields=("true", *(f"pred:{x}" for x in cm.labels)),
            rows=tuple((label, *(d.num(v) for v in row))
                       for label, row in zip(cm.labels, cm.counts, strict=True)),
            title="confusion matrix (rows: true class, columns: predicted)")
        sections.append(d.Section("per class", (per_class, matrix)))
    summary = f"{r.metric}: {cells.value}" + (f" ({cells.interval})" if cells.interval else "")
    return dataclasses.replace(base, cells=cells, sections=tuple(sections), summary=summary,
                               plot_group=f"metric: {r.metric}")
