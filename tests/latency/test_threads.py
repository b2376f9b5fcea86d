"""n_threads pins torch's threads and every OpenMP/BLAS pool while a real scikit-learn model
is measured, records the setting, and a comparison across unlike settings is refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_info

import mlqa
from mlqa.latency import (
    LatencyReport,
    LatencyRuns,
    check_latency,
    check_latency_regression,
    measure_latency,
)

FAST = dict(device="cpu", warmup_iters=3, warmup_time_s=0.0, min_iters=50, min_time_s=0.0,
            max_time_s=0.3, throughput_time_s=0.01, overhead_iters=100)


@pytest.fixture(scope="module")
def hgb():
    X, y = make_classification(n_samples=2000, n_features=10, random_state=0)
    return HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y), X[:3]


def _pools() -> dict[str, int]:
    return {f"{i['internal_api']}:{i['prefix']}:{i['filepath']}": i["num_threads"]
            for i in threadpool_info()}


def _recording(model):
    seen: list[dict[str, int]] = []

    def predict(x):
        if len(seen) < 3:
            seen.append(_pools())
        return model.predict(x)

    return predict, seen


@pytest.mark.parametrize("n", [1, 2])
def test_every_openmp_and_blas_pool_runs_n_threads_while_measured_then_is_restored(hgb, n):
    model, rows = hgb
    before = _pools()
    assert any(k.startswith("openmp") for k in before)  # scikit-learn's OpenMP is loaded
    predict, seen = _recording(model)
    lat = measure_latency(predict, rows, n_threads=n, **FAST)
    assert seen and all(set(s.values()) == {n} for s in seen)
    after = _pools()  # the measurement may load torch (its own OpenMP) besides
    assert {k: after[k] for k in before} == before
    env = lat.environment
    assert env["openmp_blas_threads"] == n and env["n_threads"] == n
    assert {p["user_api"] for p in env["threadpools"]} >= {"openmp", "blas"}
    assert {p["num_threads"] for p in env["threadpools"]} == {n}
    assert check_latency(lat, quantile=0.5, max_ms=1e6).details["n_threads"] == n


def test_none_leaves_the_pools_as_they_are(hgb):
    model, rows = hgb
    before = _pools()
    predict, seen = _recording(model)
    lat = measure_latency(predict, rows, n_threads=None, **FAST)
    assert seen and all({k: s[k] for k in before} == before for s in seen)
    assert lat.environment["openmp_blas_threads"] is None
    assert lat[1].device_samples_ns is None  # unpinned: the thread's CPU time is not the work


def test_a_pool_the_first_call_loads_is_pinned_too():
    """A model that imports its library on first use (scikit-learn's OpenMP arrives then)."""
    script = textwrap.dedent("""
        import sys
        from threadpoolctl import threadpool_info
        from mlqa.latency import measure_latency
        assert "sklearn" not in sys.modules
        seen = []
        def model(x):
            import sklearn.ensemble  # loads scikit-learn's own OpenMP runtime
            seen.append(sorted((i["filepath"], i["num_threads"]) for i in threadpool_info()
                               if i["user_api"] == "openmp"))
        measure_latency(model, (1,), device="cpu", n_threads=1, warmup_iters=2,
                        warmup_time_s=0.0, min_iters=5, max_iters=5, min_time_s=0.0,
                        throughput_time_s=0.0, overhead_iters=0)
        sk = [p for p, _ in seen[-1] if "scikit_learn" in p or "sklearn" in p]
        assert sk, seen[-1]
        assert {n for _, n in seen[-1]} == {1}, seen[-1]
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def _like(lat: LatencyReport, **env) -> LatencyReport:
    return LatencyReport(results=dict(lat.results), environment={**lat.environment, **env},
                         model=lat.model)


def test_runs_with_unlike_thread_settings_are_not_compared(hgb):
    model, rows = hgb
    lat = measure_latency(model.predict, rows, **FAST)
    base = LatencyRuns(tuple(_like(lat) for _ in range(3)))
    assert check_latency_regression(lat, base).outcome is not mlqa.Outcome.ERROR
    unpinned = LatencyRuns(tuple(_like(lat, openmp_blas_threads=None) for _ in range(3)))
    r = check_latency_regression(lat, unpinned)
    assert r.outcome is mlqa.Outcome.ERROR and r.details["incomparable"] == "environment"
    assert "openmp_blas_threads 1 vs None" in r.message
    # a record from before mlqa pinned OpenMP/BLAS (torch only) is not compared either
    legacy = {k: v for k, v in lat.environment.items() if k != "openmp_blas_threads"}
    old = LatencyRuns(tuple(LatencyReport(results=dict(lat.results), environment=legacy)
                            for _ in range(3)))
    assert check_latency_regression(lat, old).outcome is mlqa.Outcome.ERROR


def test_n_threads_is_refused_when_not_a_positive_int(hgb):
    model, rows = hgb
    for bad in (0, -1, 1.5, True, "1"):
        with pytest.raises(mlqa.InputError, match="n_threads"):
            measure_latency(model.predict, rows, n_threads=bad, **FAST)
    assert np.isfinite(measure_latency(model.predict, rows, **FAST)[1].p50)


@pytest.mark.parametrize("kind, extra", [("latency", {"max_ms": 20}),
                                         ("latency_regression", {"baseline_file": "l.json"})])
def test_yaml_latency_checks_take_n_threads(kind, extra):
    from mlqa.suite.validate import problems
    from mlqa.suite.yamlpos import Document

    def suite(n):
        return {"model": {"fixture": "m"}, "data": {"d": {"fixture": "d"}},
                "checks": [{"id": "a", "kind": kind, "data": "d", "n_threads": n, **extra}]}

    for good in (1, 4, None):
        assert problems(Document(suite(good), {}, {})) == []
    for bad in (0, 1.5, "one"):
        found = problems(Document(suite(bad), {}, {}))
        assert found and "n_threads" in str(found)
