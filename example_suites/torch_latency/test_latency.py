"""Latency gates for the candidate: an SLO per batch size and no regression.

Each gate is its own JUnit test case; the measured percentiles and the device are recorded as
``mlqa.*`` properties on it.
"""

import os

import pytest
from conftest import BASELINE, BATCH_SIZES

import mlqa
from mlqa.latency import check_latency_regression, measure_latency_interleaved, save_latency

pytestmark = [pytest.mark.mlqa, pytest.mark.gpu]

SLO_MS = {1: 20.0, 8: 40.0}  # p99 per batch size


class TestLatencySLO:
    def test_p99_within_slo(self, latency):
        mlqa.expect_latency(latency, quantile=0.99, max_ms=SLO_MS)

    def test_p50_within_slo(self, latency):
        mlqa.expect_latency(latency, quantile=0.5, max_ms={bs: ms / 2 for bs, ms in
                                                          SLO_MS.items()})


class TestLatencyRegression:
    def test_p50_not_slower_than_stored_record(self, latency):
        """Against the record of the last accepted run (compared only on a like machine:
        another device, GPU model, torch/CUDA version or thread count is INCONCLUSIVE)."""
        if os.environ.get("MLQA_UPDATE_LATENCY_BASELINE") == "1":
            save_latency(latency, BASELINE)
            pytest.skip(f"latency record rewritten: {BASELINE}")
        mlqa.expect(check_latency_regression(latency, BASELINE, max_slowdown=1.10))

    def test_p99_not_slower_than_previous_model(self, model, previous_model, example_batch):
        """With the previous model at hand: both measured in alternating rounds in this
        process, so the tail can be judged even on a shared machine."""
        arms = measure_latency_interleaved(
            {"previous": previous_model, "candidate": model}, example_batch, device="cuda",
            batch_sizes=BATCH_SIZES, rounds=30, segment_time_s=0.02, warmup_time_s=0.1)
        mlqa.expect(check_latency_regression(arms["candidate"], arms["previous"],
                                             quantile=0.99, max_slowdown=1.10))
