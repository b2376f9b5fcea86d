"""measure_latency on CPU with real torch models, TorchScript and plain callables."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

import mlqa
from mlqa import policy
from mlqa.latency import measure_latency, resolve_device

FAST = dict(device="cpu", warmup_iters=3, warmup_time_s=0.0, min_iters=50, min_time_s=0.0,
            max_time_s=0.3, throughput_time_s=0.01, overhead_iters=200)


def mlp(blocks: int = 2, width: int = 64) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(*[m for _ in range(blocks)
                                 for m in (torch.nn.Linear(width, width), torch.nn.ReLU())])


def test_report_per_batch_size_with_percentiles_throughput_and_environment():
    model = mlp()
    model.train()
    lat = measure_latency(model, torch.randn(3, 64), batch_sizes=(1, 4),
                          quantiles=(0.5, 0.99), **FAST)
    assert lat.batch_sizes == (1, 4) and lat.device == "cpu"
    assert not model.training  # measured in eval mode
    for bs in (1, 4):
        r = lat[bs]
        assert r.n >= 50 and r.stop_reason in ("ci_target_met", "max_time")
        p50 = r.quantile(0.5)
        assert 0 < p50.ci_low <= p50.value <= p50.ci_high
        assert r.p50 <= r.p99
        assert r.throughput_qps > 0 and r.throughput_items_per_s == r.throughput_qps * bs
        assert r.cold_ns > 0 and r.warmup_iters >= 3
        assert 0 < r.overhead_ns < 50_000
        assert r.preempted is not None and len(r.preempted) == r.n
        assert r.peak_memory_bytes > 0 and r.memory_kind == "process_max_rss"
        # one thread: device time is the thread's CPU time; its window also holds the two
        # wall-clock reads (a few us where the thread clock is a system call, as here)
        assert len(r.device_samples_ns) == r.n
        assert 0 < np.median(r.device_samples_ns) <= np.median(r.samples_ns) + 10_000
        assert set(r.summary()) >= {"p50_ms", "p99_ci_ms", "throughput_qps", "cold_ms"}
    env = lat.environment
    assert env["device_type"] == "cpu" and env["n_threads"] == 1
    assert env["torch"] == torch.__version__ and env["mode"] == "eager"
    assert env["host"]["cpu_count"] >= 1 and env["device_name"]


def test_batches_are_built_from_the_example_rows():
    shapes = []

    def model(x, *, scale):
        shapes.append((tuple(x.shape), scale))
        return x * scale

    measure_latency(model, {"x": np.arange(6.0).reshape(3, 2), "scale": 2.0},
                    batch_sizes=(1, 5), **FAST)
    assert {(1, 2), (5, 2)} <= {s for s, _ in shapes}
    assert {scale for _, scale in shapes} == {2.0}

    seen = []
    measure_latency(lambda a, b: seen.append((len(a), b.shape[0])),
                    lambda bs: (list(range(bs)), torch.zeros(bs, 1)), batch_sizes=(7,), **FAST)
    assert set(seen) == {(7, 7)}


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torchscript_and_plain_callables_are_measured():
    scripted = torch.jit.script(mlp())
    lat = measure_latency(scripted, torch.randn(2, 64), **FAST)
    assert lat[1].n >= 50 and lat.model
    plain = measure_latency(sum, ([1, 2, 3],), n_threads=None, **FAST)
    assert plain[1].p50 < 1.0
    assert plain[1].device_samples_ns is None  # threads not pinned: CPU time means nothing


def test_cold_first_call_is_kept_apart():
    calls = []

    def model(x):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.05)
        return x

    lat = measure_latency(model, torch.zeros(1, 1), **FAST)
    assert lat[1].cold_ns >= 50e6
    assert lat[1].quantile(0.99).value < 50  # ms: the cold call is not among the samples


def test_stop_reasons():
    x = torch.zeros(1, 1)
    capped = measure_latency(lambda t: t, x, **{**FAST, "max_iters": 120, "max_time_s": 5.0})
    assert capped[1].stop_reason == "max_iters" and capped[1].n == 120
    tight = measure_latency(lambda t: t, x, **{**FAST, "quantiles": (0.5,),
                                              "target_rel_ci": 10.0, "max_time_s": 5.0})
    assert tight[1].stop_reason == "ci_target_met" and tight[1].n == 50
    timed = measure_latency(lambda t: time.sleep(0.01), x, **{**FAST, "max_time_s": 0.1})
    assert timed[1].stop_reason == "max_time" and 5 <= timed[1].n <= 12


def test_a_query_that_gives_up_the_cpu_is_marked_preempted():
    # sleeping is wall time without thread CPU time: the probe must see it
    lat = measure_latency(lambda t: time.sleep(0.001), torch.zeros(1), **FAST)
    assert lat[1].preempted_fraction > 0.9
    assert lat[1].quantile(0.5, timing="device").value < 0.5  # ms: sleeping is not work
    busy = measure_latency(lambda t: sum(range(2000)), torch.zeros(1), **FAST)
    assert busy[1].preempted_fraction < 0.5


def test_cuda_without_gpu_raises_device_unavailable_naming_torch():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(mlqa.DeviceUnavailable) as info:
        measure_latency(mlp(), torch.randn(1, 64), device="cuda")
    assert torch.__version__ in str(info.value) and "CUDA build" in str(info.value)
    assert resolve_device("auto") == "cpu"


def test_device_override_from_policy():
    with policy.using(device="cpu"):
        lat = measure_latency(mlp(), torch.randn(1, 64), **{**FAST, "device": "cuda"})
    assert lat.device == "cpu"


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_sizes": (0,)}, "batch_sizes"),
    ({"batch_sizes": (2, 2)}, "batch_sizes"),
    ({"quantiles": (1.5,)}, "quantiles"),
    ({"confidence": 1.0}, "confidence"),
    ({"mode": "compiled"}, "mode"),
    ({"mode": "cuda_graph"}, "needs a CUDA device"),
    ({"n_threads": 0}, "n_threads"),
    ({"max_time_s": 0}, "max_time_s"),
    ({"device": "tpu"}, "device must be"),
])
def test_bad_settings_are_input_errors(kwargs, match):
    with pytest.raises(mlqa.InputError, match=match):
        measure_latency(mlp(), torch.randn(1, 64), **{**FAST, **kwargs})


def test_not_callable_and_empty_inputs():
    with pytest.raises(mlqa.InputError, match="model must be callable"):
        measure_latency(object(), torch.zeros(1), **FAST)
    with pytest.raises(mlqa.InputError, match="empty batch"):
        measure_latency(mlp(), torch.zeros(0, 64), **FAST)


def test_threads_are_pinned_and_restored():
    before = torch.get_num_threads()
    seen = []
    measure_latency(lambda t: seen.append(torch.get_num_threads()), torch.zeros(1),
                    **{**FAST, "n_threads": 1})
    assert set(seen) == {1} and torch.get_num_threads() == before
