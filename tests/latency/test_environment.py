"""Environment capture and the comparability / throttling rules."""

from __future__ import annotations

import os
import stat

from mlqa.latency import environment


def test_differences_name_each_key_that_differs():
    a = {"device_type": "cuda", "device_name": "NVIDIA H100", "torch": "2.13.0",
         "cuda": "12.8", "n_threads": 1, "mode": "eager", "host": {"load_average": [1]}}
    b = {**a, "device_name": "NVIDIA A10G", "cuda": "12.4", "host": {"load_average": [9]}}
    assert environment.differences(a, a) == []
    assert environment.differences(a, b) == ["device_name 'NVIDIA H100' vs 'NVIDIA A10G'",
                                             "cuda '12.8' vs '12.4'"]


def test_host_figures():
    host = environment.host()
    assert host["cpu_count"] >= 1 and host["cpu_model"] and host["python"]


def test_nvidia_smi_state_is_parsed_and_slowdown_detected(tmp_path, monkeypatch):
    smi = tmp_path / "nvidia-smi"
    # the 13 fields in the order gpu_state asks for them, as nvidia-smi's csv prints them
    smi.write_text("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, GPU-1234, 550.54.15, P0, 1980, "
                   "1980, 2619, 41, 120.5, 700.00, 0x0000000000000000, 3, 1024'\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    state = environment.gpu_state("GPU-1234")
    assert state["name"] == "NVIDIA H100 80GB HBM3" and state["uuid"] == "GPU-1234"
    assert state["driver_version"] == "550.54.15" and state["clocks.sm"] == 1980.0
    assert environment.throttled(state, state) is None
    hot = {**state, "clocks_event_reasons.active": "0x0000000000000040"}  # HW thermal
    assert "slowdown" in environment.throttled(state, hot)
    slow = {**state, "clocks.sm": 1200.0}
    assert "below 90%" in environment.throttled(slow, state)
    idle = {**state, "clocks_event_reasons.active": "0x0000000000000001"}  # GPU idle: fine
    assert environment.throttled(idle, None) is None


def test_no_nvidia_smi_is_none(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert environment.gpu_state("0") is None
