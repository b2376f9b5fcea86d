"""The timing harness: per-query wall latency of a model on CPU or CUDA.

Per query (SingleStream semantics)::

    t0 = perf_counter_ns(); start.record(); model(x); end.record(); torch.cuda.synchronize()
    t1 = perf_counter_ns()

``t1 - t0`` is the gated latency; ``start.elapsed_time(end)`` is kept as device time (a large
host-minus-device gap means the model is launch-bound). On CPU there is nothing to
synchronise. Throughput is measured apart, back to back with one synchronisation at the end
(Offline semantics), because per-query syncs are exactly what throughput must not pay for.

Outside the timed window every query is probed for preemption: an involuntary context switch
of the timing thread (``getrusage(RUSAGE_THREAD).ru_nivcsw``) or, for single-threaded CPU
work, wall time well above the thread's CPU time. On a shared machine OS preemption adds a
whole time slice (~4 ms) to 1-3% of queries, which alone can multiply a measured p99.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from mlqa import policy as _policy
from mlqa.devices import cuda_unavailable_reason
from mlqa.errors import DeviceUnavailable, InputError
from mlqa.latency import environment
from mlqa.latency.quantiles import estimate

try:  # the preemption probe needs a per-thread rusage (Linux); elsewhere it is off
    import resource

    _RUSAGE: int | None = getattr(resource, "RUSAGE_THREAD", None)
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]
    _RUSAGE = None
_WHO: int = _RUSAGE if _RUSAGE is not None else 0  # used only where _RUSAGE is not None

# Single-threaded CPU query counted as preempted when wall - thread CPU exceeds this.
_PREEMPT_MIN_NS = 20_000
_PREEMPT_FRACTION = 0.05


def resolve_device(device: str = "cuda") -> str:
    """The device to measure on: ``cpu`` or ``cuda[:i]``.

    ``--mlqa-device`` (the active policy's ``device``) overrides ``device``. ``auto`` is CUDA
    when usable, else CPU. CUDA asked for where there is none raises ``DeviceUnavailable``
    with the reason (torch's version and CUDA build); the pytest plugin makes that a skip, or
    an error under ``--mlqa-require-gpu``. There is no silent fallback to CPU.
    """
    override = _policy.active().device
    if override:
        device = override
    if not isinstance(device, str):
        raise InputError(f"device must be 'cuda', 'cuda:<i>', 'cpu' or 'auto', got {device!r}")
    device = device.strip().lower()
    if device == "auto":
        return "cpu" if cuda_unavailable_reason() else "cuda"
    if device == "cpu":
        return device
    if device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        reason = cuda_unavailable_reason()
        if reason is not None:
            raise DeviceUnavailable(f"device={device!r} requested but {reason}")
        import torch

        index = int(device[5:]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise DeviceUnavailable(f"device={device!r} requested but only "
                                    f"{torch.cuda.device_count()} CUDA device(s) are visible")
        return device
    raise InputError(f"device must be 'cuda', 'cuda:<i>', 'cpu' or 'auto', got {device!r}")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Validated measurement settings (see ``measure_latency``)."""

    batch_sizes: tuple[int, ...]
    warmup_iters: int
    warmup_time_s: float
    min_iters: int
    min_time_s: float
    max_time_s: float
    max_iters: int
    target_rel_ci: float
    quantiles: tuple[float, ...]
    confidence: float
    n_threads: int | None
    mode: str
    throughput_time_s: float
    overhead_iters: int

    def __post_init__(self) -> None:
        from mlqa.latency.options import MEASURE_LATENCY

        MEASURE_LATENCY.validate({f.name: getattr(self, f.name)
                                  for f in dataclasses.fields(self)})
        sizes = self.batch_sizes
        sizes = (sizes,) if isinstance(sizes, int | np.integer) else tuple(sizes)
        if len(set(sizes)) != len(sizes):
            raise InputError(f"batch_sizes must be distinct positive ints, got {sizes!r}")
        object.__setattr__(self, "batch_sizes", tuple(int(b) for b in sizes))
        object.__setattr__(self, "quantiles", tuple(sorted({float(q) for q in self.quantiles})))
        for name in ("confidence", "warmup_time_s", "min_time_s", "max_time_s",
                     "throughput_time_s", "target_rel_ci"):
            object.__setattr__(self, name, float(getattr(self, name)))


class Session:
    """One measurement session on one device: prepares models and inputs, times calls.

    A context manager: entering pins the thread count (torch's intra-op threads and every
    OpenMP and BLAS pool threadpoolctl finds), enters ``torch.inference_mode`` and selects the
    CUDA device; leaving restores all of it.
    """

    def __init__(self, device: str, settings: Settings) -> None:
        self.device_name = device
        self.settings = settings
        self.cuda = device.startswith("cuda")
        if settings.mode == "cuda_graph" and not self.cuda:
            raise InputError("mode='cuda_graph' needs a CUDA device; measure mode='eager' on CPU")
        self.torch = _import_torch(required=self.cuda)
        self.device = self.torch.device(device) if self.torch is not None else None
        self._restore: list[Callable[[], None]] = []

    # -- context -------------------------------------------------------------------------

    def __enter__(self) -> Session:
        try:
            self._enter()
        except BaseException:
            self.__exit__()  # undo what was set before the failure
            raise
        return self

    def _enter(self) -> None:
        torch, n = self.torch, self.settings.n_threads
        self.pin_pools()
        if torch is not None:
            if n is not None:
                previous = torch.get_num_threads()
                torch.set_num_threads(n)
                self._restore.append(lambda: torch.set_num_threads(previous))
            mode = torch.inference_mode()
            mode.__enter__()
            self._restore.append(lambda: mode.__exit__(None, None, None))
            if self.cuda:
                ctx = torch.cuda.device(self.device)
                ctx.__enter__()
                self._restore.append(lambda: ctx.__exit__(None, None, None))

    def __exit__(self, *exc: object) -> None:
        while self._restore:
            self._restore.pop()()

    def pin_pools(self) -> None:
        """Limit every loaded OpenMP and BLAS pool to ``n_threads`` (None: leave them).

        torch's thread setting does not reach them: scikit-learn's HistGradientBoosting, numpy's
        BLAS, XGBoost and LightGBM each bring their own OpenMP or BLAS runtime, which by default
        starts one thread per core. On a shared CPU agent those threads wait on each other
        (OpenMP barriers spin, then sleep) and a single-row predict's p99 went from 4.7 ms to
        1.2 s on this project's 2-core machine. Called again after a model's first call, since
        a library loaded by that call brings a new pool; the limits stack and are undone in
        reverse order.
        """
        n = self.settings.n_threads
        if n is None:
            return
        from threadpoolctl import threadpool_limits

        self._restore.append(threadpool_limits(limits=n).restore_original_limits)

    def pools(self) -> list[dict[str, Any]]:
        """The OpenMP/BLAS pools loaded now and their thread counts (for the environment)."""
        from threadpoolctl import threadpool_info

        return [{k: info.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
                for info in threadpool_info()]

    # -- preparing a model ---------------------------------------------------------------

    def prepare(self, model: Any) -> Any:
        """Put a torch module in eval mode on the device; any other callable is used as is."""
        if not callable(model):
            raise InputError(f"model must be callable (an nn.Module, TorchScript module or "
                             f"function), got {type(model).__name__}")
        torch = self.torch
        if torch is not None and isinstance(model, torch.nn.Module):
            model.eval()
            model.to(self.device)
        return model

    def call_for(self, model: Any, example_inputs: Any, batch_size: int) -> Callable[[], Any]:
        """A no-argument callable running ``model`` on a batch of ``batch_size``."""
        args, kwargs = _arguments(example_inputs, batch_size, self._batch_leaf)
        return functools.partial(model, *args, **kwargs)

    def noop_for(self, example_inputs: Any, batch_size: int) -> Callable[[], Any]:
        """The same call shape with nothing behind it: what the harness costs by itself."""
        args, kwargs = _arguments(example_inputs, batch_size, self._batch_leaf)
        return functools.partial(_noop, *args, **kwargs)

    def _batch_leaf(self, x: Any, batch_size: int) -> Any:
        torch = self.torch
        if torch is not None and isinstance(x, torch.Tensor):
            if x.dim() > 0:
                if x.shape[0] == 0:
                    raise InputError("example_inputs has a tensor with an empty batch dimension")
                x = x[torch.arange(batch_size) % x.shape[0]]
            return x.to(self.device)
        if isinstance(x, np.ndarray) and x.ndim > 0:
            if x.shape[0] == 0:
                raise InputError("example_inputs has an array with an empty batch dimension")
            return x[np.arange(batch_size) % x.shape[0]]
        return x

    def in_mode(self, call: Callable[[], Any]) -> Callable[[], Any]:
        """``call`` as the session's mode runs it: as is (eager), or captured in a CUDA graph
        (static inputs) and replayed.

        The capture follows torch's recipe: warm up on a side stream, then capture; replays
        reuse the captured memory, so the inputs must stay where they are (built once).
        """
        if self.settings.mode != "cuda_graph":
            return call
        torch = self.torch
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                call()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            call()
        torch.cuda.synchronize()
        return graph.replay

    # -- timing ----------------------------------------------------------------------------

    def sync(self) -> None:
        if self.cuda:
            self.torch.cuda.synchronize()

    def time_once(self, call: Callable[[], Any]) -> int:
        """One call, synchronised, in ns (the cold first call)."""
        self.sync()
        t0 = time.perf_counter_ns()
        call()
        self.sync()
        return time.perf_counter_ns() - t0

    def run_for(self, call: Callable[[], Any], iters: int, seconds: float) -> int:
        """Untimed calls until both ``iters`` calls and ``seconds`` have passed (warm-up),
        bounded by the session's ``max_time_s``; returns how many ran."""
        start = time.perf_counter()
        limit = start + max(seconds, 0) + self.settings.max_time_s
        n = 0
        while n < iters or time.perf_counter() - start < seconds:
            call()
            n += 1
            if n % 8 == 0:
                self.sync()  # keep the queue short: warm-up must not run ahead of the device
            if time.perf_counter() > limit:
                break
        self.sync()
        return n

    def sample(self, call: Callable[[], Any], into: Samples, max_n: int,
               deadline_ns: int) -> bool:
        """Time up to ``max_n`` queries into ``into``; False once ``deadline_ns`` passed."""
        gc_was = gc.isenabled()
        gc.disable()  # a collection inside a timed query is the harness's noise, not the model's
        try:
            if self.cuda:
                return _cuda_loop(self.torch, call, into, max_n, deadline_ns)
            return _cpu_loop(call, into, max_n, deadline_ns,
                             probe_cpu_time=self.settings.n_threads == 1)
        finally:
            if gc_was:
                gc.enable()

    def throughput(self, call: Callable[[], Any], per_query_s: float) -> float:
        """Queries per second back to back, one synchronisation at the end (Offline)."""
        seconds = self.settings.throughput_time_s
        n = int(min(100_000, max(10, seconds / max(per_query_s, 1e-9))))
        self.sync()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            call()
        self.sync()
        return n / ((time.perf_counter_ns() - t0) / 1e9)

    def overhead_ns(self, noop: Callable[[], Any]) -> float | None:
        """Median harness time per query: a no-op timed through the very same loop."""
        n = self.settings.overhead_iters
        if n == 0:
            return None
        samples = Samples()
        self.sample(noop, samples, n, time.perf_counter_ns() + 10**9)
        return float(np.median(samples.wall))

    # -- memory and environment ------------------------------------------------------------

    def reset_peak_memory(self) -> None:
        if self.cuda:
            self.torch.cuda.reset_peak_memory_stats(self.device)

    def peak_memory(self) -> tuple[int | None, str | None]:
        if self.cuda:
            return int(self.torch.cuda.max_memory_allocated(self.device)), "cuda_max_allocated"
        if resource is None:
            return None, None
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # Linux reports KiB, macOS bytes; this is the process's peak, not this batch size's.
        return int(rss if sys.platform == "darwin" else rss * 1024), "process_max_rss"

    def gpu_state(self) -> dict[str, Any] | None:
        if not self.cuda:
            return None
        # nvidia-smi numbers GPUs ignoring CUDA_VISIBLE_DEVICES: name ours by UUID if we can
        uuid = getattr(self.torch.cuda.get_device_properties(self.device), "uuid", None)
        text = str(uuid) if uuid else ""
        ident = (text if text.startswith("GPU-") else f"GPU-{text}") if text else \
            str(getattr(self.device, "index", None) or 0)
        return environment.gpu_state(ident)

    def environment(self, before: dict[str, Any] | None) -> dict[str, Any]:
        torch, host = self.torch, environment.host()
        env: dict[str, Any] = {
            "device": self.device_name,
            "device_type": "cuda" if self.cuda else "cpu",
            "mode": self.settings.mode,
            **environment.torch_stack(torch, self.device),
            "host": host,
            # The OpenMP/BLAS limit is its own key: records from before it existed pinned
            # torch only, and an unpinned scikit-learn run is not comparable with a pinned one.
            "openmp_blas_threads": self.settings.n_threads,
            "threadpools": self.pools(),
        }
        if not self.cuda:
            env["device_name"] = host["cpu_model"]
            if torch is None:
                env["n_threads"] = self.settings.n_threads
            return env
        after = self.gpu_state()
        env["device_name"] = torch.cuda.get_device_name(self.device)
        env["gpu_before"], env["gpu_after"] = before, after
        env["driver"] = (after or before or {}).get("driver_version")
        env["gpu_uuid"] = env.get("gpu_uuid") or (after or before or {}).get("uuid")
        env["throttled"] = environment.throttled(before, after)
        return env


@dataclasses.dataclass
class Samples:
    """What the timed loop appends to: wall ns, device ns (CUDA events, or thread CPU time
    on one CPU thread), preempted flags."""

    wall: list[int] = dataclasses.field(default_factory=list)
    device: list[int] = dataclasses.field(default_factory=list)
    preempted: list[bool] = dataclasses.field(default_factory=list)

    def tight(self, quantiles: tuple[float, ...], confidence: float, target: float) -> bool:
        """Every quantile's exact interval within +/- ``target`` of its estimate."""
        ms = np.sort(np.asarray(self.wall, dtype=np.int64)) / 1e6
        return all(estimate(ms, q, confidence).relative_half_width <= target for q in quantiles)


def _nivcsw() -> int:
    return resource.getrusage(_WHO).ru_nivcsw


def _cpu_loop(call: Callable[[], Any], into: Samples, max_n: int, deadline_ns: int, *,
              probe_cpu_time: bool) -> bool:
    pc, tt = time.perf_counter_ns, time.thread_time_ns
    wall, pre, dev = into.wall.append, into.preempted.append, into.device.append
    if _RUSAGE is None:  # pragma: no cover - no per-thread probe on this platform
        for _ in range(max_n):
            t0 = pc()
            call()
            t1 = pc()
            wall(t1 - t0)
            if t1 >= deadline_ns:
                return False
        return True
    ru, who = resource.getrusage, _WHO
    for _ in range(max_n):
        s0 = ru(who).ru_nivcsw
        c0 = tt()
        t0 = pc()
        call()
        t1 = pc()
        c1 = tt()
        s1 = ru(who).ru_nivcsw
        d, cpu = t1 - t0, c1 - c0
        wall(d)
        pre(s1 != s0 or (probe_cpu_time and d - cpu > max(_PREEMPT_MIN_NS,
                                                           d * _PREEMPT_FRACTION)))
        if probe_cpu_time:  # one thread: its CPU time is the work the query took
            dev(cpu)
        if t1 >= deadline_ns:
            return False
    return True


def _cuda_loop(torch: Any, call: Callable[[], Any], into: Samples, max_n: int,
               deadline_ns: int) -> bool:
    pc, sync = time.perf_counter_ns, torch.cuda.synchronize
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    wall, dev, pre = into.wall.append, into.device.append, into.preempted.append
    ru, who = (resource.getrusage, _WHO) if _RUSAGE is not None else (None, _WHO)
    s0 = s1 = 0
    for _ in range(max_n):
        if ru is not None:
            s0 = ru(who).ru_nivcsw
        t0 = pc()
        start.record()
        call()
        end.record()
        sync()
        t1 = pc()
        if ru is not None:
            s1 = ru(who).ru_nivcsw
        wall(t1 - t0)
        dev(round(start.elapsed_time(end) * 1e6))  # events are after the sync: read outside
        pre(s1 != s0)
        if t1 >= deadline_ns:
            return False
    return True


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


def _arguments(example_inputs: Any, batch_size: int, leaf: Callable[[Any, int], Any]
               ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional and keyword arguments for one batch of ``batch_size``.

    ``example_inputs``: a callable ``f(batch_size)`` returning the inputs, or the inputs
    themselves. A tuple or list is the positional arguments, a dict the keyword arguments,
    anything else the single argument. Each tensor/array (nested anywhere) has its first
    dimension as the batch dimension; its rows are repeated cyclically to ``batch_size``.
    """
    if callable(example_inputs) and not hasattr(example_inputs, "shape"):
        example_inputs = example_inputs(batch_size)
        if example_inputs is None:
            raise InputError("example_inputs(batch_size) returned None")
    if example_inputs is None:
        raise InputError("example_inputs is required (use () for a model that takes none)")

    def batch(x: Any) -> Any:
        if isinstance(x, Mapping):
            return {k: batch(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return type(x)(batch(v) for v in x)
        return leaf(x, batch_size)

    if isinstance(example_inputs, Mapping):
        return (), batch(dict(example_inputs))
    if isinstance(example_inputs, list | tuple):
        return tuple(batch(list(example_inputs))), {}
    return (batch(example_inputs),), {}


def _import_torch(*, required: bool) -> Any:
    try:
        import torch
    except ImportError:
        if required:
            raise DeviceUnavailable("torch is not installed (pip install 'mlqa[torch]')") from None
        return None
    return torch
