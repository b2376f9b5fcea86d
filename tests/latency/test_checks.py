"""check_latency and check_latency_regression on synthetic reports with known samples."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mlqa
from mlqa.latency import (
    LatencyReport,
    LatencyResult,
    LatencyRuns,
    check_latency,
    check_latency_regression,
    expect_latency,
    load_latency,
    save_latency,
)
from mlqa.report.junit import result_properties

ENV = {"device": "cpu", "device_type": "cpu", "device_name": "Test CPU", "torch": "2.13.0",
       "cuda": None, "n_threads": 1, "mode": "eager"}


def report(ms_by_batch, *, env=None, preempted=None, pairing=None, seed=0):
    """A report whose batch sizes hold the given latencies (ms), or n lognormal draws."""
    rng = np.random.default_rng(seed)
    results = {}
    for bs, spec in ms_by_batch.items():
        ms = rng.lognormal(np.log(spec[0]), spec[1], size=spec[2]) if isinstance(spec, tuple) \
            else np.asarray(spec, dtype=float)
        flags = None if preempted is None else preempted(len(ms), rng)
        results[bs] = LatencyResult(batch_size=bs, samples_ns=np.round(ms * 1e6),
                                    preempted=flags, stop_reason="max_time")
    return LatencyReport(results=results, environment={**ENV, **(env or {})}, model="m",
                         pairing=pairing)


def test_slo_pass_fail_inconclusive_on_the_interval():
    lat = report({1: (1.0, 0.1, 2000)})
    p99 = lat[1].quantile(0.99)
    assert check_latency(lat, quantile=0.99, max_ms=p99.ci_high * 1.01).outcome is mlqa.Outcome.PASS
    failed = check_latency(lat, quantile=0.99, max_ms=p99.ci_low * 0.99)
    assert failed.outcome is mlqa.Outcome.FAIL
    assert failed.ci == pytest.approx(p99.ci) and failed.value == pytest.approx(p99.value)
    assert failed.n == 2000 and failed.threshold == pytest.approx(p99.ci_low * 0.99)
    assert "p99 latency ms (batch 1)" in failed.message and "99% CI" in failed.message
    straddle = check_latency(lat, quantile=0.99, max_ms=p99.value)
    assert straddle.outcome is mlqa.Outcome.INCONCLUSIVE
    assert "straddles" in straddle.message
    assert check_latency(lat, quantile=0.99, max_ms=p99.value, policy="certify").outcome \
        is mlqa.Outcome.FAIL


def test_too_few_queries_give_no_bound_and_no_pass():
    lat = report({1: (1.0, 0.1, 300)})  # p99 at 99% needs 528 for a finite upper bound
    r = check_latency(lat, quantile=0.99, max_ms=1000.0)
    assert r.outcome is mlqa.Outcome.INCONCLUSIVE
    assert "needs >= 528" in r.message and r.ci[1] is None
    certified = check_latency(lat, quantile=0.99, max_ms=1000.0, policy="certify")
    assert certified.outcome is mlqa.Outcome.FAIL and "not certified" in certified.message
    assert check_latency(lat, quantile=0.5, max_ms=1000.0).outcome is mlqa.Outcome.PASS


def test_breach_made_of_preempted_queries_is_not_a_failure():
    # 1 ms queries; 3% of them (the preempted ones) took a 4 ms time slice more
    ms = np.full(3000, 1.0) + np.random.default_rng(1).uniform(0, 0.05, 3000)
    hit = np.zeros(3000, bool)
    hit[::33] = True
    ms[hit] += 4.0
    lat = LatencyReport(results={1: LatencyResult(1, np.round(ms * 1e6), preempted=hit)},
                        environment=ENV)
    r = check_latency(lat, quantile=0.99, max_ms=2.0)
    assert r.outcome is mlqa.Outcome.INCONCLUSIVE
    assert "preempted" in r.message
    assert check_latency(lat, quantile=0.99, max_ms=2.0, policy="certify").outcome \
        is mlqa.Outcome.FAIL
    # the same tail, not explained by preemption, fails
    plain = LatencyReport(results={1: LatencyResult(1, np.round(ms * 1e6))}, environment=ENV)
    assert check_latency(plain, quantile=0.99, max_ms=2.0).outcome is mlqa.Outcome.FAIL


def test_several_batch_sizes_report_the_worst():
    lat = report({1: (1.0, 0.05, 1000), 8: (3.0, 0.05, 1000)})
    r = check_latency(lat, quantile=0.5, max_ms=2.0)
    assert r.outcome is mlqa.Outcome.FAIL
    assert r.details["batch_size"] == 8
    assert r.details["batch_sizes"]["1"]["outcome"] == "pass"  # details are plain JSON
    assert "worst of batch sizes 1, 8" in r.message
    assert check_latency(lat, quantile=0.5, max_ms={1: 2.0, 8: 5.0}).outcome is mlqa.Outcome.PASS
    assert check_latency(lat, quantile=0.5, max_ms=2.0, batch_size=1).outcome is mlqa.Outcome.PASS


@pytest.mark.parametrize("kwargs, match", [
    ({"max_ms": None}, "max_ms="),
    ({"max_ms": -1},
     r"max_ms must be a number > 0, a mapping batch size -> a number > 0 or None, got -1"),
    ({"max_ms": {8: 1.0}}, "no limit for batch size"),
    ({"max_ms": 1.0, "policy": "strict"}, "policy"),
    ({"max_ms": 1.0, "quantile": 99}, "quantile"),
    ({"max_ms": 1.0, "batch_size": 4}, "batch_size 4"),
])
def test_check_latency_bad_input_names_the_argument(kwargs, match):
    lat = report({1: (1.0, 0.1, 100)})
    with pytest.raises(mlqa.InputError, match=match):
        check_latency(lat, **kwargs)


def test_not_a_report_is_input_error_and_expect_makes_it_an_error_result():
    with pytest.raises(mlqa.InputError, match="LatencyReport"):
        check_latency([1.0, 2.0], max_ms=1.0)
    with mlqa.recording.capture() as seen, pytest.raises(mlqa.CheckError):
        expect_latency([1.0, 2.0], max_ms=1.0)
    assert seen[0].outcome is mlqa.Outcome.ERROR and seen[0].check == "latency"


def test_expect_latency_raises_on_failure_and_records_properties():
    lat = report({1: (1.0, 0.1, 2000)})
    with pytest.raises(mlqa.QualityGateFailure) as info:
        expect_latency(lat, quantile=0.99, max_ms=0.5)
    props = dict(result_properties(info.value.result))
    assert props["mlqa.outcome"] == "fail" and props["mlqa.device"] == "cpu"
    assert float(props["mlqa.p99_ms"]) == pytest.approx(lat[1].p99)
    assert float(props["mlqa.p50_ms"]) == pytest.approx(lat[1].p50)
    assert props["mlqa.batch_size"] == "1"


def test_details_carry_what_the_release_report_plots():
    lat = report({1: (1.0, 0.1, 2000), 8: (2.0, 0.1, 1000)})
    r = check_latency(lat, quantile=0.99, max_ms=50)
    d = r.details
    assert d["percentiles_by_batch"]["8"]["p99"] == pytest.approx(lat[8].p99)
    assert d["p50"] == d["percentiles_by_batch"][str(d["batch_size"])]["p50"]
    p99 = {p.batch_size: p for p in r.percentiles if p.quantile == 0.99}
    assert p99[8].value == pytest.approx(lat[8].p99) and p99[8].low <= p99[8].value <= p99[8].high
    hist = r.histogram
    assert len(hist.edges) == len(hist.counts) + 1 and hist.log
    assert sum(hist.counts) == lat[d["batch_size"]].n


def runs(median, k, *, seed, run_sd=0.02, n=1500, preempted=None, env=None, sigma=0.1):
    """k runs of one model: each run's latencies shifted by its own factor exp(N(0, run_sd))
    (what separates processes), queries lognormal around it."""
    rng = np.random.default_rng(seed)
    shifts = rng.normal(0, run_sd, k)
    return LatencyRuns(tuple(report({1: (median * np.exp(d), sigma, n)}, seed=seed * 100 + i,
                                    preempted=preempted, env=env)
                             for i, d in enumerate(shifts)))


def test_regression_against_stored_runs_flags_a_slowdown_beyond_the_margin_only():
    base = runs(1.0, 5, seed=1)
    same = runs(1.0, 1, seed=2)[0]
    slow = runs(1.3, 1, seed=3)[0]
    near = runs(1.1, 1, seed=4)[0]
    ok = check_latency_regression(same, base)
    assert ok.outcome is mlqa.Outcome.PASS, ok.message
    r = check_latency_regression(slow, base)
    assert r.outcome is mlqa.Outcome.FAIL and r.value == pytest.approx(1.3, rel=0.06)
    assert r.ci[0] > 1.1 and r.threshold == pytest.approx(1.1)
    assert r.details["paired"] is False and r.details["method"] == "runs"
    assert r.details["runs"] == [1, 5] and r.details["df"] == 4
    assert "1 run(s) vs 5 baseline run(s)" in r.message
    assert check_latency_regression(near, base).outcome is mlqa.Outcome.INCONCLUSIVE
    assert check_latency_regression(slow, base, max_slowdown=1.5).outcome is mlqa.Outcome.PASS
    # a list of reports is the same baseline; several current runs count as several
    assert check_latency_regression(slow, list(base)).ci == pytest.approx(r.ci)
    two = check_latency_regression(runs(1.3, 2, seed=5), base)
    assert two.outcome is mlqa.Outcome.FAIL and two.details["df"] == 5


def test_interval_widens_with_run_to_run_spread():
    """Runs that disagree (10% SD between processes) widen the interval: the identical model
    is not failed at p99 on them, and the spread is reported."""
    base = runs(1.0, 4, seed=6, run_sd=0.10)
    same = runs(1.0, 1, seed=7, run_sd=0.10)[0]
    r = check_latency_regression(same, base, quantile=0.99)
    assert r.outcome is not mlqa.Outcome.FAIL
    assert r.details["between_run_sd"] > 0.03
    assert r.ci[1] / r.ci[0] > 1.3


def test_one_run_against_one_stored_run_is_not_offered_as_a_gate():
    base = report({1: (1.0, 0.1, 3000)}, seed=1)
    slow = report({1: (1.3, 0.1, 3000)}, seed=3)
    r = check_latency_regression(slow, base)
    assert r.outcome is mlqa.Outcome.ERROR and r.details["refused"] == "single stored run"
    assert "not offered as a gate" in r.message and "measure_latency_interleaved" in r.message


def test_regression_refuses_unlike_environments_naming_the_guard():
    base = runs(1.0, 3, seed=1)
    other = report({1: (2.0, 0.1, 1000)}, env={"device_type": "cuda", "device_name": "H100",
                                               "n_threads": 4})
    r = check_latency_regression(other, base)
    assert r.outcome is mlqa.Outcome.ERROR and r.details["incomparable"] == "environment"
    for text in ("not comparable with the baseline (guard: environment)",
                 "device_type 'cuda' vs 'cpu'",
                 "device_name 'H100' vs 'Test CPU'", "n_threads 4 vs 1"):
        assert text in r.message
    assert "torch" not in r.details["differences"][0]
    # under the default 'warn' policy an ERROR is never a pass
    with pytest.raises(mlqa.CheckError):
        mlqa.expect(r)
    # a record written before the rename (num_threads) is still compared key for key
    legacy = {k: v for k, v in ENV.items() if k != "n_threads"} | {"num_threads": 1}
    old = LatencyRuns(tuple(LatencyReport(results=dict(run.results), environment=legacy)
                            for run in base))
    assert check_latency_regression(base[0], old).outcome is not mlqa.Outcome.ERROR


def test_contended_runs_are_not_judged_against_stored_runs_unless_paired():
    def heavy(n, rng):
        return rng.random(n) < 0.10

    slow = runs(1.3, 1, seed=1, preempted=heavy)[0]
    base = runs(1.0, 4, seed=2, preempted=heavy)
    tail = check_latency_regression(slow, base, quantile=0.99)
    assert tail.outcome is mlqa.Outcome.INCONCLUSIVE
    assert "preempted queries (> 5%)" in tail.message
    assert "measure_latency_interleaved" in tail.message
    # the median too (a loaded machine moves it between processes); paired arms saw the same
    # neighbours and are judged
    assert check_latency_regression(slow, base).outcome is mlqa.Outcome.INCONCLUSIVE
    assert check_latency_regression(slow, base, max_contention=0.2).outcome \
        is mlqa.Outcome.FAIL
    a = report({1: (1.3, 0.1, 3000)}, preempted=heavy, pairing="run1", seed=1)
    b = report({1: (1.0, 0.1, 3000)}, preempted=heavy, pairing="run1", seed=2)
    paired = check_latency_regression(a, b, quantile=0.99)
    assert paired.outcome is mlqa.Outcome.FAIL and paired.details["paired"] is True


def test_contended_baseline_runs_are_left_out():
    quiet = runs(1.0, 6, seed=3)
    noisy = runs(1.0, 2, seed=4, preempted=lambda n, rng: rng.random(n) < 0.2)
    slow = runs(1.3, 1, seed=5)[0]
    r = check_latency_regression(slow, LatencyRuns(quiet.runs + noisy.runs), max_contention=0.1)
    assert r.outcome is mlqa.Outcome.FAIL, r.message
    assert r.details["baseline_runs_dropped"] == 2 and "2 contended baseline run(s)" in r.message


def test_gpu_slowdown_leaves_tails_unjudged():
    slow = report({1: (1.3, 0.1, 3000)}, env={"throttled": "GPU slowdown reasons active"})
    base = runs(1.0, 3, seed=5)
    assert check_latency_regression(slow, base, quantile=0.99).outcome \
        is mlqa.Outcome.INCONCLUSIVE
    assert check_latency_regression(slow, base).outcome is mlqa.Outcome.FAIL


def test_regression_bad_input():
    base = report({1: (1.0, 0.1, 500)})
    with pytest.raises(mlqa.InputError, match="share no batch size"):
        check_latency_regression(report({8: (1.0, 0.1, 500)}), base)
    with pytest.raises(mlqa.InputError, match="max_slowdown"):
        check_latency_regression(base, base, max_slowdown=0)
    with pytest.raises(mlqa.InputError, match="baseline must be a LatencyReport"):
        check_latency_regression(base, {"p50": 1.0})


def test_old_names_and_positional_requirements_warn_for_one_release():
    a = report({1: (1.0, 0.1, 800)}, pairing="p", seed=1)
    b = report({1: (1.0, 0.1, 800)}, pairing="p", seed=2)
    new = check_latency_regression(a, b, max_slowdown=1.2, n_resamples=300, random_state=3)
    with pytest.warns(DeprecationWarning, match="draws= is deprecated"):
        old = check_latency_regression(a, b, max_slowdown=1.2, draws=300, random_state=3)
    assert old.ci == new.ci
    with pytest.warns(DeprecationWarning, match="seed= is deprecated"):
        assert check_latency_regression(a, b, max_slowdown=1.2, n_resamples=300,
                                        seed=3).ci == new.ci
    with pytest.warns(DeprecationWarning, match="by keyword"):
        assert check_latency_regression(a, b, 1.2, n_resamples=300, random_state=3).ci \
            == new.ci
    with pytest.warns(DeprecationWarning, match="by keyword"):
        assert check_latency(a, 0.5, 100.0).outcome is mlqa.Outcome.PASS
    with pytest.raises(mlqa.InputError, match="pass n_resamples= only"):
        check_latency_regression(a, b, n_resamples=300, draws=400)
    with pytest.raises(mlqa.InputError, match="n_resamples must be an integer >= 100"):
        check_latency_regression(a, b, n_resamples=10)
    with pytest.raises(mlqa.InputError, match="random_state"):
        check_latency_regression(a, b, random_state="x")
    with pytest.raises(mlqa.InputError, match="confidence"):
        check_latency_regression(a, b, confidence=True)


def test_records_round_trip_and_serve_as_baseline(tmp_path):
    lat = report({1: (1.0, 0.1, 800), 8: (2.0, 0.1, 800)},
                 preempted=lambda n, rng: rng.random(n) < 0.01)
    path = save_latency(lat, tmp_path / "records" / "lat.json")
    data = json.loads(path.read_text())
    assert data["schema"] == 2 and data["kind"] == "mlqa.latency_report"
    assert len(data["results"]) == 2
    back = load_latency(path)
    assert back.batch_sizes == (1, 8) and back.environment == lat.environment
    assert np.array_equal(back[8].samples_ns, lat[8].samples_ns)
    assert np.array_equal(back[1].preempted, lat[1].preempted)
    assert back[8].quantile(0.99).ci == lat[8].quantile(0.99).ci
    # one stored run is not a gate; several are
    assert check_latency_regression(lat, path).outcome is mlqa.Outcome.ERROR
    several = runs(1.0, 6, seed=9)
    path = save_latency(several, tmp_path / "records" / "runs.json")
    back_runs = load_latency(path)
    assert isinstance(back_runs, LatencyRuns) and len(back_runs) == 6
    r = check_latency_regression(several[0], path)
    assert r.outcome is mlqa.Outcome.PASS and r.details["runs"] == [1, 6]
    with pytest.raises(mlqa.InputError, match="not found"):
        check_latency_regression(lat, tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"schema": "other"}')
    with pytest.raises(mlqa.InputError, match="schema"):
        load_latency(tmp_path / "bad.json")
    (tmp_path / "newer.json").write_text('{"schema": 99, "kind": "mlqa.latency_report"}')
    with pytest.raises(mlqa.InputError, match="newer than this mlqa reads"):
        load_latency(tmp_path / "newer.json")
    # files written before the one versioning scheme are still read
    legacy = dict(lat.to_dict(), schema="mlqa.latency/1")
    legacy.pop("kind")
    (tmp_path / "legacy.json").write_text(json.dumps(legacy))
    assert load_latency(tmp_path / "legacy.json").batch_sizes == (1, 8)


def test_device_timing_judges_work_whatever_the_preemption():
    """Wall time drowned in preemption (every query hit by a 4 ms slice): the wall tails are
    not judged, while device time (the work) shows the 30% slowdown."""
    rng = np.random.default_rng(8)

    def run(work_ms, seed):
        work = rng.lognormal(np.log(work_ms), 0.05, 2000)
        wall = work + 4.0
        return LatencyReport(results={1: LatencyResult(
            1, np.round(wall * 1e6), preempted=np.ones(2000, bool),
            device_samples_ns=np.round(work * 1e6))}, environment=ENV)

    slow, base = run(1.3, 1), [run(1.0, 2), run(1.0, 3), run(1.0, 4)]
    assert check_latency_regression(slow, base, quantile=0.99).outcome \
        is mlqa.Outcome.INCONCLUSIVE
    r = check_latency_regression(slow, base, quantile=0.99, timing="device")
    assert r.outcome is mlqa.Outcome.FAIL and r.details["timing"] == "device"
    assert r.value == pytest.approx(1.3, rel=0.05)
    with pytest.raises(mlqa.InputError, match="timing"):
        check_latency_regression(slow, base, timing="cpu")
    no_device = report({1: (1.0, 0.1, 500)})
    with pytest.raises(mlqa.InputError, match="no device time"):
        check_latency_regression(no_device, [no_device, no_device], timing="device")


def test_recording_contended_runs_warns():
    """Baseline runs a stored comparison would leave out are flagged when they are recorded."""
    from mlqa.latency import measure

    contended = LatencyRuns(tuple(report({1: (1.0, 0.1, 600)}, seed=i,
                                         preempted=lambda n, rng: rng.random(n) < 0.3)
                                  for i in range(3)))
    with pytest.warns(UserWarning, match="3 of 3 runs had more than 5% of their queries"):
        measure._warn_if_contended(contended)
    quiet = runs(1.0, 3, seed=1)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert measure._warn_if_contended(quiet) is quiet
