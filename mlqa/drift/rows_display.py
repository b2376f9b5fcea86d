"""What the report shows of text and embedding columns (``details["rows_tested"]``, made by
``mlqa.drift.rich``): the descriptors that moved and the words whose shares moved most; the
classifier's AUC with its lower bound, MMD with its bound, the per-dimension view and a PCA
projection of both sides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlqa import display as d
from mlqa._text import fmt_num

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.drift.result import DriftResult


def rows_sections(r: DriftResult) -> list[d.Section]:
    """One section per text or embedding column, drifted ones unfolded."""
    views = r.details.get("rows_tested")
    if not isinstance(views, Mapping):
        return []
    out = []
    for column, view in views.items():
        if not isinstance(view, Mapping):
            continue
        parts = [r.columns[p] for p in view.get("parts", ()) if p in r.columns]
        drifted = any(c.drifted for c in parts)
        if view.get("type") == "text":
            blocks = _text_blocks(view, parts)
        elif view.get("type") == "embedding":
            blocks = _embedding_blocks(view, parts)
        else:
            continue
        verdict = "drifted" if drifted else "no drift"
        out.append(d.Section(f"{view.get('type')} column {column}: {verdict}", tuple(blocks),
                             folded=not drifted))
    return out


def _classifier_row(view: Mapping[str, Any], parts: list[Any]) -> tuple[str, ...]:
    held = view.get("classifier") or {}
    part = next((c for c in parts if c.column.endswith(".classifier")), None)
    p_adj = "" if part is None else fmt_num(part.adjusted_p_value)
    return ("held-out domain classifier AUC", fmt_num(held.get("auc")),
            f"\u2265 {fmt_num(held.get('auc_low'))}", p_adj,
            f"{held.get('n_scored', ['', ''])[0]} / {held.get('n_scored', ['', ''])[1]} "
            f"scored (cap {held.get('cap', '')} per side)")


def _text_blocks(view: Mapping[str, Any], parts: list[Any]) -> list[d.Block]:
    moved = [c for c in parts if c.drifted and not c.column.endswith(".classifier")]
    rows = [(c.column, c.test or "", fmt_num(c.effect_size), fmt_num(c.effect_low),
             fmt_num(c.adjusted_p_value)) for c in moved]
    blocks: list[d.Block] = [
        d.Table(headers=("measure", "value", "lower bound", "adjusted p-value", "rows"),
                rows=(_classifier_row(view, parts),), title="domain classifier"),
        d.Table(headers=("descriptor", "test", "effect", "effect lower bound",
                         "adjusted p-value"),
                rows=tuple(rows) or (("(none moved)", "", "", "", ""),),
                title="descriptors that moved")]
    words = view.get("top_words") or []
    if words:
        blocks.append(d.Table(
            headers=("word", "reference share of documents", "current share", "change"),
            rows=tuple((str(w), d.share(a), d.share(b), f"{b - a:+.1%}") for w, a, b in words),
            title="words whose document share moved most"))
    return blocks


def _embedding_blocks(view: Mapping[str, Any], parts: list[Any]) -> list[d.Block]:
    rows = [_classifier_row(view, parts)]
    mmd = view.get("mmd")
    part = next((c for c in parts if c.column.endswith(".mmd")), None)
    if mmd:
        rows.append(("MMD\u00b2 (unbiased, median-heuristic kernel)", fmt_num(mmd["mmd2"]),
                     f"\u2265 {fmt_num(mmd['mmd2_low'])}",
                     "" if part is None else fmt_num(part.adjusted_p_value),
                     f"{mmd['n_used'][0]} / {mmd['n_used'][1]} rows (cap {mmd['cap']} per "
                     f"side), {mmd['permutations']} permutations"))
    blocks: list[d.Block] = [d.Table(
        headers=("measure", "value", "lower bound", "adjusted p-value", "rows"),
        rows=tuple(rows), title=f"embedding of {view.get('dimensions')} dimensions")]
    comp = view.get("components")
    if comp:
        top = ", ".join(f"dim {j} (p_BH {fmt_num(p)})" for j, p in comp["top"])
        blocks.append(d.Table(
            headers=("secondary view (not in the check's family)", "value"),
            rows=(("dimensions with KS p_BH < alpha", f"{comp['significant_bh']} of "
                   f"{comp['dimensions']}"), ("smallest", top),
                  ("rows per side", f"{comp['rows'][0]} / {comp['rows'][1]}"))))
    pca = view.get("pca")
    if pca:
        explained = pca.get("explained", [0.0, 0.0]) + [0.0, 0.0]
        blocks.append(d.ScatterPlot(
            title="PCA of both sides (first two components)",
            reference=tuple((float(x), float(y)) for x, y in pca["reference"]),
            current=tuple((float(x), float(y)) for x, y in pca["current"]),
            axes=(f"PC1 ({explained[0]:.0%})", f"PC2 ({explained[1]:.0%})"), name="pca"))
    return blocks
