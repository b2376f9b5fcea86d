"""The YAML ``kind: endpoint_latency`` check: loaded, validated and run against a real model
server on 127.0.0.1."""

from __future__ import annotations

import json
import os

import pytest

from mlqa import InputError, Outcome
from mlqa.suite.loader import load_suites
from mlqa.suite.runner import run_check


class Files:
    """The part of the suite context an endpoint check uses: paths relative to the suite."""

    def __init__(self, base):
        self.base = base

    def path(self, relative):
        return os.fspath(self.base / relative)


def _suite(tmp_path, check):
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps([[0.1 * i] * 8])
                                                   for i in range(4)))
    lines = ["checks:", "  - id: served_p99", "    kind: endpoint_latency"]
    lines += [f"    {k}: {json.dumps(v)}" for k, v in check.items()]
    (tmp_path / "serve.mlqa.yaml").write_text("\n".join(lines) + "\n")
    [suite] = load_suites(tmp_path / "serve.mlqa.yaml")
    return suite.checks[0]


def test_an_endpoint_check_runs_from_yaml_with_a_champion(tmp_path, model_server):
    spec = _suite(tmp_path, {"url": model_server.url("stall"), "payloads": "rows.jsonl",
                             "rate": 100, "duration_s": 2.0, "warmup_s": 0.2, "max_ms": 150,
                             "timeout_s": 2, "champion": model_server.url("clean"),
                             "max_slowdown": 1.5})
    model_server.reset()
    result = run_check(spec, Files(tmp_path))
    assert result.name == "served_p99"
    # The stalled candidate breaches the SLO; the worse of SLO and comparison speaks.
    assert result.outcome is Outcome.FAIL, result.message
    assert "p99 latency" in result.message
    assert result.run().champion == model_server.url("clean")  # both on one schedule


def test_the_yaml_kind_refuses_what_it_cannot_run(tmp_path):
    with pytest.raises(InputError, match="rate"):
        _suite(tmp_path, {"url": "http://127.0.0.1:9/x", "payloads": "rows.jsonl",
                          "rate": -1, "max_ms": 10})
    spec = _suite(tmp_path, {"url": "http://127.0.0.1:9/x", "payloads": "missing.json",
                             "rate": 10, "max_ms": 10})
    with pytest.raises(InputError, match="payload file"):
        run_check(spec, Files(tmp_path))
