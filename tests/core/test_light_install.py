"""A light install: every package mlqa imports is declared (core or an extra), evidently is an
extra, and a missing extra says which ``pip install`` brings it."""

import ast
import functools
import re
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.baseline import models

ROOT = Path(__file__).resolve().parents[2]
tomllib = pytest.importorskip("tomllib")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    """The distribution a requirement names, normalised (PEP 503)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]).lower()


CORE = {_name(r) for r in PROJECT["dependencies"]}
EXTRAS = {extra: {_name(r) for r in reqs}
          for extra, reqs in PROJECT["optional-dependencies"].items()}


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    """Installed top-level packages -> distributions (a scan of every installed distribution's
    files, about 0.1 s: once, not once per imported module)."""
    return metadata.packages_distributions()


def _distribution(module: str) -> str:
    top = module.split(".")[0]
    found = _packages_distributions().get(top)
    return _name(found[0] if found else top)


def imported_modules() -> dict[str, set[str]]:
    """Every third-party module that mlqa/ and pytest_plugin/ import (``import``, ``from``, and
    ``require("module", ...)`` of mlqa._optional), with the files that do."""
    own = {"mlqa", "pytest_mlqa"}
    found: dict[str, set[str]] = {}
    for folder in ("mlqa", "pytest_plugin"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require" \
                        and node.args and isinstance(node.args[0], ast.Constant):
                    names = [str(node.args[0].value)]
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in own and top != "_pytest":
                        found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared():
    """Nothing may arrive only as another package's dependency (evidently used to bring
    statsmodels, requests and PyYAML along): each is named in the core list or an extra."""
    declared = CORE.union(*EXTRAS.values())
    modules = imported_modules()
    assert {"statsmodels.stats.proportion", "yaml", "requests", "evidently"} <= set(modules)
    missing = {m: sorted(files) for m, files in modules.items()
               if _distribution(m) not in declared}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_model_formats_name_an_extra_that_installs_their_package():
    for fmt, (module, extra) in models._PACKAGE.items():
        dist = _distribution(module)
        assert dist in (CORE if extra is None else EXTRAS[extra]), (fmt, module, extra)


def test_evidently_is_an_extra_that_dev_keeps():
    assert "evidently" not in CORE and "junit-xml" not in CORE
    assert "evidently" in EXTRAS["evidently"] and "evidently" in EXTRAS["dev"]


def test_mlflow_is_an_extra_that_dev_keeps():
    """skinny alone has no registry on a sqlite store: the extra brings sqlalchemy and alembic."""
    assert not {"mlflow", "mlflow-skinny", "sqlalchemy", "alembic"} & CORE
    assert {"mlflow-skinny", "sqlalchemy", "alembic"} <= EXTRAS["mlflow"] <= EXTRAS["dev"]


def test_a_registry_without_mlflow_names_the_extra(monkeypatch, tmp_path):
    from mlqa.baseline import StoreError
    from mlqa.registry.mlflow import MlflowBaseline

    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")] + \
            ["mlflow", "mlflow.tracking"]:
        monkeypatch.setitem(sys.modules, name, None)
    (tmp_path / "mlflow.db").write_bytes(b"")
    baseline = MlflowBaseline("mlflow:models:/churn@champion", f"sqlite:///{tmp_path}/mlflow.db")
    with pytest.raises(StoreError, match=r"MLflow registry needs the mlflow package.*"
                                         r"pip install 'mlqa\[mlflow\]'"):
        baseline.load()


def test_junit_xml_is_not_imported():
    assert not [m for m in imported_modules() if m.split(".")[0] == "junit_xml"]


def test_html_without_evidently_names_the_extra(monkeypatch, tmp_path):
    """None in sys.modules makes ``import evidently`` fail as on an install without it."""
    monkeypatch.setitem(sys.modules, "evidently", None)
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=200)})
    cur = pd.DataFrame({"x": rng.normal(size=200)})
    assert mlqa.check_drift(ref, cur).outcome is mlqa.Outcome.PASS  # no evidently needed
    with pytest.raises(mlqa.InputError, match=r"pip install 'mlqa\[evidently\]'"):
        mlqa.check_drift(ref, cur, html=tmp_path / "drift.html")
    assert not (tmp_path / "drift.html").exists()


@pytest.mark.parametrize("check", ["drift", "quality"])
def test_a_parquet_file_without_pyarrow_names_the_extra(monkeypatch, tmp_path, check):
    pytest.importorskip("pyarrow")
    path = tmp_path / "data.parquet"
    pd.DataFrame({"x": np.arange(50.0)}).to_parquet(path)
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    frame = pd.DataFrame({"x": np.arange(50.0)})
    with pytest.raises(mlqa.InputError, match=r"data\.parquet.*pip install 'mlqa\[duckdb\]'"):
        if check == "drift":
            mlqa.check_drift(frame, str(path))  # beside a DataFrame: read into memory
        else:
            from mlqa.quality.frames import read_path

            read_path("data", str(path))
