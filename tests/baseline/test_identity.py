"""A comparison names the stored baseline record it was judged against, with who promoted it.

Real records in a real local store, real checks against what the record returns; the result
carries the identity through its bundle line (``to_dict``/``from_dict``) unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest

import mlqa
from mlqa.baseline import LocalStore, RecordBuilder, load_record, set_alias
from mlqa.baseline.identity import BaselineIdentity
from mlqa.errors import InputError
from mlqa.latency import LatencyReport, LatencyResult, LatencyRuns
from mlqa.result import CheckResult


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    builder = RecordBuilder(model_name="churn", model_version="1.4.0")
    builder.add_predictions("holdout", y, np.where(rng.random(400) < 0.9, y, 1 - y),
                            metrics=["accuracy"])
    builder.add_latency("cpu", rng.gamma(3, 1, 2000), environment={"device_type": "cpu"})
    store = LocalStore(tmp_path)
    record_id = builder.save(store)
    set_alias(store, "approved", record_id, by="alice", reason="1.4.0 signed off")
    return store


def _candidate(y: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.where(rng.random(len(y)) < 0.9, y, 1 - y)


def test_a_regression_names_the_record_and_its_promotion(store):
    record = load_record(store)  # through the alias "approved"
    stored = record.predictions("holdout")
    result = mlqa.check_regression(stored.y_true, _candidate(stored.y_true), stored,
                                   max_drop=0.05)
    named = result.baseline_record
    assert named == BaselineIdentity(record=record.id, alias="approved", model="churn",
                                     model_version="1.4.0", promoted_by="alice",
                                     promoted_at=named.promoted_at, reason="1.4.0 signed off")
    assert named.promoted_at and named.promoted_at.startswith("20")
    assert named.describe() == (f"record {record.id} (model churn 1.4.0; approved by alice on "
                                f"{named.promoted_at}: 1.4.0 signed off)")
    # through the bundle line and back: the same identity
    assert CheckResult.from_dict(result.to_dict()).baseline_record == named


def test_read_by_id_names_no_promotion_and_latency_names_its_record_too(store):
    record = load_record(store, "latest")  # 'latest' is written by the save, without a person
    by_id = load_record(store, record.id)
    assert by_id.identity == BaselineIdentity(record=record.id, model="churn",
                                              model_version="1.4.0")
    assert by_id.identity.promotion is None
    assert by_id.identity.describe() == f"record {record.id} (model churn 1.4.0)"
    assert record.identity.alias == "latest" and record.identity.promotion is not None
    assert "no reason given" in record.identity.promotion

    rng = np.random.default_rng(2)
    current = LatencyRuns(tuple(
        LatencyReport({1: LatencyResult(1, np.round(rng.gamma(3, 1, 2000) * 1e6))},
                      {"device_type": "cpu"}) for _ in range(3)))
    result = mlqa.check_latency_regression(current, by_id.latency("cpu"))
    assert result.baseline_record == by_id.identity
    # hand-built runs name no record
    assert mlqa.check_latency_regression(current, current).baseline_record is None


def test_a_bundle_line_from_before_names_the_record_by_id_and_a_broken_one_is_refused():
    assert BaselineIdentity.from_details("20261129T195323315310Z-53a7fa19b7") == \
        BaselineIdentity(record="20261129T195323315310Z-53a7fa19b7")
    with pytest.raises(InputError, match="record"):
        BaselineIdentity.from_details({"model": "churn"})
