"""Bad store locations, keys and model files: each an ``InputError`` (a ``BaselineError``
subclass where it comes from a store) naming the file or key and what is wrong, never a raw
library exception, never a credential."""

from __future__ import annotations

import ast
import io
import json
import socket
import struct
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _matrix import Case, cases, input_error, run_case
from sklearn.linear_model import LogisticRegression

from mlqa.baseline import CorruptRecord, RecordNotFound, StoreError, UnsafeModelFormat
from mlqa.baseline import models as model_files
from mlqa.baseline.records import RecordBuilder, load_record
from mlqa.baseline.stores import HttpStore, LocalStore, open_store

ROOT = Path(__file__).resolve().parents[2]
SECRET = ("s3cret",)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _skops() -> bytes:
    X = np.random.default_rng(0).normal(size=(40, 2))
    model = LogisticRegression().fit(X, X[:, 0] > 0)
    return model_files.serialize(model)[0]


def load(data: bytes, name: str, **kw: Any) -> Callable[[Path], Any]:
    return lambda tmp: model_files.load(data, name=name, **kw)


def missing(module: str) -> Callable[[Callable[[Path], Any]], Callable[[Path], Any]]:
    """Run the action as if ``module`` were not installed."""
    def wrap(action: Callable[[Path], Any]) -> Callable[[Path], Any]:
        def run(tmp: Path) -> Any:
            with pytest.MonkeyPatch.context() as mp:
                mp.setitem(sys.modules, module, None)
                for name in [m for m in sys.modules if m.startswith(module + ".")]:
                    mp.setitem(sys.modules, name, None)
                return action(tmp)
        return run
    return wrap


def local_record(tmp: Path, edit: Callable[[Path], None]) -> Any:
    builder = RecordBuilder(model_name="m", model_version="1")
    builder.add_latency("cpu", np.full(10, 1.0))
    record_id = builder.save(LocalStore(tmp / "s"))
    edit(tmp / "s" / "records" / record_id / "record.json")
    return load_record(LocalStore(tmp / "s"), record_id)


SKOPS_BYTES = _skops()
SAFETENSORS_HEADER = struct.pack("<Q", 20) + b'{"w": {"dtype": "F3'  # cut in the header
TORCHSCRIPT_JUNK = _zip({"m/code/__torch__.py": b"def x(:", "m/constants.pkl": b"junk"})

class _NoListing(LocalStore):
    children = None  # reads its record list from the journal, as a plain HTTP store does


def _journal_slot(tmp: Path, record: str) -> Any:
    """A store whose first index slot names no record id: listing it."""
    from mlqa.baseline.records import SCHEMA, _sealed, record_ids

    store = _NoListing(tmp)
    data = _sealed({"schema": SCHEMA, "record": record, "token": "t"})
    store.put("index/00000000.json", data)
    return record_ids(store)


def _journal_on_a_yes_server(tmp: Path) -> Any:
    """Saving into a store that answers HEAD with 200 for every path (the journal would scan
    for a free slot forever)."""

    class YesStore(_NoListing):
        def exists(self, key: str) -> bool:
            return True

    builder = RecordBuilder(model_name="m")
    builder.add_latency("cpu", np.ones(3))
    return builder.save(YesStore(tmp), aliases=())


STORES = [
    Case("store-url-ftp", lambda tmp: HttpStore("ftp://alice:s3cret@host/x"),
         input_error("HttpStore url must be http(s)://host/path, got 'ftp://host/x'",
                     absent=SECRET)),
    Case("store-url-no-host", lambda tmp: HttpStore("https:///x"),
         input_error("HttpStore url must be http(s)://host/path")),
    Case("store-url-password-as-port", lambda tmp: HttpStore("https://alice@host:s3cret/x"),
         input_error("the port is not a number", absent=SECRET)),
    Case("store-timeout-zero", lambda tmp: HttpStore("https://h/x", timeout=0),
         input_error("HttpStore timeout= must be a finite number of seconds > 0, got 0")),
    Case("store-retries-negative", lambda tmp: HttpStore("https://h/x", retries=-1),
         input_error("HttpStore retries= must be a whole number >= 0, got -1")),
    Case("store-deadline-negative", lambda tmp: HttpStore("https://h/x", deadline=-1),
         input_error("HttpStore deadline= must be a finite number of seconds > 0, got -1")),
    Case("store-settle-zero", lambda tmp: HttpStore("https://h/x", settle=0),
         input_error("HttpStore settle= must be a number of seconds > 0 and <= 300")),
    Case("store-settle-env-not-a-number",
         lambda tmp: HttpStore("https://h/x", env={"MLQA_STORE_SETTLE": "soon"}),
         input_error("MLQA_STORE_SETTLE must be a number of seconds > 0 and <= 300 (the wait "
                     "after claiming a record-index slot), got 'soon'")),
    Case("store-journal-slot-names-no-record", lambda tmp: _journal_slot(tmp, "not-an-id"),
         input_error("index slot index/00000000.json of", exc=CorruptRecord)),
    Case("store-journal-server-says-everything-exists", _journal_on_a_yes_server,
         input_error("reports a file that was never written", exc=StoreError)),
    Case("store-scheme-s3", lambda tmp: open_store("s3://bucket/x"),
         input_error("baseline store: unsupported scheme 's3'")),
    Case("store-key-parent", lambda tmp: LocalStore(tmp).get("../etc/passwd"),
         input_error("store key must be a relative path without '.' or '..', got "
                     "'../etc/passwd'")),
    Case("store-key-absolute", lambda tmp: LocalStore(tmp).put("/abs", b"x"),
         input_error("store key must be a relative path")),
    Case("store-key-empty-part", lambda tmp: LocalStore(tmp).get("a//b"),
         input_error("store key must be a relative path")),
    Case("store-key-missing", lambda tmp: LocalStore(tmp).get("records/x/record.json"),
         input_error("records/x/record.json not found in", exc=RecordNotFound)),
    Case("store-unreachable",
         lambda tmp: HttpStore(f"http://alice:s3cret@127.0.0.1:{_closed_port()}/x/", retries=0,
                               env={}).get("k"),
         input_error("failed after 1 attempt: could not connect", exc=StoreError,
                     absent=SECRET)),
    Case("store-no-baseline", lambda tmp: load_record(LocalStore(tmp), "approved"),
         input_error("--mlqa-save-baseline", exc=RecordNotFound)),
    Case("store-record-truncated",
         lambda tmp: local_record(tmp, lambda p: p.write_bytes(p.read_bytes()[:30])),
         input_error("", exc=CorruptRecord)),
    Case("store-record-edited",
         lambda tmp: local_record(tmp, lambda p: p.write_text(
             p.read_text().replace('"version": "1"', '"version": "2"'))),
         input_error("", exc=CorruptRecord)),
]

MODELS = [
    Case("model-empty-file", load(b"", "m.skops"),
         input_error("model m.skops: the file is empty", exc=CorruptRecord)),
    Case("model-zip-truncated", load(SKOPS_BYTES[:200], "m.skops"),
         input_error("model m.skops (zip archive: skops, TorchScript or torch.save): truncated "
                     "or damaged", exc=CorruptRecord)),
    Case("model-skops-crafted", load(_zip({"schema.json": b"{not json"}), "m.skops"),
         input_error("model m.skops (skops): cannot be loaded: ", exc=CorruptRecord)),
    Case("model-skops-wrong-schema",
         load(_zip({"schema.json": json.dumps({"__class__": "X"}).encode()}), "m.skops"),
         input_error("model m.skops (skops): cannot be loaded: ", exc=CorruptRecord)),
    Case("model-safetensors-cut", load(SAFETENSORS_HEADER + b"}" * 2, "w.safetensors"),
         input_error("model w.safetensors (safetensors): cannot be loaded: ",
                     exc=CorruptRecord)),
    Case("model-torchscript-junk", load(TORCHSCRIPT_JUNK, "m.pt"),
         input_error("model m.pt (torchscript): cannot be loaded: ", exc=CorruptRecord)),
    Case("model-onnx-without-package", load(b"\x08\x07\x12\x04junk", "m.onnx"),
         input_error("loading model m.onnx (onnx) needs the onnx package, which is not "
                     "installed")),
    Case("model-onnx-extra-named", load(b"\x08\x07\x12\x04junk", "m.onnx"),
         input_error("pip install 'mlqa[onnx]'")),
    Case("model-pickle-refused", load(b"\x80\x04K\x01.", "m.pkl"),
         input_error("refusing to load model m.pkl: it is a pickle", exc=UnsafeModelFormat)),
    Case("model-pickle-trusted-junk", load(b"\x80\x04\x95junk", "m.pkl", trust=True),
         input_error("model m.pkl (pickle): cannot be loaded: ", exc=CorruptRecord)),
    Case("model-torch-save-trusted-junk",
         load(_zip({"archive/data.pkl": b"\x80\x02junk"}), "m.pt", trust=True),
         input_error("model m.pt (pickle): cannot be loaded: ", exc=CorruptRecord)),
    Case("model-text-file", load(b"just some text", "notes.txt"),
         input_error("refusing to load model notes.txt: it is a pickle",
                     exc=UnsafeModelFormat)),
    Case("model-skops-missing-package", missing("skops")(load(SKOPS_BYTES, "m.skops")),
         input_error("loading model m.skops (skops) needs the skops package")),
    Case("model-set-without-skops",
         missing("skops")(lambda tmp: RecordBuilder().set_model(LogisticRegression())),
         input_error("storing a model as skops needs the skops package, which is not "
                     "installed")),
    Case("model-safetensors-missing-package",
         missing("safetensors")(load(SAFETENSORS_HEADER + b"}", "w.safetensors")),
         input_error("pip install 'mlqa[torch]'")),
    Case("model-format-unknown",
         lambda tmp: model_files.serialize(LogisticRegression(), format="h5"),
         input_error("model format must be one of")),
    Case("model-path-missing", lambda tmp: model_files.serialize(path=tmp / "gone.skops"),
         input_error("gone.skops: No such file or directory")),
    Case("model-object-unknown", lambda tmp: model_files.serialize(object()),
         input_error("cannot tell how to store a object: pass format=")),
    Case("model-unserialisable-as-pickle",
         lambda tmp: model_files.serialize(lambda x: x, format="pickle"),
         input_error("model function cannot be stored as pickle: ")),
]


@pytest.mark.parametrize("case", cases(STORES + MODELS))
def test_case(case: Case, tmp_path: Path, record_property: Any) -> None:
    run_case(case, tmp_path, record_property)


# Import name -> distribution, for the packages whose names differ.
_DIST = {"yaml": "pyyaml", "sklearn": "scikit-learn", "junit_xml": "junit-xml"}
# Where a package comes with another that is declared.
_WITH = {"joblib": "scikit-learn", "threadpoolctl": "scikit-learn", "statsmodels": "evidently",
         "pyarrow": "evidently"}


def test_every_package_a_runtime_path_imports_is_declared() -> None:
    """Every third-party import in mlqa/ and pytest_plugin/ is a core dependency or an extra
    (a missing one raises an InputError naming the extra, see mlqa._optional)."""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(d) for d in project["dependencies"]}
    for extra, deps in project["optional-dependencies"].items():
        if extra != "dev":
            declared |= {_name(d) for d in deps}
    stdlib = set(sys.stdlib_module_names) | {"mlqa", "pytest_mlqa", "_pytest", "__future__"}
    imported: dict[str, str] = {}
    for folder in ("mlqa", "pytest_plugin"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module and \
                    not node.level else []
                for name in names:
                    top = name.split(".")[0]
                    if top not in stdlib:
                        imported.setdefault(top, str(path.relative_to(ROOT)))
    undeclared = {top: where for top, where in imported.items()
                  if _DIST.get(top, top) not in declared and _WITH.get(top) not in declared}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def _name(requirement: str) -> str:
    for stop in "<>=![; ":
        requirement = requirement.split(stop)[0]
    return requirement.strip().lower()
