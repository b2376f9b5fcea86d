"""The distribution installs what the layout promises."""

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
tomllib = pytest.importorskip("tomllib")


def test_every_package_folder_is_packaged():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "mlqa").rglob(
        "__init__.py")}
    on_disk |= {"pytest_mlqa"} if (ROOT / "pytest_plugin" / "__init__.py").exists() else set()
    assert on_disk == listed
    assert config["package-dir"] == {"pytest_mlqa": "pytest_plugin"}


def test_entry_points():
    eps = metadata.entry_points()
    (plugin,) = [ep for ep in eps.select(group="pytest11") if ep.name == "mlqa"]
    assert plugin.value == "pytest_mlqa.plugin"
    (script,) = [ep for ep in eps.select(group="console_scripts") if ep.name == "mlqa"]
    assert script.value == "mlqa.cli:main"


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "mlqa.cli", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"mlqa {metadata.version('mlqa')}"


def test_torch_is_pinned_for_every_install():
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text().splitlines()
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.replace(" ", "") == "pandas>=2.1,<3" for d in deps["dependencies"])
    assert not any(d.startswith("torch==") for d in deps["optional-dependencies"]["torch"])
