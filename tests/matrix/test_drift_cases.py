"""The bad-input matrix for ``check_drift`` and drift reference profiles (issue 11.3, 11.4, 11.7).

Case format: tests/matrix/README.md (the ``_matrix`` module). Every case is one piece of bad
input and the exact class and text it must produce: an ``InputError`` naming the argument,
column or file, or an ERROR outcome naming why a column could not be tested.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlqa
import mlqa.drift

_matrix = pytest.importorskip(
    "_matrix", reason="the matrix framework (tests/matrix/_matrix.py) is not on this branch")
Case, cases, error_outcome, input_error, run_case = (
    _matrix.Case, _matrix.cases, _matrix.error_outcome, _matrix.input_error, _matrix.run_case)

N = 300


def frame(shift: float = 0.0, seed: int = 0, n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(shift, 1, n),
                         "c": rng.choice(["x", "y", "z"], n)})


REF, CUR = frame(), frame(seed=1)


def drift(reference=None, current=None, **kwargs):
    return mlqa.check_drift(REF if reference is None else reference,
                            CUR if current is None else current, **kwargs)


def with_column(df: pd.DataFrame, name, values) -> pd.DataFrame:
    out = df.copy()
    out[name] = values
    return out


def saved_profile(tmp: Path) -> Path:
    path = tmp / "reference.profile"
    mlqa.drift.profile(REF).save(path)
    return path


def rewritten_profile(tmp: Path, edit) -> Path:
    """The saved profile with ``edit(arrays, meta)`` applied, written back as an archive."""
    path = saved_profile(tmp)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    edit(arrays, meta)
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def truncated_profile(tmp: Path) -> Path:
    path = saved_profile(tmp)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _set_type(arrays, meta, value="text"):
    meta["columns"][0]["type"] = value


def _shift_values(arrays, meta):
    arrays["values_0"] = arrays["values_0"] + 5.0


def _forged_checksum_type(arrays, meta):
    # an edit that also recomputes the schema checksum: the arrays still refuse it
    from mlqa.drift.profile import _checksum

    meta["columns"][0]["type"] = "categorical"
    meta["columns"][0]["kind"] = "categorical"
    meta["checksum"] = _checksum(meta)


def _drop_array(arrays, meta):
    del arrays["counts_1"]


def _old_version(arrays, meta):
    meta["version"] = 1


CASES = [
    # --- the two sides -------------------------------------------------------------------
    Case("drift-reference-none", lambda tmp: mlqa.check_drift(None, CUR),
         input_error("reference is required, got None")),
    Case("drift-current-none", lambda tmp: mlqa.check_drift(REF, None),
         input_error("current is required, got None")),
    Case("drift-reference-list", lambda tmp: mlqa.check_drift([1.0, 2.0], CUR),
         input_error("reference must be a pandas DataFrame")),
    Case("drift-reference-1d-array", lambda tmp: mlqa.check_drift(np.arange(50.0), CUR),
         input_error("reference must be 2-D (rows x columns), got shape (50,)")),
    Case("drift-reference-empty", lambda tmp: mlqa.check_drift(REF.iloc[:0], CUR),
         input_error("reference is empty")),
    Case("drift-duplicate-columns",
         lambda tmp: drift(pd.concat([REF, REF[["a"]]], axis=1)),
         input_error("reference has duplicate column names: ['a']")),
    Case("drift-names-collide-after-str",
         lambda tmp: drift(with_column(REF, 1, REF["a"]).rename(columns={"a": "1"}),
                           with_column(CUR, 1, CUR["a"] + 5).rename(columns={"a": "1"})),
         input_error("reference has columns '1' and 1 whose names are the same text '1'")),
    Case("drift-column-names-collide-after-str",
         lambda tmp: mlqa.check_drift(np.ones((40, 2)), np.ones((40, 2)),
                                      column_names=[1, "1"]),
         input_error("column_names has columns 1 and '1' whose names are the same text")),
    Case("drift-column-names-wrong-length",
         lambda tmp: mlqa.check_drift(np.ones((40, 2)), np.ones((40, 2)), column_names=["x"]),
         input_error("column_names has 1 names but reference has 2 columns")),
    Case("drift-columns-missing", lambda tmp: drift(columns=["zzz"]),
         input_error("reference lacks the columns ['zzz'] asked for in columns=")),
    Case("drift-sides-differ", lambda tmp: drift(current=CUR[["a"]]),
         input_error("missing from current: ['c']")),
    Case("drift-dtype-clash",
         lambda tmp: drift(current=with_column(CUR, "a", CUR["a"].astype(str))),
         input_error("incompatible column dtypes: 'a' (number in reference, string")),
    Case("drift-numerical-given-for-strings",
         lambda tmp: drift(column_types={"c": "numerical"}),
         input_error("column 'c' is given as numerical but holds object values")),
    Case("drift-only-text-columns",
         lambda tmp: mlqa.check_drift(pd.DataFrame({"t": [f"s{i}" for i in range(N)]}),
                                      pd.DataFrame({"t": [f"s{i}" for i in range(N)]})),
         error_outcome("no column to test, every column is excluded | excluded (not "
                       "tested): t (identifier column (every value distinct): not tested)")),
    Case("drift-parquet-missing", lambda tmp: drift(tmp / "nope.parquet"),
         input_error("reference: no such Parquet file")),
    Case("drift-parquet-not-parquet",
         lambda tmp: (tmp / "x.parquet").write_text("a,b\n1,2\n") and drift(tmp / "x.parquet"),
         input_error("is not a readable Parquet file")),
    # --- options ---------------------------------------------------------------------------
    Case("drift-alpha-zero", lambda tmp: drift(alpha=0), input_error("alpha must be")),
    Case("drift-alpha-one", lambda tmp: drift(alpha=1.0), input_error("alpha must be")),
    Case("drift-alpha-nan", lambda tmp: drift(alpha=float("nan")), input_error("alpha must")),
    Case("drift-alpha-bool", lambda tmp: drift(alpha=True), input_error("alpha must")),
    Case("drift-alpha-string", lambda tmp: drift(alpha="0.05"), input_error("alpha must")),
    Case("drift-correction-unknown", lambda tmp: drift(correction="bonferroni"),
         input_error("correction must be one of 'holm', 'bh' or None, got 'bonferroni'")),
    Case("drift-tests-unknown-mode", lambda tmp: drift(tests="fast"),
         input_error("tests must be one of 'auto', 'evidently' or a mapping column -> a string")),
    Case("drift-tests-unknown-test", lambda tmp: drift(tests={"a": "nope"}),
         input_error("unknown drift test 'nope'")),
    Case("drift-tests-wrong-kind", lambda tmp: drift(tests={"c": "ks"}),
         input_error("drift test 'ks' does not apply to categorical columns")),
    Case("drift-tests-unknown-column", lambda tmp: drift(tests={"zzz": "ks"}),
         input_error("tests names columns that are not compared: ['zzz']")),
    Case("drift-thresholds-unknown-column", lambda tmp: drift(thresholds={"zzz": 0.1}),
         input_error("thresholds names columns that are not compared: ['zzz']")),
    Case("drift-min-effect-negative", lambda tmp: drift(min_effect=-0.1),
         input_error("min_effect")),
    Case("drift-drift-share-zero", lambda tmp: drift(drift_share=0),
         input_error("drift_share must be a number in (0, 1], got 0")),
    Case("drift-min-rows-zero", lambda tmp: drift(min_rows=0),
         input_error("min_rows must be an integer >= 1, got 0")),
    Case("drift-random-state-string", lambda tmp: drift(random_state="7"),
         input_error("random_state must be an integer, None or a numpy Generator, got '7'")),
    Case("drift-min-rows-bool", lambda tmp: drift(min_rows=True),
         input_error("min_rows must be an integer >= 1, got True")),
    Case("drift-column-types-unknown-type", lambda tmp: drift(column_types={"a": "float"}),
         input_error("column_types: unknown types {'a': 'float'}")),
    Case("drift-column-types-unknown-column", lambda tmp: drift(column_types={"zz": "text"}),
         input_error("column_types names columns the reference lacks: ['zz']")),
    # --- columns that cannot be tested: ERROR, the others still run ------------------------
    Case("drift-current-column-all-nan",
         lambda tmp: drift(current=with_column(CUR, "a", np.nan)),
         error_outcome("a: no values in current (all 300 rows NaN or inf)", outcome="fail")),
    Case("drift-current-column-all-inf",
         lambda tmp: drift(current=with_column(CUR, "a", np.inf)),
         error_outcome("a: no values in current", outcome="fail")),
    Case("drift-constant-column",
         lambda tmp: drift(with_column(REF, "k", 1.0), with_column(CUR, "k", 1.0)),
         error_outcome("k: constant column (only the value 1.0 on both sides)")),
    Case("drift-too-few-rows",
         lambda tmp: drift(current=with_column(CUR, "a", [1.0, 2.0] + [np.nan] * (N - 2))),
         error_outcome("a: too few values in current: 2 < min_rows=20", outcome="fail")),
    Case("drift-fisher-three-categories", lambda tmp: drift(tests={"c": "fisher_exact"}),
         error_outcome("c: fisher_exact:")),
    # --- reference profiles ------------------------------------------------------------------
    Case("drift-profile-missing-file",
         lambda tmp: mlqa.drift.load_profile(tmp / "none.profile"),
         input_error("none.profile': no such file")),
    Case("drift-profile-truncated",
         lambda tmp: mlqa.drift.load_profile(truncated_profile(tmp)),
         input_error("reference.profile' is unreadable (truncated, or not a drift profile)")),
    Case("drift-profile-garbage",
         lambda tmp: (tmp / "g.profile").write_bytes(b"\x00junk" * 50)
         and mlqa.drift.load_profile(tmp / "g.profile"),
         input_error("g.profile' is unreadable")),
    Case("drift-profile-type-edited",
         lambda tmp: mlqa.drift.load_profile(rewritten_profile(tmp, _set_type)),
         input_error("reference.profile': schema checksum mismatch")),
    Case("drift-profile-values-edited",
         lambda tmp: mlqa.drift.load_profile(rewritten_profile(tmp, _shift_values)),
         input_error("column 'a': array 'values_0' does not match its checksum")),
    Case("drift-profile-forged-checksum",
         lambda tmp: mlqa.drift.load_profile(rewritten_profile(tmp, _forged_checksum_type)),
         input_error("column 'a': arrays must be ['categories_0', 'counts_0']")),
    Case("drift-profile-array-removed",
         lambda tmp: mlqa.drift.load_profile(rewritten_profile(tmp, _drop_array)),
         input_error("column 'c': array 'counts_1' is missing from the file")),
    Case("drift-profile-old-version",
         lambda tmp: mlqa.drift.load_profile(rewritten_profile(tmp, _old_version)),
         input_error("version 1, this mlqa reads version 2")),
    Case("drift-profile-lacks-column",
         lambda tmp: drift(mlqa.drift.profile(REF[["a"]]), columns=["a", "c"]),
         input_error("the reference profile lacks the columns ['c']")),
    Case("drift-profile-type-mismatch",
         lambda tmp: drift(mlqa.drift.profile(REF), column_types={"a": "categorical"}),
         input_error("column_types['a'] = 'categorical', but the reference profile was made "
                     "with 'numerical'")),
]


@pytest.mark.parametrize("case", cases(CASES))
def test_case(case, tmp_path, record_property):
    run_case(case, tmp_path, record_property)
