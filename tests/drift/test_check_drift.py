"""check_drift's inputs, per-column errors, overrides, corrections and result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlqa
import mlqa.drift
from mlqa import Outcome
from mlqa.drift import adjust
from mlqa.drift.stattests.binned import histogram, sturges_edges


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    n = 2000

    def side(shift: float) -> pd.DataFrame:
        return pd.DataFrame({
            "num": rng.normal(shift, 1, n),
            "cat": rng.choice(["a", "b", "c"], n, p=[0.5 - shift / 2, 0.3, 0.2 + shift / 2]),
            "flag": rng.random(n) < 0.3,
            "count": rng.integers(0, 1000, n),
        })

    return side(0.0), side(0.5)


def test_drift_found_and_reported(data):
    ref, cur = data
    r = mlqa.check_drift(ref, cur)
    assert isinstance(r, mlqa.DriftResult) and isinstance(r, mlqa.CheckResult)
    assert r.outcome is mlqa.Outcome.FAIL and not r.passed
    assert set(r.drifted_columns) == {"num", "cat"}
    assert r.value == pytest.approx(0.5)
    num = r.columns["num"]
    assert isinstance(num, mlqa.ColumnDrift)
    # auto tests a numerical column with KS and Anderson-Darling in one Holm family; the
    # column reports KS when KS rejects (Anderson-Darling only when it alone sees the change)
    assert (num.kind, num.test, num.drifted) == ("numerical", "ks", True)
    assert set(num.statistics) == {"ks", "anderson_asymptotic"}
    assert num.effect_low is not None and num.effect_low >= num.min_effect
    assert r.columns["flag"].kind == "binary" and r.columns["flag"].test == "z"
    assert r.columns["cat"].test == "chi2_homogeneity"
    assert r.columns["count"].kind == "numerical"
    assert f"num: {num.test} stat=" in r.message and "p_adj=" in r.message
    assert "effect=" in r.message and "effect_low=" in r.message
    props = r.family_properties()
    assert props["drift.drifted_columns"] == 2 and props["drift.drifted_share"] == 0.5
    assert props["drift.dataset_drift"] is True
    assert r.to_dict()["columns"]["num"]["test"] == num.test


def test_no_drift_passes(data):
    ref, _ = data
    half = len(ref) // 2
    r = mlqa.check_drift(ref.iloc[:half], ref.iloc[half:])
    assert r.outcome is mlqa.Outcome.PASS and r.drifted_columns == []
    with pytest.raises(mlqa.QualityGateFailure):
        mlqa.expect_drift(*data)
    assert mlqa.expect_drift(ref.iloc[:half], ref.iloc[half:]).passed


def test_input_kinds_agree(data, tmp_path):
    ref, cur = data
    num = ["num", "count"]
    base = mlqa.check_drift(ref[num], cur[num])
    arrays = mlqa.check_drift(ref[num].to_numpy(), cur[num].to_numpy(), column_names=num)
    unnamed = mlqa.check_drift(ref[num].to_numpy(), cur[num].to_numpy())
    assert list(unnamed.columns) == ["0", "1"]
    arrow = mlqa.check_drift(pa.Table.from_pandas(ref), pa.Table.from_pandas(cur))
    pq.write_table(pa.Table.from_pandas(ref), tmp_path / "ref.parquet")
    pq.write_table(pa.Table.from_pandas(cur), tmp_path / "cur.parquet")
    parquet = mlqa.check_drift(str(tmp_path / "ref.parquet"), tmp_path / "cur.parquet")
    full = mlqa.check_drift(ref, cur)
    for r in (arrays,):
        assert [c.statistic for c in r.columns.values()] == \
            [c.statistic for c in base.columns.values()]
    for r in (arrow, parquet):
        assert {k: c.statistic for k, c in r.columns.items()} == \
            {k: c.statistic for k, c in full.columns.items()}


@pytest.mark.parametrize("change,needle", [
    (lambda c: c.drop(columns=["cat"]), "missing from current: ['cat']"),
    (lambda c: c.assign(extra=1.0), "not in reference: ['extra']"),
    (lambda c: c.assign(num=c["num"].astype(str)), "'num' (number in reference, string"),
])
def test_schema_mismatch_names_columns(data, change, needle):
    ref, cur = data
    with pytest.raises(mlqa.InputError) as err:
        mlqa.check_drift(ref, change(cur))
    assert needle in str(err.value)


@pytest.mark.parametrize("kwargs,needle", [
    ({"alpha": 1.5}, "alpha"), ({"correction": "bonferroni"}, "correction"),
    ({"tests": "fast"}, "tests"), ({"tests": {"num": "nope"}}, "unknown drift test 'nope'"),
    ({"tests": {"cat": "ks"}}, "does not apply to categorical"),
    ({"tests": {"zzz": "ks"}}, "['zzz']"), ({"columns": ["zzz"]}, "['zzz']"),
    ({"column_types": {"num": "vector"}}, "unknown types"),
    ({"min_effect": {"num": -1}}, "min_effect"),
])
def test_bad_options_are_input_errors(data, kwargs, needle):
    with pytest.raises(mlqa.InputError) as err:
        mlqa.check_drift(*data, **kwargs)
    assert needle in str(err.value)


def test_broken_columns_error_alone(data):
    ref, cur = (d.copy() for d in data)
    ref["empty"] = np.nan
    cur["empty"] = np.nan
    ref["const"] = cur["const"] = 3.0
    ref["tiny"] = np.where(np.arange(len(ref)) < 5, 1.0, np.nan)
    cur["tiny"] = np.arange(len(cur), dtype=float)
    r = mlqa.check_drift(ref, cur, columns=["num", "empty", "const", "tiny"])
    assert r.columns["num"].drifted is True  # the others still ran
    for c, text in (("empty", "no values in reference"), ("const", "constant column"),
                    ("tiny", "too few values in reference: 5 < min_rows=20")):
        assert r.columns[c].drifted is None and r.columns[c].outcome is mlqa.Outcome.ERROR
        assert text in r.columns[c].reason
    assert r.outcome is mlqa.Outcome.FAIL  # a drift found is a failure whatever else
    calm = mlqa.check_drift(ref.iloc[:1000], ref.iloc[1000:], columns=["num", "const"])
    assert calm.outcome is mlqa.Outcome.ERROR  # never a pass over an untested column
    assert "not tested: const: constant column" in calm.message


def test_missing_values_dropped_and_reported(data):
    ref, cur = (d.copy() for d in data)
    cur.loc[: len(cur) // 4, "num"] = np.nan
    cur.loc[len(cur) // 2, "num"] = np.inf
    clean = cur["num"].replace(np.inf, np.nan).dropna()
    r = mlqa.check_drift(ref, cur)
    c = r.columns["num"]
    assert c.missing_reference == 0 and c.missing_current == pytest.approx(
        (len(cur) - len(clean)) / len(cur))
    assert c.missing_change > 0.25 and "missing 0.0%->25.1%" in c.summary()
    same = mlqa.check_drift(ref[["num"]], pd.DataFrame({"num": clean}))
    assert same.columns["num"].statistic == c.statistic


def test_ids_excluded_with_reason_text_and_datetimes_tested_in_parts():
    """Issue 25: text and datetime columns were skipped; in auto mode they are now tested as
    parts (descriptors + classifier; epoch + weekday) and identifiers stay excluded. In
    evidently's mode they stay excluded, with the reason."""
    rng = np.random.default_rng(1)
    n = 500
    words = np.array([f"w{i}" for i in range(400)])

    def side():
        return pd.DataFrame({"x": rng.normal(size=n), "note": rng.choice(words, n),
                             "uid": [f"u{i}" for i in rng.permutation(n)],
                             "row": np.arange(n), "when": pd.date_range("2026", periods=n)})

    r = mlqa.check_drift(side(), side())
    # one-word notes ("w17": words are letters only): word count and OOV share are constant
    parts = r.details["rows_tested"]["note"]["parts"]
    assert parts == [f"note.{p}" for p in ("length", "words", "oov_share", "non_letter_share",
                                           "empty", "classifier")]
    assert [p for p in parts if p in r.columns] == ["note.length", "note.non_letter_share",
                                                    "note.classifier"]
    assert all(r.excluded[p].startswith("constant on both sides") for p in parts
               if p not in r.columns)
    assert {"x", "when.epoch", "when.weekday"} <= set(r.columns)
    assert r.outcome is Outcome.PASS
    assert r.excluded["uid"].startswith("identifier") and r.excluded["row"].startswith("identi")
    assert r.details["rows_tested"]["note"]["type"] == "text"
    legacy = mlqa.check_drift(side(), side(), tests="evidently")
    assert legacy.excluded["note"].startswith("text column")
    assert legacy.excluded["when"].startswith("datetime")
    forced = mlqa.check_drift(side(), side(), column_types={"note": "categorical"})
    assert forced.columns["note"].test == "chi2_homogeneity"


def test_every_excluded_column_is_named_with_why_and_none_left_is_an_error(tmp_path):
    """A mixed-type object column was dropped with only "excluded: m" in the message; a check
    with every column excluded raised instead of returning the ERROR it is."""
    rng = np.random.default_rng(2)
    n = 400

    def side():
        return pd.DataFrame({"x": rng.normal(size=n), "m": [i if i % 2 else f"s{i % 7}"
                                                             for i in range(n)],
                             "uid": [f"u{i}" for i in rng.permutation(n)]})

    r = mlqa.check_drift(side(), side())
    assert r.outcome is Outcome.PASS and list(r.columns) == ["x"]
    why_m = ("object column of mixed value types (mixed-integer): not tested; cast it to one "
             "type (numbers or strings) to test it")
    assert dict(r.excluded) == r.details["excluded"] == {
        "m": why_m, "uid": "identifier column (every value distinct): not tested"}
    assert r.message.endswith(f" | excluded (not tested): m ({why_m}); uid (identifier "
                              f"column (every value distinct): not tested)")
    reference, current = side()[["m", "uid"]], side()[["m", "uid"]]
    reference.astype(str).to_parquet(tmp_path / "ref.parquet")
    for none_left in (mlqa.check_drift(reference, current),
                      mlqa.check_drift(tmp_path / "ref.parquet", tmp_path / "ref.parquet")):
        assert none_left.outcome is Outcome.ERROR and not none_left.passed
        assert none_left.message.startswith("drift could not be evaluated: no column to test, "
                                            "every column is excluded | excluded (not tested): ")
        assert set(none_left.excluded) == {"m", "uid"} and none_left.value is None
    with pytest.raises(mlqa.CheckError):
        mlqa.expect(none_left)


def test_overrides_thresholds_and_floor(data):
    ref, cur = data
    r = mlqa.check_drift(ref, cur, tests={"num": "psi", "cat": "jensenshannon"},
                         thresholds={"num": 5.0})
    assert r.columns["num"].test == "psi" and r.columns["num"].threshold == 5.0
    assert r.columns["num"].drifted is False and r.columns["num"].p_value is None
    assert r.columns["cat"].threshold == 0.1  # the test's own default
    assert r.columns["flag"].test == "z"  # unlisted columns keep the auto choice
    ev = mlqa.check_drift(ref, cur, tests={"num": "ks", "*": "evidently"})
    assert ev.columns["num"].test == "ks" and ev.columns["cat"].test == "jensenshannon"
    huge = mlqa.check_drift(ref, cur, min_effect={"numerical": 10.0})
    assert huge.columns["num"].drifted is False and huge.columns["num"].adjusted_p_value < 1e-9
    assert huge.columns["num"].min_effect == 10.0


def test_corrections():
    p = [0.01, 0.04, 0.03, 0.2]
    assert adjust(p, "holm") == pytest.approx([0.04, 0.09, 0.09, 0.2])
    from statsmodels.stats.multitest import multipletests

    for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh")):
        assert adjust(p, ours) == pytest.approx(list(multipletests(p, method=theirs)[1]))
    assert adjust(p, None) == p


def test_binning_matches_numpy():
    rng = np.random.default_rng(2)
    for values in (rng.normal(size=999), rng.integers(-3, 40, 555), np.full(10, 2.0),
                   rng.standard_t(1, 2000)):
        both = np.sort(values)
        integer = values.dtype.kind == "i"
        edges = sturges_edges(both[0], both[-1], len(both), integer)
        np.testing.assert_array_equal(edges, np.histogram_bin_edges(values, "sturges"))
        np.testing.assert_array_equal(histogram(both, edges), np.histogram(values, edges)[0])


def test_profile_reused_and_saved(data, tmp_path):
    ref, cur = data
    prof = mlqa.drift.profile(ref)
    direct = mlqa.check_drift(ref, cur, tests="evidently")
    via = mlqa.check_drift(prof, cur, tests="evidently")
    path = tmp_path / "ref.profile"
    prof.save(path)
    loaded = mlqa.drift.load_profile(path)
    again = mlqa.check_drift(loaded, cur, tests="evidently")
    for r in (via, again):
        assert {k: (c.test, c.statistic) for k, c in r.columns.items()} == \
            {k: (c.test, c.statistic) for k, c in direct.columns.items()}
    auto = mlqa.check_drift(loaded, cur)
    assert auto.drifted_columns == mlqa.check_drift(ref, cur).drifted_columns
    with pytest.raises(mlqa.InputError, match="profile lacks"):
        mlqa.check_drift(prof, cur, columns=["nope"])
    (tmp_path / "junk").write_bytes(b"not a profile")
    with pytest.raises(mlqa.InputError, match="not a drift profile"):
        mlqa.drift.load_profile(tmp_path / "junk")


def test_expect_drift_error_is_recorded(data):
    from mlqa.recording import capture

    ref, cur = data
    with capture() as results, pytest.raises(mlqa.CheckError):
        mlqa.expect_drift(ref, cur.drop(columns=["cat"]))
    assert results[0].outcome is mlqa.Outcome.ERROR and "cat" in results[0].message
