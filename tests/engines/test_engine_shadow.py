"""check_shadow on an engine equals the in-memory check: the disagreements (or the score
shift's moments) are counted where the traffic lives, and prediction drift of the candidate's
column runs on the engine's summaries."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

import mlqa


@pytest.fixture(scope="module")
def traffic(tmp_path_factory):
    rng = np.random.default_rng(13)
    n = 4000
    champion = rng.beta(2, 5, n)
    candidate = np.clip(champion + rng.normal(0, 0.02, n), 0, 1)
    frame = pd.DataFrame({"cand": candidate, "champ": champion,
                          "cand_label": (candidate > 0.3).astype(int),
                          "champ_label": (champion > 0.3).astype(int)})
    evaluation = pd.DataFrame({"cand": rng.beta(2, 4, 3000)})
    evaluation["cand_label"] = (evaluation["cand"] > 0.3).astype(int)
    folder = tmp_path_factory.mktemp("shadow")
    frame.to_parquet(folder / "traffic.parquet")
    evaluation.to_parquet(folder / "eval.parquet")
    return frame, evaluation, str(folder / "traffic.parquet"), str(folder / "eval.parquet")


def same(engine, memory):
    assert engine.outcome == memory.outcome and engine.n == memory.n
    assert engine.value == pytest.approx(memory.value, abs=1e-12)
    assert engine.ci == pytest.approx(memory.ci, abs=1e-9)
    assert engine.disagreements == memory.disagreements
    drift_e, drift_m = (r.components["prediction_drift"] for r in (engine, memory))
    assert drift_e.outcome == drift_m.outcome
    assert drift_e.columns["cand" if engine.mode == "scores" else "cand_label"].p_value == \
        pytest.approx(drift_m.columns["prediction"].p_value, rel=1e-9)


@pytest.mark.parametrize("columns,requirement", [
    (("cand_label", "champ_label"), {"max_disagreement": 0.05}),
    (("cand", "champ"), {"max_score_shift": 0.02})])
def test_duckdb_equals_memory(traffic, columns, requirement):
    frame, evaluation, path, eval_path = traffic
    cand, champ = columns
    memory = mlqa.check_shadow(frame[cand], frame[champ], evaluation_pred=evaluation[cand],
                               **requirement)
    for data, ev in ((path, eval_path), (duckdb.read_parquet(path),
                                         duckdb.read_parquet(eval_path))):
        engine = mlqa.check_shadow(cand, champ, data=data, evaluation_data=ev,
                                   evaluation_pred=cand, **requirement)
        same(engine, memory)


def test_engine_refuses_rows_it_would_need(traffic):
    _, _, path, eval_path = traffic
    with pytest.raises(mlqa.InputError, match="name the candidate's outputs alike"):
        mlqa.check_shadow("cand", "champ", data=path, evaluation_data=eval_path,
                          evaluation_pred="other", max_score_shift=0.1)
    with pytest.raises(mlqa.InputError, match="lacks the columns"):
        mlqa.check_shadow("nope", "champ", data=path, max_score_shift=0.1)


@pytest.mark.spark
def test_spark_equals_memory(traffic, spark):
    frame, evaluation, _, _ = traffic
    memory = mlqa.check_shadow(frame["cand_label"], frame["champ_label"],
                               evaluation_pred=evaluation["cand_label"], max_disagreement=0.05)
    engine = mlqa.check_shadow("cand_label", "champ_label", data=spark.createDataFrame(frame),
                               evaluation_data=spark.createDataFrame(evaluation),
                               evaluation_pred="cand_label", max_disagreement=0.05)
    same(engine, memory)
