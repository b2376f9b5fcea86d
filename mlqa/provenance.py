"""Provenance: what was tested, on what, where. It goes into the results bundle as
``provenance.json`` and into the release report.

Captured automatically when a run writes a bundle: git commit and dirty flag, the Jenkins
variables a build sets, Python and package versions, platform and GPU. Registered by the suite:
``mlqa.provenance.model(path_or_obj)`` and ``mlqa.provenance.dataset(name, df_or_path)`` return
content hashes (sha256) and remember them for the run; a waiver scoped to a model hash applies
only when that model was registered. A YAML suite registers itself (``suite``: its file and
``description:``), its model file and each data file a check reads, with the engine that read
it (``memory``, ``duckdb`` or ``spark``); a fixture's table or model by content hash.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import hashlib
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from mlqa._files import load_json, read_regular
from mlqa.errors import InputError

__all__ = ["Identity", "model", "dataset", "suite", "registered", "model_hashes", "clear",
           "capture", "write_part", "merge", "read", "PROVENANCE_FILE"]

PROVENANCE_FILE = "provenance.json"
_PART_GLOB = "provenance-*.json"
JENKINS_VARS = ("JOB_NAME", "BUILD_NUMBER", "BUILD_URL", "GIT_COMMIT", "GIT_BRANCH", "NODE_NAME",
                "BUILD_TAG")
PACKAGES = ("mlqa", "numpy", "pandas", "scipy", "scikit-learn", "evidently", "torch", "pytest",
            "pytest-xdist")
_CHUNK = 1 << 20
ENGINES = ("memory", "duckdb", "spark")
KINDS = {"suites": "suite", "models": "model", "datasets": "dataset"}  # provenance.json lists


@dataclasses.dataclass(frozen=True)
class Identity:
    """A model or dataset as the run saw it: ``sha256`` of its content, where it came from."""

    kind: str  # "model", "dataset" or "suite"
    name: str
    sha256: str
    source: str  # "file", "directory", "glob", "bytes", "torch", "pickle", "dataframe", "array"
    size: int | None = None  # bytes of a file or folder
    rows: int | None = None
    columns: int | None = None
    path: str | None = None  # the file or folder, absolute, when it came from one
    engine: str | None = None  # what read a dataset: "memory", "duckdb", "spark"
    description: str | None = None  # a suite's ``description:``

    def short(self) -> str:
        return self.sha256[:12]


_registered: list[Identity] = []
_lock = threading.Lock()


def model(path_or_obj: Any, name: str | None = None, *,
          path: str | os.PathLike[str] | None = None) -> Identity:
    """Register a model by content hash: a file or folder path, bytes, a torch module (its
    ``state_dict`` tensors) or any picklable object (a fitted scikit-learn estimator).

    ``path``: the file that ``path_or_obj`` (bytes) was read from, so that the hash is of the
    very bytes that were loaded and the record still names the file.
    """
    source, digest, size = _hash_model(path_or_obj)
    label = name or _default_name(path if path is not None else path_or_obj)
    where = path if path is not None else path_or_obj if _is_path(path_or_obj) else None
    if where is not None and source == "bytes":
        source = "file"
    return _register(Identity("model", label, digest, source, size=size,
                              path=None if where is None else _absolute(where)))


def dataset(name: str, df_or_path: Any, *, engine: str | None = None) -> Identity:
    """Register a dataset by content hash: a DataFrame (values, column names and dtypes), an
    array, or a file or folder path. ``engine``: what read it (``memory``, ``duckdb``,
    ``spark``), when the caller knows."""
    if not isinstance(name, str) or not name:
        raise InputError(f"dataset name must be a non-empty str, got {name!r}")
    if engine is not None and engine not in ENGINES:
        raise InputError(f"dataset {name!r}: engine must be one of {list(ENGINES)}, "
                         f"got {engine!r}")
    if _is_path(df_or_path):
        source, digest, size = _hash_path(Path(df_or_path))
        return _register(Identity("dataset", name, digest, source, size=size,
                                  path=_absolute(df_or_path), engine=engine))
    if hasattr(df_or_path, "columns") and hasattr(df_or_path, "dtypes"):
        import pandas as pd

        h = hashlib.sha256()
        h.update(json.dumps([[str(c), str(t)] for c, t in df_or_path.dtypes.items()]).encode())
        h.update(pd.util.hash_pandas_object(df_or_path, index=False).to_numpy().tobytes())
        rows, cols = df_or_path.shape
        return _register(Identity("dataset", name, h.hexdigest(), "dataframe",
                                  rows=int(rows), columns=int(cols), engine=engine))
    import numpy as np

    try:
        arr = np.asarray(df_or_path)
    except Exception as exc:  # noqa: BLE001 - numpy raises many types for odd input
        raise InputError(f"dataset {name!r}: cannot read {type(df_or_path).__name__} as a "
                         f"table or array ({exc})") from None
    h = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(pickle.dumps(arr.tolist()) if arr.dtype.kind == "O"
             else np.ascontiguousarray(arr).tobytes())
    return _register(Identity("dataset", name, h.hexdigest(), "array", rows=int(arr.shape[0])
                              if arr.ndim else 1,
                              columns=int(arr.shape[1]) if arr.ndim > 1 else None,
                              engine=engine))


def suite(name: str, path: str | os.PathLike[str], description: str = "") -> Identity:
    """Register a suite file (``*.mlqa.yaml``) by content hash, with its ``description:``: the
    approver sees which version of the checks was run, and what the suite says it is for."""
    source, digest, size = _hash_path(Path(path))
    return _register(Identity("suite", name, digest, source, size=size, path=_absolute(path),
                              description=description.strip() or None))


def registered() -> list[Identity]:
    with _lock:
        return list(_registered)


def model_hashes() -> list[str]:
    return [i.sha256 for i in registered() if i.kind == "model"]


def clear() -> None:
    """Forget what was registered (a new run starts)."""
    with _lock:
        _registered.clear()


def _register(identity: Identity) -> Identity:
    with _lock:
        if identity not in _registered:
            _registered.append(identity)
    return identity


def _absolute(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.fspath(path))


def _is_path(x: Any) -> bool:
    return isinstance(x, str | os.PathLike)


def _default_name(obj: Any) -> str:
    if _is_path(obj):
        return Path(obj).name
    return type(obj).__name__


def _hash_model(obj: Any) -> tuple[str, str, int | None]:
    if _is_path(obj):
        return _hash_path(Path(obj))
    if isinstance(obj, bytes | bytearray | memoryview):
        return "bytes", hashlib.sha256(obj).hexdigest(), len(obj)
    torch = sys.modules.get("torch")  # a torch module exists only if the caller imported torch
    if torch is not None and isinstance(obj, torch.nn.Module):
        h = hashlib.sha256()
        for key, tensor in sorted(obj.state_dict().items()):
            t = tensor.detach().cpu().contiguous().reshape(-1)
            h.update(f"{key}|{t.dtype}|{tuple(tensor.shape)}|".encode())
            h.update(t.view(torch.uint8).numpy().tobytes())
        return "torch", h.hexdigest(), None
    try:
        data = pickle.dumps(obj, protocol=4)
    except Exception as exc:  # noqa: BLE001 - pickling raises many types
        raise InputError(f"model of type {type(obj).__name__} cannot be hashed: pass its file "
                         f"path instead ({exc})") from None
    return "pickle", hashlib.sha256(data).hexdigest(), len(data)


def _hash_path(path: Path) -> tuple[str, str, int]:
    if path.is_file():
        h = hashlib.sha256()
        size = _feed(h, path)
        return "file", h.hexdigest(), size
    if path.is_dir():
        return ("directory", *_hash_files(sorted(p for p in path.rglob("*") if p.is_file()),
                                          path))
    matches = sorted(Path(m) for m in glob.glob(os.fspath(path), recursive=True)) \
        if glob.has_magic(os.fspath(path)) else []
    files = [m for m in matches if m.is_file()]
    if files:  # a Parquet glob an engine reads: every file it names, hashed as a folder is
        root = Path(os.path.commonpath(files)) if len(files) > 1 else files[0].parent
        return ("glob", *_hash_files(files, root))
    raise InputError(f"{path} does not exist (give a model or dataset file, folder or object)")


def _hash_files(files: list[Path], root: Path) -> tuple[str, int]:
    """One hash of several files: each one's name below ``root``, then its bytes."""
    h, size = hashlib.sha256(), 0
    for f in files:
        h.update(f.relative_to(root).as_posix().encode() + b"\0")
        size += _feed(h, f)
    return h.hexdigest(), size


def _feed(h: Any, path: Path) -> int:
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size


# -- the run's environment --------------------------------------------------------------------

def capture(root: str | os.PathLike[str] | None = None,
            environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The environment of this run: git, Jenkins, Python, packages, platform, GPU."""
    environ = os.environ if environ is None else environ
    return {
        "captured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git": _git(Path(root or Path.cwd())),
        "jenkins": {k: environ[k] for k in JENKINS_VARS if environ.get(k)},
        "python": platform.python_version(),
        "packages": _packages(),
        "platform": {"system": platform.system(), "release": platform.release(),
                     "machine": platform.machine(), "node": platform.node(),
                     "cpus": os.cpu_count()},
        "gpu": _gpus(),
    }


def _run(args: list[str], cwd: Path) -> str | None:
    try:
        proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=10,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _git(root: Path) -> dict[str, Any] | None:
    if shutil.which("git") is None:
        return None
    commit = _run(["git", "rev-parse", "HEAD"], root)
    if commit is None:
        return None
    # Untracked files (the bundle folder itself, caches) do not make the tested code differ.
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], root)
    return {"commit": commit, "dirty": bool(status),
            "branch": _run(["git", "rev-parse", "--abbrev-ref", "HEAD"], root)}


def _packages() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _gpus() -> list[dict[str, str]]:
    """GPUs as the driver reports them; torch is asked only if the run already imported it."""
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                return [{"name": torch.cuda.get_device_name(i),
                         "cuda": str(torch.version.cuda)}
                        for i in range(torch.cuda.device_count())]
        except Exception:  # noqa: BLE001 - a broken driver raises many types; fall through
            pass
    if shutil.which("nvidia-smi") is None:
        return []
    out = _run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                "--format=csv,noheader"], Path.cwd())
    gpus = []
    for line in (out or "").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            gpus.append({"name": parts[0], "driver": parts[1], "memory": parts[2]})
    return gpus


# -- in the bundle ----------------------------------------------------------------------------

def write_part(directory: str | os.PathLike[str], worker: str) -> Path | None:
    """This process's registrations as ``provenance-<worker>.json`` (xdist workers each write
    one); nothing when nothing was registered."""
    identities = registered()
    if not identities:
        return None
    path = Path(directory) / f"provenance-{worker}.json"
    path.write_text(json.dumps([dataclasses.asdict(i) for i in identities], indent=1),
                    encoding="utf-8")
    return path


def merge(directory: str | os.PathLike[str], root: str | os.PathLike[str] | None = None,
          extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``provenance.json``: the environment plus every part's models, datasets and
    suites."""
    from mlqa._atomic import write_atomic

    directory = Path(directory)
    parts = sorted(directory.glob(_PART_GLOB))
    seen: list[dict[str, Any]] = []
    for part in parts:
        for identity in json.loads(part.read_text(encoding="utf-8")):
            if identity not in seen:
                seen.append(identity)
    doc = capture(root)
    for key, kind in KINDS.items():
        doc[key] = [i for i in seen if i.get("kind") == kind]
    doc.update(extra or {})
    target = directory / PROVENANCE_FILE
    write_atomic(target, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    for part in parts:
        part.unlink()
    return target


def reset(directory: str | os.PathLike[str]) -> None:
    directory = Path(directory)
    for stale in [directory / PROVENANCE_FILE, *directory.glob(_PART_GLOB)]:
        stale.unlink(missing_ok=True)


def read(bundle_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The bundle's provenance, or {} when the run wrote none."""
    path = Path(bundle_dir)
    path = path / PROVENANCE_FILE if path.is_dir() else path.parent / PROVENANCE_FILE
    if not os.path.lexists(path):
        return {}
    raw = read_regular(path, "provenance record")  # a FIFO, a symlink loop: refused, said so
    try:
        doc = load_json(raw.decode("utf-8"), str(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc.msg})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not an mlqa provenance document")
    return doc
