"""Text, embedding and datetime columns in ``check_drift``: tested from their rows.

Each such column becomes *parts*, each an entry of the check named ``column.part`` and held
in the check's one multiple-testing family:

* text: the descriptors of ``mlqa.drift.text`` (numerical parts tested like any numerical
  column: KS + Anderson-Darling, normed-Wasserstein floor; ``empty`` a binary part) and
  ``classifier``, the held-out domain classifier (``mlqa.drift.domain``, TF-IDF + logistic
  regression), effect Somers' D = 2 AUC - 1 with its lower bound;
* embeddings: ``mmd`` (``mlqa.drift.embeddings``) and ``classifier`` (standardised vectors +
  logistic regression); the per-dimension KS view and a PCA projection go to the report only;
* datetime: ``epoch`` (seconds since 1970, numerical), ``weekday`` and ``hour``
  (categorical; ``hour`` only when the reference has times other than midnight).

The column's missing share is reported once, on its first part (``length``, ``classifier``,
``epoch``); the other parts report 0 so that one missing row is not counted several times.
A part that is constant on both sides (no empty document anywhere) is left out with why.
These tests need the rows: on an engine, from a ``ReferenceProfile`` or in evidently's mode
the column stays excluded, with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlqa.drift import columns as col
from mlqa.drift import domain, embeddings, text
from mlqa.drift.selection import distinct_union

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.drift.check import ColumnRun

TEXT, EMBEDDING, DATETIME = "text", "embedding", "datetime"
JUDGED = (TEXT, EMBEDDING, DATETIME)
CLASSIFIER = "domain_classifier"
MMD = "mmd"
NEEDS_ROWS = {t: f"{t} column: its tests need the reference rows" for t in JUDGED}


def run_rows(kind: str, name: str, ref: Any, cur: Any, min_rows: int, alpha: float,
             seed: int | None) -> ColumnRun:
    """The container run of one text, embedding or datetime column: ``parts`` and ``view``."""
    rng = np.random.default_rng(seed)
    if kind == TEXT:
        return _text(name, ref, cur, min_rows, alpha, rng)
    if kind == DATETIME:
        return _datetime(name, ref, cur, min_rows, alpha)
    x, y = embeddings.vectors(name, ref), embeddings.vectors(name, cur)
    return run_embedding(name, x, y, min_rows, alpha, rng, n_rows=(len(ref), len(cur)))


def _derived_part(name: str, ref: pd.Series, cur: pd.Series, min_rows: int,
                  alpha: float, kind: str = col.NUMERICAL) -> ColumnRun:
    """One derived column tested as ``check_drift`` tests a column of that kind."""
    from mlqa.drift.check import AUTO, ColumnRun, tested

    r = col.prepare(name, ref, kind)
    c = col.prepare(name, cur, kind)
    binary = col.BINARY if kind == col.CATEGORICAL and distinct_union(r, c, 2) <= 2 else kind
    run = ColumnRun(binary, r.n_rows, r.missing / max(r.n_rows, 1), binary, c.n_rows,
                    c.missing / max(c.n_rows, 1))
    return tested(run, r, c, None, AUTO, min_rows, alpha)


def _classifier_part(type_: str, x: Any, y: Any, model: Any, min_rows: int, alpha: float,
                     rng: np.random.Generator, cap: int) -> tuple[ColumnRun, dict[str, Any]]:
    from mlqa.drift.check import ColumnRun
    from mlqa.drift.stattests import get

    run = ColumnRun(type_, len(x), 0.0, type_, len(y), 0.0)
    for side, rows in (("reference", x), ("current", y)):
        if len(rows) < max(min_rows, 4):
            run.reason = f"too few values in {side}: {len(rows)} < min_rows={min_rows}"
            return run, {}
    try:
        held = domain.held_out_test(x, y, model, alpha=alpha, rng=rng, max_rows=cap)
    except ValueError as exc:  # e.g. no word in any training document
        run.reason = f"{CLASSIFIER}: {exc}"
        return run, {}
    run.test = get(CLASSIFIER)
    run.statistics = {CLASSIFIER: (held.auc, held.p_value)}
    run.statistic, run.p_value, run.effect = held.auc, held.p_value, held.effect
    if held.p_value < alpha:
        run.effect_low = held.effect_low
    return run, held.as_dict()


def _parts(runs: dict[str, ColumnRun], missing: tuple[float, float]) -> dict[str, ColumnRun]:
    """Constant parts left out with why; the column's missing share on the first part only."""
    out = {}
    for i, (part, run) in enumerate(runs.items()):
        if run.reason.startswith("constant column"):
            run.excluded = True
            run.reason = f"constant on both sides: not tested ({run.reason})"
        run.missing_reference, run.missing_current = missing if i == 0 else (0.0, 0.0)
        out[part] = run
    return out


def _missing(rows: tuple[int, int], kept: tuple[int, int]) -> tuple[float, float]:
    """Each side's missing share: of its ``rows``, those not ``kept``."""
    (n_ref, n_cur), (k_ref, k_cur) = rows, kept
    return (1 - k_ref / n_ref if n_ref else 0.0, 1 - k_cur / n_cur if n_cur else 0.0)


def _text(name: str, ref: pd.Series, cur: pd.Series, min_rows: int, alpha: float,
          rng: np.random.Generator) -> ColumnRun:
    from mlqa.drift.check import ColumnRun

    ref_docs, cur_docs = text.documents(ref), text.documents(cur)
    missing = _missing((len(ref), len(cur)), (len(ref_docs), len(cur_docs)))
    used_ref = ref_docs[domain.subsample(len(ref_docs), text.MAX_ROWS, rng)]
    used_cur = cur_docs[domain.subsample(len(cur_docs), text.MAX_ROWS, rng)]
    split = rng.permutation(len(used_ref))
    vocab_half, test_half = used_ref[split[:len(split) // 2]], used_ref[split[len(split) // 2:]]
    vocabulary = text.vocabulary(vocab_half)
    ref_d, cur_d = text.descriptors(used_ref, vocabulary), text.descriptors(used_cur, vocabulary)
    oov_ref = text.descriptors(test_half, vocabulary)["oov_share"]
    runs: dict[str, ColumnRun] = {}
    for part in ref_d:
        r = oov_ref if part == "oov_share" else ref_d[part]
        kind = col.CATEGORICAL if part == "empty" else col.NUMERICAL
        runs[part] = _derived_part(f"{name}.{part}", r, cur_d[part], min_rows, alpha, kind)
    runs["classifier"], held = _classifier_part(TEXT, ref_docs, cur_docs, text.classifier,
                                                min_rows, alpha, rng, domain.MAX_ROWS)
    view = {"type": TEXT, "rows_used": [len(used_ref), len(used_cur)],
            "rows_cap": text.MAX_ROWS, "vocabulary_rows": len(vocab_half),
            "classifier": held,
            "top_words": text.top_words(ref_docs, cur_docs, rng)}
    return ColumnRun(TEXT, len(ref), missing[0], TEXT, len(cur), missing[1],
                     parts=_parts(runs, missing), view=view)


def run_embedding(name: str, x: np.ndarray, y: np.ndarray, min_rows: int, alpha: float,
                  rng: np.random.Generator, n_rows: tuple[int, int]) -> ColumnRun:
    """The parts of one embedding (``x``, ``y``: rows x dimensions)."""
    from mlqa.drift.check import ColumnRun
    from mlqa.drift.stattests import get

    missing = _missing(n_rows, (len(x), len(y)))
    container = ColumnRun(EMBEDDING, n_rows[0], missing[0], EMBEDDING, n_rows[1], missing[1])
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or x.shape[1] == 0:
        container.reason = (f"embeddings {name!r}: reference and current must have the same "
                            f"number of dimensions, got {x.shape} and {y.shape}")
        return container
    runs: dict[str, ColumnRun] = {}
    runs["classifier"], held = _classifier_part(EMBEDDING, x, y, embeddings.classifier,
                                                min_rows, alpha, rng,
                                                embeddings.CLASSIFIER_ROWS)
    mmd_run = ColumnRun(MMD, len(x), 0.0, EMBEDDING, len(y), 0.0)
    view: dict[str, Any] = {"type": EMBEDDING, "dimensions": int(x.shape[1]),
                            "classifier": held}
    if not runs["classifier"].reason:
        mmd = embeddings.mmd_test(x, y, alpha=alpha, rng=rng)
        mmd_run.test = get(MMD)
        mmd_run.statistics = {MMD: (mmd["mmd2"], mmd["p_value"])}
        mmd_run.statistic, mmd_run.p_value, mmd_run.effect = (mmd["mmd2"], mmd["p_value"],
                                                              mmd["mmd2"])
        if mmd["p_value"] < alpha:
            mmd_run.effect_low = mmd["mmd2_low"]
        view["mmd"] = mmd
        view["components"] = embeddings.components(x, y, alpha=alpha, rng=rng)
        view["pca"] = embeddings.pca_scatter(x, y, rng)
    else:
        mmd_run.reason = runs["classifier"].reason
    runs[MMD] = mmd_run
    container.parts = _parts(runs, missing)
    container.view = view
    return container


def _datetime(name: str, ref: pd.Series, cur: pd.Series, min_rows: int, alpha: float
              ) -> ColumnRun:
    from mlqa.drift.check import ColumnRun

    r, c = pd.to_datetime(ref), pd.to_datetime(cur)
    if r.dt.tz is not None or c.dt.tz is not None:
        if r.dt.tz is None or c.dt.tz is None:
            return ColumnRun(DATETIME, len(ref), 0.0, DATETIME, len(cur), 0.0, reason=(
                "one side is timezone-aware and the other not: make both aware or both "
                "naive"))
        r, c = r.dt.tz_convert("UTC"), c.dt.tz_convert("UTC")

    def epoch(s: pd.Series) -> pd.Series:
        # a difference of timestamps is in seconds whatever the unit (ns, us, s) of each side
        origin = pd.Timestamp(0, tz="UTC") if s.dt.tz is not None else pd.Timestamp(0)
        return (s - origin).dt.total_seconds()

    runs = {"epoch": _derived_part(f"{name}.epoch", epoch(r), epoch(c), min_rows, alpha),
            "weekday": _derived_part(f"{name}.weekday", r.dt.weekday.astype("Int64"),
                                     c.dt.weekday.astype("Int64"), min_rows, alpha,
                                     col.CATEGORICAL)}
    valid = r.dropna()
    if len(valid) and (valid != valid.dt.normalize()).any():
        runs["hour"] = _derived_part(f"{name}.hour", r.dt.hour.astype("Int64"),
                                     c.dt.hour.astype("Int64"), min_rows, alpha,
                                     col.CATEGORICAL)
    missing = _missing((len(ref), len(cur)), (int(r.notna().sum()), int(c.notna().sum())))
    return ColumnRun(DATETIME, len(ref), missing[0], DATETIME, len(cur), missing[1],
                     parts=_parts(runs, missing),
                     view={"type": DATETIME, "parts": list(runs)})

