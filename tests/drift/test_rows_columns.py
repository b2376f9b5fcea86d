"""Text, embedding and datetime columns in check_drift (issue 25): tested from their rows as
parts in the one family, shown in the report, refused where the rows are not at hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.drift.profile import profile
from mlqa.gate import evaluate
from mlqa.report import bundle, html
from mlqa.result import Outcome
from tests.drift.rows_data import TOPIC_WORDS, WORDS, mixture, sentences

TEXT_PARTS = ("length", "words", "oov_share", "non_letter_share", "empty", "classifier")


def _texts(n: int, seed: int, shift: float = 0.0, empty: float = 0.02) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "review": sentences(n, rng, shift, empty)})


def test_topic_shift_moves_descriptors_and_words_and_the_report_shows_them():
    ref, cur = _texts(1000, 1), _texts(1000, 2, shift=0.1)
    r = mlqa.check_drift(ref, cur)
    assert r.outcome is Outcome.FAIL
    parts = [f"review.{p}" for p in TEXT_PARTS]
    assert r.details["rows_tested"]["review"]["parts"] == parts
    assert set(parts) <= set(r.columns) and "x" not in r.drifted_columns
    # the new topic's words are out of the reference vocabulary
    assert "review.oov_share" in r.drifted_columns
    oov = r.columns["review.oov_share"]
    assert oov.test in ("ks", "anderson_asymptotic") and oov.effect_low >= oov.min_effect
    clf = r.columns["review.classifier"]
    assert clf.test == "domain_classifier" and 0.5 < clf.statistic < 0.6
    held = r.details["rows_tested"]["review"]["classifier"]
    assert held["auc"] == clf.statistic and held["auc_low"] < held["auc"]
    assert held["n_scored"] == [500, 500]
    # the words whose share moved most are the new topic's (topic 4's slice of WORDS)
    new_words = set(WORDS[4 * TOPIC_WORDS:5 * TOPIC_WORDS].tolist())
    top = r.details["rows_tested"]["review"]["top_words"]
    assert top[0][0] in new_words and top[0][1] == 0.0 and top[0][2] > 0.02
    again = mlqa.CheckResult.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again.details["rows_tested"] == r.details["rows_tested"]
    assert again.columns["review.classifier"] == clf
    page = html.render(evaluate([bundle.BundleRecord("t.py::text", r)]))
    assert "text column review: drifted" in page and "descriptors that moved" in page
    assert "words whose document share moved most" in page and top[0][0] in page


def test_same_texts_pass_and_each_side_is_seeded():
    r1 = mlqa.check_drift(_texts(600, 3), _texts(600, 4), random_state=5)
    r2 = mlqa.check_drift(_texts(600, 3), _texts(600, 4), random_state=5)
    assert r1.outcome is Outcome.PASS
    assert r1.columns["review.classifier"].p_value == r2.columns["review.classifier"].p_value


def test_embeddings_as_a_column_or_as_arrays_and_the_pca_in_the_report():
    rng = np.random.default_rng(7)
    x, y = mixture(800, 16, rng), mixture(800, 16, rng, shift_dims=2, shift=0.5)
    as_arrays = mlqa.check_drift(pd.DataFrame({"a": rng.normal(size=800)}),
                                 pd.DataFrame({"a": rng.normal(size=800)}),
                                 embeddings={"vec": (x, y)})
    as_column = mlqa.check_drift(pd.DataFrame({"vec": list(x)}), pd.DataFrame({"vec": list(y)}))
    for r in (as_arrays, as_column):
        assert {"vec.classifier", "vec.mmd"} <= set(r.drifted_columns)
        view = r.details["rows_tested"]["vec"]
        assert view["type"] == "embedding" and view["mmd"]["cap"] == 1000
        assert view["components"]["top"][0][0] in (0, 1)
        assert len(view["pca"]["reference"]) == 200
    assert as_arrays.columns["vec.mmd"].statistic == as_column.columns["vec.mmd"].statistic
    page = html.render(evaluate([bundle.BundleRecord("t.py::emb", as_column)]))
    assert "embedding column vec: drifted" in page and "PCA of both sides" in page
    assert page.count("<circle") >= 400
    same = mlqa.check_drift(pd.DataFrame({"vec": list(x[:400])}),
                            pd.DataFrame({"vec": list(x[400:])}))
    assert same.outcome is Outcome.PASS


def test_bad_embeddings_are_refused_by_name():
    x = np.zeros((50, 4))
    with pytest.raises(mlqa.InputError, match="'e'.*2-D"):
        mlqa.check_drift(pd.DataFrame({"a": range(50)}), pd.DataFrame({"a": range(50)}),
                         embeddings={"e": (x, np.zeros(50))})
    with pytest.raises(mlqa.InputError, match="different lengths"):
        mlqa.check_drift(pd.DataFrame({"v": [np.zeros(3)] * 30 + [np.zeros(4)] * 30}),
                         pd.DataFrame({"v": [np.zeros(3)] * 60}))
    r = mlqa.check_drift(pd.DataFrame({"v": list(np.ones((60, 3)))}),
                         pd.DataFrame({"v": list(np.ones((60, 5)))}))
    assert r.outcome is Outcome.ERROR and "same number of dimensions" in r.message


def test_datetime_columns_drift_by_hour_weekday_and_epoch():
    rng = np.random.default_rng(11)
    start = pd.Timestamp("2026-03-02")
    ref = pd.DataFrame({"ts": start + pd.to_timedelta(rng.integers(0, 28 * 86400, 2000), "s"),
                        "day": start + pd.to_timedelta(rng.integers(0, 28, 2000), "D")})
    night = rng.integers(0, 6 * 3600, 2000) + 86400 * rng.integers(0, 28, 2000)
    cur = pd.DataFrame({"ts": start + pd.to_timedelta(night, "s"),
                        "day": start + pd.to_timedelta(rng.integers(0, 28, 2000), "D")})
    cur["day"] = cur["day"].astype("datetime64[s]")  # another unit: the same epoch seconds
    r = mlqa.check_drift(ref, cur)
    assert r.details["rows_tested"]["ts"]["parts"] == ["ts.epoch", "ts.weekday", "ts.hour"]
    # a date-only column has no hour part
    assert r.details["rows_tested"]["day"]["parts"] == ["day.epoch", "day.weekday"]
    assert r.drifted_columns == ["ts.hour"]
    assert r.columns["ts.hour"].test == "chi2_homogeneity"


def test_rows_tests_need_rows_profile_engine_and_evidently_mode_leave_them_out(tmp_path):
    ref, cur = _texts(300, 5), _texts(300, 6)
    from_profile = mlqa.check_drift(profile(ref), cur)
    assert from_profile.excluded["review"].startswith("text column: its tests need the "
                                                      "reference rows")
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    on_engine = mlqa.check_drift(tmp_path / "ref.parquet", tmp_path / "cur.parquet")
    assert on_engine.excluded["review"].startswith("text column: its tests need the reference "
                                                   "rows, which only summaries leave an engine")
    assert list(on_engine.columns) == ["x"]
    for name in ("domain_classifier", "mmd"):
        with pytest.raises(mlqa.InputError, match=f"drift test '{name}' cannot run on the"):
            mlqa.check_drift(tmp_path / "ref.parquet", tmp_path / "cur.parquet",
                             tests={"x": name})
    with pytest.raises(mlqa.InputError, match="leave it out of tests="):
        mlqa.check_drift(ref, cur, tests={"review": "ks"})


@pytest.mark.statistical
def test_no_drift_family_wise_false_alarm_within_alpha():
    """10 seeded A/A pairs of each: text (250 documents a side, 6 parts + a numerical
    column) and embeddings (250 x 32, 2 parts); each check is one Holm family at 0.05. At a
    true rate of 0.05, 3 or more alarms in 10 has probability 1.2% (the larger study is
    benchmarks/rows_drift.py null)."""
    text_alarms = sum(not mlqa.check_drift(_texts(250, 100 + s), _texts(250, 200 + s),
                                           random_state=s).passed for s in range(10))
    emb_alarms = 0
    for s in range(10):
        rng = np.random.default_rng(300 + s)
        r = mlqa.check_drift(pd.DataFrame({"a": rng.normal(size=250)}),
                             pd.DataFrame({"a": rng.normal(size=250)}),
                             embeddings=(mixture(250, 32, rng), mixture(250, 32, rng)),
                             random_state=s)
        emb_alarms += not r.passed
    assert text_alarms <= 2 and emb_alarms <= 2


@pytest.mark.statistical
def test_power_against_a_ten_percent_topic_shift():
    """10% of 1000 documents from a new topic: detected in every one of 5 seeds."""
    flagged = [not mlqa.check_drift(_texts(1000, 400 + s), _texts(1000, 500 + s, shift=0.1),
                                    random_state=s).passed for s in range(5)]
    assert all(flagged)


def test_registry_entries_need_rows_and_run_on_samples_that_carry_them():
    from mlqa.drift.columns import Sample
    from mlqa.drift.stattests import get

    rng = np.random.default_rng(12)
    x, y = mixture(400, 8, rng), mixture(400, 8, rng, shift_dims=2, shift=0.5)
    ref, cur = Sample("embedding", 400, rows=x), Sample("embedding", 400, rows=y)
    for name in ("domain_classifier", "mmd"):
        test = get(name, "embedding")
        assert test.needs_rows and test.returns_p_value
        statistic, p = test.func(ref, cur)
        assert p < 0.01 and statistic > 0
    a, b = (np.array(sentences(300, rng), dtype=object) for _ in range(2))
    auc, p = get("domain_classifier", "text").func(Sample("text", 300, rows=a),
                                                   Sample("text", 300, rows=b))
    assert 0.4 < auc < 0.6 and p > 0.05
