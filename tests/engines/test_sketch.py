"""Decisions from histogram cells on DuckDB: ``exact="decision"`` and ``exact=False``.

Every bound is checked against the exact statistic of the same rows (scipy, or the in-memory
pooled order), on skewed, heavily tied and outlier-laden columns; every decision against the
exact path's, including borderline columns the cells cannot settle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mlqa
from mlqa.drift import sketched
from mlqa.drift.effects import wasserstein_bound
from mlqa.drift.stattests.pooled import PooledOrder


def _frame(seed: int, n: int, shift: float = 0.0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    skew = r.lognormal(shift, 2.0, n)
    skew[:5] = 1e9  # one first-pass cell would hold almost every row
    return pd.DataFrame({
        "normal": r.normal(shift, 1.0, n),
        "skew": skew,
        # the value 1.0 holds 60 % of the rows; the rest lognormal
        "mass": np.where(r.random(n) < 0.6, 1.0, r.lognormal(shift, 1.0, n)),
        "tied": np.round(r.normal(shift, 1.0, n), 1),
    })


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("cells")
    frames = {"ref": _frame(11, 12_000), "null": _frame(14, 12_000),
              "shift": _frame(13, 12_000, shift=0.15)}
    for k, f in frames.items():
        f.to_parquet(d / f"{k}.parquet")
    return {k: (str(d / f"{k}.parquet"), f) for k, f in frames.items()}


def _exact(ref: np.ndarray, cur: np.ndarray, alpha: float) -> dict[str, float]:
    """The exact figures from the rows themselves."""
    norm = max(float(np.std(ref)), 0.001)
    ks = stats.ks_2samp(ref, cur)
    mw = stats.mannwhitneyu(ref, cur, alternative="two-sided", method="asymptotic")
    order = PooledOrder.from_sorted(np.sort(ref), np.sort(cur))
    return {"ks": ks.statistic, "ks_p": ks.pvalue,
            "wasserstein": stats.wasserstein_distance(ref, cur) / norm,
            "ed": stats.energy_distance(ref, cur),
            "mannw": mw.statistic, "mannw_p": mw.pvalue,
            "effect_low": wasserstein_bound(order, float(np.std(ref)), alpha).low}


@pytest.mark.parametrize("budget", [1, 3, sketched.SCAN_BUDGET])
@pytest.mark.parametrize("case", ["null", "shift"])
def test_every_bound_holds_the_exact_statistic(data, case, budget, monkeypatch):
    """lower <= exact <= upper for every statistic reported, after 1, 3 and all the scans a
    column may take (exact=False reports the bounds it ended with, settled or not)."""
    monkeypatch.setattr(sketched, "SCAN_BUDGET", budget)
    (ref_p, ref), (cur_p, cur) = data["ref"], data[case]
    checked = 0
    for test in ("ks", "mannw", "ed"):
        r = mlqa.check_drift(ref_p, cur_p, exact=False, tests=dict.fromkeys(ref, test))
        for col in ref:
            b = r.details["bounds"].get(col)
            if b is None:  # one scan cannot spread the skewed column over enough cells
                assert budget == 1 and "too few distinct" in r.columns[col].reason
                continue
            assert b["passes"] <= max(budget, 1)
            exact = _exact(ref[col].to_numpy(), cur[col].to_numpy(), 0.05)
            for key in (test, f"{test}_p", "wasserstein", "effect_low"):
                if key in b:
                    low, high = b[key]
                    assert low <= exact[key] <= high, (col, key, low, exact[key], high)
                    checked += 1
    assert checked >= 3 * 3 * 3


def test_refinement_narrows_the_bounds_on_skewed_columns(data, monkeypatch):
    (ref_p, _), (cur_p, _) = data["ref"], data["null"]
    widths = []
    for budget in (2, sketched.SCAN_BUDGET):
        monkeypatch.setattr(sketched, "SCAN_BUDGET", budget)
        r = mlqa.check_drift(ref_p, cur_p, exact=False, tests={"skew": "ks"},
                             columns=["skew"], min_effect=0.0)
        low, high = r.details["bounds"]["skew"]["ks"]
        widths.append(high - low)
    # one pass puts almost every row in one cell; after one split the KS interval is still
    # wide (undecided); the targeted splits bring it down until the column is decided
    assert widths[0] > 0.02 and widths[1] < 0.001
    assert r.columns["skew"].drifted is False


def _sweep(tmp_path, n=12_000):
    """Columns from no shift to a clear one, a skewed and a tied column: mostly settled by
    the cells, some near the floor."""
    r = np.random.default_rng(5)
    shifts = [0.0, 0.03, 0.08, 0.1, 0.12, 0.3]
    ref = pd.DataFrame({f"s{k}": r.normal(0, 1, n) for k in range(len(shifts))})
    cur = pd.DataFrame({f"s{k}": r.normal(s, 1, n) for k, s in enumerate(shifts)})
    for frame, mu in ((ref, 0.0), (cur, 0.2)):
        frame["skew"] = r.lognormal(mu, 2.0, n)
        frame["tied"] = np.round(r.normal(mu, 1.0, n), 1)
        frame["cat"] = r.choice(["a", "b", "c"], n)
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    return str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet"), ref, cur


@pytest.mark.parametrize("correction", ["holm", "bh"])
def test_decision_mode_gives_the_exact_verdicts(tmp_path, correction):
    ref_p, cur_p, _, _ = _sweep(tmp_path)
    exact = mlqa.check_drift(ref_p, cur_p, correction=correction)
    fast = mlqa.check_drift(ref_p, cur_p, correction=correction, exact="decision")
    assert fast.outcome == exact.outcome
    assert {c: v.drifted for c, v in fast.columns.items()} == \
        {c: v.drifted for c, v in exact.columns.items()}
    assert fast.details["exact"] == "decision" and fast.details["bounds"]
    for col, b in fast.details["bounds"].items():  # decided from cells: bounds hold
        e = exact.columns[col]
        assert b["ks"][0] <= e.statistics["ks"][0] <= b["ks"][1]
        assert b["wasserstein"][0] <= e.effect_size <= b["wasserstein"][1]
        if fast.columns[col].drifted:  # drift rests on the p upper bound
            assert fast.columns[col].p_value == b["ks_p"][1] >= e.statistics["ks"][1]


def test_a_borderline_column_takes_the_exact_path_and_is_named(tmp_path):
    """The floor of one column set to its exact effect bound: no cell resolution can settle
    it, so that column alone is computed exactly, and the verdict equals the exact one."""
    ref_p, cur_p, ref, cur = _sweep(tmp_path)
    exact0 = mlqa.check_drift(ref_p, cur_p)
    floor = exact0.columns["s3"].effect_low
    assert floor is not None
    floors = {"s3": floor}
    exact = mlqa.check_drift(ref_p, cur_p, min_effect=floors)
    fast = mlqa.check_drift(ref_p, cur_p, min_effect=floors, exact="decision")
    assert exact.columns["s3"].drifted is True
    assert {c: v.drifted for c, v in fast.columns.items()} == \
        {c: v.drifted for c, v in exact.columns.items()}
    assert "s3" in fast.details["fallback"] and "s3" not in fast.details["bounds"]
    assert "did not settle" in fast.details["fallback"]["s3"]
    assert fast.columns["s3"].effect_low == pytest.approx(floor, rel=1e-9)
    assert "s0" in fast.details["bounds"]  # the clear columns stayed on cells


def _ks_borderline(tmp_path):
    ref_p, cur_p, ref, cur = _sweep(tmp_path)
    p = stats.ks_2samp(ref["s1"], cur["s1"]).pvalue
    # alpha just above the exact p-value: KS (p <= alpha) flags it; cells cannot tell
    return ref_p, cur_p, dict(columns=["s1"], tests={"s1": "ks"}, min_effect=0.0,
                              correction=None, alpha=p * (1 + 1e-7))


def test_ks_borderline_falls_back_and_exact_false_is_inconclusive_naming_why(tmp_path,
                                                                            monkeypatch):
    """With its full budget the splits pin D down to the exact value (that column is then
    settled by its cells, checked below); with the first scan alone they cannot."""
    ref_p, cur_p, options = _ks_borderline(tmp_path)
    settled = mlqa.check_drift(ref_p, cur_p, exact="decision", **options)
    if not settled.details["fallback"]:
        low, high = settled.details["bounds"]["s1"]["ks_p"]
        assert low <= high <= options["alpha"] and settled.columns["s1"].drifted is True
    monkeypatch.setattr(sketched, "SCAN_BUDGET", 1)
    exact = mlqa.check_drift(ref_p, cur_p, **options)
    fast = mlqa.check_drift(ref_p, cur_p, exact="decision", **options)
    assert exact.columns["s1"].drifted is True and fast.columns["s1"].drifted is True
    assert list(fast.details["fallback"]) == ["s1"]
    sketch = mlqa.check_drift(ref_p, cur_p, exact=False, **options)
    assert sketch.outcome is mlqa.Outcome.INCONCLUSIVE
    col = sketch.columns["s1"]
    assert col.drifted is None and col.p_value is None
    assert "did not settle" in col.reason and "p in [" in col.reason
    assert "fallback" not in sketch.details or not sketch.details["fallback"]


def test_a_test_without_a_cell_form(tmp_path):
    """exact=False refuses it by name; exact="decision" computes that column exactly."""
    ref_p, cur_p, _, _ = _sweep(tmp_path)
    options = dict(columns=["s5"], tests={"s5": "anderson"})
    sketch = mlqa.check_drift(ref_p, cur_p, exact=False, **options)
    assert sketch.columns["s5"].drifted is None
    assert "no approximate form" in sketch.columns["s5"].reason
    fast = mlqa.check_drift(ref_p, cur_p, exact="decision", **options)
    exact = mlqa.check_drift(ref_p, cur_p, **options)
    assert fast.columns["s5"].statistic == exact.columns["s5"].statistic
    assert "s5" not in fast.details.get("bounds", {})


def test_exact_must_be_a_known_mode(tmp_path):
    ref_p, cur_p, _, _ = _sweep(tmp_path, n=100)
    with pytest.raises(mlqa.InputError, match="exact must be"):
        mlqa.check_drift(ref_p, cur_p, exact="fast")
