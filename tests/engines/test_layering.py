"""The engines sit under the families: they fill summaries and know no check. Read from the
source itself: no module under mlqa/engines/ imports a family, at module level or inside a
function."""

from __future__ import annotations

import ast
from pathlib import Path

import mlqa.engines

FAMILIES = ("mlqa.drift", "mlqa.quality", "mlqa.metrics", "mlqa.compare", "mlqa.latency",
            "mlqa.fairness", "mlqa.shadow")
ENGINES = Path(mlqa.engines.__file__).parent


def _imports(path: Path) -> list[str]:
    """Every module an import statement in ``path`` names, wherever the statement sits
    (``from a import b`` counts as ``a`` and ``a.b``: ``from mlqa import drift`` is a family
    import too)."""
    package = "mlqa.engines"
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against mlqa.engines
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    return names


def _is_family(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FAMILIES)


def test_no_engine_module_imports_a_family():
    modules = sorted(ENGINES.glob("*.py"))
    assert len(modules) >= 8  # the reader really sees the package
    offenders = {p.name: sorted(n for n in _imports(p) if _is_family(n))
                 for p in modules}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_reader_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text("import numpy\n\ndef f():\n    from mlqa.drift.check import AUTO\n"
                      "    from mlqa import metrics\n    return AUTO\n")
    found = [n for n in _imports(module) if _is_family(n)]
    assert found == ["mlqa.drift.check", "mlqa.drift.check.AUTO", "mlqa.metrics"]
