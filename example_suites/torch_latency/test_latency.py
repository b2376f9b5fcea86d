"""Latency gates for the candidate: an SLO per batch size and no regression.

Each gate is its own JUnit test case; the measured percentiles and the device are recorded as
``mlqa.*`` properties on it.

The stored-baseline gate reads the approved record of the baseline store (pytest.ini). To
record one on a new agent pool::

    pytest example_suites/torch_latency --mlqa-save-baseline -k record_latency_baseline
    mlqa baseline promote --store example_suites/torch_latency/baselines

Without an approved record the stored gate is an error (a missing baseline never passes).
"""

import pytest
from conftest import BASELINE_NAME, BASELINE_RUNS, BATCH_SIZES, MEASURE

import mlqa
from mlqa.latency import (
    check_latency_regression,
    measure_latency_interleaved,
    measure_latency_runs,
)

pytestmark = [pytest.mark.mlqa, pytest.mark.gpu]

SLO_MS = {1: 20.0, 8: 40.0}  # p99 per batch size


class TestLatencySLO:
    def test_p99_within_slo(self, latency):
        mlqa.expect_latency(latency, quantile=0.99, max_ms=SLO_MS)

    def test_p50_within_slo(self, latency):
        mlqa.expect_latency(latency, quantile=0.5, max_ms={bs: ms / 2 for bs, ms in
                                                          SLO_MS.items()})


class TestLatencyRegression:
    def test_record_latency_baseline(self, model, example_batch, mlqa_baseline, mlqa_device):
        """With --mlqa-save-baseline: this candidate's latency, several runs each in a fresh
        process, goes into the run's baseline record (saved only if the whole run passes)."""
        if not mlqa_baseline.saving:
            pytest.skip("no baseline recorded: run with --mlqa-save-baseline to record one")
        runs = measure_latency_runs(model, example_batch, runs=BASELINE_RUNS,
                                    device=mlqa_device, **MEASURE)
        mlqa_baseline.save_latency(BASELINE_NAME, runs)

    def test_p50_not_slower_than_stored_baseline(self, latency, mlqa_baseline):
        """Against the approved record's runs: the run is the unit, so the gate knows how
        much separate processes differ. Runs from another device, GPU model, torch/CUDA
        version or thread count are never compared: an ERROR naming the difference."""
        if mlqa_baseline.saving:
            pytest.skip("recording a baseline: nothing approved to compare with in this run")
        mlqa.expect(check_latency_regression(latency, mlqa_baseline.latency(BASELINE_NAME),
                                             max_slowdown=1.10))

    def test_p99_not_slower_than_previous_model(self, model, previous_model, example_batch,
                                                mlqa_device):
        """With the previous model at hand: both measured in alternating rounds in this
        process, so the tail can be judged even on a shared machine."""
        arms = measure_latency_interleaved(
            {"previous": previous_model, "candidate": model}, example_batch,
            device=mlqa_device, batch_sizes=BATCH_SIZES, rounds=30, segment_time_s=0.02,
            warmup_time_s=0.1)
        mlqa.expect(check_latency_regression(arms["candidate"], arms["previous"],
                                             quantile=0.99, max_slowdown=1.10))
