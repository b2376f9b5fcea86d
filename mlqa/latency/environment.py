"""What a latency figure was measured on, and whether two measurements can be compared.

Latency depends on the hardware and the software stack as much as on the model, so every
report carries its environment, and a regression check refuses to compare reports whose
comparability keys differ. Clocks, temperature and throttle reasons are read from
``nvidia-smi`` where it exists (before and after a run): a GPU that slowed down during the run
makes its tail figures untrustworthy.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from typing import Any

# Keys whose difference makes two reports incomparable: device class, device model,
# torch / CUDA versions, thread count (torch's, and the OpenMP/BLAS limit: None where the
# pools were left alone, or in records from before mlqa limited them), execution mode.
COMPARABLE_KEYS = ("device_type", "device_name", "torch", "cuda", "n_threads",
                   "openmp_blas_threads", "mode")
# Records written before the project's one-name rule called the thread count num_threads.
_LEGACY_KEYS = {"n_threads": "num_threads"}

_SMI_FIELDS = ("name", "uuid", "driver_version", "pstate", "clocks.sm", "clocks.max.sm",
               "clocks.mem", "temperature.gpu", "power.draw", "power.limit",
               "clocks_event_reasons.active", "utilization.gpu", "memory.used")
# NVML clocks-event reasons that mean the GPU is (or was) slowed: SW power cap 0x4,
# HW slowdown 0x8, SW thermal 0x20, HW thermal 0x40, HW power brake 0x80.
_SLOWDOWN_MASK = 0x4 | 0x8 | 0x20 | 0x40 | 0x80


def host() -> dict[str, Any]:
    """Host CPU, threads and load: the figures that explain CPU-side noise."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                  "OPENBLAS_NUM_THREADS",
                                                  "CUDA_VISIBLE_DEVICES",
                                                  "PYTORCH_CUDA_ALLOC_CONF")
                       if k in os.environ},
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpu_affinity"] = len(os.sched_getaffinity(0))
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    quota = _read("/sys/fs/cgroup/cpu.max")
    if quota:
        info["cgroup_cpu_max"] = quota
    np_ = sys.modules.get("numpy")
    if np_ is not None:
        info["numpy"] = np_.__version__
    return info


def torch_stack(torch: Any, device: Any) -> dict[str, Any]:
    """torch, CUDA and cuDNN versions and the flags that change kernels (None without torch)."""
    if torch is None:
        return {"torch": None, "cuda": None}
    backends = torch.backends
    info: dict[str, Any] = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "torch_git": getattr(torch.version, "git_version", None),
        "n_threads": torch.get_num_threads(),
        "n_interop_threads": torch.get_num_interop_threads(),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn_benchmark": bool(backends.cudnn.benchmark),
        "cudnn_deterministic": bool(backends.cudnn.deterministic),
    }
    if device is not None and device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update({
            "cudnn": backends.cudnn.version(),
            "allow_tf32_matmul": bool(backends.cuda.matmul.allow_tf32),
            "allow_tf32_cudnn": bool(backends.cudnn.allow_tf32),
            "gpu_capability": f"{props.major}.{props.minor}",
            "gpu_sm_count": props.multi_processor_count,
            "gpu_total_memory": props.total_memory,
            "gpu_uuid": str(getattr(props, "uuid", "")) or None,
        })
    return info


def gpu_state(ident: str) -> dict[str, Any] | None:
    """``nvidia-smi --query-gpu`` for GPU ``ident`` (an index or a UUID): clocks, temperature,
    power, throttle reasons, driver, UUID; None where nvidia-smi is absent or fails."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run(
            [smi, f"--id={ident}", f"--query-gpu={','.join(_SMI_FIELDS)}",
             "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    values = [v.strip() for v in out.strip().splitlines()[0].split(",")] if out.strip() else []
    if len(values) != len(_SMI_FIELDS):
        return None
    return {field: _number(v) for field, v in zip(_SMI_FIELDS, values, strict=True)}


def throttled(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str | None:
    """Why the GPU clocks cannot be trusted over a run, or None (also when unreadable)."""
    for label, state in (("before", before), ("after", after)):
        if not state:
            continue
        reasons = state.get("clocks_event_reasons.active")
        if isinstance(reasons, str):
            try:
                reasons = int(reasons, 16)
            except ValueError:
                reasons = None
        if isinstance(reasons, int) and reasons & _SLOWDOWN_MASK:
            return f"GPU slowdown reasons active {label} the run ({hex(reasons)})"
        sm, max_sm = state.get("clocks.sm"), state.get("clocks.max.sm")
        if isinstance(sm, float | int) and isinstance(max_sm, float | int) and max_sm > 0 \
                and sm < 0.9 * max_sm:
            return f"SM clock {sm:g} MHz {label} the run is below 90% of max {max_sm:g} MHz"
    return None


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The comparability keys on which environments ``a`` and ``b`` differ, as ``key a vs b``."""
    def get(env: dict[str, Any], key: str) -> Any:
        legacy = _LEGACY_KEYS.get(key)
        # a key a record predates reads as None (openmp_blas_threads: not pinned)
        return env.get(key) if key in env or legacy is None else env.get(legacy)

    return [f"{key} {get(a, key)!r} vs {get(b, key)!r}" for key in COMPARABLE_KEYS
            if get(a, key) != get(b, key)]


def _cpu_model() -> str:
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError:
        return None


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return None if text in ("[N/A]", "N/A", "[Not Supported]") else text
