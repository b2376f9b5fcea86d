"""Real engines for the parity tests: DuckDB in process, one local[2] Spark session for all."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest


def drift_frame(n: int, shift: float, seed: int) -> pd.DataFrame:
    """Seeded columns with what breaks naive code: NaN and inf, heavy ties, skew, integers,
    a string column with a category only one side has, and a boolean."""
    r = np.random.default_rng(seed)
    cats = ["a", "b", "c", "d"] if shift else ["a", "b", "c"]
    frame = pd.DataFrame({
        "x": r.normal(shift, 1, n),
        "tied": np.round(r.normal(shift, 1, n), 1),
        "skew": r.lognormal(shift, 1.5, n),
        "few": r.integers(0, 4, n).astype(float) + (r.random(n) < shift),
        "big": r.integers(0, 1000, n),
        "s": r.choice(cats, n, p=np.full(len(cats), 1 / len(cats))),
        "k": r.integers(0, 3, n),
        "flag": r.random(n) < 0.3 + shift,
    })
    frame.loc[r.random(n) < 0.05, "x"] = np.nan
    frame.loc[r.random(n) < 0.01, "x"] = np.inf
    frame.loc[r.random(n) < 0.02, "s"] = None
    return frame


def assert_same_drift(memory, engine, rel: float = 1e-9) -> None:
    assert list(memory.columns) == list(engine.columns)
    assert memory.outcome == engine.outcome and memory.value == engine.value
    assert dict(memory.excluded) == dict(engine.excluded)
    for name, a in memory.columns.items():
        b = engine.columns[name]
        for field in ("test", "kind", "drifted", "reason", "n_reference", "n_current"):
            assert getattr(a, field) == getattr(b, field), (name, field)
        for field in ("statistic", "p_value", "adjusted_p_value", "effect_size", "effect_low",
                      "missing_reference", "missing_current"):
            x, y = getattr(a, field), getattr(b, field)
            assert (x is None) == (y is None), (name, field)
            if x is not None:
                assert math.isclose(x, y, rel_tol=rel, abs_tol=1e-12), (name, field, x, y)


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    session = (SparkSession.builder.master("local[2]").appName("mlqa-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.memory", "768m")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.adaptive.enabled", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.host", "127.0.0.1")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
