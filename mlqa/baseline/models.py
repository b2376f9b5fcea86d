"""Model files in baseline records, and loading them without running code.

Loading a pickle (``pickle``, ``joblib``, ``torch.save``) executes whatever the file says: a
store that several teams can write to would be a way to run code on every CI agent. So the
format is read from the file's *content* (never its name), and only formats that are data, not
code, load by default: skops (scikit-learn, restricted to trusted types), safetensors (tensors),
TorchScript (a restricted archive), ONNX (a protobuf graph). Anything else needs ``trust=True``.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

from mlqa._optional import require
from mlqa._text import one_line
from mlqa.baseline.errors import CorruptRecord, UnsafeModelFormat
from mlqa.errors import InputError

SKOPS, SAFETENSORS, TORCHSCRIPT, ONNX, PICKLE = "skops", "safetensors", "torchscript", "onnx", \
    "pickle"
SAFE_FORMATS = (SKOPS, SAFETENSORS, TORCHSCRIPT, ONNX)
# skops lists some of scikit-learn's own compiled types (sklearn.tree._tree.Tree) as untrusted
# because they are rebuilt through a constructor call; a library's own types are not what an
# attacker smuggles in (that is builtins, os, subprocess, or an unknown module's callable).
_LIBRARY_TYPES = ("sklearn.", "numpy.", "scipy.")
_SUFFIX = {SKOPS: ".skops", SAFETENSORS: ".safetensors", TORCHSCRIPT: ".pt", ONNX: ".onnx",
           PICKLE: ".pkl"}
# format -> (module that reads and writes it, the mlqa extra that installs it; None: core)
_PACKAGE: dict[str, tuple[str, str | None]] = {
    SKOPS: ("skops.io", None), SAFETENSORS: ("safetensors.torch", "torch"),
    TORCHSCRIPT: ("torch", "torch"), ONNX: ("onnx", "onnx"), PICKLE: ("joblib", None)}


def sniff(data: bytes, name: str = "") -> str:
    """The format of a model file, from its bytes. ``onnx`` needs the ``.onnx`` name as well
    (protobuf has no magic number); anything unrecognised counts as ``pickle``: unsafe."""
    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return PICKLE
        if "schema.json" in names:
            return SKOPS
        if any("/code/" in n for n in names) and any(n.endswith("constants.pkl") for n in names):
            return TORCHSCRIPT
        return PICKLE  # torch.save's zip: a pickle inside
    if len(data) >= 9:
        (header,) = struct.unpack("<Q", data[:8])
        if 0 < header <= len(data) - 8 and data[8:9] == b"{":
            return SAFETENSORS
    if name.endswith(".onnx") and data[:1] != b"\x80":
        return ONNX
    return PICKLE


def serialize(model: Any = None, *, path: str | os.PathLike[str] | None = None,
              format: str | None = None) -> tuple[bytes, str, str]:  # noqa: A002
    """``(bytes, format, filename)`` for a model object or an existing model file."""
    if path is not None:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"model path {path}: {exc.strerror}") from None
        return data, sniff(data, path.name), path.name
    fmt = format or _default_format(model)
    if fmt not in (SKOPS, SAFETENSORS, TORCHSCRIPT, PICKLE):
        raise InputError(f"model format must be one of {(*SAFE_FORMATS, PICKLE)}, got {fmt!r}; "
                         f"for ONNX pass path= to the .onnx file")
    package = _package(fmt, f"storing a model as {fmt}")
    try:
        if fmt == SKOPS:
            data = package.dumps(model)
        elif fmt == SAFETENSORS:
            state = model.state_dict() if hasattr(model, "state_dict") else model
            data = package.save({k: v.contiguous() for k, v in state.items()})
        elif fmt == TORCHSCRIPT:
            buffer = io.BytesIO()
            scripted = model if isinstance(model, package.jit.ScriptModule) else \
                package.jit.script(model)
            package.jit.save(scripted, buffer)
            data = buffer.getvalue()
        else:
            buffer = io.BytesIO()
            package.dump(model, buffer)
            data = buffer.getvalue()
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - each serialiser fails its own way
        raise InputError(f"model {type(model).__name__} cannot be stored as {fmt}: "
                         f"{type(exc).__name__}: {one_line(str(exc), 300)}") from None
    return data, fmt, f"model{_SUFFIX[fmt]}"


def _package(fmt: str, why: str) -> Any:
    module, extra = _PACKAGE[fmt]
    return require(module, extra, why)


def _default_format(model: Any) -> str:
    if type(model).__module__.startswith("sklearn") or hasattr(model, "get_params"):
        return SKOPS
    torch = sys.modules.get("torch")
    if torch is not None and (isinstance(model, torch.nn.Module) or (
            isinstance(model, dict) and model and
            all(isinstance(v, torch.Tensor) for v in model.values()))):
        return SAFETENSORS  # a state dict: weights only, the code stays in the repository
    raise InputError(f"cannot tell how to store a {type(model).__name__}: pass format= "
                     f"({', '.join(SAFE_FORMATS)}) or path= to a model file")


def load(data: bytes, *, name: str = "", trust: bool = False) -> Any:
    """Load model bytes; formats that can run code are refused unless ``trust`` is True.

    Whatever is wrong with the file (empty, truncated, crafted, a package missing), the error
    is an ``InputError`` naming the file and its format."""
    shown = name or "(unnamed)"
    if not data:
        raise CorruptRecord(f"model {shown}: the file is empty")
    if data[:4] == b"PK\x03\x04" and not _readable_zip(data):
        raise CorruptRecord(f"model {shown} (zip archive: skops, TorchScript or torch.save): "
                            f"truncated or damaged, it cannot be opened")
    fmt = sniff(data, name)
    if fmt == PICKLE and not trust:
        raise UnsafeModelFormat(
            f"refusing to load model {shown}: it is a pickle (pickle, joblib or "
            f"torch.save), and loading a pickle runs whatever code the file contains. Store the "
            f"model as skops, safetensors, TorchScript or ONNX, or pass trust=True "
            f"(--mlqa-trust-model) if you produced this file yourself")
    module, extra = ("torch", "torch") if fmt == PICKLE and data[:4] == b"PK\x03\x04" \
        else _PACKAGE[fmt]  # torch.save's zip is a pickle that torch reads
    package = require(module, extra, f"loading model {shown} ({fmt})")
    try:
        return _load(package, fmt, data, shown, trust)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - each format's reader fails its own way
        raise CorruptRecord(f"model {shown} ({fmt}): cannot be loaded: {type(exc).__name__}: "
                            f"{one_line(str(exc), 300)}") from None


def _load(package: Any, fmt: str, data: bytes, shown: str, trust: bool) -> Any:
    if fmt == SKOPS:
        untrusted = package.get_untrusted_types(data=data)
        unknown = [t for t in untrusted if not t.startswith(_LIBRARY_TYPES)]
        if unknown and not trust:
            raise UnsafeModelFormat(
                f"model {shown}: skops file uses types outside skops' trusted set "
                f"({', '.join(unknown[:5])}); loading them could run their code. Pass "
                f"trust=True (--mlqa-trust-model) only for a file you know")
        return package.loads(data, trusted=untrusted or None)
    if fmt == SAFETENSORS:
        return package.load(data)
    if fmt == TORCHSCRIPT:
        return package.jit.load(io.BytesIO(data), map_location="cpu")
    if fmt == ONNX:
        return package.load_model_from_string(data)
    if package.__name__ == "torch":
        return package.load(io.BytesIO(data), map_location="cpu", weights_only=False)
    return package.load(io.BytesIO(data))


def _readable_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.testzip() is None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        return False
