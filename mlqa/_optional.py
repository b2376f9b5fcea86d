"""Optional packages: import one, or say which extra of mlqa installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from mlqa.errors import InputError

# The extra that brings pyarrow, which reads a Parquet file into memory (DuckDB reads it where
# it lies; the extra has both).
PARQUET_EXTRA = "duckdb"


def require(module: str, extra: str | None, why: str) -> ModuleType:
    """``import module``; when it is missing, an InputError saying what needs it and the
    ``pip install`` that brings it (``extra=None``: a core dependency that went missing)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        install = f"pip install 'mlqa[{extra}]'" if extra else \
            f"pip install {top} (a dependency of mlqa: reinstall mlqa)"
        raise InputError(f"{why} needs the {top} package, which is not installed "
                         f"({type(exc).__name__}: {exc}); {install}") from None
