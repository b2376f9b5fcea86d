"""Latency under pytest: the mlqa_device fixture, skips without a GPU, properties in JUnit,
and the example suite as a user runs it. Every JUnit file goes through the Jenkins checker."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU behaviour")
EXAMPLE = Path(__file__).resolve().parents[2] / "example_suites" / "torch_latency"

SUITE = '''
import pytest
import torch

import mlqa

FAST = dict(warmup_iters=3, warmup_time_s=0.0, min_iters=600, min_time_s=0.0,
            max_time_s=1.0, throughput_time_s=0.01, overhead_iters=100)


def model(x):
    return x @ x.T


def test_cpu_p99_over_slo():
    lat = mlqa.measure_latency(model, torch.randn(16, 64), device="cpu", **FAST)
    mlqa.expect_latency(lat, quantile=0.99, max_ms=1e-6)


def test_gpu_p99(mlqa_device):
    lat = mlqa.measure_latency(model, torch.randn(16, 64), device=mlqa_device, **FAST)
    mlqa.expect_latency(lat, quantile=0.99, max_ms=50)
'''


def _cases(verdict):
    return {c["name"]: c for c in verdict["cases"]}


@NO_GPU
def test_latency_failure_and_gpu_skip_read_cleanly_by_jenkins(pytester, jenkins_check):
    pytester.makepyfile(test_lat=SUITE)
    result = pytester.runpytest_subprocess("--junitxml=j.xml", "-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines([f"*device='cuda' requested but no CUDA device available "
                                 f"(torch {torch.__version__}, CUDA build*"])
    verdict = jenkins_check(pytester.path / "j.xml")
    assert verdict["predicted_build_result"] == "UNSTABLE"
    cases = _cases(verdict)
    failed, skipped = cases["test_cpu_p99_over_slo"], cases["test_gpu_p99"]
    assert failed["status"] == "FAILED" and skipped["status"] == "SKIPPED"
    props = failed["properties"]
    assert props["mlqa.outcome"] == "fail" and props["mlqa.device"] == "cpu"
    assert props["mlqa.check"] == "latency" and props["mlqa.metric"] == "p99_ms"
    assert float(props["mlqa.ci_low"]) > 1e-6 and int(props["mlqa.n"]) >= 600
    for key in ("mlqa.p50_ms", "mlqa.p95_ms", "mlqa.p99_ms", "mlqa.preempted_fraction"):
        assert float(props[key]) >= 0
    assert float(props["mlqa.p50_ms"]) <= float(props["mlqa.p99_ms"])


@NO_GPU
def test_require_gpu_makes_the_missing_gpu_an_error(pytester, jenkins_check):
    pytester.makepyfile(test_lat=SUITE)
    result = pytester.runpytest_subprocess("--junitxml=j.xml", "--mlqa-require-gpu",
                                           "-p", "no:cacheprovider", "-k", "gpu")
    result.assert_outcomes(errors=1, deselected=1)
    verdict = jenkins_check(pytester.path / "j.xml")
    case = _cases(verdict)["test_gpu_p99"]
    assert case["status"] == "FAILED"  # Jenkins counts <error> with failures
    assert case["properties"]["mlqa.outcome"] == "error"
    assert "--mlqa-require-gpu" in case["properties"]["mlqa.message"]


def test_mlqa_device_moves_the_measurement_to_cpu(pytester, jenkins_check):
    pytester.makepyfile(test_lat=SUITE)
    result = pytester.runpytest_subprocess("--junitxml=j.xml", "--mlqa-device=cpu",
                                           "-p", "no:cacheprovider", "-k", "gpu")
    result.assert_outcomes(passed=1, deselected=1)
    props = _cases(jenkins_check(pytester.path / "j.xml"))["test_gpu_p99"]["properties"]
    assert props["mlqa.device"] == "cpu" and props["mlqa.outcome"] == "pass"


def _run_example(tmp_path, *args, short=False):
    """The example suite with JUnit and a results bundle (fresh each run); JUnit's red is the
    gate's blocking set whatever the run gave. ``short``: its measurements on the short windows
    of tests/_short_latency.py (loaded as a plugin from the run's folder, which `python -m`
    puts on the path): the pipeline is under test here, not the figures."""
    import shutil

    from _verdict import assert_one_verdict

    junit, results = tmp_path / "junit.xml", tmp_path / "mlqa-results"
    shutil.rmtree(results, ignore_errors=True)
    plugin = []
    if short:
        shutil.copy(Path(__file__).parents[1] / "_short_latency.py", tmp_path)
        plugin = ["-p", "_short_latency"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(EXAMPLE), f"--junitxml={junit}",
         f"--mlqa-results={results}", "-p", "no:cacheprovider", "-q", "-rs", *plugin, *args],
        capture_output=True, text=True, cwd=tmp_path, check=False)
    assert_one_verdict(junit, results, proc.returncode)
    return proc, junit


@NO_GPU
def test_example_suite_skips_cleanly_without_a_gpu(tmp_path, jenkins_check):
    proc, junit = _run_example(tmp_path, f"--mlqa-baseline={tmp_path / 'store'}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    verdict = jenkins_check(junit)
    assert verdict["counts"]["total"] == verdict["counts"]["skipped"] == 5
    assert "no CUDA device available" in proc.stdout


@pytest.mark.slow  # five measurement processes for the baseline, then the suite
def test_example_suite_records_promotes_and_compares_through_the_store(tmp_path, jenkins_check):
    """The latency suite as a pipeline uses it, on CPU: with no approved baseline the stored
    gate is an error; a run with --mlqa-save-baseline records five runs (separate processes)
    in the store; `mlqa baseline promote` approves them; the next run compares against them."""
    from mlqa.baseline import load_record
    from mlqa.cli import main as mlqa_main
    from mlqa.latency import LatencyRuns

    store = tmp_path / "store"
    cpu = ("--mlqa-device=cpu", f"--mlqa-baseline={store}")
    proc, junit = _run_example(tmp_path, *cpu, "-k", "stored_baseline", short=True)
    assert proc.returncode == 1, proc.stdout[-3000:]
    case = _cases(jenkins_check(junit))["test_p50_not_slower_than_stored_baseline"]
    assert case["status"] == "FAILED", case  # an <error>: Jenkins counts it with failures
    assert "no baseline 'approved'" in proc.stdout

    proc, junit = _run_example(tmp_path, *cpu, "--mlqa-save-baseline", "-k", "record", short=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "baseline record" in proc.stdout and "saved to" in proc.stdout
    runs = load_record(store, "latest").latency("torch_mlp")
    assert isinstance(runs, LatencyRuns) and len(runs) == 5 and runs.batch_sizes == (1, 8)
    assert runs.environment["device_type"] == "cpu"
    assert mlqa_main(["baseline", "promote", "--store", str(store), "--by", "ci"]) == 0

    proc, junit = _run_example(tmp_path, *cpu, short=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    verdict = jenkins_check(junit)
    assert verdict["predicted_build_result"] == "SUCCESS"
    cases = _cases(verdict)
    # a 20 ms p99 SLO on a machine this loaded can rest on preempted queries: INCONCLUSIVE
    slo = cases["test_p99_within_slo"]["properties"]
    assert slo["mlqa.outcome"] in ("pass", "inconclusive") and slo["mlqa.device"] == "cpu"
    assert cases["test_record_latency_baseline"]["status"] == "SKIPPED"
    stored = cases["test_p50_not_slower_than_stored_baseline"]["properties"]
    # five runs on a shared 2-core machine: a PASS, or INCONCLUSIVE when the runs disagree
    assert stored["mlqa.outcome"] in ("pass", "inconclusive"), stored["mlqa.message"]
    assert stored["mlqa.check"] == "latency" and stored["mlqa.metric"] == "p50_ratio"
    promoted = load_record(store)  # the record compared against is named, with its approver
    assert stored["mlqa.baseline_record"] == promoted.identity.record
    assert stored["mlqa.baseline_alias"] == "approved"
    assert stored["mlqa.baseline_promoted_by"] == "ci"
    message = stored["mlqa.message"]  # judged on the 5 stored runs, or says why not
    assert re.search(r"vs [2-5] baseline run\(s\)|not judged", message), message
    paired = cases["test_p99_not_slower_than_previous_model"]["properties"]
    assert paired["mlqa.paired"] == "true" and paired["mlqa.outcome"] in ("pass", "inconclusive")
