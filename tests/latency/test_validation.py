"""Validation of the regression gate on real timings (CPU; CI has no GPU).

20 seeded repetitions, each measuring three arms in alternating rounds in one process
(``measure_latency_interleaved``): the base model, an identical copy, and a model doing 30%
more work (13 instead of 10 Linear(256, 256) + ReLU blocks, batch 32, one thread). The arms
share every round, so a noisy neighbour on this shared 2-core machine slows all of them
alike; the gate is the 99% interval of the p50 ratio (the 40 rounds resampled jointly for
both arms) against a 1.10 margin. When written, under a load average of ~5 on 2 cores (22-30%
of queries preempted): A/A ratios 0.95-1.08, never flagged; heavy/base 1.35-1.54, lowest
lower bound 1.21, flagged 20/20.

Required: the identical copy is flagged at most once in 20; the heavy model at least 19 times.
"""

from __future__ import annotations

import copy

import torch

import mlqa
from mlqa.latency import check_latency_regression, measure_latency_interleaved

REPS = 20


def mlp(blocks: int) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(*[m for _ in range(blocks)
                                 for m in (torch.nn.Linear(256, 256), torch.nn.ReLU())])


def test_identical_model_not_flagged_and_thirty_percent_more_work_flagged():
    base, heavy = mlp(10), mlp(13)
    same = copy.deepcopy(base)
    x = torch.randn(32, 256)
    same_flags, heavy_flags, ratios = 0, 0, []
    for rep in range(REPS):
        arms = measure_latency_interleaved(
            {"base": base, "same": same, "heavy": heavy}, x, device="cpu", batch_sizes=(32,),
            rounds=40, segment_time_s=0.01, warmup_iters=5, warmup_time_s=0.02,
            throughput_time_s=0.005, overhead_iters=50)
        aa = check_latency_regression(arms["same"], arms["base"], seed=rep)
        ab = check_latency_regression(arms["heavy"], arms["base"], seed=rep)
        assert aa.details["paired"] and ab.details["paired"]
        same_flags += aa.outcome is mlqa.Outcome.FAIL
        heavy_flags += ab.outcome is mlqa.Outcome.FAIL
        ratios.append((round(aa.value, 3), round(ab.value, 3)))
    assert same_flags <= 1, f"A/A flagged {same_flags}/{REPS}: {ratios}"
    assert heavy_flags >= 19, f"+30% work flagged {heavy_flags}/{REPS}: {ratios}"
