"""Bad input and faults for the latency family (measure, SLO, regression, stored runs).

Each case names the one bad thing and what must happen: an ``InputError`` naming the argument,
or a result whose outcome is ERROR naming why. Imports of newer names happen inside the actions,
so each case can be run against an older mlqa on its own (how the count on main was taken).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _matrix import Case, cases, error_outcome, input_error, run_case

import mlqa
from mlqa.latency import LatencyReport, LatencyResult, check_latency, check_latency_regression

ENV = {"device": "cpu", "device_type": "cpu", "device_name": "Test CPU", "torch": "2.13.0",
       "cuda": None, "n_threads": 1, "num_threads": 1, "mode": "eager"}
FAST = dict(device="cpu", warmup_iters=1, warmup_time_s=0.0, min_iters=50, min_time_s=0.0,
            max_time_s=0.2, throughput_time_s=0.001, overhead_iters=10)


def report(median: float = 1.0, *, seed: int = 0, bs: int = 1, env: dict | None = None,
           n: int = 1500, pairing: str | None = None, device: bool = False) -> LatencyReport:
    rng = np.random.default_rng(seed)
    ms = rng.lognormal(math.log(median), 0.1, n) if median > 0 else np.zeros(n)
    result = LatencyResult(bs, np.round(ms * 1e6),
                           device_samples_ns=np.round(ms * 1e6) if device else None)
    return LatencyReport(results={bs: result}, environment={**ENV, **(env or {})},
                         pairing=pairing)


def stored(median: float = 1.0, k: int = 5, **kwargs) -> list[LatencyReport]:
    return [report(median, seed=100 + i, **kwargs) for i in range(k)]


def contended() -> LatencyReport:
    """A run where 30% of the queries were preempted (a loaded machine)."""
    base = report(seed=7)[1]
    flags = np.random.default_rng(7).random(base.n) < 0.3
    return LatencyReport(results={1: LatencyResult(1, base.samples_ns, preempted=flags)},
                         environment=ENV)


def measure(model=lambda x: x.sum(), inputs=None, **kwargs):
    inputs = torch.ones(4, 8) if inputs is None else inputs
    return mlqa.measure_latency(model, inputs, **{**FAST, **kwargs})


def raising_model(x):
    raise RuntimeError("boom: the model failed")


def regression(current, baseline, **kwargs):
    return check_latency_regression(current, baseline, **kwargs)


def corrupt_file(tmp, text: str):
    path = tmp / "lat.json"
    path.write_text(text)
    return regression(report(), path)


def tampered_record(tmp):
    from mlqa.baseline import LocalStore, RecordBuilder, load_record
    from mlqa.latency import LatencyRuns

    builder = RecordBuilder()
    builder.add_latency("cpu", LatencyRuns(tuple(stored())))
    record_id = builder.save(LocalStore(tmp))
    side = tmp / "records" / record_id / "latency" / "cpu.json.gz"
    side.write_bytes(side.read_bytes()[:-20])
    return load_record(LocalStore(tmp), record_id).latency("cpu")


def unpicklable_runs(tmp):
    from mlqa.latency import measure_latency_runs

    return measure_latency_runs(lambda x: x, torch.ones(2, 2), runs=2, **FAST)


CASES = [
    # -- measuring ---------------------------------------------------------------------------
    Case("latency-measure-model-raises", lambda tmp: measure(raising_model),
         input_error("boom: the model failed", exc=RuntimeError)),
    Case("latency-measure-not-callable", lambda tmp: measure(42),
         input_error("model must be callable")),
    Case("latency-measure-batch-size-zero", lambda tmp: measure(batch_sizes=(0,)),
         input_error("batch_sizes must be an integer >= 1 or a non-empty list of integers "
                     ">= 1, got (0,)")),
    Case("latency-measure-batch-size-bool", lambda tmp: measure(batch_sizes=(True,)),
         input_error("batch_sizes must be an integer >= 1 or a non-empty list of integers "
                     ">= 1, got (True,)")),
    Case("latency-measure-quantile-one", lambda tmp: measure(quantiles=(0.5, 1.0)),
         input_error("quantiles must be a non-empty list of numbers in (0, 1), got (0.5, 1.0)")),
    Case("latency-measure-quantile-nan", lambda tmp: measure(quantiles=(float("nan"),)),
         input_error("quantiles must be a non-empty list of numbers in (0, 1), got (nan,)")),
    Case("latency-measure-confidence-one", lambda tmp: measure(confidence=1.0),
         input_error("confidence must be a number in [0.5, 1), got 1.0")),
    Case("latency-measure-n-threads-zero", lambda tmp: measure(n_threads=0),
         input_error("n_threads must be an integer >= 1 or None, got 0")),
    Case("latency-measure-empty-batch", lambda tmp: measure(inputs=torch.zeros(0, 8)),
         input_error("empty batch dimension")),
    Case("latency-measure-inputs-none", lambda tmp: mlqa.measure_latency(abs, None, **FAST),
         input_error("example_inputs is required")),
    Case("latency-measure-cuda-graph-on-cpu", lambda tmp: measure(mode="cuda_graph"),
         input_error("mode='cuda_graph' needs a CUDA device")),
    Case("latency-measure-unknown-device", lambda tmp: measure(device="tpu"),
         input_error("device must be 'cuda', 'cuda:<i>', 'cpu' or 'auto'")),
    Case("latency-measure-max-time-zero", lambda tmp: measure(max_time_s=0),
         input_error("max_time_s must be a number > 0, got 0")),
    Case("latency-runs-unpicklable-model", unpicklable_runs,
         input_error("cannot be pickled")),
    # -- the SLO -------------------------------------------------------------------------------
    Case("latency-slo-quantile-zero", lambda tmp: check_latency(report(), quantile=0, max_ms=5),
         input_error("quantile must be a number in (0, 1), got 0")),
    Case("latency-slo-quantile-bool",
         lambda tmp: check_latency(report(), quantile=True, max_ms=5),
         input_error("quantile must be a number")),
    Case("latency-slo-max-ms-nan",
         lambda tmp: check_latency(report(), quantile=0.99, max_ms=float("nan")),
         input_error("max_ms must be a number > 0, a mapping batch size -> a number > 0 or None, "
                     "got nan")),
    Case("latency-slo-max-ms-bool", lambda tmp: check_latency(report(), quantile=0.99,
                                                              max_ms=True),
         input_error("max_ms must be a number")),
    Case("latency-slo-max-ms-missing-batch",
         lambda tmp: check_latency(report(), quantile=0.99, max_ms={8: 5.0}),
         input_error("max_ms has no limit for batch size(s) [1]")),
    Case("latency-slo-not-a-report", lambda tmp: check_latency([1.0, 2.0], max_ms=5),
         input_error("report must be a LatencyReport")),
    # -- regression: comparability and the design ----------------------------------------------
    Case("latency-regression-unlike-hardware",
         lambda tmp: regression(report(env={"device_type": "cuda", "device_name": "H100"}),
                                report(seed=2)),
         error_outcome("not comparable with the baseline (guard: environment)")),
    Case("latency-regression-unlike-threads",
         lambda tmp: regression(report(env={"n_threads": 4, "num_threads": 4}),
                                report(seed=2)),
         error_outcome("n_threads 4 vs 1")),
    Case("latency-regression-unlike-torch-in-baseline-runs",
         lambda tmp: regression(report(), stored()[:4] + [report(env={"torch": "2.14.0"})]),
         error_outcome("torch '2.13.0' vs '2.14.0'")),
    Case("latency-regression-one-stored-run",
         lambda tmp: regression(report(1.3, seed=1), report(seed=2)),
         error_outcome("not offered as a gate")),
    Case("latency-regression-contended-current-run",
         lambda tmp: regression(contended(), stored()),
         error_outcome("preempted queries (> 5%)", outcome="inconclusive")),
    Case("latency-regression-zero-latency-baseline",
         lambda tmp: regression(report(), stored(0.0)),
         error_outcome("undefined")),
    Case("latency-regression-confidence-one",
         lambda tmp: regression(report(), stored(), confidence=1.0),
         input_error("confidence must be a number in [0.5, 1), got 1.0")),
    Case("latency-regression-too-few-resamples",
         lambda tmp: regression(report(pairing="p"), report(seed=1, pairing="p"),
                                n_resamples=10),
         input_error("n_resamples must be an integer >= 100")),
    Case("latency-regression-max-slowdown-negative",
         lambda tmp: regression(report(), stored(), max_slowdown=-1.1),
         input_error("max_slowdown must be a number > 0, got -1.1")),
    Case("latency-regression-max-slowdown-bool",
         lambda tmp: regression(report(), stored(), max_slowdown=True),
         input_error("max_slowdown must be a number")),
    Case("latency-regression-no-common-batch",
         lambda tmp: regression(report(bs=8), stored()),
         input_error("share no batch size")),
    Case("latency-regression-baseline-dict",
         lambda tmp: regression(report(), {"p50": 1.0}),
         input_error("baseline must be a LatencyReport")),
    Case("latency-regression-timing-unknown",
         lambda tmp: regression(report(), stored(), timing="cpu"),
         input_error("timing must be one of 'wall', 'device', got 'cpu'")),
    Case("latency-regression-no-device-time",
         lambda tmp: regression(report(), stored(), timing="device"),
         input_error("no device time was recorded")),
    # -- stored files and records ---------------------------------------------------------------
    Case("latency-file-missing", lambda tmp: regression(report(), tmp / "none.json"),
         input_error("latency record not found")),
    Case("latency-file-truncated", lambda tmp: corrupt_file(tmp, '{"schema": 2, "ki'),
         input_error("could not be read")),
    Case("latency-file-newer-schema",
         lambda tmp: corrupt_file(tmp, '{"schema": 9, "kind": "mlqa.latency_report"}'),
         input_error("newer than this mlqa reads")),
    Case("latency-record-side-file-truncated", tampered_record,
         input_error("failed its sha256 check")),
    Case("latency-runs-empty", lambda tmp: __import__("mlqa.latency", fromlist=["x"])
         .LatencyRuns(()), input_error("LatencyRuns needs at least one run")),
]


@pytest.mark.parametrize("case", cases(CASES))
def test_case(case, tmp_path, record_property):
    run_case(case, tmp_path, record_property)


def test_a_raising_model_is_named_in_a_note():
    """The model's own exception type is kept (so the test errors, never passes) and a note
    says which model and batch size it came from."""
    with pytest.raises(RuntimeError) as info:
        measure(raising_model, batch_sizes=(2,))
    assert any("raised while measuring raising_model at batch size 2" in n
               for n in getattr(info.value, "__notes__", []))
