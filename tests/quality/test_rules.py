"""Each data-quality rule on data where the answer is known."""

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.quality import (
    check_categories,
    check_duplicates,
    check_missing,
    check_ranges,
    check_row_count,
    check_schema,
)

PASS, FAIL, INCONCLUSIVE, ERROR = (mlqa.Outcome.PASS, mlqa.Outcome.FAIL,
                                   mlqa.Outcome.INCONCLUSIVE, mlqa.Outcome.ERROR)


@pytest.fixture
def frames():
    rng = np.random.default_rng(0)
    n = 2000
    ref = pd.DataFrame({"x": rng.normal(size=n), "colour": rng.choice(["red", "green"], n),
                        "count": rng.integers(0, 50, n)})
    ref.loc[rng.random(n) < 0.026, "x"] = np.nan
    return ref, ref.sample(frac=1.0, random_state=1).reset_index(drop=True)


def test_issue_case_missing_share_from_2_6_to_31_5_percent_fails(frames):
    ref, cur = frames
    cur = cur.copy()
    cur["x"] = np.where(np.random.default_rng(2).random(len(cur)) < 0.315, np.nan, cur["x"])
    r = check_missing(ref, cur)
    assert r.outcome is FAIL and r.columns_with(FAIL) == ["x"]
    x = r.columns["x"]
    assert x.ci[0] > 0.05 and x.value == pytest.approx(cur.x.isna().mean() - ref.x.isna().mean())
    assert "x: 3" in r.message and "missing, was 2." in r.message
    props = dict(r.family_properties())
    assert props["quality.fail"] == "x" and props["quality.rule"] == "missing"
    assert r.to_dict()["columns"]["x"]["outcome"] == "fail"


def test_same_data_passes_and_small_samples_are_not_sure(frames):
    ref, cur = frames
    assert check_missing(ref, cur).outcome is PASS
    small = check_missing(ref.iloc[:200], cur.iloc[:200].assign(
        x=np.where(np.arange(200) < 16, np.nan, 1.0)))  # 8% on 200 rows vs ~2.6%
    assert small.outcome is INCONCLUSIVE, small.message


def test_max_share_zero_is_decided_on_the_count(frames):
    ref, _ = frames
    r = check_missing(None, ref, max_share={"x": 0.0, "colour": 0.0})
    assert r.columns["x"].outcome is FAIL and r.columns["colour"].outcome is PASS
    assert check_missing(None, ref, max_share=0.2).outcome is PASS


def test_schema_names_missing_retyped_and_extra_columns(frames):
    ref, cur = frames
    cur = cur.drop(columns=["colour"]).assign(count=cur["count"].astype(str), new=1)
    r = check_schema(ref, cur)
    assert r.outcome is FAIL
    assert {c: e.outcome for c, e in r.columns.items()} == {
        "x": PASS, "colour": FAIL, "count": FAIL, "new": FAIL}
    assert "expected number" in r.columns["count"].detail
    assert check_schema(ref, ref.assign(new=1), extra_columns="allow").outcome is PASS
    assert check_schema({"x": "number", "colour": "string", "count": "number"}, ref).passed
    # integer -> float (a column gains missing values) is still a number
    assert check_schema(ref, ref.assign(count=ref["count"].astype(float))).passed


def test_ranges(frames):
    ref, _ = frames
    assert check_ranges(ref, {"count": (0, 49)}).outcome is PASS
    r = check_ranges(ref, {"count": {"max": 40}, "x": (None, 10)})
    assert r.columns["count"].outcome is FAIL and r.columns["x"].outcome is PASS
    share = (ref["count"] > 40).mean()
    assert r.columns["count"].value == pytest.approx(share)
    # a tolerated share decided on its interval
    assert check_ranges(ref, {"count": {"max": 40}}, max_share=0.5).outcome is PASS
    assert check_ranges(ref, {"count": {"max": 40}}, max_share=0.01).outcome is FAIL


def test_new_and_vanished_categories(frames):
    ref, cur = frames
    assert check_categories(cur, reference=ref).outcome is PASS
    added = cur.copy()
    added.loc[:4, "colour"] = "blue"
    r = check_categories(added, reference=ref)
    assert r.outcome is FAIL and "'blue'" in r.columns["colour"].detail
    assert check_categories(added, reference=ref, max_new_share=0.2).outcome is PASS
    gone = cur[cur.colour == "red"]
    r = check_categories(gone, reference=ref)
    assert r.outcome is FAIL and "vanished: 'green'" in r.columns["colour"].detail
    assert check_categories(gone, reference=ref, vanished="report").outcome is PASS
    # one row that is not 'green' cannot show that green vanished
    assert check_categories(gone.iloc[:1], reference=ref).outcome is PASS
    assert check_categories(cur, allowed={"colour": ["red"]}).outcome is FAIL


def test_duplicates_and_row_count(frames):
    ref = frames[0].dropna()  # rows missing x coincide on (colour, count) now and then
    assert check_duplicates(ref).outcome is PASS
    doubled = pd.concat([ref, ref.iloc[:10]])
    r = check_duplicates(doubled)
    assert r.outcome is FAIL and r.columns["rows"].value == pytest.approx(10 / len(doubled))
    assert check_duplicates(doubled, max_share=0.2).outcome is PASS
    assert check_row_count(ref, min=100, max=5000).outcome is PASS
    r = check_row_count(ref, min=5000)
    assert r.outcome is FAIL and r.value == len(ref) and f"{len(ref)} < min 5000" in r.message


def test_check_data_runs_the_rules_and_expect_records(frames):
    ref, cur = frames
    r = mlqa.check_data(ref, cur, ranges={"count": (0, 49)}, max_duplicate_share=0.01,
                        min_rows=100)
    assert r.outcome is PASS and set(r.rules) == {"schema", "missing", "categories", "ranges",
                                                  "duplicates", "row_count"}
    bad = cur.assign(x=np.nan)
    with mlqa.recording.capture() as seen, pytest.raises(mlqa.QualityGateFailure):
        mlqa.expect_data(ref, bad)
    assert seen[0].rules["missing"].outcome is FAIL and seen[0].check == "quality"


def test_files_are_read_by_extension(tmp_path, frames):
    ref, _ = frames
    ref.to_csv(tmp_path / "ref.csv", index=False)
    ref.to_parquet(tmp_path / "ref.parquet")
    assert check_missing(tmp_path / "ref.csv", tmp_path / "ref.parquet").passed


def test_results_round_trip_through_plain_dicts(frames):
    import json

    from mlqa.quality import DataQualityResult, QualityResult

    ref, cur = frames
    r = mlqa.check_data(ref, cur.assign(x=np.nan), ranges={"count": (0, 10)})
    back = DataQualityResult.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back == r and back.rules["missing"].columns["x"].outcome is FAIL
    one = r.rules["ranges"]
    assert QualityResult.from_dict(json.loads(json.dumps(one.to_dict()))) == one
